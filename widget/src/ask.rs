//! Ask a question: pick a topic, write a short message, optionally attach a photo
//! (downscaled in the browser to ≤ 1280 px and ≤ 1 MB), then follow the thread while the
//! widget is open. Topics handled elsewhere show their channels instead; sensitive data is
//! flagged before sending (and refused by the API).

/// Unicode case for the sensitive-data guard: the browser's own tables in the widget (Rust's
/// would be a second copy in the wasm); Rust's in host builds (clippy, native checks).
#[cfg(target_arch = "wasm32")]
use glimpse_shared::text::JsText as PageText;
#[cfg(not(target_arch = "wasm32"))]
use glimpse_shared::text::StdText as PageText;
use std::time::Duration;

use glimpse_shared::FeedSite;
use glimpse_shared::guard;
use glimpse_shared::i18n::Text;
use glimpse_shared::question::{Created, FollowUp, NewQuestion, Thread, Turn, is_email, unexpired};
use glimpse_shared::site::Availability;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::app::{Channels, ctx};
use crate::browser;

const MAX_SIDE: f64 = 1280.0;
const MAX_BYTES: f64 = 1024.0 * 1024.0;

fn threads_key(site: &str) -> String {
    format!("glimpse:{site}:threads")
}

/// Downscales an image file to at most 1280 px on its longer side and re-encodes it as
/// JPEG, lowering quality until it fits in 1 MB. A camera photo keeps the orientation its
/// EXIF data gives; transparent pixels (PNG, WebP) become white, as on paper — JPEG has no
/// alpha, and an unfilled canvas would turn them black.
async fn downscale(file: web_sys::File) -> Result<web_sys::Blob, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    // Explicit where browsers know the option; older ones reject it and apply EXIF anyway
    // or not at all, which is the best they can do.
    let options = web_sys::ImageBitmapOptions::new();
    let _ = js_sys::Reflect::set(
        &options,
        &JsValue::from_str("imageOrientation"),
        &JsValue::from_str("from-image"),
    );
    let pending = window
        .create_image_bitmap_with_blob_and_image_bitmap_options(&file, &options)
        .or_else(|_| window.create_image_bitmap_with_blob(&file))?;
    let bitmap: web_sys::ImageBitmap = match JsFuture::from(pending).await {
        Ok(b) => b.dyn_into()?,
        Err(_) => JsFuture::from(window.create_image_bitmap_with_blob(&file)?)
            .await?
            .dyn_into()?,
    };
    let (w, h) = (f64::from(bitmap.width()), f64::from(bitmap.height()));
    let scale = (MAX_SIDE / w.max(h)).min(1.0);
    let (tw, th) = ((w * scale).round().max(1.0), (h * scale).round().max(1.0));
    let document = window.document().ok_or("no document")?;
    let canvas: web_sys::HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
    canvas.set_width(tw as u32);
    canvas.set_height(th as u32);
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")?
        .ok_or("no 2d context")?
        .dyn_into()?;
    context.set_fill_style_str("#ffffff");
    context.fill_rect(0.0, 0.0, tw, th);
    context.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, tw, th)?;
    bitmap.close();
    for quality in [0.85, 0.7, 0.55, 0.4] {
        let canvas = canvas.clone();
        let promise = js_sys::Promise::new(&mut |resolve, reject| {
            let cb = wasm_bindgen::closure::Closure::once_into_js(move |blob: JsValue| {
                let _ = resolve.call1(&JsValue::NULL, &blob);
            });
            if canvas
                .to_blob_with_type_and_encoder_options(
                    cb.unchecked_ref(),
                    "image/jpeg",
                    &JsValue::from_f64(quality),
                )
                .is_err()
            {
                let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("encode failed"));
            }
        });
        let blob: web_sys::Blob = JsFuture::from(promise).await?.dyn_into()?;
        if blob.size() <= MAX_BYTES {
            return Ok(blob);
        }
    }
    Err(JsValue::from_str("the photo is too large"))
}

/// Keeps the thread's first unread reply (the `read`-th, 0-based; the thread itself when it
/// is not there) in view inside the tray until the visitor scrolls or taps
/// ([`crate::in_view::KeepInView`]; the thread is rebuilt on each poll, so it is found
/// afresh after each change); the one kept before is let go.
fn keep_in_view(
    thread: &web_sys::HtmlDivElement,
    read: u32,
    keep: StoredValue<Option<crate::in_view::KeepInView>, LocalStorage>,
) {
    let Some(tray) = thread.closest(".tray").ok().flatten() else {
        crate::in_view::reveal(thread);
        return;
    };
    let find = {
        let tray = tray.clone();
        move || {
            let thread = tray.query_selector("[data-testid=glimpse-thread]").ok()??;
            thread
                .query_selector_all("li.reply")
                .ok()
                .and_then(|all| all.item(read))
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
                .or(Some(thread))
        }
    };
    keep.set_value(crate::in_view::KeepInView::start(&tray, find));
}

/// The ask form, or the visitor's open thread.
#[component]
pub fn Ask(site: Memo<Option<FeedSite>>, availability: Memo<Vec<Availability>>) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang;
    let config = ctx.config.clone();
    let key = threads_key(&config.site);
    // Thread tokens are kept only as long as the thread itself (the site's retention).
    let stored: Vec<Created> = unexpired(
        browser::load_json::<Vec<Created>>(&key).unwrap_or_default(),
        browser::now_ms(),
    );
    browser::save_json(&key, &stored);
    let saved: Option<Created> = stored.last().cloned();
    let current = RwSignal::new(saved);
    let confirming = RwSignal::new(false);
    let deleting = RwSignal::new(false);
    let thread = RwSignal::new(None::<Thread>);
    let thread_ref = NodeRef::<leptos::html::Div>::new();
    // The first unread reply (its index), to bring into view once the thread shows, and
    // then kept in view while the tray fills in around it.
    let unread_from = RwSignal::new(None::<u32>);
    let keep = StoredValue::new_local(None::<crate::in_view::KeepInView>);
    Effect::new(move |_| {
        if let (Some(el), Some(from)) = (thread_ref.get(), unread_from.get()) {
            unread_from.set(None);
            keep_in_view(&el, from, keep);
        }
    });
    let topic = RwSignal::new(String::new());
    let message = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let followup = RwSignal::new(String::new());
    // Follow-ups sent but not yet in the thread the API answers (the queue delivers them
    // within seconds): shown meanwhile, in order.
    let pending = RwSignal::new(Vec::<FollowUp>::new());
    let photo = RwSignal::new(None::<String>);
    let photo_file = StoredValue::new_local(None::<web_sys::File>);
    let error = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);
    // The browser's own Unicode case tables, not a second copy in the wasm.
    let sensitive = Memo::new(move |_| !guard::scan_with(&message.get(), &PageText).is_empty());
    let topics = move || site.get().map(|s| s.topics).unwrap_or_default();
    let selected_simple = move || {
        let t = topic.get();
        site.with(|s| {
            s.as_ref()
                .and_then(|s| s.topics.iter().find(|x| x.id == t).map(|x| x.simple))
        })
        .unwrap_or(true)
    };
    Effect::new(move |_| {
        if topic.get_untracked().is_empty()
            && let Some(first) = topics().first()
        {
            topic.set(first.id.clone());
        }
    });

    // Follow the thread while the widget is open: every 5 s, until it is resolved.
    let thread_url = {
        let config = config.clone();
        move |id: &str| config.site_url(&format!("questions/{id}"))
    };
    // Forgets a thread in this browser (deleted, or gone on the server).
    let forget = {
        let key = key.clone();
        move |id: &str| {
            let mut all: Vec<Created> = browser::load_json(&key).unwrap_or_default();
            all.retain(|c| c.id != id);
            browser::save_json(&key, &all);
            current.set(all.last().cloned());
            thread.set(None);
            confirming.set(false);
        }
    };
    let refresh = {
        let thread_url = thread_url.clone();
        let forget = forget.clone();
        let site_id = config.site.clone();
        move || {
            if let Some(c) = current.get_untracked()
                && thread.with_untracked(|t| t.as_ref().is_none_or(|t| t.resolved.is_none()))
            {
                let url = thread_url(&c.id);
                let forget = forget.clone();
                let site_id = site_id.clone();
                leptos::task::spawn_local(async move {
                    match crate::api::send_auth("GET", &url, &c.token).await {
                        Ok((200, text)) => {
                            if let Ok(t) = serde_json::from_str::<Thread>(&text) {
                                // A reply the visitor has not read: the tray brings the
                                // conversation into view once it shows.
                                let read =
                                    browser::load_json::<std::collections::BTreeMap<String, u32>>(
                                        &glimpse_shared::question::read_key(&site_id),
                                    )
                                    .and_then(|r| r.get(&t.id).copied())
                                    .unwrap_or(0);
                                // Shown in the open widget of a tab the visitor can see:
                                // read. A background tab (the conversation left open in
                                // another tab) leaves it unread; it is read once that tab
                                // shows again (the next poll) or where the visitor looks.
                                let hidden = web_sys::window()
                                    .and_then(|w| w.document())
                                    .is_some_and(|d| d.hidden());
                                if !hidden {
                                    if t.replies.len() > read as usize {
                                        unread_from.set(Some(read));
                                    }
                                    crate::shell::mark_read(
                                        &site_id,
                                        &t.id,
                                        u32::try_from(t.replies.len()).unwrap_or(u32::MAX),
                                    );
                                }
                                pending.update(|p| p.retain(|f| !t.followups.contains(f)));
                                thread.set(Some(t));
                            }
                        }
                        // Expired or deleted on the server (401: the token opens nothing
                        // there any more; 404 from older workers): the token is no use.
                        Ok((401 | 404, _)) => forget(&c.id),
                        _ => {}
                    }
                });
            }
        }
    };
    let delete_thread = {
        let thread_url = thread_url.clone();
        move |_| {
            let Some(c) = current.get_untracked() else {
                return;
            };
            if deleting.get_untracked() {
                return;
            }
            deleting.set(true);
            let url = thread_url(&c.id);
            let forget = forget.clone();
            leptos::task::spawn_local(async move {
                match crate::api::send_auth("DELETE", &url, &c.token).await {
                    Ok((204 | 401 | 404, _)) => forget(&c.id),
                    Ok((_, text)) => {
                        let msg = crate::api::error_message(&text, "could not delete");
                        error.set(Some(msg));
                    }
                    Err(e) => error.set(Some(e)),
                }
                deleting.set(false);
            });
        }
    };
    refresh();
    if let Ok(handle) = set_interval_with_handle(refresh.clone(), Duration::from_secs(5)) {
        on_cleanup(move || handle.clear());
    }

    let submit_config = config.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if sending.get_untracked() || sensitive.get_untracked() {
            return;
        }
        let body = NewQuestion {
            visitor: ctx.visitor.clone(),
            topic: topic.get_untracked(),
            message: message.get_untracked(),
            email: Some(email.get_untracked().trim().to_string()).filter(|e| !e.is_empty()),
            // The consent text stands beside the field: leaving an address is agreeing.
            email_consent: !email.get_untracked().trim().is_empty(),
        };
        let config = submit_config.clone();
        let key = key.clone();
        let file = photo_file.get_value();
        let refresh = refresh.clone();
        sending.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let url = config.site_url("questions");
            match crate::api::post_json_text(&url, &body).await {
                Ok((201, text)) => {
                    let created = serde_json::from_str::<Created>(&text).ok();
                    if let Some(c) = created {
                        if let Some(file) = file {
                            match downscale(file).await {
                                Ok(blob) => {
                                    let photo_url =
                                        config.site_url(&format!("questions/{}/photo", c.id));
                                    let _ = crate::api::put_blob(&photo_url, &blob, &c.token).await;
                                }
                                Err(e) => crate::warn(&format!("photo not sent: {e:?}")),
                            }
                        }
                        let mut all: Vec<Created> = browser::load_json(&key).unwrap_or_default();
                        all.push(c.clone());
                        browser::save_json(&key, &all);
                        current.set(Some(c));
                        message.set(String::new());
                        email.set(String::new());
                        refresh();
                    }
                }
                Ok((_, text)) => {
                    let msg = crate::api::error_message(&text, "could not send");
                    error.set(Some(msg));
                }
                Err(e) => error.set(Some(e)),
            }
            sending.set(false);
        });
    };
    let on_photo = move |ev: leptos::ev::Event| {
        let file = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|f| f.get(0));
        photo.set(file.as_ref().map(|f| f.name()));
        photo_file.set_value(file);
    };
    let send_followup = {
        let thread_url = thread_url.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let text = followup.get_untracked();
            let Some(c) = current.get_untracked() else {
                return;
            };
            if sending.get_untracked()
                || text.trim().is_empty()
                || !guard::scan_with(&text, &PageText).is_empty()
            {
                return;
            }
            let url = format!("{}/messages", thread_url(&c.id));
            sending.set(true);
            error.set(None);
            leptos::task::spawn_local(async move {
                let body = FollowUp { text, at: 0 };
                match crate::api::post_json_auth(&url, &body, &c.token).await {
                    Ok((202, answer)) => {
                        if let Ok(f) = serde_json::from_str::<FollowUp>(&answer) {
                            pending.update(|p| p.push(f));
                        }
                        followup.set(String::new());
                        // A message reopens a resolved thread: follow it again.
                        thread.update(|t| {
                            if let Some(t) = t {
                                t.resolved = None;
                            }
                        });
                    }
                    Ok((_, answer)) => {
                        let msg = crate::api::error_message(&answer, "could not send");
                        error.set(Some(msg));
                    }
                    Err(e) => error.set(Some(e)),
                }
                sending.set(false);
            });
        }
    };
    let followup_sensitive =
        Memo::new(move |_| !guard::scan_with(&followup.get(), &PageText).is_empty());
    let api_base = config.api.clone();
    let thread_view = move || {
        let delete_thread = delete_thread.clone();
        let send_followup = send_followup.clone();
        let api_base = api_base.clone();
        thread.get().map(move |mut t| {
            let waiting: Vec<FollowUp> = pending.get();
            t.followups.extend(waiting);
            let turns = t
                .turns()
                .into_iter()
                .map(|turn| match turn {
                    Turn::Team(r) => {
                        // The operator who replied, by their display name; the team otherwise.
                        let who = r
                            .author
                            .clone()
                            .unwrap_or_else(|| lang.t(Text::TeamReplied).to_string());
                        let photo = r
                            .photo
                            .as_deref()
                            .and_then(|p| browser::media_url(&api_base, p))
                            .map(|src| view! {
                                <img class="reply-photo" data-testid="glimpse-reply-photo" src=src alt="" loading="lazy"/>
                            });
                        view! {
                            <li class="reply" data-testid="glimpse-reply">
                                <strong data-testid="glimpse-reply-author">{who}</strong> " " {r.text.clone()}
                                {photo}
                            </li>
                        }
                        .into_any()
                    }
                    Turn::Visitor(f) => view! {
                        <li class="mine" data-testid="glimpse-followup">{f.text.clone()}</li>
                    }
                    .into_any(),
                })
                .collect_view();
            view! {
                <div class="thread" data-testid="glimpse-thread" node_ref=thread_ref>
                    <p class="mine">{t.message.clone()}</p>
                    <ul>{turns}</ul>
                    <form class="followup" on:submit=send_followup>
                        <textarea
                            data-testid="glimpse-followup-text"
                            maxlength="500"
                            rows="2"
                            aria-label=lang.t(Text::AddMessage)
                            placeholder=lang.t(Text::AddMessage)
                            prop:value=move || followup.get()
                            on:input=move |ev| followup.set(event_target_value(&ev))
                        ></textarea>
                        <Show when=move || followup_sensitive.get()>
                            <p class="warning" role="alert">{lang.t(Text::SensitiveWarning)}</p>
                        </Show>
                        <button
                            class="pill"
                            type="submit"
                            data-testid="glimpse-followup-send"
                            disabled=move || sending.get() || followup_sensitive.get() || followup.with(|m| m.trim().is_empty())
                        >
                            {lang.t(Text::Send)}
                        </button>
                    </form>
                    <Show when=move || thread.with(|t| t.as_ref().is_some_and(|t| t.replies.is_empty()))>
                        <p class="sub" role="status">{lang.t(Text::Waiting)}</p>
                    </Show>
                    <Show
                        when=move || confirming.get()
                        fallback=move || view! {
                            <button
                                class="link"
                                type="button"
                                data-testid="glimpse-thread-delete"
                                on:click=move |_| confirming.set(true)
                            >
                                {lang.t(Text::DeleteConversation)}
                            </button>
                        }
                    >
                        <div class="confirm" role="group" data-testid="glimpse-thread-confirm">
                            <p>{lang.t(Text::DeleteConfirm)}</p>
                            <button
                                class="pill"
                                type="button"
                                data-testid="glimpse-thread-delete-confirm"
                                disabled=move || deleting.get()
                                on:click=delete_thread.clone()
                            >
                                {lang.t(Text::DeleteForGood)}
                            </button>
                            <button
                                class="link"
                                type="button"
                                data-testid="glimpse-thread-delete-cancel"
                                on:click=move |_| confirming.set(false)
                            >
                                {lang.t(Text::Cancel)}
                            </button>
                        </div>
                    </Show>
                </div>
            }
        })
    };
    // "Usually replies within 2 h" while the topic's help is on; "away" when its hours say
    // it is off now; nothing without enough replies to say.
    let reply_time = move || {
        let t = topic.get();
        let away = availability.with(|a| a.iter().any(|x| x.topic == t && !x.open));
        if away {
            return Some(lang.t(Text::RepliesWhenBack).to_string());
        }
        site.with(|s| s.as_ref().and_then(|s| s.reply_minutes))
            .map(|m| lang.usually_replies(m))
    };
    let email_invalid = move || email.with(|e| !e.trim().is_empty() && !is_email(e.trim()));
    let topic_options = move || {
        topics()
            .into_iter()
            .map(|t| view! { <option value=t.id.clone()>{t.label}</option> })
            .collect_view()
    };
    view! {
        <section class="ask" data-testid="glimpse-ask" aria-label=lang.t(Text::AskQuestion)>
            <h3>{lang.t(Text::AskQuestion)}</h3>
            {move || reply_time().map(|text| view! { <p class="sub" data-testid="glimpse-reply-time">{text}</p> })}
            {thread_view}
            <form on:submit=submit>
                <label class="field">
                    <span>{lang.t(Text::Topic)}</span>
                    <select
                        data-testid="glimpse-ask-topic"
                        prop:value=move || topic.get()
                        on:change=move |ev| topic.set(event_target_value(&ev))
                    >
                        {topic_options}
                    </select>
                </label>
                <Show
                    when=selected_simple
                    fallback=move || view! {
                        <div data-testid="glimpse-ask-elsewhere">
                            <p>{lang.t(Text::NotHere)}</p>
                            <Channels
                                site=site
                                topic=Some(topic.get_untracked())
                                story=Some(format!("Question about {}: {}", topic.get_untracked(), message.get_untracked()))
                            />
                        </div>
                    }
                >
                    <textarea
                        data-testid="glimpse-ask-message"
                        maxlength="500"
                        rows="3"
                        aria-label=lang.t(Text::YourQuestion)
                        placeholder=lang.t(Text::YourQuestion)
                        prop:value=move || message.get()
                        on:input=move |ev| message.set(event_target_value(&ev))
                    ></textarea>
                    <Show when=move || sensitive.get()>
                        <div class="warning" role="alert" data-testid="glimpse-ask-sensitive">
                            <p>{lang.t(Text::SensitiveWarning)}</p>
                            // The message itself is never put into a link: it holds the secret.
                            <Channels
                                site=site
                                topic=Some(topic.get_untracked())
                                story=Some(format!("Question about {} (details left out: they contained sensitive data)", topic.get_untracked()))
                            />
                        </div>
                    </Show>
                    <label class="field photo">
                        <span>{lang.t(Text::AddPhoto)}</span>
                        <input
                            type="file"
                            accept="image/jpeg,image/png,image/webp"
                            data-testid="glimpse-ask-photo"
                            on:change=on_photo
                        />
                    </label>
                    <label class="field">
                        <span>{lang.t(Text::YourEmail)}</span>
                        <input
                            type="email"
                            autocomplete="email"
                            maxlength="254"
                            data-testid="glimpse-ask-email"
                            aria-describedby="glimpse-email-consent"
                            prop:value=move || email.get()
                            on:input=move |ev| email.set(event_target_value(&ev))
                        />
                    </label>
                    <p class="sub" id="glimpse-email-consent" data-testid="glimpse-ask-email-consent">{lang.t(Text::EmailConsent)}</p>
                    <button
                        class="pill"
                        type="submit"
                        data-testid="glimpse-ask-send"
                        disabled=move || sending.get() || sensitive.get() || email_invalid() || message.with(|m| m.trim().is_empty())
                    >
                        {lang.t(Text::Send)}
                    </button>
                    <Show when=move || error.get().is_some()>
                        <p class="warning" role="alert" data-testid="glimpse-ask-error">{move || error.get()}</p>
                    </Show>
                </Show>
            </form>
        </section>
    }
}
