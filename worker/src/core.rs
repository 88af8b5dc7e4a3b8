//! The API core: a request (already read into memory) and `now_ms` in, a response out.
//! No Workers types appear here, so all of it runs under plain `cargo test`.

use std::rc::Rc;

use glimpse_shared::{ApiError, Millis, SiteSnapshot, keys};

#[cfg(feature = "operators")]
use crate::admin;
use crate::http::{ApiRequest, ApiResponse};
use crate::limit::RateLimiter;
use crate::public;
use crate::route::{Method, Route, route};
use crate::store::{KvStore, StoreError};

/// What a request is answered with: storage, the operator token and the isolate's limiter.
pub struct Api<'a, S> {
    pub store: &'a S,
    /// The `ADMIN_TOKEN` secret; without it every admin request is refused.
    pub admin_token: Option<&'a str>,
    pub limiter: &'a RateLimiter,
    /// Failed admin authentications per client (the isolate's, like `limiter`).
    pub auth_failures: &'a crate::door::AuthThrottle,
    /// Unpredictable ids and secrets (`[a-z0-9]`, at least 128 bits), or `None` when no
    /// CSPRNG is available: then nothing that needs one is made (503, see [`fresh_id`]).
    pub random: &'a dyn Fn() -> Option<String>,
    /// D1: what is queried or aggregated (content, tallies, counters, inbox, knowledge base).
    pub sql: &'a dyn crate::sql::Sql,
    /// The ingestion queue: visitors' writes are applied to D1 by [`crate::consumer`].
    pub queue: &'a dyn crate::queue::Queue,
    /// Time zone offsets for opening hours (the edge: the runtime's ICU, cached per isolate).
    pub zones: &'a dyn crate::hours::ZoneOffsets,
    /// Snapshots parsed and feeds serialised once per version (the isolate's, like `limiter`).
    pub memo: &'a crate::memo::SnapshotMemo,
    /// R2: the media library's files ([`crate::media`]).
    pub blobs: &'a dyn crate::media::Blobs,
    /// Live sessions' rooms (Durable Objects at the edge; [`crate::live`]).
    pub rooms: &'a dyn crate::live::Rooms,
    /// A local run (`wrangler dev`, tests): webhooks may go to `http://` loopback receivers.
    pub local: bool,
}

/// A fresh unpredictable id or secret, or 503 when no secure random source is available:
/// identifiers and thread tokens fail closed, never predictable.
pub(crate) fn fresh_id<S>(api: &Api<'_, S>) -> Result<String, ApiError> {
    (api.random)().ok_or_else(|| {
        let mut e = ApiError::new(
            503,
            "unavailable",
            "no secure random source is available; retry shortly",
        );
        e.retry_after = Some(5);
        e
    })
}

impl<S> std::fmt::Debug for Api<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").finish_non_exhaustive()
    }
}

/// Answers one request at server time `now_ms`.
pub async fn handle<S: KvStore>(api: &Api<'_, S>, req: &ApiRequest, now_ms: Millis) -> ApiResponse {
    let routed = route(req.method, &req.path);
    let page_csp = match &routed {
        Ok(Route::DemoPage) => Some((DEMO_PAGE_CSP, "no-referrer")),
        // The help centre's pages send their referrer only to their own origin: their "Did
        // this help?" form's POST then names its origin (under `no-referrer` browsers send
        // `Origin: null`, which the public writes refuse), links and pictures elsewhere get
        // none.
        Ok(Route::KbPage { .. } | Route::KbEntryPage { .. }) => Some((KB_PAGE_CSP, "same-origin")),
        _ => None,
    };
    let mut res = match routed {
        Ok(Route::DemoPage) => demo_page(&req.origin),
        Ok(Route::Health) => {
            ApiResponse::json_text(200, format!(r#"{{"ok":true,"now":{now_ms}}}"#))
                .with_header("cache-control", "no-store")
        }
        Ok(r) if r.is_admin() => match req.body_fits(&r) {
            #[cfg(feature = "operators")]
            Ok(()) => admin::handle(api, req, &r, now_ms).await,
            #[cfg(not(feature = "operators"))]
            Ok(()) => ApiResponse::error(&ApiError::not_found("route")),
            Err(e) => ApiResponse::error(&e),
        },
        // Public files for any page: their own CORS, no site snapshot read.
        #[cfg(feature = "operators")]
        Ok(Route::Media { site, id }) => crate::media::serve(api, req, &site, &id)
            .await
            .unwrap_or_else(|e| ApiResponse::error(&e)),
        Ok(r) => public::handle(api, req, &r, now_ms).await,
        Err(e) => {
            let res = ApiResponse::error(&e);
            match crate::route::find(&req.path) {
                Some((_, allowed)) if e.status == 405 => {
                    let list: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
                    res.with_header("allow", &list.join(", "))
                }
                _ => res,
            }
        }
    };
    res = res.with_header("x-content-type-options", "nosniff");
    if let Some((csp, referrer)) = page_csp {
        res = res
            .with_header("content-security-policy", csp)
            .with_header("x-frame-options", "DENY")
            .with_header("referrer-policy", referrer);
    }
    if req.method == Method::Head {
        res.body.clear();
        res.binary = None;
        res.blob = None;
    }
    res
}

/// The Cache API key the edge answers `req` from, or `None` when it must not be cached:
/// only anonymous `GET`s of public answers that are the same for everyone asking from the
/// same origin — a poll's public results, the knowledge-base search and pages (the index and
/// each entry's; never the "Did this help?" form's POST). Never the feed
/// (each answer carries the server's clock; it is served from the isolate's copy of the
/// snapshot with an ETag instead), never a thread or photo (each is secret to one visitor),
/// never a request with credentials. The key is the request's URL plus its `Origin`, since
/// the answer's CORS headers name that origin; its lifetime is the answer's `max-age`.
pub fn edge_cache_key(req: &ApiRequest) -> Option<String> {
    if req.method != Method::Get || req.get_header("authorization").is_some() {
        return None;
    }
    match route(req.method, &req.path) {
        Ok(
            Route::PublicResults { .. }
            | Route::Kb { .. }
            | Route::KbPage { .. }
            | Route::KbEntryPage { .. },
        ) => {}
        _ => return None,
    }
    let origin: String = req
        .get_header("origin")
        .unwrap_or("")
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let sep = if req.query.is_empty() { "" } else { "&" };
    Some(format!(
        "{}{}?{}{sep}glimpse-cors={origin}",
        req.origin, req.path, req.query
    ))
}

/// A storage failure is never the client's fault: 503 + Retry-After, nothing half-done that
/// a retry would not complete.
pub(crate) fn unavailable(_: StoreError) -> ApiError {
    ApiError::unavailable()
}

/// The site's snapshot (one KV read), or 404 for an unknown site.
pub(crate) async fn load_snapshot<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
) -> Result<Rc<SiteSnapshot>, ApiError> {
    let raw = api
        .store
        .get_shared(&keys::snapshot(site))
        .await
        .map_err(unavailable)?
        .ok_or_else(|| ApiError::not_found("site"))?;
    api.memo
        .snapshot(site, raw)
        .map_err(|_| ApiError::new(500, "internal", "stored site data is unreadable"))
}

/// The knowledge-base pages' policy: no script at all (an entry's JSON-LD is data, not
/// script), their one inline style, pictures from this origin or https, search by GET and
/// "Did this help?" by POST to this origin, never framed.
pub const KB_PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The demo page's policy: scripts only from this origin (the loader, glue and wasm, which
/// needs 'wasm-unsafe-eval'), styles from here or inline (the page's own `<style>` and the
/// widget's, injected into its shadow root; a hash source would switch 'unsafe-inline' off
/// for the widget), media from here or https, requests only to this origin, never framed.
pub const DEMO_PAGE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' https: blob: data:; \
     media-src 'self' https: blob:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'; object-src 'none'";

/// The demo company page, embedding the widget from the origin that serves it, exactly as a
/// marketer would paste the snippet.
fn demo_page(origin: &str) -> ApiResponse {
    let escaped = origin
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    ApiResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), "text/html; charset=utf-8".into()),
            ("cache-control".into(), "no-cache".into()),
        ],
        body: include_str!("demo_page.html").replace("{{GLIMPSE_ORIGIN}}", &escaped),
        binary: None,
        blob: None,
    }
}
