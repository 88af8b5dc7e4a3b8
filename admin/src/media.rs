//! The media library: the page that lists, uploads and deletes the site's pictures, videos
//! and captions, and the picker the slide editor opens ([`Choose`]). Pictures are scaled in
//! the browser to at most [`IMAGE_MAX_EDGE`] pixels and re-encoded as WebP before they are
//! sent (a phone photo of several MB becomes a few hundred KB); GIFs (animation) and files
//! already small enough go as they are. The worker decides every type by the bytes.

use glimpse_shared::media::{IMAGE_MAX_EDGE, MediaItem, MediaKind, MediaType};
use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::api::{self, Failure};
use crate::app::console;

#[derive(Debug, Deserialize)]
struct Page {
    items: Vec<MediaItem>,
    #[serde(default)]
    next: Option<String>,
}

/// What the library says of a kind's limits, for the operator.
fn limits() -> String {
    let mib = |k: MediaKind| k.max_bytes() / (1024 * 1024);
    format!(
        "Pictures (JPEG, PNG, WebP, GIF, AVIF; scaled to {IMAGE_MAX_EDGE} px, at most {} MiB), \
         videos (MP4 or WebM, at most {} MiB) and WebVTT captions (at most {} KiB).",
        mib(MediaKind::Image),
        mib(MediaKind::Video),
        MediaKind::Captions.max_bytes() / 1024
    )
}

fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

fn failure(e: JsValue) -> Failure {
    Failure::local(
        0,
        e.as_string()
            .or_else(|| js_sys::Error::from(e).message().as_string())
            .unwrap_or_else(|| "the browser could not read the file".into()),
    )
}

/// `file` scaled to at most [`IMAGE_MAX_EDGE`] pixels on its longer edge and encoded as WebP
/// (quality 0.85), if it is a JPEG, PNG or WebP picture that is larger than that or heavier
/// than 1 MiB; `None` to send it as it is.
async fn scaled(file: &web_sys::File) -> Result<Option<web_sys::Blob>, JsValue> {
    if !matches!(
        file.type_().as_str(),
        "image/jpeg" | "image/png" | "image/webp"
    ) {
        return Ok(None);
    }
    let window = web_sys::window().ok_or("no window")?;
    let bitmap: web_sys::ImageBitmap = JsFuture::from(window.create_image_bitmap_with_blob(file)?)
        .await?
        .dyn_into()?;
    let (w, h) = (bitmap.width(), bitmap.height());
    let longest = w.max(h).max(1);
    if longest <= IMAGE_MAX_EDGE && file.size() <= 1024.0 * 1024.0 {
        return Ok(None);
    }
    let scale = (f64::from(IMAGE_MAX_EDGE) / f64::from(longest)).min(1.0);
    let (nw, nh) = (
        (f64::from(w) * scale).round().max(1.0),
        (f64::from(h) * scale).round().max(1.0),
    );
    let document = window.document().ok_or("no document")?;
    let canvas: web_sys::HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
    canvas.set_width(nw as u32);
    canvas.set_height(nh as u32);
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")?
        .ok_or("no 2d canvas")?
        .dyn_into()?;
    ctx.set_image_smoothing_enabled(true);
    ctx.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, nw, nh)?;
    bitmap.close();
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let done = wasm_bindgen::closure::Closure::once_into_js(move |blob: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &blob);
        });
        if let Err(e) = canvas.to_blob_with_type_and_encoder_options(
            done.unchecked_ref(),
            "image/webp",
            &JsValue::from_f64(0.85),
        ) {
            let _ = reject.call1(&JsValue::NULL, &e);
        }
    });
    let blob = JsFuture::from(promise).await?;
    if blob.is_null() {
        return Err("the browser could not encode the picture".into());
    }
    Ok(Some(blob.dyn_into()?))
}

/// Uploads `file` to the library of `c`'s chosen site (scaled first if it is a large
/// picture). `c` is passed in: a task has no component context to find it in.
pub async fn upload(c: crate::app::Console, file: web_sys::File) -> Result<MediaItem, Failure> {
    let mut name = file.name();
    let body: web_sys::Blob = match scaled(&file).await.map_err(failure)? {
        Some(blob) => {
            // The bytes are WebP now: so is the name.
            let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
            name = format!("{stem}.webp");
            blob
        }
        None => file.into(),
    };
    let path = c.path(&format!(
        "/media?name={}",
        String::from(js_sys::encode_uri_component(&name))
    ));
    api::upload::<MediaItem>(&path, &body).await
}

/// What an `<input type=file>` for pictures accepts (the library's picture types).
pub const IMAGE_ACCEPT: &str = "image/jpeg,image/png,image/webp,image/gif,image/avif";

/// The files an `<input type=file>` holds (the input is emptied, so the same file can be
/// chosen again).
pub(crate) fn files_of(ev: &leptos::ev::Event) -> Vec<web_sys::File> {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return Vec::new();
    };
    let files = input
        .files()
        .map(|list| (0..list.length()).filter_map(|i| list.item(i)).collect())
        .unwrap_or_default();
    input.set_value("");
    files
}

/// A small preview of `item`: the picture, the video (its first frame, with controls), or a
/// captions badge.
fn preview(item: &MediaItem) -> AnyView {
    let url = item.url.clone();
    match item.kind {
        MediaKind::Image => {
            view! { <img class="thumb" src=url alt=item.name.clone() loading="lazy"/> }.into_any()
        }
        MediaKind::Video => {
            view! { <video class="thumb" src=url preload="metadata" controls muted></video> }
                .into_any()
        }
        MediaKind::Captions => {
            view! { <span class="thumb cc" aria-hidden="true">"CC"</span> }.into_any()
        }
    }
}

/// The media library page.
#[component]
pub fn MediaPage() -> impl IntoView {
    let c = console();
    let items = RwSignal::new(None::<Vec<MediaItem>>);
    let next = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let kind = RwSignal::new(String::new());
    let load = move |before: Option<String>| {
        let mut query = Vec::new();
        let k = kind.get_untracked();
        if !k.is_empty() {
            query.push(format!("kind={k}"));
        }
        if let Some(b) = &before {
            query.push(format!("before={b}"));
        }
        let path = c.path(&format!("/media?{}", query.join("&")));
        leptos::task::spawn_local(async move {
            match api::get::<Page>(&path).await {
                Ok(p) => {
                    error.set(None);
                    next.set(p.next);
                    if before.is_some() {
                        items.update(|i| i.get_or_insert_with(Vec::new).extend(p.items));
                    } else {
                        items.set(Some(p.items));
                    }
                }
                Err(f) => error.set(Some(c.fail(&f))),
            }
        });
    };
    load(None);
    let on_files = move |ev: leptos::ev::Event| {
        let files = files_of(&ev);
        leptos::task::spawn_local(async move {
            let total = files.len();
            let mut failed = Vec::new();
            for (i, file) in files.into_iter().enumerate() {
                let name = file.name();
                status.set(Some(format!("Uploading {name} ({} of {total})…", i + 1)));
                if let Err(f) = upload(c, file).await {
                    failed.push(format!("{name}: {}", c.fail(&f)));
                }
            }
            status.set(None);
            error.set((!failed.is_empty()).then(|| failed.join("; ")));
            load(None);
        });
    };
    let remove = move |item: MediaItem| {
        let path = c.path(&format!("/media/{}", item.id));
        leptos::task::spawn_local(async move {
            match api::call::<serde_json::Value>("DELETE", &path, None::<&()>).await {
                Ok(_) => {
                    error.set(None);
                    items.update(|i| {
                        if let Some(i) = i {
                            i.retain(|x| x.id != item.id);
                        }
                    });
                }
                Err(f) => error.set(Some(format!("{}: {}", item.name, c.fail(&f)))),
            }
        });
    };
    let rows = move || {
        items.get().map(|list| {
            if list.is_empty() {
                return view! { <p class="sub" data-testid="media-empty">"Nothing uploaded yet."</p> }
                    .into_any();
            }
            list.into_iter()
                .map(|item| {
                    let it = item.clone();
                    view! {
                        <li class="media-item" data-testid=format!("media-{}", item.id)>
                            {preview(&item)}
                            <span class="name">{if item.name.is_empty() { item.id.clone() } else { item.name.clone() }}</span>
                            <span class="sub">{format!("{} · {}", item.kind.as_str(), size(item.bytes))}</span>
                            <a href=item.url.clone() target="_blank" rel="noopener">"Open"</a>
                            <button class="link danger" data-testid=format!("media-delete-{}", item.id)
                                on:click=move |_| remove(it.clone())>"Delete"</button>
                        </li>
                    }
                })
                .collect_view()
                .into_any()
        })
    };
    view! {
        <section class="media-library">
            <h2>"Media library"</h2>
            <p class="sub">{limits()}" Use them on slides with “Choose from library”."</p>
            <div class="row">
                <label class="field">
                    <span>"Upload files"</span>
                    <input type="file" multiple accept=MediaType::ACCEPT data-testid="media-upload" on:change=on_files/>
                </label>
                <label class="field">
                    <span>"Show"</span>
                    <select data-testid="media-kind" on:change=move |ev| { kind.set(event_target_value(&ev)); load(None); }>
                        <option value="">"Everything"</option>
                        <option value="image">"Pictures"</option>
                        <option value="video">"Videos"</option>
                        <option value="captions">"Captions"</option>
                    </select>
                </label>
            </div>
            <Show when=move || status.get().is_some()>
                <p class="sub" role="status" data-testid="media-status">{move || status.get()}</p>
            </Show>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert" data-testid="media-error">{move || error.get()}</p>
            </Show>
            <ul class="media-grid">{rows}</ul>
            <Show when=move || next.get().is_some()>
                <button on:click=move |_| load(next.get_untracked())>"More"</button>
            </Show>
        </section>
    }
}

/// "Choose from library…": a button that opens the library's items of `kind` (newest
/// first) with an upload of that kind; the chosen item's URL goes to `on_pick`.
#[component]
pub fn Choose(
    #[prop(into)] kind: Signal<MediaKind>,
    on_pick: Callback<String>,
    #[prop(into)] testid: String,
) -> impl IntoView {
    let c = console();
    let open = RwSignal::new(false);
    let items = RwSignal::new(None::<Vec<MediaItem>>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let load = move || {
        let path = c.path(&format!("/media?kind={}", kind.get_untracked().as_str()));
        leptos::task::spawn_local(async move {
            match api::get::<Page>(&path).await {
                Ok(p) => items.set(Some(p.items)),
                Err(f) => error.set(Some(c.fail(&f))),
            }
        });
    };
    let pick = move |url: String| {
        on_pick.run(url);
        open.set(false);
    };
    let on_file = move |ev: leptos::ev::Event| {
        let Some(file) = files_of(&ev).into_iter().next() else {
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match upload(c, file).await {
                Ok(item) if item.kind == kind.get_untracked() => {
                    error.set(None);
                    pick(item.url);
                }
                Ok(item) => error.set(Some(format!(
                    "that file is a {}, not a {}",
                    item.kind.as_str(),
                    kind.get_untracked().as_str()
                ))),
                Err(f) => error.set(Some(c.fail(&f))),
            }
            busy.set(false);
        });
    };
    let id = testid.clone();
    let list = move || {
        items.get().map(|list| {
            list.into_iter()
                .map(|item| {
                    let url = item.url.clone();
                    view! {
                        <li class="media-item">
                            {preview(&item)}
                            <span class="name">{if item.name.is_empty() { item.id.clone() } else { item.name.clone() }}</span>
                            <button data-testid=format!("{id}-use-{}", item.id) on:click=move |_| pick(url.clone())>"Use"</button>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let accept = move || match kind.get() {
        MediaKind::Image => IMAGE_ACCEPT,
        MediaKind::Video => "video/mp4,video/webm",
        MediaKind::Captions => "text/vtt,.vtt",
    };
    view! {
        <span class="choose">
            <button
                type="button"
                class="link"
                data-testid=testid.clone()
                aria-expanded=move || open.get().to_string()
                on:click=move |_| {
                    let now = !open.get_untracked();
                    open.set(now);
                    if now {
                        load();
                    }
                }
            >
                "Choose from library…"
            </button>
            <Show when=move || open.get()>
                <div class="picker" role="group" aria-label="Media library">
                    <label class="field">
                        <span>"Upload a new one"</span>
                        <input type="file" accept=accept disabled=move || busy.get() data-testid=format!("{testid}-upload") on:change=on_file/>
                    </label>
                    <Show when=move || error.get().is_some()>
                        <p class="error" role="alert">{move || error.get()}</p>
                    </Show>
                    <ul class="media-grid">{list.clone()}</ul>
                </div>
            </Show>
        </span>
    }
}

/// A URL field for one of a slide's files (`label`, the input's `testid`), with
/// [`Choose`] (`choose`: its test id) to pick it from the library: typing or picking calls
/// `set` with the URL.
#[component]
pub fn MediaField(
    label: &'static str,
    #[prop(into)] testid: String,
    #[prop(into)] choose: String,
    kind: MediaKind,
    value: Signal<String>,
    set: Callback<String>,
) -> impl IntoView {
    view! {
        <label class="field grow">
            <span>{label}</span>
            <input
                type="url"
                data-testid=testid
                prop:value=move || value.get()
                on:input=move |ev| set.run(event_target_value(&ev))
            />
            <Choose kind=kind on_pick=set testid=choose />
        </label>
    }
}
