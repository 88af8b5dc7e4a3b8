//! Talking to the worker: the browser's own `fetch` without credentials, JSON encoded and
//! decoded in Rust (`serde_json`) into the shared types. Nothing here goes through the page's
//! `JSON`, `Array.prototype.toJSON` or `window.fetch`, which host scripts patch.

use glimpse_shared::outbox::Outcome;
use glimpse_shared::{Feed, PollResults};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

/// Fetches the site's feed as JSON text, and the server's clock at the moment it answered
/// (unix ms, corrected by half the round trip) when it sent one. The text is decoded where
/// it is used: the first chunk reads only a [`glimpse_shared::feed::FeedSummary`], the app
/// the whole [`glimpse_shared::Feed`]. The error says whether trying again can help
/// (offline, 429, 5xx) and describes the failure for the console.
///
/// The browser always revalidates (`cache: no-cache`): an unchanged feed is a `304` whose
/// `Glimpse-Now` header the browser merges into its cached copy, so the clock is right even
/// when the body — and the `now` in it — is minutes old.
pub async fn fetch_feed_text(url: &str) -> Result<(String, Option<i64>), (Outcome, String)> {
    let sent = js_sys::Date::now();
    let (status, text, server_now) = send_full("GET", url, None, &[], false, true)
        .await
        .map_err(|e| (Outcome::Retry, e))?;
    let rtt = js_sys::Date::now() - sent;
    match Outcome::of_status(Some(status)) {
        Outcome::Accepted => Ok((text, server_now.map(|n| n + (rtt / 2.0) as i64))),
        outcome => Err((outcome, format!("{url} answered {status}"))),
    }
}

/// Decodes the whole feed (in the app's chunk).
pub fn decode_feed(url: &str, text: &str) -> Result<Feed, String> {
    decode(url, text)
}

/// A poll's public results.
pub async fn fetch_results(url: &str) -> Result<PollResults, String> {
    get_json(url).await
}

async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, String> {
    get_json_auth(url, None).await
}

/// GETs JSON with an optional bearer token.
pub async fn get_json_auth<T: DeserializeOwned>(
    url: &str,
    token: Option<&str>,
) -> Result<T, String> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    let (status, text) = send_raw("GET", url, None, &headers, false).await?;
    if !(200..300).contains(&status) {
        return Err(format!("{url} answered {status}"));
    }
    decode(url, &text)
}

/// GETs `url`: `(status, body text)`, `Err` on a network failure.
pub async fn get_text(url: &str) -> Result<(u16, String), String> {
    send_raw("GET", url, None, &[], false).await
}

/// JSON text into a shared type.
fn decode<T: DeserializeOwned>(url: &str, text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("{url}: unexpected answer: {e}"))
}

/// POSTs `body` as JSON. `Ok(status)` when the API answered, `Err` on a network failure.
/// `keepalive` lets the request outlive the page (event batches on `pagehide`).
pub async fn post_json<T: Serialize>(url: &str, body: &T, keepalive: bool) -> Result<u16, String> {
    post(url, body, keepalive).await.map(|(status, _)| status)
}

/// POSTs JSON and returns `(status, body text)`.
pub async fn post_json_text<T: Serialize>(url: &str, body: &T) -> Result<(u16, String), String> {
    post(url, body, false).await
}

async fn post<T: Serialize>(url: &str, body: &T, keepalive: bool) -> Result<(u16, String), String> {
    let text = serde_json::to_string(body).map_err(|e| e.to_string())?;
    send_raw(
        "POST",
        url,
        Some(JsValue::from(text)),
        &[("content-type", "application/json")],
        keepalive,
    )
    .await
}

/// The message of an API error answer (`{"error": {"message": …}}`), or `fallback` when the
/// answer is not one.
pub fn error_message(text: &str, fallback: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| fallback.to_string())
}

/// POSTs JSON text written by the caller: `(status, body text)`, `Err` on a network
/// failure.
pub async fn post_text(url: &str, body: String) -> Result<(u16, String), String> {
    send_raw(
        "POST",
        url,
        Some(JsValue::from(body)),
        &[("content-type", "application/json")],
        false,
    )
    .await
}

/// POSTs `body` as JSON with a bearer token: `(status, body text)`.
pub async fn post_json_auth<T: Serialize>(
    url: &str,
    body: &T,
    token: &str,
) -> Result<(u16, String), String> {
    let text = serde_json::to_string(body).map_err(|e| e.to_string())?;
    let auth = format!("Bearer {token}");
    send_raw(
        "POST",
        url,
        Some(JsValue::from(text)),
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        false,
    )
    .await
}

/// Sends `method` (GET, DELETE) with a bearer token: `(status, body text)`, `Err` on a
/// network failure.
pub async fn send_auth(method: &str, url: &str, token: &str) -> Result<(u16, String), String> {
    let auth = format!("Bearer {token}");
    send_raw(method, url, None, &[("authorization", &auth)], false).await
}

/// PUTs a blob (a photo) with its type and a bearer token; the status.
pub async fn put_blob(url: &str, blob: &web_sys::Blob, token: &str) -> Result<u16, String> {
    let auth = format!("Bearer {token}");
    let mime = blob.type_();
    send_raw(
        "PUT",
        url,
        Some(blob.into()),
        &[("content-type", &mime), ("authorization", &auth)],
        false,
    )
    .await
    .map(|(status, _)| status)
}

async fn send_raw(
    method: &str,
    url: &str,
    body: Option<JsValue>,
    headers: &[(&str, &str)],
    keepalive: bool,
) -> Result<(u16, String), String> {
    send_full(method, url, body, headers, keepalive, false)
        .await
        .map(|(status, text, _)| (status, text))
}

/// `(status, body text, Glimpse-Now header)`. `revalidate`: `cache: no-cache`.
async fn send_full(
    method: &str,
    url: &str,
    body: Option<JsValue>,
    headers: &[(&str, &str)],
    keepalive: bool,
    revalidate: bool,
) -> Result<(u16, String, Option<i64>), String> {
    // The fetch options as an object without a prototype, so a polluted `Object.prototype`
    // (`signal`, `integrity`, `mode`…) cannot add options of its own.
    let init: js_sys::Object = js_sys::Object::create(JsValue::NULL.unchecked_ref());
    let set = |k: &str, v: &JsValue| {
        let _ = js_sys::Reflect::set(&init, &JsValue::from_str(k), v);
    };
    set("method", &JsValue::from_str(method));
    set("credentials", &JsValue::from_str("omit"));
    if revalidate {
        set("cache", &JsValue::from_str("no-cache"));
    }
    if keepalive {
        set("keepalive", &JsValue::TRUE);
    }
    if !headers.is_empty() {
        let h = web_sys::Headers::new().map_err(describe)?;
        for (name, value) in headers {
            h.set(name, value).map_err(describe)?;
        }
        set("headers", h.as_ref());
    }
    if let Some(body) = body {
        set("body", &body);
    }
    let res = JsFuture::from(crate::pristine::fetch(url, &init).map_err(describe)?)
        .await
        .map_err(describe)?;
    // Not `dyn_into` (`instanceof`): a Response from the hidden frame's `fetch` may belong
    // to that frame's realm.
    if !res.is_object() {
        return Err("fetch answered no response".into());
    }
    let res: Response = res.unchecked_into();
    let text = JsFuture::from(res.text().map_err(describe)?)
        .await
        .map_err(describe)?
        .as_string()
        .unwrap_or_default();
    let server_now = res
        .headers()
        .get("glimpse-now")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<i64>().ok());
    Ok((res.status(), text, server_now))
}

fn describe(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "network error".into())
}
