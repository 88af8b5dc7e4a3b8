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
    /// The field the API named first (`error.field`), if any.
    pub field: Option<String>,
    pub problems: Vec<Problem>,
}

impl Failure {
    /// A failure on this side (encoding, decoding, the browser): no field, no problems.
    pub fn local(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            field: None,
            problems: Vec::new(),
        }
    }

    fn network(e: JsValue) -> Self {
        Self {
            status: 0,
            message: format!(
                "the network failed: {}",
                e.as_string()
                    .or_else(|| js_sys::Error::from(e).message().as_string())
                    .unwrap_or_default()
            ),
            field: None,
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
            field: e["field"].as_str().map(String::from),
            problems: serde_json::from_value(e["problems"].clone()).unwrap_or_default(),
        }
    }

    pub fn unauthorized(&self) -> bool {
        self.status == 401
    }

    /// The message, and when the API found more than one problem, every one of them
    /// (`field: message`), so a form's author sees all they have to fix at once.
    pub fn detail(&self) -> String {
        if self.problems.len() < 2 {
            return self.message.clone();
        }
        let all: Vec<String> = self
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        format!("{} — {}", self.message, all.join("; "))
    }

    /// Whether the API named `field` (or an item of it, `field[2]`) as wrong: for
    /// `aria-invalid` on that input.
    pub fn names(&self, field: &str) -> bool {
        let is = |f: &str| {
            f == field
                || f.strip_prefix(field)
                    .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
        };
        self.field.as_deref().is_some_and(is) || self.problems.iter().any(|p| is(&p.field))
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
        Some(b) => Some(serde_json::to_string(b).map_err(|e| Failure::local(0, e.to_string()))?),
        None => None,
    };
    let res = send(method, path, body).await?;
    let status = res.status();
    let text = text(&res).await?;
    if !(200..300).contains(&status) {
        return Err(Failure::answer(status, &text));
    }
    let text = if text.is_empty() { "null" } else { &text };
    serde_json::from_str(text)
        .map_err(|e| Failure::local(status, format!("unexpected answer: {e}")))
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
    serde_json::from_str(&text)
        .map_err(|e| Failure::local(status, format!("unexpected answer: {e}")))
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

/// Puts `text` on the clipboard; why not, if the browser refused (no clipboard outside a
/// secure context, permission denied). Never leaves a promise rejected unhandled.
pub async fn copy(text: &str) -> Result<(), String> {
    let navigator = web_sys::window().ok_or("no window")?.navigator();
    let has_clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into())
        .is_ok_and(|c| !c.is_undefined() && !c.is_null());
    if !has_clipboard {
        return Err("this browser offers no clipboard here: select the text and copy it".into());
    }
    JsFuture::from(navigator.clipboard().write_text(text))
        .await
        .map(|_| ())
        .map_err(|_| "the browser did not allow copying: select the text and copy it".into())
}

/// `/v1/admin/sites/{site}{rest}`.
pub fn site_path(site: &str, rest: &str) -> String {
    format!("/v1/admin/sites/{site}{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_keep_their_field_and_every_problem() {
        let one = Failure::answer(
            400,
            r#"{"error":{"code":"invalid","message":"invalid webhook: url: must be an https URL","field":"url","problems":[{"field":"url","message":"must be an https URL"}]}}"#,
        );
        assert_eq!(one.detail(), "invalid webhook: url: must be an https URL");
        assert!(one.names("url") && !one.names("events") && !one.names("ur"));
        let two = Failure::answer(
            400,
            r#"{"error":{"code":"invalid","message":"invalid saved reply: title: required (and 1 more)","field":"title","problems":[{"field":"title","message":"required"},{"field":"text","message":"at most 2000 characters"}]}}"#,
        );
        assert_eq!(
            two.detail(),
            "invalid saved reply: title: required (and 1 more) — title: required; text: at most 2000 characters"
        );
        assert!(two.names("text") && two.names("title"));
        let item = Failure::answer(
            400,
            r#"{"error":{"code":"invalid","message":"m","problems":[{"field":"events[1]","message":"listed twice"}]}}"#,
        );
        assert!(item.names("events") && !item.names("event"));
        let field_only = Failure::answer(
            400,
            r#"{"error":{"code":"invalid","message":"unknown topic","field":"topic"}}"#,
        );
        assert!(field_only.names("topic"));
        let garbage = Failure::answer(502, "<html>bad gateway</html>");
        assert_eq!(garbage.detail(), "the API answered 502");
        assert_eq!(garbage.field, None);
    }
}
