//! The admin API over `fetch`: same origin, the token from sessionStorage as a Bearer header,
//! JSON in and out, and errors turned into what an operator can act on.

use glimpse_shared::Problem;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

const TOKEN_KEY: &str = "glimpse-admin-token";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.session_storage().ok().flatten())
}

/// The signed-in operator's token (sessionStorage only: gone when the tab closes).
pub fn token() -> Option<String> {
    session_storage()
        .and_then(|s| s.get_item(TOKEN_KEY).ok().flatten())
        .filter(|t| !t.is_empty())
}

pub fn set_token(token: &str) {
    if let Some(s) = session_storage() {
        let _ = s.set_item(TOKEN_KEY, token);
    }
}

pub fn clear_token() {
    if let Some(s) = session_storage() {
        let _ = s.remove_item(TOKEN_KEY);
    }
}

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// 0 when the network failed.
    pub status: u16,
    pub message: String,
    pub problems: Vec<Problem>,
}

impl Failure {
    fn network(e: JsValue) -> Self {
        Self {
            status: 0,
            message: format!(
                "the network failed: {}",
                e.as_string()
                    .or_else(|| js_sys::Error::from(e).message().as_string())
                    .unwrap_or_default()
            ),
            problems: Vec::new(),
        }
    }

    /// An error answer of the API (`{"error": {message, problems}}`).
    fn answer(status: u16, text: &str) -> Self {
        let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let e = &v["error"];
        Self {
            status,
            message: e["message"]
                .as_str()
                .map_or_else(|| format!("the API answered {status}"), String::from),
            problems: serde_json::from_value(e["problems"].clone()).unwrap_or_default(),
        }
    }

    pub fn unauthorized(&self) -> bool {
        self.status == 401
    }
}

async fn send(method: &str, path: &str, body: Option<String>) -> Result<Response, Failure> {
    let window = web_sys::window().ok_or_else(|| Failure::network("no window".into()))?;
    let init = RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(Failure::network)?;
    if let Some(t) = token() {
        headers
            .set("authorization", &format!("Bearer {t}"))
            .map_err(Failure::network)?;
    }
    if let Some(b) = &body {
        headers
            .set("content-type", "application/json")
            .map_err(Failure::network)?;
        init.set_body(&JsValue::from_str(b));
    }
    init.set_headers(&headers);
    let res = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(Failure::network)?;
    res.dyn_into::<Response>().map_err(Failure::network)
}

async fn text(res: &Response) -> Result<String, Failure> {
    let promise = res.text().map_err(Failure::network)?;
    Ok(JsFuture::from(promise)
        .await
        .map_err(Failure::network)?
        .as_string()
        .unwrap_or_default())
}

/// Calls the API; the decoded answer of a 2xx, or the failure.
pub async fn call<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<T, Failure> {
    let body = match body {
        Some(b) => Some(serde_json::to_string(b).map_err(|e| Failure {
            status: 0,
            message: e.to_string(),
            problems: Vec::new(),
        })?),
        None => None,
    };
    let res = send(method, path, body).await?;
    let status = res.status();
    let text = text(&res).await?;
    if !(200..300).contains(&status) {
        return Err(Failure::answer(status, &text));
    }
    let text = if text.is_empty() { "null" } else { &text };
    serde_json::from_str(text).map_err(|e| Failure {
        status,
        message: format!("unexpected answer: {e}"),
        problems: Vec::new(),
    })
}

/// POSTs `body` (a file or blob) as it is, with its own `Content-Type`; the decoded answer
/// of a 2xx, or the failure.
pub async fn upload<T: DeserializeOwned>(path: &str, body: &web_sys::Blob) -> Result<T, Failure> {
    let window = web_sys::window().ok_or_else(|| Failure::network("no window".into()))?;
    let init = RequestInit::new();
    init.set_method("POST");
    let headers = web_sys::Headers::new().map_err(Failure::network)?;
    if let Some(t) = token() {
        headers
            .set("authorization", &format!("Bearer {t}"))
            .map_err(Failure::network)?;
    }
    let kind = body.type_();
    headers
        .set(
            "content-type",
            if kind.is_empty() {
                "application/octet-stream"
            } else {
                &kind
            },
        )
        .map_err(Failure::network)?;
    init.set_headers(&headers);
    init.set_body(body);
    let res: Response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(Failure::network)?
        .dyn_into()
        .map_err(Failure::network)?;
    let status = res.status();
    let text = text(&res).await?;
    if !(200..300).contains(&status) {
        return Err(Failure::answer(status, &text));
    }
    serde_json::from_str(&text).map_err(|e| Failure {
        status,
        message: format!("unexpected answer: {e}"),
        problems: Vec::new(),
    })
}

/// GETs JSON.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, Failure> {
    call::<T>("GET", path, None::<&()>).await
}

/// GETs a binary resource (a question's photo) as an object URL.
pub async fn object_url(path: &str) -> Result<String, Failure> {
    let res = send("GET", path, None).await?;
    if !res.ok() {
        let status = res.status();
        return Err(Failure::answer(
            status,
            &text(&res).await.unwrap_or_default(),
        ));
    }
    let blob = JsFuture::from(res.blob().map_err(Failure::network)?)
        .await
        .map_err(Failure::network)?;
    let blob: web_sys::Blob = blob.dyn_into().map_err(Failure::network)?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(Failure::network)
}

/// Offers `text` as a file download.
pub fn download(filename: &str, mime: &str, text: &str) {
    let run = || -> Result<(), JsValue> {
        let parts = js_sys::Array::of1(&JsValue::from_str(text));
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type(mime);
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
        let url = web_sys::Url::create_object_url_with_blob(&blob)?;
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or("no document")?;
        let a: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
        a.set_href(&url);
        a.set_download(filename);
        a.click();
        web_sys::Url::revoke_object_url(&url)?;
        Ok(())
    };
    if let Err(e) = run() {
        web_sys::console::warn_2(&"Glimpse console: download failed".into(), &e);
    }
}

/// `/v1/admin/sites/{site}{rest}`.
pub fn site_path(site: &str, rest: &str) -> String {
    format!("/v1/admin/sites/{site}{rest}")
}
