//! The questions inbox: open questions newest first, kept live (a look every
//! [`POLL_SECONDS`] while the page is shown, the count of open questions in the tab's title,
//! and, opted in, a browser notification when one arrives while the tab is hidden); one
//! thread at a time as the whole conversation in time order (the question, the visitor's
//! follow-ups and the team's replies with their authors and photos); a reply box with the
//! team's saved replies and a photo from the media library; "resolve with a category" (which
//! closes the question and publishes nothing) and, on its own, "publish an answer to the
//! knowledge base". Below, the saved replies themselves: add, edit, delete.
//!
//! What decides something (the title, merging a fresh first page into the list, which
//! questions are new, the notifications, the `mailto:` link, the saved replies' order) is a
//! plain function, tested natively; the components only call them.

use std::collections::HashSet;
use std::time::Duration;

use glimpse_shared::media::MediaKind;
use glimpse_shared::question::{NewSavedReply, QuestionSummary, Reply, SavedReply, Thread, Turn};
use glimpse_shared::team::Area;
use leptos::prelude::*;
use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::JsCast;

use crate::api::{self, Failure};
use crate::app::{Console, console, topic_options};
use crate::time::{duration, now, show};

/// Seconds between two looks at the inbox while it is shown.
pub const POLL_SECONDS: u64 = 10;

/// The console's own tab title (as `index.html` sets it).
pub const CONSOLE_TITLE: &str = "Glimpse console";

/// A page of open questions, newest first, as the API answers it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Open {
    pub questions: Vec<QuestionSummary>,
    /// The `before` of the next (older) page, if any.
    #[serde(default)]
    pub next: Option<String>,
}

/// The tab's title while the inbox is shown: `(3) Inbox · Glimpse console`, `(100+) …` when
/// more open questions than the list holds wait on further pages, no count when none.
pub fn inbox_title(open: usize, more: bool) -> String {
    match (open, more) {
        (0, false) => format!("Inbox · {CONSOLE_TITLE}"),
        (n, false) => format!("({n}) Inbox · {CONSOLE_TITLE}"),
        (n, true) => format!("({n}+) Inbox · {CONSOLE_TITLE}"),
    }
}

/// Whether `a` comes after `b` in the inbox's order (newest first: by time, then id, both
/// descending, as the API sorts).
fn older(a: &QuestionSummary, b: &QuestionSummary) -> bool {
    (a.created_at, a.id.as_str()) < (b.created_at, b.id.as_str())
}

/// The list after a fresh look at the first page: the first page as it is now, then what the
/// operator had loaded of the older pages (every question older than the first page's
/// last). Questions resolved meanwhile drop out of the first page; the older pages' cursor
/// stays, so "Show older" goes on where it was.
pub fn merge_first_page(shown: Option<&Open>, first: Open) -> Open {
    let Some(shown) = shown else {
        return first;
    };
    let Some(last) = first.questions.last() else {
        // No open question at all any more (or none on the first page).
        return first;
    };
    if first.next.is_none() {
        // The first page is the whole inbox.
        return first;
    }
    let rest: Vec<QuestionSummary> = shown
        .questions
        .iter()
        .filter(|q| older(q, last))
        .cloned()
        .collect();
    if rest.is_empty() {
        return first;
    }
    let mut questions = first.questions;
    questions.extend(rest);
    Open {
        questions,
        next: shown.next.clone(),
    }
}

/// The questions of `now` that were not in the list before (none on the first look: what is
/// there when the page opens is not news).
pub fn arrivals<'a>(before: Option<&Open>, now: &'a Open) -> Vec<&'a QuestionSummary> {
    let Some(before) = before else {
        return Vec::new();
    };
    let known: HashSet<&str> = before.questions.iter().map(|q| q.id.as_str()).collect();
    now.questions
        .iter()
        .filter(|q| !known.contains(q.id.as_str()))
        .collect()
}

/// One browser notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
    /// Notifications with the same tag replace each other.
    pub tag: String,
    /// The question a click opens.
    pub question: Option<String>,
}

/// Most notifications one look shows; more arrivals are summed up in one.
pub const NOTICES_MAX: usize = 3;

/// The notifications for `arrived` (newest first), topics named by `label`: one each
/// ("New question: Orders") up to [`NOTICES_MAX`], else one that counts them.
pub fn notices(arrived: &[&QuestionSummary], label: impl Fn(&str) -> String) -> Vec<Notice> {
    if arrived.len() > NOTICES_MAX {
        let newest = arrived
            .first()
            .map(|q| format!("Newest: {}: {}", label(&q.topic), q.preview))
            .unwrap_or_default();
        return vec![Notice {
            title: format!("{} new questions", arrived.len()),
            body: newest,
            tag: "glimpse-inbox".into(),
            question: None,
        }];
    }
    arrived
        .iter()
        .map(|q| Notice {
            title: format!("New question: {}", label(&q.topic)),
            body: q.preview.clone(),
            tag: format!("glimpse-question-{}", q.id),
            question: Some(q.id.clone()),
        })
        .collect()
}

/// The reply box's text with a saved reply added at its end (after a blank line), for when
/// the caret is not known.
pub fn append_snippet(current: &str, snippet: &str) -> String {
    let kept = current.trim_end();
    if kept.is_empty() {
        snippet.to_string()
    } else {
        format!("{kept}\n\n{snippet}")
    }
}

/// A `mailto:` link to `email` with a subject: every byte but letters, digits, `@` and
/// `.-_~` percent-encoded (RFC 6068), so an address cannot add headers (`?cc=`) or recipients.
pub fn mailto(email: &str, subject: &str) -> String {
    fn encode(s: &str, keep_at: bool) -> String {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"._-~".contains(&b) || (keep_at && b == b'@') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }
    format!(
        "mailto:{}?subject={}",
        encode(email, true),
        encode(subject, false)
    )
}

/// Who wrote a reply, as the thread shows it: the operator's name, or "Team" (replies made
/// with the admin token carry none).
pub fn author_label(reply: &Reply) -> &str {
    reply
        .author
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("Team")
}

/// `list` with `item` added or replaced (by id), in the API's order: by title without
/// regard to case, then id.
pub fn upsert_saved(list: &mut Vec<SavedReply>, item: SavedReply) {
    match list.iter_mut().find(|s| s.id == item.id) {
        Some(s) => *s = item,
        None => list.push(item),
    }
    list.sort_by(|a, b| (a.title.to_lowercase(), &a.id).cmp(&(b.title.to_lowercase(), &b.id)));
}

/// The browser's side of notifications and the tab: thin, and never throws.
mod browser {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{Notification, NotificationOptions, NotificationPermission};

    use super::Notice;

    const NOTIFY_KEY: &str = "glimpse-admin-notify";

    fn document() -> Option<web_sys::Document> {
        web_sys::window().and_then(|w| w.document())
    }

    pub fn title() -> String {
        document().map(|d| d.title()).unwrap_or_default()
    }

    pub fn set_title(title: &str) {
        if let Some(d) = document() {
            d.set_title(title);
        }
    }

    /// Back to the inbox page, if the operator went elsewhere meanwhile.
    pub fn show_inbox() {
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_hash("/questions");
        }
    }

    /// Whether the tab is in the background (another tab, minimised).
    pub fn hidden() -> bool {
        document().is_some_and(|d| d.hidden())
    }

    /// Whether this browser has notifications at all (not every one does, e.g. iOS
    /// Safari outside a home-screen app).
    pub fn supported() -> bool {
        web_sys::window().is_some_and(|w| {
            js_sys::Reflect::get(&w, &"Notification".into()).is_ok_and(|n| n.is_function())
        })
    }

    pub fn granted() -> bool {
        supported() && Notification::permission() == NotificationPermission::Granted
    }

    /// Asks for permission (the browser asks the operator once); whether it is granted.
    pub async fn ask() -> bool {
        if !supported() {
            return false;
        }
        if let Ok(promise) = Notification::request_permission() {
            // Old Safari answers through a callback and returns nothing.
            let value: &wasm_bindgen::JsValue = promise.as_ref();
            if value.is_instance_of::<js_sys::Promise>() {
                let _ = JsFuture::from(promise).await;
            }
        }
        granted()
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window().and_then(|w| w.local_storage().ok().flatten())
    }

    /// Whether the operator opted in (kept in this browser).
    pub fn opted_in() -> bool {
        storage()
            .and_then(|s| s.get_item(NOTIFY_KEY).ok().flatten())
            .is_some_and(|v| v == "on")
    }

    pub fn set_opted_in(on: bool) {
        if let Some(s) = storage() {
            let _ = if on {
                s.set_item(NOTIFY_KEY, "on")
            } else {
                s.remove_item(NOTIFY_KEY)
            };
        }
    }

    /// Shows `notice`; a click brings the console's tab forward and runs `open`.
    pub fn notify(notice: &Notice, open: impl FnOnce() + 'static) {
        if !granted() {
            return;
        }
        let options = NotificationOptions::new();
        options.set_body(&notice.body);
        options.set_tag(&notice.tag);
        let Ok(n) = Notification::new_with_options(&notice.title, &options) else {
            return;
        };
        let shown = n.clone();
        let click = wasm_bindgen::closure::Closure::once_into_js(move || {
            if let Some(w) = web_sys::window() {
                let _ = w.focus();
            }
            shown.close();
            open();
        });
        n.set_onclick(Some(click.unchecked_ref()));
    }
}

/// Loads the site's saved replies into `saved` (`saved_error` on failure).
fn load_saved(
    c: Console,
    saved: RwSignal<Option<Vec<SavedReply>>>,
    error: RwSignal<Option<String>>,
) {
    #[derive(Deserialize)]
    struct List {
        saved_replies: Vec<SavedReply>,
    }
    let path = c.path("/saved-replies");
    leptos::task::spawn_local(async move {
        match api::get::<List>(&path).await {
            Ok(l) => {
                error.set(None);
                saved.set(Some(l.saved_replies));
            }
            Err(f) => error.set(Some(c.explain(&f))),
        }
    });
}

/// The inbox page.
#[component]
pub fn QuestionsPage() -> impl IntoView {
    let c = console();
    let open = RwSignal::new(None::<Open>);
    let error = RwSignal::new(None::<String>);
    let selected = RwSignal::new(None::<String>);
    // Questions that arrived while the page was open and were not looked at yet.
    let fresh = RwSignal::new(HashSet::<String>::new());
    // Counts the looks, so the open thread and the "waiting" times follow them.
    let tick = RwSignal::new(0_u32);
    let looking = RwSignal::new(false);
    let notify = RwSignal::new(browser::opted_in() && browser::granted());
    let notify_note = RwSignal::new(None::<String>);
    let saved = RwSignal::new(None::<Vec<SavedReply>>);
    let saved_error = RwSignal::new(None::<String>);

    let topic_label = move |id: &str| {
        c.topics()
            .into_iter()
            .find(|(t, _)| t == id)
            .map_or_else(|| id.to_string(), |(_, l)| l)
    };

    // One look at the first page: merged into the list, new questions marked (and
    // announced when the tab is hidden). A look still on its way skips the next.
    let look = move || {
        if looking.try_get_untracked().unwrap_or(true) {
            return;
        }
        looking.set(true);
        let path = c.path("/questions");
        leptos::task::spawn_local(async move {
            let got = api::get::<Open>(&path).await;
            looking.set(false);
            // The page was left meanwhile: nothing to update.
            let Some(before) = open.try_get_untracked() else {
                return;
            };
            match got {
                Ok(first) => {
                    error.set(None);
                    let came: Vec<QuestionSummary> = arrivals(before.as_ref(), &first)
                        .into_iter()
                        .cloned()
                        .collect();
                    let merged = merge_first_page(before.as_ref(), first);
                    if before.as_ref() != Some(&merged) {
                        open.set(Some(merged));
                    }
                    if came.is_empty() {
                        return;
                    }
                    fresh.update(|f| f.extend(came.iter().map(|q| q.id.clone())));
                    if notify.try_get_untracked().unwrap_or(false) && browser::hidden() {
                        let refs: Vec<&QuestionSummary> = came.iter().collect();
                        for n in notices(&refs, topic_label) {
                            let question = n.question.clone();
                            browser::notify(&n, move || {
                                browser::show_inbox();
                                if let Some(q) = question {
                                    fresh.update(|f| {
                                        f.remove(&q);
                                    });
                                    selected.set(Some(q));
                                }
                            });
                        }
                    }
                }
                Err(f) => error.set(Some(c.explain(&f))),
            }
        });
    };
    look();
    load_saved(c, saved, saved_error);
    match set_interval_with_handle(
        move || {
            tick.update(|t| *t = t.wrapping_add(1));
            look();
        },
        Duration::from_secs(POLL_SECONDS),
    ) {
        Ok(handle) => on_cleanup(move || handle.clear()),
        Err(e) => web_sys::console::warn_2(&"Glimpse console: the inbox is not live".into(), &e),
    }

    // The tab's title counts the open questions while the page is shown.
    let previous_title = browser::title();
    Effect::new(move |_| {
        let title = open.with(|o| {
            o.as_ref().map_or_else(
                || inbox_title(0, false),
                |o| inbox_title(o.questions.len(), o.next.is_some()),
            )
        });
        browser::set_title(&title);
    });
    on_cleanup(move || {
        browser::set_title(if previous_title.is_empty() {
            CONSOLE_TITLE
        } else {
            &previous_title
        });
    });

    let toggle_notify = move |_| {
        if notify.get_untracked() {
            notify.set(false);
            browser::set_opted_in(false);
            notify_note.set(None);
            return;
        }
        leptos::task::spawn_local(async move {
            if browser::ask().await {
                browser::set_opted_in(true);
                notify.set(true);
                notify_note.set(Some(
                    "You will be notified of new questions while this tab is in the background."
                        .into(),
                ));
            } else {
                notify.set(false);
                notify_note.set(Some(
                    "The browser does not allow notifications for the console: allow them in its site settings, then try again."
                        .into(),
                ));
            }
        });
    };

    // The inbox comes 100 at a time, newest first; older pages are appended on demand.
    let more = move |_| {
        let Some(before) = open.with_untracked(|o| o.as_ref().and_then(|o| o.next.clone())) else {
            return;
        };
        let path = c.path(&format!(
            "/questions?before={}",
            String::from(js_sys::encode_uri_component(&before))
        ));
        leptos::task::spawn_local(async move {
            match api::get::<Open>(&path).await {
                Ok(page) => open.update(|o| {
                    let o = o.get_or_insert_with(Open::default);
                    let known: HashSet<String> = o.questions.iter().map(|q| q.id.clone()).collect();
                    o.questions.extend(
                        page.questions
                            .into_iter()
                            .filter(|q| !known.contains(&q.id)),
                    );
                    o.next = page.next;
                }),
                Err(f) => error.set(Some(c.explain(&f))),
            }
        });
    };

    let pick = move |id: String| {
        fresh.update(|f| {
            f.remove(&id);
        });
        selected.set(Some(id));
    };
    let items = move || open.with(|o| o.as_ref().map(|o| o.questions.clone()).unwrap_or_default());
    let item = move |q: QuestionSummary| {
        let QuestionSummary {
            id,
            topic,
            preview,
            created_at: created,
        } = q;
        let testid = format!("question-{id}");
        let id_current = id.clone();
        let id_aria = id.clone();
        let id_fresh = id.clone();
        let topic = topic_label(&topic);
        view! {
            <li>
                <button
                    class="question"
                    data-testid=testid
                    class:current=move || selected.get().as_deref() == Some(id_current.as_str())
                    aria-current=move || (selected.get().as_deref() == Some(id_aria.as_str())).then_some("true")
                    on:click=move |_| pick(id.clone())
                >
                    <Show when=move || fresh.with(|f| f.contains(&id_fresh))>
                        <span class="badge new" data-testid="question-new">"New"</span>" "
                    </Show>
                    <span class="badge">{topic}</span>
                    " "{preview}
                    <span class="sub">{move || {
                        tick.track();
                        format!(" · waiting {}", duration(now() - created))
                    }}</span>
                </button>
            </li>
        }
    };
    let count = move || {
        open.with(|o| {
            o.as_ref().map(|o| {
                let n = o.questions.len();
                let plus = if o.next.is_some() { "+" } else { "" };
                format!("{n}{plus} open")
            })
        })
    };
    let supported = browser::supported();
    let notify_hint = if supported {
        "A browser notification when a question arrives while this tab is in the background"
    } else {
        "This browser cannot show notifications"
    };
    view! {
        <div class="bar">
            <h1>"Questions"</h1>
            <span class="sub" data-testid="inbox-count" aria-live="polite">{count}</span>
            <span class="sub live" title=format!("The inbox is checked every {POLL_SECONDS} seconds while this page is open")>
                {format!("Live · every {POLL_SECONDS} s")}
            </span>
            <button
                data-testid="notify-toggle"
                aria-pressed=move || notify.get().to_string()
                disabled=!supported
                title=notify_hint
                on:click=toggle_notify
            >
                {move || if notify.get() { "Notifications on" } else { "Notify me" }}
            </button>
            <button data-testid="inbox-refresh" on:click=move |_| look()>"Refresh"</button>
        </div>
        <Show when=move || notify_note.get().is_some()>
            <p class="sub" role="status" data-testid="notify-note">{move || notify_note.get()}</p>
        </Show>
        <Show when=move || error.get().is_some()><p class="error" role="alert">{move || error.get()}</p></Show>
        <div class="inbox">
            <div>
                <Show when=move || open.with(|o| o.as_ref().is_some_and(|o| o.questions.is_empty()))>
                    <p class="sub" data-testid="inbox-empty">"No open questions. Nice."</p>
                </Show>
                <ul class="questions" data-testid="inbox" aria-label="Open questions, newest first">
                    <For each=items key=|q: &QuestionSummary| q.id.clone() children=item/>
                </ul>
                <Show when=move || open.with(|o| o.as_ref().is_some_and(|o| o.next.is_some()))>
                    <button data-testid="inbox-more" on:click=more>"Show older questions"</button>
                </Show>
            </div>
            {move || selected.get().map(|id| view! {
                <ThreadView
                    id=id
                    tick=tick.read_only()
                    saved=saved.read_only()
                    on_resolved=Callback::new(move |resolved: String| {
                        open.update(|o| if let Some(o) = o {
                            o.questions.retain(|q| q.id != resolved);
                        });
                        look();
                    })
                    on_close=Callback::new(move |()| selected.set(None))
                />
            })}
        </div>
        <SavedReplies saved=saved error=saved_error/>
    }
}

/// One conversation, its reply box and its resolution.
#[component]
fn ThreadView(
    /// The question's id.
    id: String,
    /// Changes with each look at the inbox: the thread is read again (new follow-ups).
    tick: ReadSignal<u32>,
    /// The site's saved replies, for the picker.
    saved: ReadSignal<Option<Vec<SavedReply>>>,
    /// Called with the question's id once it is resolved.
    on_resolved: Callback<String>,
    on_close: Callback<()>,
) -> impl IntoView {
    let c = console();
    let qid = StoredValue::new(id);
    let thread = RwSignal::new(None::<Thread>);
    let photo = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let reply = RwSignal::new(String::new());
    let reply_photo = RwSignal::new(None::<String>);
    let uploading = RwSignal::new(false);
    let category = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let publishing = RwSignal::new(false);
    let reply_box = NodeRef::<leptos::html::Textarea>::new();

    // Reads the thread (and, the first time, the visitor's photo).
    let load = move || {
        let Some(id) = qid.try_get_value() else {
            return;
        };
        let path = c.path(&format!("/questions/{id}"));
        let want_photo = photo.with_untracked(Option::is_none);
        leptos::task::spawn_local(async move {
            match api::get::<Thread>(&path).await {
                Ok(t) => {
                    if category.try_with_untracked(String::is_empty) == Some(true) {
                        category.set(t.topic.clone());
                    }
                    let has_photo = t.photo;
                    if thread.try_with_untracked(|old| old.as_ref() != Some(&t)) == Some(true) {
                        thread.set(Some(t));
                    }
                    if has_photo && want_photo {
                        match api::object_url(&format!("{path}/photo")).await {
                            // Shown unless the thread was closed meanwhile (or another
                            // read got there first): then it is let go at once.
                            Ok(url) => {
                                if photo.try_with_untracked(Option::is_none) == Some(true) {
                                    photo.set(Some(url));
                                } else {
                                    let _ = web_sys::Url::revoke_object_url(&url);
                                }
                            }
                            Err(f) => error.set(Some(c.explain(&f))),
                        }
                    }
                }
                Err(f) => error.set(Some(c.explain(&f))),
            }
        });
    };
    load();
    Effect::new(move |prev: Option<()>| {
        tick.track();
        if prev.is_some() {
            load();
        }
    });
    on_cleanup(move || {
        if let Some(Some(url)) = photo.try_get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });

    let send = move || {
        let text = reply.get_untracked();
        if text.trim().is_empty() || busy.get_untracked() || uploading.get_untracked() {
            return;
        }
        let Some(id) = qid.try_get_value() else {
            return;
        };
        busy.set(true);
        let mut body = json!({ "text": text });
        if let Some(p) = reply_photo.get_untracked() {
            body["photo"] = json!(p);
        }
        let path = c.path(&format!("/questions/{id}/replies"));
        leptos::task::spawn_local(async move {
            match api::call::<Reply>("POST", &path, Some(&body)).await {
                Ok(sent) => {
                    reply.set(String::new());
                    reply_photo.set(None);
                    error.set(None);
                    thread.update(|t| {
                        if let Some(t) = t {
                            t.replies.push(sent);
                        }
                    });
                    load();
                }
                Err(f) => error.set(Some(c.explain(&f))),
            }
            busy.set(false);
        });
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send();
    };
    // Ctrl+Enter (⌘+Enter) sends, as in every inbox.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
            ev.prevent_default();
            send();
        }
    };

    // A saved reply goes in at the caret (replacing a selection), to be edited before sending.
    let insert_saved = move |ev: leptos::ev::Event| {
        let chosen = event_target_value(&ev);
        if let Some(select) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        {
            select.set_value("");
        }
        let Some(text) = saved.with_untracked(|s| {
            s.as_ref()
                .and_then(|s| s.iter().find(|r| r.id == chosen))
                .map(|r| r.text.clone())
        }) else {
            return;
        };
        let placed = reply_box.get_untracked().and_then(|el| {
            let start = el.selection_start().ok().flatten()?;
            let end = el.selection_end().ok().flatten()?;
            el.set_range_text_with_start_and_end_and_mode(&text, start, end, "end")
                .ok()?;
            let _ = el.focus();
            Some(el.value())
        });
        match placed {
            Some(value) => reply.set(value),
            None => reply.update(|r| *r = append_snippet(r, &text)),
        }
    };
    let saved_options = move || {
        saved
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(|s| view! { <option value=s.id.clone()>{s.title}</option> })
            .collect_view()
    };

    // A photo for the reply: uploaded to the site's media library (scaled like any
    // picture there), or picked from it.
    let on_photo = move |ev: leptos::ev::Event| {
        let Some(file) = crate::media::files_of(&ev).into_iter().next() else {
            return;
        };
        uploading.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match crate::media::upload(c, file).await {
                Ok(item) if item.kind == MediaKind::Image => reply_photo.set(Some(item.url)),
                Ok(item) => error.set(Some(format!(
                    "that file is a {}, not a picture: a reply can carry a photo only",
                    item.kind.as_str()
                ))),
                Err(f) => error.set(Some(c.explain(&f))),
            }
            uploading.set(false);
        });
    };

    let resolve = move |_| {
        let Some(id) = qid.try_get_value() else {
            return;
        };
        busy.set(true);
        let path = c.path(&format!("/questions/{id}/resolve"));
        let body = json!({ "category": category.get_untracked() });
        leptos::task::spawn_local(async move {
            match api::call::<Thread>("POST", &path, Some(&body)).await {
                Ok(t) => {
                    error.set(None);
                    thread.set(Some(t));
                    on_resolved.run(id);
                }
                Err(f) => error.set(Some(c.explain(&f))),
            }
            busy.set(false);
        });
    };
    let topic_label = move |id: &str| {
        c.topics()
            .into_iter()
            .find(|(t, _)| t == id)
            .map_or_else(|| id.to_string(), |(_, l)| l)
    };
    let conversation = move || {
        thread.get().map(|t| {
            let turns = t
                .turns()
                .into_iter()
                .map(|turn| match turn {
                    Turn::Team(r) => {
                        let who = author_label(r).to_string();
                        view! {
                            <li class="turn team" data-testid="thread-reply">
                                <p class="who">
                                    <strong data-testid="thread-reply-author">{who}</strong>
                                    <span class="sub">{format!(" · {}", show(r.at))}</span>
                                </p>
                                <p class="text">{r.text.clone()}</p>
                                {r.photo.clone().map(|src| view! {
                                    <img class="photo" data-testid="thread-reply-photo" src=src
                                        alt="Photo sent with the reply" loading="lazy" referrerpolicy="no-referrer"/>
                                })}
                                {r.story.clone().map(|s| view! { <p class="sub">"Story: "<code>{s}</code></p> })}
                            </li>
                        }
                        .into_any()
                    }
                    Turn::Visitor(f) => view! {
                        <li class="turn visitor" data-testid="thread-followup">
                            <p class="who">
                                <strong>"Visitor"</strong>
                                <span class="sub">{format!(" · follow-up · {}", show(f.at))}</span>
                            </p>
                            <p class="text">{f.text.clone()}</p>
                        </li>
                    }
                    .into_any(),
                })
                .collect_view();
            let email = t.email.clone().map(|email| {
                let href = mailto(&email, "Re: your question");
                view! {
                    <p data-testid="thread-email">
                        "The visitor left an email for an answer: "
                        <a href=href>{email}</a>
                    </p>
                }
            });
            view! {
                <p class="sub">{format!("Asked {} · topic {}", show(t.created_at), topic_label(&t.topic))}</p>
                {email}
                <ol class="conversation" aria-label="The conversation, oldest first">
                    <li class="turn visitor">
                        <p class="who"><strong>"Visitor"</strong><span class="sub">{format!(" · question · {}", show(t.created_at))}</span></p>
                        <blockquote data-testid="thread-message">{t.message.clone()}</blockquote>
                        {move || photo.get().map(|src| view! {
                            <img class="photo" data-testid="thread-photo" src=src alt="Photo sent with the question"/>
                        })}
                    </li>
                    {turns}
                </ol>
            }
        })
    };
    let may_attach = c.may_write(Area::Answers);
    view! {
        <section class="thread" data-testid="thread" aria-label="Question">
            <div class="bar"><h2>"Conversation"</h2><button data-testid="close-thread" on:click=move |_| on_close.run(())>"Close"</button></div>
            <Show when=move || error.get().is_some()><p class="error" role="alert" data-testid="thread-error">{move || error.get()}</p></Show>
            {conversation}
            <form class="reply" on:submit=on_submit>
                <label class="field">
                    <span>"Insert a saved reply"</span>
                    <select data-testid="saved-reply-picker" on:change=insert_saved>
                        <option value="">{move || if saved.with(|s| s.as_ref().is_some_and(Vec::is_empty)) {
                            "No saved replies yet (add them below)"
                        } else {
                            "Choose one to insert…"
                        }}</option>
                        {saved_options}
                    </select>
                </label>
                <label class="field">
                    <span>"Reply (the visitor sees it in the widget)"</span>
                    <textarea rows="4" data-testid="reply-text" node_ref=reply_box bind:value=reply on:keydown=on_key></textarea>
                </label>
                <p class="hint">
                    {move || {
                        let n = reply.with(|r| r.chars().count());
                        format!("{n} / {} characters · Ctrl+Enter sends", Reply::TEXT_MAX)
                    }}
                </p>
                <Show when=move || may_attach>
                    <div class="row attach">
                        <label class="field">
                            <span>"Attach a photo"</span>
                            <input type="file" accept=crate::media::IMAGE_ACCEPT data-testid="reply-photo"
                                disabled=move || uploading.get() on:change=on_photo/>
                        </label>
                        <crate::media::Choose kind=MediaKind::Image testid="reply-photo-library"
                            on_pick=Callback::new(move |url: String| reply_photo.set(Some(url)))/>
                    </div>
                </Show>
                <Show when=move || uploading.get()>
                    <p class="sub" role="status" data-testid="reply-photo-status">"Uploading the photo…"</p>
                </Show>
                {move || reply_photo.get().map(|src| view! {
                    <figure class="reply-photo">
                        <img class="thumb" data-testid="reply-photo-preview" src=src alt="The photo to send with the reply"/>
                        <figcaption>
                            <button type="button" class="link danger" data-testid="reply-photo-remove"
                                on:click=move |_| reply_photo.set(None)>"Remove photo"</button>
                        </figcaption>
                    </figure>
                })}
                <button class="primary" type="submit" data-testid="send-reply"
                    disabled=move || busy.get() || uploading.get() || reply.with(|r| r.trim().is_empty())>"Send reply"</button>
            </form>
            {move || match thread.get().and_then(|t| t.resolved) {
                Some(r) => view! {
                    <p role="status" data-testid="resolved">{format!("Resolved {} · category {}", show(r.at), r.category)}</p>
                }.into_any(),
                None => view! {
                    <div class="row">
                        <label class="field">
                            <span>"Category"</span>
                            <select data-testid="resolve-category" prop:value=move || category.get()
                                on:change=move |ev| category.set(event_target_value(&ev))>{topic_options(c)}</select>
                        </label>
                        <button data-testid="resolve" disabled=move || busy.get() on:click=resolve>"Resolve"</button>
                        <span class="sub">"Resolving closes the question; it publishes nothing."</span>
                    </div>
                }.into_any(),
            }}
            {move || {
                let id = qid.try_get_value().unwrap_or_default();
                if publishing.get() {
                    thread.get().map(|t| view! {
                        <crate::kb::PublishAnswer id=id
                            prefill=glimpse_shared::kb::prefill_answer(&t.replies)
                            topic=t.resolved.map_or(t.topic, |r| r.category)/>
                    }.into_any())
                } else {
                    Some(view! {
                        <button data-testid="publish-open" on:click=move |_| publishing.set(true)>
                            "Publish an answer to the knowledge base…"</button>
                    }.into_any())
                }
            }}
        </section>
    }
}

/// The site's saved replies: the list, and a form to add one or change the one being edited.
#[component]
fn SavedReplies(
    /// The list (`None` while loading), shared with the reply box's picker.
    saved: RwSignal<Option<Vec<SavedReply>>>,
    /// Why the list could not be read.
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let c = console();
    let title = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let editing = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<Failure>);
    let busy = RwSignal::new(false);
    let title_input = NodeRef::<leptos::html::Input>::new();
    let may_write = move || c.may_write(Area::Inbox);

    let reset = move || {
        editing.set(None);
        title.set(String::new());
        text.set(String::new());
        failure.set(None);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let body = NewSavedReply {
            title: title.get_untracked(),
            text: text.get_untracked(),
        };
        let (method, path) = match editing.get_untracked() {
            Some(id) => ("PUT", c.path(&format!("/saved-replies/{id}"))),
            None => ("POST", c.path("/saved-replies")),
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::call::<SavedReply>(method, &path, Some(&body)).await {
                Ok(item) => {
                    saved.update(|s| upsert_saved(s.get_or_insert_with(Vec::new), item));
                    reset();
                }
                Err(f) => {
                    let _ = c.fail(&f);
                    failure.set(Some(f));
                }
            }
            busy.set(false);
        });
    };
    let remove = move |item: SavedReply| {
        let path = c.path(&format!("/saved-replies/{}", item.id));
        leptos::task::spawn_local(async move {
            match api::call::<serde_json::Value>("DELETE", &path, None::<&()>).await {
                Ok(_) => {
                    saved.update(|s| {
                        if let Some(s) = s {
                            s.retain(|x| x.id != item.id);
                        }
                    });
                    if editing.try_get_untracked().flatten().as_deref() == Some(item.id.as_str()) {
                        reset();
                    }
                }
                Err(f) => {
                    let _ = c.fail(&f);
                    failure.set(Some(Failure {
                        message: format!("{}: {}", item.title, f.detail()),
                        ..f
                    }));
                }
            }
        });
    };
    let edit = move |item: SavedReply| {
        editing.set(Some(item.id));
        title.set(item.title);
        text.set(item.text);
        failure.set(None);
        if let Some(el) = title_input.get_untracked() {
            let _ = el.focus();
        }
    };
    let invalid = move |field: &'static str| {
        move || {
            failure
                .with(|f| f.as_ref().is_some_and(|f| f.names(field)))
                .then_some("true")
        }
    };
    let rows = move || {
        saved.get().map(|list| {
            if list.is_empty() {
                return view! { <p class="sub" data-testid="saved-replies-empty">"No saved replies yet."</p> }
                    .into_any();
            }
            view! {
                <ul class="saved-list">
                    {list.into_iter().map(|item| {
                        let for_edit = item.clone();
                        let for_delete = item.clone();
                        let id = item.id.clone();
                        let edit_label = format!("Edit {}", item.title);
                        let delete_label = format!("Delete {}", item.title);
                        view! {
                            <li class="saved-reply" data-testid=format!("saved-reply-{}", item.id)
                                class:current=move || editing.get().as_deref() == Some(id.as_str())>
                                <div class="grow">
                                    <strong data-testid="saved-reply-item-title">{item.title.clone()}</strong>
                                    <p class="text">{item.text.clone()}</p>
                                    <span class="sub">{format!("Changed {}", show(item.updated_at))}</span>
                                </div>
                                <Show when=may_write>
                                    <button type="button" data-testid="saved-reply-edit"
                                        aria-label=edit_label.clone()
                                        on:click={
                                            let it = for_edit.clone();
                                            move |_| edit(it.clone())
                                        }>"Edit"</button>
                                    <button type="button" class="link danger" data-testid="saved-reply-delete"
                                        aria-label=delete_label.clone()
                                        on:click={
                                            let it = for_delete.clone();
                                            move |_| remove(it.clone())
                                        }>"Delete"</button>
                                </Show>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }
            .into_any()
        })
    };
    view! {
        <section class="panel saved-replies" data-testid="saved-replies" aria-labelledby="saved-replies-title">
            <h2 id="saved-replies-title">"Saved replies"</h2>
            <p class="sub">"The team's ready answers for this site: insert one into a reply with the picker above the reply box, then edit it before sending. Plain text; line breaks are kept."</p>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
            {rows}
            <Show when=may_write>
                <form class="saved-form" on:submit=save novalidate>
                    <h3>{move || if editing.get().is_some() { "Change the saved reply" } else { "Add a saved reply" }}</h3>
                    <label class="field">
                        <span>{format!("Title (what the picker shows, at most {} characters)", NewSavedReply::TITLE_MAX)}</span>
                        <input data-testid="saved-reply-title" node_ref=title_input bind:value=title
                            aria-invalid=invalid("title")/>
                    </label>
                    <label class="field">
                        <span>"Text"</span>
                        <textarea rows="4" data-testid="saved-reply-text" bind:value=text
                            aria-invalid=invalid("text")></textarea>
                    </label>
                    <Show when=move || failure.get().is_some()>
                        <div class="error" role="alert" data-testid="saved-reply-error">
                            <p>{move || failure.get().map(|f| f.message)}</p>
                            <ul>
                                {move || failure.get().map(|f| if f.problems.len() > 1 {
                                    f.problems.into_iter().map(|p| view! { <li><code>{p.field}</code>" "{p.message}</li> }).collect_view().into_any()
                                } else {
                                    ().into_any()
                                })}
                            </ul>
                        </div>
                    </Show>
                    <div class="row">
                        <button class="primary" type="submit" data-testid="save-saved-reply"
                            // Not before the list has loaded: its answer would replace the new one.
                            disabled=move || busy.get() || saved.with(Option::is_none) || title.with(|t| t.trim().is_empty()) || text.with(|t| t.trim().is_empty())>
                            {move || if editing.get().is_some() { "Save changes" } else { "Add saved reply" }}
                        </button>
                        <Show when=move || editing.get().is_some()>
                            <button type="button" data-testid="saved-reply-cancel" on:click=move |_| reset()>"Cancel"</button>
                        </Show>
                    </div>
                </form>
            </Show>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use glimpse_shared::Millis;

    use super::*;

    fn q(id: &str, at: Millis) -> QuestionSummary {
        QuestionSummary {
            id: id.into(),
            topic: "orders".into(),
            preview: format!("about {id}"),
            created_at: at,
        }
    }

    fn ids(o: &Open) -> Vec<&str> {
        o.questions.iter().map(|q| q.id.as_str()).collect()
    }

    #[test]
    fn the_title_counts_open_questions() {
        assert_eq!(inbox_title(0, false), "Inbox · Glimpse console");
        assert_eq!(inbox_title(3, false), "(3) Inbox · Glimpse console");
        assert_eq!(inbox_title(100, true), "(100+) Inbox · Glimpse console");
    }

    #[test]
    fn a_fresh_first_page_keeps_the_older_pages_loaded() {
        let first_look = Open {
            questions: vec![q("c", 30), q("b", 20)],
            next: Some("20:b".into()),
        };
        // The operator loaded the next page too.
        let shown = Open {
            questions: vec![q("c", 30), q("b", 20), q("a", 10)],
            next: None,
        };
        // Then "d" arrived and "c" was resolved: the first page is d, b.
        let fresh = Open {
            questions: vec![q("d", 40), q("b", 20)],
            next: Some("20:b".into()),
        };
        let merged = merge_first_page(Some(&shown), fresh.clone());
        assert_eq!(ids(&merged), ["d", "b", "a"]);
        assert_eq!(merged.next, None, "the older pages' cursor stays");
        // Without older pages loaded, the fresh page is the list.
        let merged = merge_first_page(Some(&first_look), fresh.clone());
        assert_eq!(merged, fresh);
        // A first page that is the whole inbox replaces everything.
        let whole = Open {
            questions: vec![q("d", 40)],
            next: None,
        };
        assert_eq!(merge_first_page(Some(&shown), whole.clone()), whole);
        assert_eq!(merge_first_page(None, whole.clone()), whole);
        let empty = Open::default();
        assert_eq!(merge_first_page(Some(&shown), empty.clone()), empty);
        // Same time: the id decides, as in the API's order.
        let tie = Open {
            questions: vec![q("y", 5)],
            next: Some("5:y".into()),
        };
        let shown = Open {
            questions: vec![q("y", 5), q("x", 5), q("z", 4)],
            next: None,
        };
        assert_eq!(ids(&merge_first_page(Some(&shown), tie)), ["y", "x", "z"]);
    }

    #[test]
    fn only_questions_not_seen_before_are_new() {
        let before = Open {
            questions: vec![q("b", 20), q("a", 10)],
            next: None,
        };
        let now = Open {
            questions: vec![q("d", 40), q("c", 30), q("b", 20)],
            next: None,
        };
        let came: Vec<&str> = arrivals(Some(&before), &now)
            .iter()
            .map(|q| q.id.as_str())
            .collect();
        assert_eq!(came, ["d", "c"]);
        assert!(arrivals(None, &now).is_empty(), "the first look is no news");
    }

    #[test]
    fn notifications_name_the_topic_or_count_many() {
        let label = |t: &str| {
            if t == "orders" {
                "Orders".into()
            } else {
                t.to_string()
            }
        };
        let (a, b) = (q("a", 1), q("b", 2));
        let n = notices(&[&b, &a], label);
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].title, "New question: Orders");
        assert_eq!(n[0].body, "about b");
        assert_eq!(n[0].question.as_deref(), Some("b"));
        assert_ne!(n[0].tag, n[1].tag);
        let many: Vec<QuestionSummary> = (0..5).map(|i| q(&format!("q{i}"), i)).collect();
        let refs: Vec<&QuestionSummary> = many.iter().collect();
        let n = notices(&refs, label);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].title, "5 new questions");
        assert_eq!(n[0].body, "Newest: Orders: about q0");
        assert_eq!(n[0].question, None);
        assert!(notices(&[], label).is_empty());
    }

    #[test]
    fn saved_text_is_appended_after_a_blank_line() {
        assert_eq!(append_snippet("", "Hello"), "Hello");
        assert_eq!(append_snippet("  \n", "Hello"), "Hello");
        assert_eq!(append_snippet("Hi Ana,\n", "Thanks!"), "Hi Ana,\n\nThanks!");
    }

    #[test]
    fn mailto_links_cannot_add_recipients_or_headers() {
        assert_eq!(
            mailto("ana@shop.example", "Re: your question"),
            "mailto:ana@shop.example?subject=Re%3A%20your%20question"
        );
        assert_eq!(
            mailto("a?cc=eve@x.example", "x"),
            "mailto:a%3Fcc%3Deve@x.example?subject=x"
        );
        assert_eq!(
            mailto("a+b&c@x.example", "é"),
            "mailto:a%2Bb%26c@x.example?subject=%C3%A9"
        );
    }

    #[test]
    fn replies_without_an_author_are_the_teams() {
        let mut r = Reply {
            text: "hi".into(),
            ..Reply::default()
        };
        assert_eq!(author_label(&r), "Team");
        r.author = Some("  ".into());
        assert_eq!(author_label(&r), "Team");
        r.author = Some("Ana".into());
        assert_eq!(author_label(&r), "Ana");
    }

    #[test]
    fn saved_replies_stay_in_title_order() {
        let s = |id: &str, title: &str| SavedReply {
            id: id.into(),
            title: title.into(),
            text: "t".into(),
            updated_at: 0,
            updated_by: "op".into(),
        };
        let mut list = vec![s("1", "refund"), s("2", "Shipping")];
        upsert_saved(&mut list, s("3", "Password reset"));
        let titles = |l: &[SavedReply]| l.iter().map(|x| x.title.clone()).collect::<Vec<_>>();
        assert_eq!(titles(&list), ["Password reset", "refund", "Shipping"]);
        upsert_saved(&mut list, s("1", "Zebra refund"));
        assert_eq!(
            titles(&list),
            ["Password reset", "Shipping", "Zebra refund"]
        );
        assert_eq!(list.len(), 3);
    }
}
