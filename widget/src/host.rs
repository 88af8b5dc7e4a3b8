//! The widget's place on the host page: one element appended to `<body>` carrying an open
//! shadow root. All markup and CSS live inside it, so host styles cannot reach in and ours
//! cannot leak out. Also the command API (`Glimpse('open' | 'close', …)`) for every instance.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlElement, ShadowRootInit, ShadowRootMode};

use glimpse_shared::outbox::{Outcome, backoff_ms};

use crate::Config;
use crate::app::{App, FeedState, Ui};
use crate::browser;

/// The widget's stylesheet, scoped by the shadow root.
pub const CSS: &str = include_str!("widget.css");

/// A mounted instance, for commands.
#[derive(Clone, Copy)]
struct Instance {
    site: &'static str,
    ui: Ui,
    feed: ReadSignal<FeedState>,
}

thread_local! {
    static INSTANCES: RefCell<Vec<Instance>> = const { RefCell::new(Vec::new()) };
    static STARTED: Cell<bool> = const { Cell::new(false) };
}

/// Creates `<glimpse-widget data-site=…>` with its shadow root and mounts the app into it.
/// One instance per site: a second mount of a site already on the page does nothing, so
/// does one while another copy of the bundle (another loader URL) shows that site. Before
/// `<body>` exists (a snippet in `<head>` on a slow page) it waits for `DOMContentLoaded`.
pub fn mount(config: Config) -> Result<(), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    if is_mounted(&document, &config.site) {
        return Ok(());
    }
    if document.body().is_none() {
        let state = js_sys::Reflect::get(&document, &JsValue::from_str("readyState"))
            .ok()
            .and_then(|s| s.as_string());
        if state.as_deref() != Some("loading") {
            return Err(JsValue::from_str("the page has no <body>"));
        }
        let later = wasm_bindgen::closure::Closure::once_into_js(move || {
            if let Err(e) = mount(config) {
                crate::warn(&format!("could not mount: {e:?}"));
            }
        });
        let once = web_sys::AddEventListenerOptions::new();
        once.set_once(true);
        return document.add_event_listener_with_callback_and_add_event_listener_options(
            "DOMContentLoaded",
            later.unchecked_ref(),
            &once,
        );
    }
    let (host, container) = create_shadow_container(&config.site, config.nonce.as_deref())?;
    crate::viewport::follow(&container);
    let (feed, set_feed) = signal(FeedState::Loading);
    let ui = Ui::new();
    let app_config = config.clone();
    // Mounting first also initialises Leptos's task executor, which spawn_local needs.
    leptos::mount::mount_to(
        container,
        move || view! { <App config=app_config feed=feed ui=ui/> },
    )
    .forget();
    let site: &'static str = Box::leak(config.site.clone().into_boxed_str());
    INSTANCES.with(|i| i.borrow_mut().push(Instance { site, ui, feed }));
    start_once(&config);
    keep_attached(host);
    let url = config.feed_url();
    leptos::task::spawn_local(load_feed(
        url,
        set_feed,
        config.site.clone(),
        config.datalayer,
    ));
    Ok(())
}

/// Loads the site's feed. Offline or on 429/5xx it tries again with backoff and at once when
/// the browser is back online; until then the widget stays out of sight. Other 4xx answers
/// (an unknown site) are final.
async fn load_feed(url: String, set_feed: WriteSignal<FeedState>, site: String, datalayer: bool) {
    let mut attempts = 0;
    loop {
        match crate::api::fetch_feed(&url).await {
            Ok((feed, server_now)) => {
                browser::sync_clock(server_now);
                set_feed.set(FeedState::Ready(Box::new(feed)));
                browser::emit(
                    "ready",
                    &browser::object(&[("site", site.as_str().into())]),
                    datalayer,
                );
                return;
            }
            Err((outcome, e)) => {
                if attempts == 0 {
                    crate::warn(&e);
                    set_feed.set(FeedState::Failed);
                }
                if outcome != Outcome::Retry {
                    return;
                }
                attempts += 1;
                browser::sleep_or_online(backoff_ms(attempts)).await;
            }
        }
    }
}

/// Whether this site's widget is already on the page, from this bundle or another copy.
fn is_mounted(document: &web_sys::Document, site: &str) -> bool {
    INSTANCES.with(|i| i.borrow().iter().any(|x| x.site == site)) || {
        let all = document.get_elements_by_tag_name("glimpse-widget");
        (0..all.length())
            .filter_map(|i| all.item(i))
            .any(|el| el.get_attribute("data-site").as_deref() == Some(site))
    }
}

/// Page-wide duties, started by the first instance: the offline outbox and event batching.
fn start_once(config: &Config) {
    if STARTED.with(|s| s.replace(true)) {
        return;
    }
    crate::poll::start_outbox(config);
    let _ = set_interval_with_handle(|| crate::telemetry::flush(false), Duration::from_secs(10));
    let pagehide = window_event_listener_untyped("pagehide", |_| crate::telemetry::flush(true));
    std::mem::forget(pagehide);
}

/// Single-page apps may replace `<body>`'s children on navigation; put the widget back (and
/// back on the top layer, which removal left). A page script that hid every popover gets
/// it shown again too.
fn keep_attached(host: web_sys::Element) {
    let _ = set_interval_with_handle(
        move || {
            if !host.is_connected()
                && let Some(body) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.body())
            {
                let _ = body.append_child(&host);
            }
            show_on_top(&host);
        },
        Duration::from_millis(1_000),
    );
}

/// The host element's own box, set inline with `!important` (through CSSOM, which a
/// strict CSP allows): a zero-size, transparent, fixed anchor at the viewport's corner, so
/// it never takes part in the page's layout (a flex or grid `<body>` with a gap, `:last-child`
/// margins) and the user agent's popover box (centred, bordered, padded, `overflow: auto`)
/// never shows. Everything visible is `position: fixed` inside the shadow root.
const HOST_STYLE: &[(&str, &str)] = &[
    ("display", "block"),
    ("position", "fixed"),
    ("top", "0"),
    ("left", "0"),
    ("right", "auto"),
    ("bottom", "auto"),
    ("width", "0"),
    ("height", "0"),
    ("min-width", "0"),
    ("min-height", "0"),
    ("max-width", "none"),
    ("max-height", "none"),
    ("margin", "0"),
    ("padding", "0"),
    ("border", "0 none"),
    ("outline", "none"),
    ("background", "transparent"),
    ("box-shadow", "none"),
    ("overflow", "visible"),
    ("z-index", "2147483647"),
    ("transform", "none"),
    ("translate", "none"),
    ("rotate", "none"),
    ("scale", "none"),
    ("filter", "none"),
    ("backdrop-filter", "none"),
    ("clip-path", "none"),
    ("mask", "none"),
    ("contain", "none"),
    ("opacity", "1"),
    ("visibility", "visible"),
    ("pointer-events", "auto"),
    ("transition", "none"),
    ("animation", "none"),
    ("color-scheme", "normal"),
];

fn style_host(host: &web_sys::Element) {
    if let Some(el) = host.dyn_ref::<HtmlElement>() {
        let style = el.style();
        for (name, value) in HOST_STYLE {
            let _ = style.set_property_with_priority(name, value, "important");
        }
    }
}

/// Whether the browser has the Popover API (`showPopover`), which puts an element on the
/// top layer: above every z-index, and out of reach of any ancestor's transform, filter,
/// containment or overflow.
fn has_popover(host: &web_sys::Element) -> bool {
    js_sys::Reflect::get(host, &JsValue::from_str("showPopover")).is_ok_and(|f| f.is_function())
}

/// Shows the connected host on the top layer, unless it is already there. Without the
/// Popover API the host stays a fixed element with the largest z-index.
fn show_on_top(host: &web_sys::Element) {
    if !host.is_connected() || !has_popover(host) {
        return;
    }
    if host.matches(":popover-open").unwrap_or(true) {
        return;
    }
    if let Ok(show) = js_sys::Reflect::get(host, &JsValue::from_str("showPopover"))
        && let Ok(show) = show.dyn_into::<js_sys::Function>()
    {
        // Throws only if the element cannot be shown (disconnected, a modal dialog's
        // state); the next check tries again.
        let _ = show.call0(host);
    }
}

/// `Glimpse('open')`, `Glimpse('open', {story: id})`, `Glimpse('close')`, and for operators
/// `Glimpse('preview', {story: {…}})` (a whole story, validated, shown in the real player
/// without tracking); `{site}` in the argument limits the command to one instance.
pub fn command(name: &str, arg: &JsValue) {
    let get = |k: &str| {
        js_sys::Reflect::get(arg, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_string())
    };
    let only_site = get("site");
    let story = get("story");
    let instances = INSTANCES.with(|i| i.borrow().clone());
    for inst in instances
        .iter()
        .filter(|i| only_site.as_deref().is_none_or(|s| s == i.site))
    {
        match name {
            "open" => match &story {
                Some(id) => {
                    let index = inst.feed.with_untracked(|f| match f {
                        FeedState::Ready(feed) => feed.stories.iter().position(|s| &s.id == id),
                        _ => None,
                    });
                    if let Some(i) = index {
                        inst.ui.tray.set(false);
                        inst.ui.viewer.set(Some(i));
                    }
                }
                None => inst.ui.tray.set(true),
            },
            "close" => {
                inst.ui.viewer.set(None);
                inst.ui.tray.set(false);
                inst.ui.preview.set(None);
            }
            "preview" => match preview_story(arg) {
                Ok(story) => {
                    inst.ui.tray.set(false);
                    inst.ui.viewer.set(None);
                    inst.ui.preview.set(Some(story));
                }
                Err(e) => crate::warn(&format!("cannot preview: {e}")),
            },
            other => crate::warn(&format!("unknown command {other:?}")),
        }
    }
}

/// The story of a preview command, if it would be accepted by the API.
fn preview_story(arg: &JsValue) -> Result<glimpse_shared::Story, String> {
    let value = js_sys::Reflect::get(arg, &JsValue::from_str("story"))
        .map_err(|_| "no story".to_string())?;
    // The console's own page: its `JSON` is the browser's.
    let text = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| "no story".to_string())?;
    let story: glimpse_shared::Story = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    match story.validate().first() {
        Some(p) => Err(format!("{}: {}", p.field, p.message)),
        None => Ok(story),
    }
}

/// Builds the host element, its shadow root with the stylesheet, and returns the host and
/// the element the app renders into.
pub fn create_shadow_container(
    site: &str,
    nonce: Option<&str>,
) -> Result<(web_sys::Element, HtmlElement), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let body = document
        .body()
        .ok_or_else(|| JsValue::from_str("no body"))?;
    let host = document.create_element("glimpse-widget")?;
    host.set_attribute("data-site", site)?;
    style_host(&host);
    if has_popover(&host) {
        host.set_attribute("popover", "manual")?;
    }
    let shadow = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))?;
    let style = document.create_element("style")?;
    if let Some(n) = nonce {
        style.set_attribute("nonce", n)?;
    }
    style.set_text_content(Some(CSS));
    shadow.append_child(&style)?;
    let container: HtmlElement = document.create_element("div")?.dyn_into()?;
    container.set_class_name("glimpse");
    shadow.append_child(&container)?;
    body.append_child(&host)?;
    show_on_top(&host);
    Ok((host, container))
}
