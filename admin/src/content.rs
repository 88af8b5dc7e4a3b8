//! Authoring: stories, live sessions and polls. Each page lists what is stored (scheduled,
//! live or over) and edits one item at a time. The shared `validate()` and `lint()` run on
//! every keystroke, so problems and advice show while typing; publishing is one PUT.

use glimpse_shared::ids::slugify;
use glimpse_shared::media::MediaKind;
use glimpse_shared::targeting::Targeting;
use glimpse_shared::{
    Cta, LiveSession, Media, Millis, Poll, PollKind, Problem, Site, Slide, Story,
};
use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api;
use crate::app::{Console, console, preview, topic_options};
use crate::time::{from_local_input, now, show, to_local_input};

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;

/// Where an item stands at `now`.
fn status(from: Millis, until: Millis, now: Millis) -> &'static str {
    if now < from {
        "scheduled"
    } else if now < until {
        "live"
    } else {
        "over"
    }
}

/// The validation problems (which block publishing) and lint advice of a draft.
#[component]
fn Checks(checks: Memo<(Vec<Problem>, Vec<Problem>)>) -> impl IntoView {
    let item = |class: &'static str, testid: &'static str, p: Problem| {
        let field = p.field.clone();
        view! {
            <li class=class data-testid=testid data-field=field>
                <code>{p.field}</code>" "{p.message}
            </li>
        }
    };
    view! {
        <section class="checks" aria-live="polite">
            <Show
                when=move || checks.with(|(e, w)| !e.is_empty() || !w.is_empty())
                fallback=|| view! { <p class="ok" data-testid="lint-clean">"Ready to publish: no problems, no warnings."</p> }
            >
                <ul>
                    {move || {
                        let (errors, warnings) = checks.get();
                        errors
                            .into_iter()
                            .map(|p| item("problem", "lint-problem", p))
                            .chain(warnings.into_iter().map(|p| item("warning", "lint-warning", p)))
                            .collect_view()
                    }}
                </ul>
            </Show>
        </section>
    }
}

/// What happened to the last publish.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Idle,
    Busy,
    Failed(String, Vec<Problem>),
}

#[component]
fn PublishBar(
    outcome: RwSignal<Outcome>,
    blocked: Signal<bool>,
    on_publish: Callback<()>,
    on_cancel: Callback<()>,
    #[prop(optional_no_strip)] extra: Option<AnyView>,
) -> impl IntoView {
    view! {
        <div class="actions">
            {extra}
            <button
                class="primary"
                data-testid="publish"
                disabled=move || blocked.get() || outcome.get() == Outcome::Busy
                on:click=move |_| on_publish.run(())
            >
                "Publish"
            </button>
            <button class="link" data-testid="cancel" on:click=move |_| on_cancel.run(())>"Cancel"</button>
        </div>
        {move || match outcome.get() {
            Outcome::Failed(msg, problems) => view! {
                <div class="error" role="alert" data-testid="publish-error">
                    <p>{msg}</p>
                    <ul>
                        {problems.into_iter().map(|p| view! { <li><code>{p.field}</code>" "{p.message}</li> }).collect_view()}
                    </ul>
                </div>
            }.into_any(),
            _ => ().into_any(),
        }}
    }
}

/// Deletes `…/{plural}/{id}` after a second click.
#[component]
fn DeleteButton(plural: &'static str, id: String, on_done: Callback<()>) -> impl IntoView {
    let c = console();
    let armed = RwSignal::new(false);
    let id2 = id.clone();
    let click = move |_| {
        if !armed.get_untracked() {
            armed.set(true);
            return;
        }
        let path = c.path(&format!("/{plural}/{id2}"));
        leptos::task::spawn_local(async move {
            match api::call::<Value>("DELETE", &path, None::<&()>).await {
                Ok(_) => on_done.run(()),
                Err(f) => {
                    let msg = c.fail(&f);
                    c.notice.set(Some(msg));
                }
            }
        });
    };
    view! {
        <button class="link danger" data-testid=format!("delete-{id}") on:click=click>
            {move || if armed.get() { "Really delete?" } else { "Delete" }}
        </button>
    }
}

/// An item's `validate()` and `lint()`, with the site's translation rules when the site is
/// known: translations into languages it does not offer are problems, missing or stale ones
/// advice.
fn with_site<'a>(
    (mut problems, mut advice): (Vec<Problem>, Vec<Problem>),
    site: Option<&Site>,
    languages: impl Iterator<Item = &'a String>,
    lint_translations: impl FnOnce(&Site) -> Vec<Problem>,
) -> (Vec<Problem>, Vec<Problem>) {
    if let Some(site) = site {
        problems.extend(glimpse_shared::translate::unoffered(site, languages));
        advice.extend(lint_translations(site));
    }
    (problems, advice)
}

/// A labelled text input bound to a getter and a setter.
fn text_field(
    label: &'static str,
    testid: &'static str,
    get: impl Fn() -> String + Send + Sync + 'static,
    set: impl Fn(String) + 'static,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                type="text"
                data-testid=testid
                prop:value=get
                on:input=move |ev| set(event_target_value(&ev))
            />
        </label>
    }
}

/// A labelled `datetime-local` input (the operator's time zone) for an instant.
fn time_field(
    label: &'static str,
    testid: &'static str,
    get: impl Fn() -> Millis + Send + Sync + 'static,
    set: impl Fn(Millis) + 'static,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                type="datetime-local"
                data-testid=testid
                prop:value=move || to_local_input(get())
                on:change=move |ev| {
                    if let Some(ms) = from_local_input(&event_target_value(&ev)) {
                        set(ms);
                    }
                }
            />
        </label>
    }
}

/// A page's flash message after publishing.
#[component]
fn Published(saved: RwSignal<Option<(String, Vec<Problem>)>>) -> impl IntoView {
    move || {
        saved.get().map(|(id, warnings)| {
            view! {
                <div class="saved" role="status" data-testid="published">
                    <p>{format!("Published {id}.")}</p>
                    <ul>
                        {warnings.into_iter().map(|p| view! { <li class="warning"><code>{p.field}</code>" "{p.message}</li> }).collect_view()}
                    </ul>
                </div>
            }
        })
    }
}

/// What the console authors: stories, live sessions and polls, each with its list columns,
/// its form and the shared checks.
pub trait Authored: Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The API's path segment and the listing's key: `stories`, `sessions`, `polls`.
    const PLURAL: &'static str;
    /// The test-id prefix: `story`, `session`, `poll`.
    const ONE: &'static str;
    /// What a person calls one: `story`, `live session`, `poll`.
    const NOUN: &'static str;
    const HEADING: &'static str;
    /// List columns after the id, ending with the status.
    const COLUMNS: &'static [&'static str];
    fn id(&self) -> &str;
    fn id_mut(&mut self) -> &mut String;
    /// Newest first by this instant.
    fn order(&self) -> Millis;
    /// The list cells after the id, and the status (last column, a badge).
    fn cells(&self, now: Millis) -> (Vec<String>, &'static str);
    /// A new item with sensible times, on the first of the site's topics.
    fn blank(topic: Option<String>) -> Self;
    /// `validate()` (problems block publishing) and `lint()` (advice, with the site's
    /// translation advice when the site is known).
    fn checks(&self, site: Option<&Site>) -> (Vec<Problem>, Vec<Problem>);
    /// The form's fields.
    fn form(draft: Draft<Self>) -> AnyView;
    /// Extra buttons beside Publish.
    fn actions(_draft: Draft<Self>, _blocked: Signal<bool>) -> Option<AnyView> {
        None
    }
}

/// An item being edited.
pub struct Draft<T: Send + Sync + 'static> {
    pub item: RwSignal<T>,
    pub is_new: bool,
    /// Until the operator types an id, it follows the title.
    pub id_touched: RwSignal<bool>,
}

impl<T: Send + Sync + 'static> Clone for Draft<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Draft<T> {}

impl<T: Authored> Draft<T> {
    /// The title-like field the id is suggested from.
    fn title_field(
        self,
        label: &'static str,
        testid: &'static str,
        get: fn(&T) -> &String,
        set: fn(&mut T) -> &mut String,
    ) -> impl IntoView {
        let d = self;
        text_field(
            label,
            testid,
            move || d.item.with(|x| get(x).clone()),
            move |v| {
                d.item.update(|x| {
                    if !d.id_touched.get_untracked() {
                        *x.id_mut() = slugify(&v);
                    }
                    *set(x) = v;
                })
            },
        )
    }

    /// The id: editable until the item is first published.
    fn id_field(self) -> impl IntoView {
        let d = self;
        view! {
            <label class="field">
                <span>"Id (in URLs; cannot change later)"</span>
                <input
                    type="text"
                    data-testid=format!("{}-id", T::ONE)
                    disabled=!d.is_new
                    prop:value=move || d.item.with(|x| x.id().to_string())
                    on:input=move |ev| {
                        d.id_touched.set(true);
                        d.item.update(|x| *x.id_mut() = event_target_value(&ev));
                    }
                />
            </label>
        }
    }

    /// The topic picker.
    fn topic_field(self, get: fn(&T) -> &String, set: fn(&mut T) -> &mut String) -> impl IntoView {
        let d = self;
        view! {
            <label class="field">
                <span>"Topic"</span>
                <select
                    data-testid=format!("{}-topic", T::ONE)
                    prop:value=move || d.item.with(|x| get(x).clone())
                    on:change=move |ev| d.item.update(|x| *set(x) = event_target_value(&ev))
                >
                    {topic_options(console())}
                </select>
            </label>
        }
    }

    /// Where and when the item shows ([`crate::targeting::TargetingEditor`]).
    fn targeting(
        self,
        get: fn(&T) -> &Targeting,
        set: fn(&mut T) -> &mut Targeting,
    ) -> impl IntoView {
        let d = self;
        view! {
            <crate::targeting::TargetingEditor
                get=Signal::derive(move || d.item.with(|x| get(x).clone()))
                set=Callback::new(move |t| d.item.update(|x| *set(x) = t))
                one=T::ONE
            />
        }
    }

    /// The item's translations, side by side with its source words.
    fn translations(self) -> impl IntoView
    where
        T: crate::translations::Translated,
    {
        let c = console();
        view! {
            <crate::translations::TranslationsEditor
                item=self.item
                site=Signal::derive(move || c.config.get())
                one=T::ONE
            />
        }
    }

    /// An instant of the item.
    fn time(
        self,
        label: &'static str,
        testid: &'static str,
        get: fn(&T) -> Millis,
        set: fn(&mut T) -> &mut Millis,
    ) -> impl IntoView {
        let d = self;
        time_field(
            label,
            testid,
            move || d.item.with(get),
            move |v| d.item.update(|x| *set(x) = v),
        )
    }
}

/// Loads every stored item of a kind.
fn load_list<T: Authored>(
    c: Console,
    items: RwSignal<Option<Vec<T>>>,
    error: RwSignal<Option<String>>,
) {
    let path = c.path(&format!("/{}", T::PLURAL));
    leptos::task::spawn_local(async move {
        match api::get::<Value>(&path).await {
            Ok(v) => {
                let list = v[T::PLURAL]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| serde_json::from_value(x.clone()).ok())
                            .collect()
                    })
                    .unwrap_or_default();
                items.set(Some(list));
            }
            Err(f) => error.set(Some(c.fail(&f))),
        }
    });
}

/// A kind's page: what is stored (newest first), or one item in the editor.
#[component]
pub fn ContentPage<T: Authored>(
    #[prop(optional)] _kind: std::marker::PhantomData<T>,
) -> impl IntoView {
    let c = console();
    let items = RwSignal::new(None::<Vec<T>>);
    let error = RwSignal::new(None::<String>);
    let editing = RwSignal::new(None::<(T, bool)>);
    let saved = RwSignal::new(None::<(String, Vec<Problem>)>);
    let reload = move || load_list(c, items, error);
    reload();
    let close = Callback::new(move |()| {
        editing.set(None);
        reload();
    });
    let list = move || {
        let now = now();
        items.get().map(|mut list| {
            list.sort_by_key(|x| std::cmp::Reverse(x.order()));
            let head = T::COLUMNS.iter().map(|h| view! { <th>{*h}</th> }).collect_view();
            let rows = list
                .into_iter()
                .map(|x| {
                    let (cells, st) = x.cells(now);
                    let id = x.id().to_string();
                    let edit = x.clone();
                    let last = cells.len().saturating_sub(1);
                    let cells = cells
                        .into_iter()
                        .enumerate()
                        .map(|(i, cell)| {
                            if i == last {
                                view! { <td><span class=format!("badge {st}")>{cell}</span></td> }.into_any()
                            } else {
                                view! { <td>{cell}</td> }.into_any()
                            }
                        })
                        .collect_view();
                    view! {
                        <tr data-testid=format!("{}-{id}", T::ONE) data-status=st>
                            <td><code>{id.clone()}</code></td>
                            {cells}
                            <td>
                                <button class="link" on:click=move |_| editing.set(Some((edit.clone(), false)))>"Edit"</button>
                                <DeleteButton plural=T::PLURAL id=id.clone() on_done=Callback::new(move |()| reload())/>
                            </td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table class="list">
                    <thead><tr><th>"Id"</th>{head}<th>"Actions"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }
        })
    };
    view! {
        {move || match editing.get() {
            Some((item, is_new)) => view! { <Editor<T> item=item is_new=is_new on_close=close saved=saved/> }.into_any(),
            None => view! {
                <div class="bar">
                    <h1>{T::HEADING}</h1>
                    <button
                        class="primary"
                        data-testid=format!("new-{}", T::ONE)
                        on:click=move |_| {
                            saved.set(None);
                            editing.set(Some((T::blank(c.topics().first().map(|t| t.0.clone())), true)));
                        }
                    >
                        {format!("New {}", T::NOUN)}
                    </button>
                </div>
                <Published saved=saved/>
                <Show when=move || error.get().is_some()><p class="error">{move || error.get()}</p></Show>
                {list}
            }.into_any(),
        }}
    }
}

/// One item's form, its checks as you type, and Publish (one PUT).
#[component]
fn Editor<T: Authored>(
    item: T,
    is_new: bool,
    on_close: Callback<()>,
    saved: RwSignal<Option<(String, Vec<Problem>)>>,
) -> impl IntoView {
    let c = console();
    let draft = Draft {
        item: RwSignal::new(item),
        is_new,
        id_touched: RwSignal::new(!is_new),
    };
    let checks = Memo::new(move |_| {
        c.config
            .with(|site| draft.item.with(|x| x.checks(site.as_ref())))
    });
    let blocked = Signal::derive(move || checks.with(|(e, _)| !e.is_empty()));
    let outcome = RwSignal::new(Outcome::Idle);
    let on_publish = Callback::new(move |()| {
        let item = draft.item.get_untracked();
        let id = item.id().to_string();
        let path = c.path(&format!("/{}/{id}", T::PLURAL));
        outcome.set(Outcome::Busy);
        leptos::task::spawn_local(async move {
            match api::call::<Value>("PUT", &path, Some(&item)).await {
                Ok(v) => {
                    outcome.set(Outcome::Idle);
                    let warnings =
                        serde_json::from_value(v["warnings"].clone()).unwrap_or_default();
                    saved.set(Some((id, warnings)));
                    on_close.run(());
                }
                Err(f) => {
                    let msg = c.fail(&f);
                    outcome.set(Outcome::Failed(msg, f.problems));
                }
            }
        });
    });
    let verb = if is_new { "New" } else { "Edit" };
    view! {
        <div class="bar"><h1>{format!("{verb} {}", T::NOUN)}</h1></div>
        <div class="editor" data-testid=format!("{}-editor", T::ONE)>
            <div class="form">{T::form(draft)}</div>
            <aside><h2>"Checks"</h2><Checks checks=checks/></aside>
        </div>
        <PublishBar outcome=outcome blocked=blocked on_publish=on_publish on_cancel=on_close extra=T::actions(draft, blocked)/>
    }
}

// ---------------------------------------------------------------------------------------
// Stories

fn blank_slide() -> Slide {
    Slide {
        text: String::new(),
        media: None,
        duration_ms: Slide::DEFAULT_DURATION_MS,
        cta: None,
    }
}

impl Authored for Story {
    const PLURAL: &'static str = "stories";
    const ONE: &'static str = "story";
    const NOUN: &'static str = "story";
    const HEADING: &'static str = "Stories";
    const COLUMNS: &'static [&'static str] =
        &["Title", "Topic", "Slides", "Publish", "Expires", "Status"];

    fn id(&self) -> &str {
        &self.id
    }

    fn id_mut(&mut self) -> &mut String {
        &mut self.id
    }

    fn order(&self) -> Millis {
        self.publish_at
    }

    fn cells(&self, now: Millis) -> (Vec<String>, &'static str) {
        let st = status(self.publish_at, self.expires_at, now);
        (
            vec![
                self.title.clone(),
                self.topic.clone(),
                self.slides.len().to_string(),
                show(self.publish_at),
                show(self.expires_at),
                st.into(),
            ],
            st,
        )
    }

    fn blank(topic: Option<String>) -> Self {
        let start = (now() / MINUTE) * MINUTE;
        Story {
            translations: Default::default(),
            targeting: Default::default(),
            id: String::new(),
            title: String::new(),
            topic: topic.unwrap_or_default(),
            slides: vec![blank_slide()],
            publish_at: start,
            expires_at: start + 48 * HOUR,
        }
    }

    fn checks(&self, site: Option<&Site>) -> (Vec<Problem>, Vec<Problem>) {
        with_site(
            (self.validate(), self.lint()),
            site,
            self.translations.keys(),
            |site| self.lint_translations(site),
        )
    }

    fn form(d: Draft<Self>) -> AnyView {
        let count = Memo::new(move |_| d.item.with(|s| s.slides.len()));
        let slides = move || {
            (0..count.get())
                .map(|i| view! { <SlideEditor draft=d.item i=i/> })
                .collect_view()
        };
        view! {
            {d.title_field("Title", "story-title", |s| &s.title, |s| &mut s.title)}
            {d.id_field()}
            {d.topic_field(|s| &s.topic, |s| &mut s.topic)}
            <div class="row">
                {d.time("Publish at", "story-publish", |s| s.publish_at, |s| &mut s.publish_at)}
                {d.time("Expires at", "story-expires", |s| s.expires_at, |s| &mut s.expires_at)}
            </div>
            <ol class="slides">{slides}</ol>
            <button
                data-testid="add-slide"
                disabled=move || { count.get() >= Story::SLIDES_MAX }
                on:click=move |_| d.item.update(|s| s.slides.push(blank_slide()))
            >
                "Add slide"
            </button>
            {d.translations()}
            {d.targeting(|s| &s.targeting, |s| &mut s.targeting)}
        }
        .into_any()
    }

    fn actions(d: Draft<Self>, blocked: Signal<bool>) -> Option<AnyView> {
        let c = console();
        let error = RwSignal::new(None::<String>);
        let on_preview = move |_| {
            let site = c.site.get_untracked();
            error.set(d.item.with_untracked(|s| preview(&site, s)).err());
        };
        Some(
            view! {
                <Show when=move || error.get().is_some()>
                    <span class="error" role="alert">{move || error.get()}</span>
                </Show>
                <button
                    data-testid="preview"
                    disabled=move || blocked.get()
                    title="Shows this draft in the real player, as visitors will see it (nothing is tracked)"
                    on:click=on_preview
                >
                    "Preview in the player"
                </button>
            }
            .into_any(),
        )
    }
}

#[component]
fn SlideEditor(draft: RwSignal<Story>, i: usize) -> impl IntoView {
    let slide = move || draft.with(|s| s.slides.get(i).cloned().unwrap_or_else(blank_slide));
    let update = move |f: &dyn Fn(&mut Slide)| {
        draft.update(|s| {
            if let Some(x) = s.slides.get_mut(i) {
                f(x);
            }
        })
    };
    let media_kind = move || match slide().media {
        None => "none",
        Some(Media::Image { .. }) => "image",
        Some(Media::Video { .. }) => "video",
    };
    let media_url = move || match slide().media {
        Some(Media::Image { url, .. } | Media::Video { url, .. }) => url,
        None => String::new(),
    };
    let media_alt = move || match slide().media {
        Some(Media::Image { alt, .. }) => alt,
        Some(Media::Video { alt, .. }) => alt.unwrap_or_default(),
        None => String::new(),
    };
    let set_media = move |kind: &str, url: String, alt: String| {
        update(&|s: &mut Slide| {
            s.media = match kind {
                "image" => Some(Media::Image {
                    url: url.clone(),
                    alt: alt.clone(),
                }),
                "video" => {
                    // A video keeps its poster and captions while its URL or alt changes.
                    let (poster, captions) = match &s.media {
                        Some(Media::Video {
                            poster, captions, ..
                        }) => (poster.clone(), captions.clone()),
                        _ => (None, None),
                    };
                    Some(Media::Video {
                        url: url.clone(),
                        alt: (!alt.is_empty()).then(|| alt.clone()),
                        poster,
                        captions,
                    })
                }
                _ => None,
            }
        })
    };
    let video_part = move |part: fn(&Media) -> Option<String>| {
        move || slide().media.as_ref().and_then(part).unwrap_or_default()
    };
    let poster = video_part(|m| match m {
        Media::Video { poster, .. } => poster.clone(),
        Media::Image { .. } => None,
    });
    let captions = video_part(|m| match m {
        Media::Video { captions, .. } => captions.clone(),
        Media::Image { .. } => None,
    });
    let set_video_part = move |captions_part: bool, value: String| {
        update(&|s: &mut Slide| {
            if let Some(Media::Video {
                poster, captions, ..
            }) = &mut s.media
            {
                let slot = if captions_part { captions } else { poster };
                *slot = (!value.trim().is_empty()).then(|| value.trim().to_string());
            }
        })
    };
    let cta = move || slide().cta;
    let set_cta = move |label: String, url: String| {
        update(&|s: &mut Slide| {
            s.cta = (!label.is_empty() || !url.is_empty()).then(|| Cta {
                label: label.clone(),
                url: url.clone(),
            })
        })
    };
    let chars = move || slide().text.chars().count();
    let count = move || draft.with(|s| s.slides.len());
    view! {
        <li class="slide" data-testid=format!("slide-{i}")>
            <div class="slide-head">
                <strong>{format!("Slide {}", i + 1)}</strong>
                <span class="sub" class:over=move || { chars() > Story::TEXT_LINT }>
                    {move || format!("{} / {} characters", chars(), Story::TEXT_LINT)}
                </span>
                <button class="link" disabled=move || i == 0 on:click=move |_| draft.update(|s| if i > 0 && i < s.slides.len() { s.slides.swap(i, i - 1) })>"Up"</button>
                <button class="link" disabled=move || { i + 1 >= count() } on:click=move |_| draft.update(|s| if i + 1 < s.slides.len() { s.slides.swap(i, i + 1) })>"Down"</button>
                <button class="link danger" disabled=move || { count() <= 1 } on:click=move |_| draft.update(|s| if i < s.slides.len() && s.slides.len() > 1 { s.slides.remove(i); })>"Remove"</button>
            </div>
            <label class="field">
                <span>"Text"</span>
                <textarea
                    rows="3"
                    data-testid=format!("slide-{i}-text")
                    prop:value=move || slide().text
                    on:input=move |ev| { let v = event_target_value(&ev); update(&|s: &mut Slide| s.text = v.clone()) }
                ></textarea>
            </label>
            <div class="row">
                <label class="field">
                    <span>"Media"</span>
                    <select
                        data-testid=format!("slide-{i}-media-kind")
                        prop:value=media_kind
                        on:change=move |ev| set_media(&event_target_value(&ev), media_url(), media_alt())
                    >
                        <option value="none">"None"</option>
                        <option value="image">"Image"</option>
                        <option value="video">"Video"</option>
                    </select>
                </label>
                <label class="field grow">
                    <span>"Media URL (https, or /path on this server)"</span>
                    <input
                        type="url"
                        data-testid=format!("slide-{i}-media-url")
                        disabled=move || media_kind() == "none"
                        prop:value=media_url
                        on:input=move |ev| set_media(media_kind(), event_target_value(&ev), media_alt())
                    />
                    <Show when=move || media_kind() != "none">
                        <crate::media::Choose
                            kind=Signal::derive(move || if media_kind() == "video" { MediaKind::Video } else { MediaKind::Image })
                            on_pick=Callback::new(move |url| set_media(media_kind(), url, media_alt()))
                            testid=format!("slide-{i}-choose-media")
                        />
                    </Show>
                </label>
            </div>
            <Show when=move || media_kind() == "video">
                <div class="row">
                    <crate::media::MediaField
                        label="Poster picture (shown until the video plays)"
                        testid=format!("slide-{i}-media-poster")
                        choose=format!("slide-{i}-choose-poster")
                        kind=MediaKind::Image
                        value=Signal::derive(poster)
                        set=Callback::new(move |url| set_video_part(false, url))
                    />
                    <crate::media::MediaField
                        label="Captions (WebVTT, shown by default)"
                        testid=format!("slide-{i}-media-captions")
                        choose=format!("slide-{i}-choose-captions")
                        kind=MediaKind::Captions
                        value=Signal::derive(captions)
                        set=Callback::new(move |url| set_video_part(true, url))
                    />
                </div>
            </Show>
            <label class="field">
                <span>"Alt text (what the picture shows)"</span>
                <input
                    type="text"
                    data-testid=format!("slide-{i}-media-alt")
                    disabled=move || media_kind() == "none"
                    prop:value=media_alt
                    on:input=move |ev| set_media(media_kind(), media_url(), event_target_value(&ev))
                />
            </label>
            <div class="row">
                <label class="field">
                    <span>"Seconds on screen"</span>
                    <input
                        type="number"
                        min="1"
                        max="60"
                        step="0.5"
                        data-testid=format!("slide-{i}-duration")
                        prop:value=move || format!("{}", f64::from(slide().duration_ms) / 1000.0)
                        on:input=move |ev| {
                            if let Ok(s) = event_target_value(&ev).parse::<f64>() {
                                let ms = (s * 1000.0).round().clamp(0.0, f64::from(u32::MAX)) as u32;
                                update(&|x: &mut Slide| x.duration_ms = ms);
                            }
                        }
                    />
                </label>
                <label class="field">
                    <span>"Button label"</span>
                    <input
                        type="text"
                        data-testid=format!("slide-{i}-cta-label")
                        prop:value=move || cta().map(|c| c.label).unwrap_or_default()
                        on:input=move |ev| set_cta(event_target_value(&ev), cta().map(|c| c.url).unwrap_or_default())
                    />
                </label>
                <label class="field grow">
                    <span>"Button link (https)"</span>
                    <input
                        type="url"
                        data-testid=format!("slide-{i}-cta-url")
                        prop:value=move || cta().map(|c| c.url).unwrap_or_default()
                        on:input=move |ev| set_cta(cta().map(|c| c.label).unwrap_or_default(), event_target_value(&ev))
                    />
                    // The host as it really reads (punycode), when it is not plain ASCII.
                    {move || {
                        let url = cta().map(|c| c.url).unwrap_or_default();
                        glimpse_shared::validate::lookalike_warning("", &url)
                            .and_then(|_| glimpse_shared::validate::ascii_host(&url))
                            .map(|host| view! {
                                <span class="sub" data-testid=format!("slide-{i}-cta-host")>"Goes to "<code>{host}</code></span>
                            })
                    }}
                </label>
            </div>
        </li>
    }
}

// ---------------------------------------------------------------------------------------
// Live sessions

impl Authored for LiveSession {
    const PLURAL: &'static str = "sessions";
    const ONE: &'static str = "session";
    const NOUN: &'static str = "live session";
    const HEADING: &'static str = "Live sessions";
    const COLUMNS: &'static [&'static str] =
        &["Title", "Host", "Announced", "Starts", "Ends", "Status"];

    fn id(&self) -> &str {
        &self.id
    }

    fn id_mut(&mut self) -> &mut String {
        &mut self.id
    }

    fn order(&self) -> Millis {
        self.starts_at
    }

    fn cells(&self, now: Millis) -> (Vec<String>, &'static str) {
        let st = if now < self.announce_from {
            "scheduled"
        } else if now < self.starts_at {
            "counting down"
        } else {
            status(self.starts_at, self.ends_at, now)
        };
        (
            vec![
                self.title.clone(),
                self.host.clone(),
                show(self.announce_from),
                show(self.starts_at),
                show(self.ends_at),
                st.into(),
            ],
            st,
        )
    }

    fn blank(topic: Option<String>) -> Self {
        let start = (now() / HOUR + 24) * HOUR;
        LiveSession {
            translations: Default::default(),
            targeting: Default::default(),
            id: String::new(),
            title: String::new(),
            topic: topic.unwrap_or_default(),
            host: String::new(),
            starts_at: start,
            ends_at: start + HOUR,
            join_url: String::new(),
            announce_from: start - 24 * HOUR,
            answers_until: None,
        }
    }

    fn checks(&self, site: Option<&Site>) -> (Vec<Problem>, Vec<Problem>) {
        with_site(
            (self.validate(), self.lint()),
            site,
            self.translations.keys(),
            |site| self.lint_translations(site),
        )
    }

    fn form(d: Draft<Self>) -> AnyView {
        let item = d.item;
        view! {
            {d.title_field("Title", "session-title", |s| &s.title, |s| &mut s.title)}
            {d.id_field()}
            {d.topic_field(|s| &s.topic, |s| &mut s.topic)}
            {text_field("Host (shown on the banner)", "session-host", move || item.with(|s| s.host.clone()), move |v| item.update(|s| s.host = v))}
            {text_field("Join link (https)", "session-join", move || item.with(|s| s.join_url.clone()), move |v| item.update(|s| s.join_url = v))}
            <div class="row">
                {d.time("Announce from", "session-announce", |s| s.announce_from, |s| &mut s.announce_from)}
                {d.time("Starts at", "session-starts", |s| s.starts_at, |s| &mut s.starts_at)}
                {d.time("Ends at", "session-ends", |s| s.ends_at, |s| &mut s.ends_at)}
            </div>
            {d.translations()}
            {d.targeting(|s| &s.targeting, |s| &mut s.targeting)}
        }
        .into_any()
    }
}

// ---------------------------------------------------------------------------------------
// Polls

fn kind_name(k: &PollKind) -> &'static str {
    match k {
        PollKind::Choice { .. } => "choice",
        PollKind::Rating => "rating",
        PollKind::Text { .. } => "text",
    }
}

impl Authored for Poll {
    const PLURAL: &'static str = "polls";
    const ONE: &'static str = "poll";
    const NOUN: &'static str = "poll";
    const HEADING: &'static str = "Polls";
    const COLUMNS: &'static [&'static str] = &["Question", "Kind", "Publish", "Expires", "Status"];

    fn id(&self) -> &str {
        &self.id
    }

    fn id_mut(&mut self) -> &mut String {
        &mut self.id
    }

    fn order(&self) -> Millis {
        self.publish_at
    }

    fn cells(&self, now: Millis) -> (Vec<String>, &'static str) {
        let st = status(self.publish_at, self.expires_at, now);
        (
            vec![
                self.question.clone(),
                kind_name(&self.kind).into(),
                show(self.publish_at),
                show(self.expires_at),
                st.into(),
            ],
            st,
        )
    }

    fn blank(_topic: Option<String>) -> Self {
        let start = (now() / MINUTE) * MINUTE;
        Poll {
            translations: Default::default(),
            targeting: Default::default(),
            id: String::new(),
            question: String::new(),
            kind: PollKind::Rating,
            publish_at: start,
            expires_at: start + 7 * 24 * HOUR,
            show_results: false,
        }
    }

    fn checks(&self, site: Option<&Site>) -> (Vec<Problem>, Vec<Problem>) {
        with_site(
            (self.validate(), self.lint()),
            site,
            self.translations.keys(),
            |site| self.lint_translations(site),
        )
    }

    fn form(d: Draft<Self>) -> AnyView {
        let draft = d.item;
        // The options as typed, one per line (kept apart so blank lines survive while typing).
        let options_text = RwSignal::new(match &draft.get_untracked().kind {
            PollKind::Choice { options } => options.join("\n"),
            _ => String::new(),
        });
        let max_chars = RwSignal::new(match &draft.get_untracked().kind {
            PollKind::Text { max_chars } => *max_chars,
            _ => PollKind::TEXT_MAX,
        });
        let set_kind = move |k: &str| {
            let kind = match k {
                "choice" => PollKind::Choice {
                    options: options_text
                        .get_untracked()
                        .lines()
                        .map(|l| l.trim().to_string())
                        .filter(|l| !l.is_empty())
                        .collect(),
                },
                "text" => PollKind::Text {
                    max_chars: max_chars.get_untracked(),
                },
                _ => PollKind::Rating,
            };
            draft.update(|p| p.kind = kind);
        };
        let kind = move || draft.with(|p| kind_name(&p.kind));
        view! {
            {d.title_field("Question", "poll-question", |p| &p.question, |p| &mut p.question)}
            {d.id_field()}
            <label class="field">
                <span>"Kind"</span>
                <select data-testid="poll-kind" prop:value=kind on:change=move |ev| set_kind(&event_target_value(&ev))>
                    <option value="rating">"Rating (1-5 stars, counts as CSAT)"</option>
                    <option value="choice">"Choice (2-6 options)"</option>
                    <option value="text">"Short text"</option>
                </select>
            </label>
            <Show when=move || kind() == "choice">
                <label class="field">
                    <span>"Options, one per line"</span>
                    <textarea rows="5" data-testid="poll-options"
                        prop:value=move || options_text.get()
                        on:input=move |ev| { options_text.set(event_target_value(&ev)); set_kind("choice"); }></textarea>
                </label>
            </Show>
            <Show when=move || kind() == "text">
                <label class="field">
                    <span>"Longest answer (characters)"</span>
                    <input type="number" min="1" max="200" data-testid="poll-max-chars"
                        prop:value=move || max_chars.get().to_string()
                        on:input=move |ev| {
                            if let Ok(n) = event_target_value(&ev).parse::<u16>() { max_chars.set(n); set_kind("text"); }
                        }/>
                </label>
            </Show>
            <div class="row">
                {d.time("Publish at", "poll-publish", |p| p.publish_at, |p| &mut p.publish_at)}
                {d.time("Expires at", "poll-expires", |p| p.expires_at, |p| &mut p.expires_at)}
            </div>
            <label class="check">
                <input type="checkbox" data-testid="poll-show-results"
                    prop:checked=move || draft.with(|p| p.show_results)
                    on:change=move |ev| draft.update(|p| p.show_results = event_target_checked(&ev))/>
                " Show visitors the results after they answer"
            </label>
            {d.translations()}
            {d.targeting(|p| &p.targeting, |p| &mut p.targeting)}
        }
        .into_any()
    }
}
