//! Talking to the worker: `fetch` without credentials, JSON decoded into the shared types.

use glimpse_shared::Feed;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestCredentials, RequestInit, Response};

/// Fetches the site's feed. The error is a short description for the console.
pub async fn fetch_feed(url: &str) -> Result<Feed, String> {
    let text = get_text(url).await?;
    let value = js_sys::JSON::parse(&text).map_err(describe)?;
    serde_wasm_bindgen::from_value(value).map_err(|e| format!("feed is not valid: {e}"))
}

async fn get_text(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_credentials(RequestCredentials::Omit);
    let res: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(describe)?
        .dyn_into()
        .map_err(describe)?;
    let text = JsFuture::from(res.text().map_err(describe)?)
        .await
        .map_err(describe)?
        .as_string()
        .unwrap_or_default();
    if res.ok() {
        Ok(text)
    } else {
        Err(format!("{url} answered {}", res.status()))
    }
}

fn describe(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "network error".into())
}
