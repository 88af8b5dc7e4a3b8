//! The API core: a request (already read into memory) and `now_ms` in, a response out.
//! No Workers types appear here, so all of it runs under plain `cargo test`.

use glimpse_shared::{ApiError, SiteSnapshot, keys};

use crate::route::{Method, Route, route};
use crate::store::KvStore;

/// An HTTP request as the core sees it.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    /// The origin this request was addressed to (`https://glimpse.example`), from its URL.
    pub origin: String,
    /// Path without the query string, exactly as received (still percent-encoded).
    pub path: String,
    /// Header names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiRequest {
    pub fn new(method: Method, path: &str) -> Self {
        Self {
            method,
            origin: "http://127.0.0.1:8787".to_string(),
            path: path.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// The first value of header `name` (case-insensitive).
    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP response as the core produces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ApiResponse {
    fn json(status: u16, body: String) -> Self {
        Self {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body,
        }
    }

    fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn error(err: &ApiError) -> Self {
        let res = Self::json(err.status, err.to_json()).with_header("cache-control", "no-store");
        if err.status == 503 {
            res.with_header("retry-after", "5")
        } else {
            res
        }
    }

    /// The value of header `name` (case-insensitive).
    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Answers one request at server time `now_ms`.
pub async fn handle<S: KvStore>(store: &S, req: &ApiRequest, now_ms: i64) -> ApiResponse {
    let mut res = match route(req.method, &req.path) {
        Ok(Route::DemoPage) => demo_page(&req.origin),
        Ok(Route::Health) => ApiResponse::json(200, format!(r#"{{"ok":true,"now":{now_ms}}}"#))
            .with_header("cache-control", "no-store"),
        Ok(Route::Feed { site }) => feed(store, req, &site, now_ms)
            .await
            .unwrap_or_else(|e| ApiResponse::error(&e)),
        Err(e) => ApiResponse::error(&e),
    };
    if req.method == Method::Head {
        res.body.clear();
    }
    res
}

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
    }
}

/// `GET /v1/sites/{site}/feed`: one KV read of the site's snapshot, filtered by `now_ms`.
async fn feed<S: KvStore>(
    store: &S,
    req: &ApiRequest,
    site: &str,
    now_ms: i64,
) -> Result<ApiResponse, ApiError> {
    let raw = store
        .get(&keys::snapshot(site))
        .await
        .map_err(|_| ApiError::unavailable())?
        .ok_or_else(|| ApiError::not_found("site"))?;
    let snapshot: SiteSnapshot = serde_json::from_str(&raw)
        .map_err(|_| ApiError::new(500, "internal", "stored site data is unreadable"))?;
    let body = serde_json::to_string(&snapshot.feed_at(now_ms))
        .map_err(|_| ApiError::new(500, "internal", "feed could not be encoded"))?;
    let mut res = ApiResponse::json(200, body).with_header("cache-control", "no-cache");
    if let Some(origin) = req.get_header("origin")
        && snapshot.site.origins.iter().any(|o| o == origin)
    {
        res = res
            .with_header("access-control-allow-origin", origin)
            .with_header("vary", "Origin");
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MemoryKv, StoreError};
    use glimpse_shared::{Feed, Site, Slide, Story};

    fn demo_store(now: i64) -> MemoryKv {
        let store = MemoryKv::new();
        let site = Site {
            id: "demo".into(),
            name: "Demo Co".into(),
            origins: vec!["https://shop.example".into()],
        };
        let story = |id: &str, publish_at, expires_at| Story {
            id: id.into(),
            title: format!("How to {id}"),
            topic: "orders".into(),
            slides: vec![Slide {
                text: format!("{id}: step one"),
                media: None,
                duration_ms: 5_000,
                cta: None,
            }],
            publish_at,
            expires_at,
        };
        let snap = SiteSnapshot::new(
            site,
            vec![story("reset", 0, 10_000), story("later", 5_000, 10_000)],
            now,
        );
        let json = serde_json::to_string(&snap).unwrap_or_default();
        pollster::block_on(store.put(&keys::snapshot("demo"), &json, None))
            .unwrap_or_else(|e| panic!("{e}"));
        store
    }

    fn get(store: &impl KvStore, req: ApiRequest, now: i64) -> ApiResponse {
        pollster::block_on(handle(store, &req, now))
    }

    fn error_code(res: &ApiResponse) -> String {
        let v: serde_json::Value = serde_json::from_str(&res.body).unwrap_or_default();
        v["error"]["code"].as_str().unwrap_or("").to_string()
    }

    #[test]
    fn demo_page_embeds_the_widget_with_one_script_tag() {
        let mut req = ApiRequest::new(Method::Get, "/");
        req.origin = "http://127.0.0.1:8787".into();
        let res = get(&MemoryKv::new(), req, 0);
        assert_eq!(res.status, 200);
        assert_eq!(
            res.get_header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(res.body.matches("<script").count(), 1);
        assert!(res.body.contains(
            r#"<script src="http://127.0.0.1:8787/widget.js" data-site="demo" async></script>"#
        ));
    }

    #[test]
    fn health() {
        let res = get(
            &MemoryKv::new(),
            ApiRequest::new(Method::Get, "/health"),
            42,
        );
        assert_eq!(res.status, 200);
        assert_eq!(res.body, r#"{"ok":true,"now":42}"#);
    }

    #[test]
    fn feed_is_filtered_by_the_server_clock() {
        let store = demo_store(1_000);
        let req = ApiRequest::new(Method::Get, "/v1/sites/demo/feed");

        let res = get(&store, req.clone(), 1_000);
        assert_eq!(res.status, 200);
        assert_eq!(
            res.get_header("content-type"),
            Some("application/json; charset=utf-8")
        );
        let feed: Feed = serde_json::from_str(&res.body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(feed.now, 1_000);
        assert_eq!(feed.site.name, "Demo Co");
        let ids: Vec<_> = feed.stories.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["reset"]);

        let feed: Feed = serde_json::from_str(&get(&store, req.clone(), 6_000).body)
            .unwrap_or_else(|e| panic!("{e}"));
        let ids: Vec<_> = feed.stories.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["later", "reset"]);

        let feed: Feed =
            serde_json::from_str(&get(&store, req, 10_000).body).unwrap_or_else(|e| panic!("{e}"));
        assert!(feed.stories.is_empty());
    }

    #[test]
    fn unknown_site_is_404_json() {
        let res = get(
            &demo_store(0),
            ApiRequest::new(Method::Get, "/v1/sites/nope/feed"),
            0,
        );
        assert_eq!(res.status, 404);
        assert_eq!(error_code(&res), "not_found");
    }

    #[test]
    fn bad_paths_and_methods_are_4xx_json() {
        let store = demo_store(0);
        for (method, path, status) in [
            (Method::Get, "/v1/sites/DEMO/feed", 400),
            (Method::Get, "/v1/sites/..%2Fx/feed", 400),
            (Method::Post, "/v1/sites/demo/feed", 405),
            (Method::Other, "/health", 405),
            (Method::Get, "/v1/nothing", 404),
        ] {
            let res = get(&store, ApiRequest::new(method, path), 0);
            assert_eq!(res.status, status, "{method:?} {path}");
            assert!(!error_code(&res).is_empty(), "{path} error is JSON");
        }
    }

    #[test]
    fn cors_only_for_the_sites_origins() {
        let store = demo_store(0);
        let req =
            |origin| ApiRequest::new(Method::Get, "/v1/sites/demo/feed").header("Origin", origin);
        let res = get(&store, req("https://shop.example"), 0);
        assert_eq!(
            res.get_header("access-control-allow-origin"),
            Some("https://shop.example")
        );
        let res = get(&store, req("https://evil.example"), 0);
        assert_eq!(res.status, 200);
        assert_eq!(res.get_header("access-control-allow-origin"), None);
    }

    #[test]
    fn head_has_no_body() {
        let res = get(
            &demo_store(0),
            ApiRequest::new(Method::Head, "/v1/sites/demo/feed"),
            0,
        );
        assert_eq!(res.status, 200);
        assert!(res.body.is_empty());
    }

    struct DownKv;
    impl KvStore for DownKv {
        async fn get(&self, _: &str) -> Result<Option<String>, StoreError> {
            Err(StoreError("down".into()))
        }
        async fn put(&self, _: &str, _: &str, _: Option<i64>) -> Result<(), StoreError> {
            Err(StoreError("down".into()))
        }
    }

    #[test]
    fn store_failure_is_503_with_retry_after() {
        let res = get(
            &DownKv,
            ApiRequest::new(Method::Get, "/v1/sites/demo/feed"),
            0,
        );
        assert_eq!(res.status, 503);
        assert_eq!(res.get_header("retry-after"), Some("5"));
        assert_eq!(error_code(&res), "unavailable");
    }
}
