//! The widget's place on the host page: one element appended to `<body>` carrying an open
//! shadow root. All markup and CSS live inside it, so host styles cannot reach in and ours
//! cannot leak out.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlElement, ShadowRootInit, ShadowRootMode};

use crate::Config;
use crate::app::{App, FeedState};

/// The widget's stylesheet, scoped by the shadow root.
pub const CSS: &str = include_str!("widget.css");

/// Creates `<glimpse-widget data-site=…>` with its shadow root and mounts the app into it.
pub fn mount(config: Config) -> Result<(), JsValue> {
    let container = create_shadow_container(&config.site)?;
    let (feed, set_feed) = signal(FeedState::Loading);
    // Mounting first also initialises Leptos's task executor, which spawn_local needs.
    leptos::mount::mount_to(container, move || view! { <App feed=feed/> }).forget();
    let url = config.feed_url();
    leptos::task::spawn_local(async move {
        match crate::api::fetch_feed(&url).await {
            Ok(feed) => set_feed.set(FeedState::Ready(Box::new(feed))),
            Err(e) => {
                crate::warn(&e);
                set_feed.set(FeedState::Failed);
            }
        }
    });
    Ok(())
}

/// Builds the host element, its shadow root with the stylesheet, and returns the element the
/// app renders into.
pub fn create_shadow_container(site: &str) -> Result<HtmlElement, JsValue> {
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
    style.set_text_content(Some(CSS));
    shadow.append_child(&style)?;
    let container: HtmlElement = document.create_element("div")?.dyn_into()?;
    container.set_class_name("glimpse");
    shadow.append_child(&container)?;
    body.append_child(&host)?;
    Ok(container)
}
