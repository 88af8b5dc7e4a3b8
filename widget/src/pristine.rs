//! The browser's own `fetch` and `JSON.parse`, whatever the host page did to them.
//!
//! Analytics tags, error trackers and old polyfills wrap `window.fetch`; some wrappers
//! change arguments, drop `keepalive`, or return a promise of their own. The widget takes
//! the function once, on first use: the page's `fetch` if it is still the native one,
//! otherwise the native one of a hidden same-origin `about:blank` iframe (the approach
//! Sentry's browser SDK uses for the same problem), called with the host window as `this`
//! so the request is the page's own (origin, CSP, cookies policy). Bodies are serialised
//! in Rust (`serde_json`), so a patched `JSON` or `Array.prototype.toJSON` never reaches
//! them either.

use std::cell::OnceCell;

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

thread_local! {
    static FETCH: OnceCell<Option<Function>> = const { OnceCell::new() };
    static PARSE: OnceCell<Option<(JsValue, Function)>> = const { OnceCell::new() };
}

/// Parses JSON text with the browser's own `JSON.parse` (the page's if it is still native,
/// else a hidden frame's), so the first chunk can read a feed without carrying a JSON
/// decoder of its own. `None` if the text is not JSON.
pub fn json_parse(text: &str) -> Option<JsValue> {
    let (json, parse) = PARSE.with(|p| p.get_or_init(native_parse).clone())?;
    parse.call1(&json, &JsValue::from_str(text)).ok()
}

fn native_parse() -> Option<(JsValue, Function)> {
    let window = web_sys::window()?;
    let of = |w: &JsValue| -> Option<(JsValue, Function)> {
        let json = Reflect::get(w, &JsValue::from_str("JSON")).ok()?;
        let parse = Reflect::get(&json, &JsValue::from_str("parse"))
            .ok()?
            .dyn_into::<Function>()
            .ok()?;
        Some((json, parse))
    };
    let current = of(&window)?;
    if is_native(&current.1, "parse") {
        return Some(current);
    }
    in_frame(&window, |w| of(w)).or(Some(current))
}

/// Calls the native `fetch(url, init)` on the host window; the promise of a `Response`.
pub fn fetch(url: &str, init: &JsValue) -> Result<js_sys::Promise, JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let f = FETCH
        .with(|f| f.get_or_init(native_fetch).clone())
        .ok_or_else(|| JsValue::from_str("no fetch"))?;
    let promise = f.call2(&window, &JsValue::from_str(url), init)?;
    // Not `dyn_into` (`instanceof Promise`): the page may have replaced `window.Promise`,
    // and the hidden frame's promises belong to its realm. Only `then` is used.
    if promise.is_object() {
        Ok(promise.unchecked_into())
    } else {
        Err(JsValue::from_str("fetch returned no promise"))
    }
}

fn native_fetch() -> Option<Function> {
    let window = web_sys::window()?;
    let current = Reflect::get(&window, &JsValue::from_str("fetch"))
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    if is_native(&current, "fetch") {
        return Some(current);
    }
    in_frame(&window, |w| {
        Reflect::get(w, &JsValue::from_str("fetch"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
    })
    .or(Some(current))
}

/// Whether `f` prints as the browser's own function `name` (`function fetch() { [native
/// code] }`, whitespace aside). A wrapper that lies about its source passes; one that does
/// not is replaced.
fn is_native(f: &Function, name: &str) -> bool {
    let source: String = f.to_string().into();
    let compact: String = source.chars().filter(|c| !c.is_whitespace()).collect();
    compact == format!("function{name}(){{[nativecode]}}")
}

/// Reads `get` from the window of a hidden `about:blank` iframe, which no host script has
/// touched. The frame lives only for the moment it takes to read the function.
fn in_frame<T>(window: &web_sys::Window, get: impl FnOnce(&JsValue) -> Option<T>) -> Option<T> {
    let document = window.document()?;
    let frame = document.create_element("iframe").ok()?;
    let _ = frame.set_attribute("aria-hidden", "true");
    let _ = frame.set_attribute("tabindex", "-1");
    if let Some(el) = frame.dyn_ref::<web_sys::HtmlElement>() {
        el.set_hidden(true);
        let _ = el
            .style()
            .set_property_with_priority("display", "none", "important");
    }
    let parent: web_sys::Node = match document.head() {
        Some(head) => head.into(),
        None => document.document_element()?.into(),
    };
    parent.append_child(&frame).ok()?;
    let found = frame
        .dyn_ref::<web_sys::HtmlIFrameElement>()
        .and_then(web_sys::HtmlIFrameElement::content_window)
        .and_then(|w| get(&w));
    let _ = parent.remove_child(&frame);
    found
}
