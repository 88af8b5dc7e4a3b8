//! Small, failure-tolerant wrappers over the browser: localStorage, random ids, the
//! server-corrected clock, and events for the host page. Nothing here throws: storage may be
//! disabled, and the widget then simply forgets between visits.

use std::cell::Cell;

use wasm_bindgen::{JsCast, JsValue};

thread_local! {
    /// The server's clock minus the visitor's, learned from the feed's `now`.
    static SKEW_MS: Cell<f64> = const { Cell::new(0.0) };
}

/// Learns the clock skew from a server timestamp received just now.
pub fn sync_clock(server_now_ms: i64) {
    SKEW_MS.with(|s| s.set(server_now_ms as f64 - js_sys::Date::now()));
}

/// The server-corrected time: visibility and countdowns follow the server's clock.
pub fn now_ms() -> i64 {
    (js_sys::Date::now() + SKEW_MS.with(Cell::get)) as i64
}

/// Resolves after `ms` milliseconds, or sooner when the browser comes back online.
pub async fn sleep_or_online(ms: i64) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(w) = web_sys::window() {
            let ms = i32::try_from(ms).unwrap_or(i32::MAX);
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            let once = web_sys::AddEventListenerOptions::new();
            once.set_once(true);
            let _ = w.add_event_listener_with_callback_and_add_event_listener_options(
                "online", &resolve, &once,
            );
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Resolves after `ms` milliseconds (at once for `ms` ≤ 0).
pub async fn sleep(ms: i64) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(w) = web_sys::window() {
            let ms = i32::try_from(ms.max(0)).unwrap_or(i32::MAX);
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Calls `f` every `ms` milliseconds for the life of the page.
pub fn every(ms: i32, f: impl FnMut() + 'static) {
    let f = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(f);
    if let Some(w) = web_sys::window() {
        let _ = w
            .set_interval_with_callback_and_timeout_and_arguments_0(f.as_ref().unchecked_ref(), ms);
    }
    f.forget();
}

/// The visitor's own clock (for local retry schedules).
pub fn local_ms() -> i64 {
    js_sys::Date::now() as i64
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

pub fn save(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
}

/// Reads a JSON value stored under `key` (parsed in Rust: the page's `JSON` may be patched).
pub fn load_json<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    serde_json::from_str(&load(key)?).ok()
}

/// Stores `value` as JSON under `key` (written by `serde_json`, so a page's
/// `Array.prototype.toJSON` cannot turn a list into a string).
pub fn save_json<T: serde::Serialize>(key: &str, value: &T) {
    if let Ok(text) = serde_json::to_string(value) {
        save(key, &text);
    }
}

/// A random `[A-Za-z0-9_-]` token of 22 characters (128+ bits) from `crypto`.
pub fn random_token() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = [0u8; 22];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .is_some();
    if !filled {
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b & 63)] as char)
        .collect()
}

/// The anonymous visitor id, created once and kept in localStorage (never a cookie).
pub fn visitor_id() -> String {
    const KEY: &str = "glimpse:visitor";
    match load(KEY).filter(|v| glimpse_shared::ids::is_token(v)) {
        Some(v) => v,
        None => {
            let v = random_token();
            save(KEY, &v);
            v
        }
    }
}

/// A JSON value as a plain JS value (objects, arrays, strings, numbers, booleans, null),
/// built directly rather than through the page's `JSON.parse`.
pub fn js_of_json(value: &serde_json::Value) -> JsValue {
    use serde_json::Value;
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => n.as_f64().map_or(JsValue::NULL, JsValue::from_f64),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => {
            let a = js_sys::Array::new();
            for (i, item) in items.iter().enumerate() {
                a.set(u32::try_from(i).unwrap_or(u32::MAX), js_of_json(item));
            }
            a.into()
        }
        Value::Object(map) => {
            let o = js_sys::Object::new();
            for (k, v) in map {
                let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &js_of_json(v));
            }
            o.into()
        }
    }
}

/// A plain JS object from string pairs.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

/// Tells the host page: a `glimpse:<name>` CustomEvent on `window`, and a `dataLayer` push
/// (`event: "glimpse_<name>"`) when the embed asked for it.
pub fn emit(name: &str, detail: &JsValue, datalayer: bool) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let init = web_sys::CustomEventInit::new();
    init.set_detail(detail);
    if let Ok(ev) =
        web_sys::CustomEvent::new_with_event_init_dict(&format!("glimpse:{name}"), &init)
    {
        let _ = window.dispatch_event(&ev);
    }
    if datalayer {
        let key = JsValue::from_str("dataLayer");
        let layer = js_sys::Reflect::get(&window, &key)
            .ok()
            .and_then(|l| l.dyn_into::<js_sys::Array>().ok())
            .unwrap_or_else(|| {
                let a = js_sys::Array::new();
                let _ = js_sys::Reflect::set(&window, &key, &a);
                a
            });
        let entry = js_sys::Object::assign(
            &js_sys::Object::new(),
            &js_sys::Object::from(detail.clone()),
        );
        let _ = js_sys::Reflect::set(
            &entry,
            &JsValue::from_str("event"),
            &JsValue::from_str(&format!("glimpse_{name}")),
        );
        layer.push(&entry);
    }
}

/// The visitor's preferred languages (`navigator.languages`).
pub fn browser_languages() -> Vec<String> {
    web_sys::window()
        .map(|w| w.navigator().languages())
        .map(|a| a.iter().filter_map(|v| v.as_string()).collect())
        .unwrap_or_default()
}

/// Whether the visitor asked for reduced motion.
pub fn prefers_reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| {
            w.match_media("(prefers-reduced-motion: reduce)")
                .ok()
                .flatten()
        })
        .is_some_and(|m| m.matches())
}

/// Whether the page is visible.
pub fn page_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| !d.hidden())
}

/// A local date/time for `ms` in the visitor's time zone and `lang`
/// (`Intl.DateTimeFormat`, e.g. "Sun 22 Nov, 14:00").
pub fn local_time(ms: i64, lang: &str) -> String {
    format_time(
        ms,
        lang,
        &[
            ("weekday", "short"),
            ("day", "numeric"),
            ("month", "short"),
            ("hour", "2-digit"),
            ("minute", "2-digit"),
        ],
    )
}

/// "17:00" (or "5:00 PM") in the visitor's time zone and `lang`.
pub fn local_clock(ms: i64, lang: &str) -> String {
    format_time(ms, lang, &[("hour", "2-digit"), ("minute", "2-digit")])
}

/// "Mon 09:00" in the visitor's time zone and `lang`.
pub fn local_weekday_clock(ms: i64, lang: &str) -> String {
    format_time(
        ms,
        lang,
        &[
            ("weekday", "short"),
            ("hour", "2-digit"),
            ("minute", "2-digit"),
        ],
    )
}

fn format_time(ms: i64, lang: &str, parts: &[(&str, &str)]) -> String {
    let pairs: Vec<(&str, JsValue)> = parts
        .iter()
        .map(|(k, v)| (*k, JsValue::from_str(v)))
        .collect();
    let options = object(&pairs);
    let locales = js_sys::Array::of1(&JsValue::from_str(lang));
    let format = js_sys::Intl::DateTimeFormat::new(&locales, &js_sys::Object::from(options));
    let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    format
        .format()
        .call1(&format, &date)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// Offers `text` as a file download named `name`.
pub fn download(name: &str, mime: &str, text: &str) {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let bag = web_sys::BlobPropertyBag::new();
    bag.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &bag) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Some(a) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Domain to ASCII by the browser's own URL parser (WHATWG URL host parsing, UTS #46, as
/// the `idna` crate the API validates with): the widget's link checks need the answer, not
/// the Unicode tables. `None` when the browser refuses the host or `URL` throws. It refuses
/// what `idna` refuses but for malformed punycode labels (`xn--a`), which Chromium lets
/// through; the API checked every link the widget shows with `idna` when it was published
/// (widget `tests/dom.rs` compares the two).
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserDomains;

impl glimpse_shared::validate::DomainToAscii for BrowserDomains {
    fn domain_to_ascii(&self, host: &str) -> Option<String> {
        // Only a bare host may reach the parser: anything that would end it or add a
        // user, port, path, query or fragment is refused before.
        if host.is_empty()
            || host.contains(['/', '\\', '?', '#', '@', ':', '%'])
            || host.contains(|c: char| c.is_whitespace() || c.is_control())
        {
            return None;
        }
        let url = web_sys::Url::new(&format!("https://{host}/")).ok()?;
        let ascii = url.hostname();
        // Chromium percent-encodes some code points it lets through; a domain has none.
        (!ascii.is_empty() && !ascii.contains('%')).then_some(ascii)
    }
}

/// [`glimpse_shared::validate::is_https_url`], hosts checked by [`BrowserDomains`].
pub fn is_https_url(url: &str) -> bool {
    glimpse_shared::validate::is_https_url_with(url, &BrowserDomains)
}

/// [`glimpse_shared::validate::media_url`], hosts checked by [`BrowserDomains`].
pub fn media_url(api_base: &str, url: &str) -> Option<String> {
    glimpse_shared::validate::media_url_with(api_base, url, &BrowserDomains)
}
