//! The Glimpse widget: a Leptos CSR app that lives inside a shadow root on the host page.
//!
//! `widget.js` (the loader a marketer pastes) imports the wasm-bindgen glue and calls
//! [`mount`] once per embed with the script tag's configuration. Everything visible is built
//! by the components in [`app`]; [`api`] talks to the worker; [`host`] owns the shadow root.

pub mod api;
pub mod app;
pub mod config;
pub mod host;

use wasm_bindgen::prelude::*;

pub use config::Config;

/// Mounts one widget instance. `config` is a plain object from the loader:
/// `{ site: "demo", api: "https://glimpse.example" }`. Never throws into the host page:
/// problems are reported once on the console and the widget stays out of the way.
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

/// One console warning, prefixed so site owners can tell where it came from.
pub(crate) fn warn(msg: &str) {
    web_sys::console::warn_1(&JsValue::from_str(&format!("Glimpse: {msg}")));
}
