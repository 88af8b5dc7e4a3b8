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
pub fn mount(config: Config) -> Result<(), JsValue> {
    let (host, container) = create_shadow_container(&config.site, config.nonce.as_deref())?;
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

/// Single-page apps may replace `<body>`'s children on navigation; put the widget back.
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
        },
        Duration::from_millis(1_000),
    );
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
    let story: glimpse_shared::Story =
        serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())?;
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
    Ok((host, container))
}
