//! The Glimpse widget: a Leptos CSR app that lives inside a shadow root on the host page.
//!
//! `widget.js` (the loader a marketer pastes) imports the wasm-bindgen glue and calls
//! [`mount`] once per embed with the script tag's configuration, and forwards
//! `Glimpse('open' | 'close', …)` to [`command`]. The story player, banners and polls are
//! pure logic in `glimpse-shared`; the components here render them and forward events.

pub mod api;
pub mod app;
pub mod ask;
pub mod banner;
pub mod browser;
pub mod config;
#[cfg(test)]
#[path = "../css.rs"]
mod css;
pub mod host;
pub mod in_view;
pub mod lazy;
pub mod live;
pub mod media;
pub mod poll;
mod pristine;
pub mod scroll_lock;
pub mod search;
pub mod shell;
pub mod strip;
pub mod targeting;
pub mod telemetry;
pub mod viewer;
pub mod viewport;

use wasm_bindgen::prelude::*;

pub use config::Config;

/// Mounts one widget instance. `config` is a plain object from the loader:
/// `{ site, api, lang?, position?, accent?, theme?, nonce?, datalayer? }`. Never throws into
/// the host page: problems are reported once on the console and the widget stays away.
#[wasm_bindgen]
pub fn mount(config: JsValue) {
    match Config::from_js(&config) {
        Ok(config) => {
            if let Err(e) = host::mount(config) {
                warn(&format!("could not mount: {e:?}"));
            }
        }
        Err(e) => warn(&e),
    }
}

/// Runs a `Glimpse(name, arg)` command on the mounted instances.
#[wasm_bindgen]
pub fn command(name: String, arg: JsValue) {
    host::command(&name, &arg);
}

/// One console warning, prefixed so site owners can tell where it came from.
pub(crate) fn warn(msg: &str) {
    web_sys::console::warn_1(&JsValue::from_str(&format!("Glimpse: {msg}")));
}
