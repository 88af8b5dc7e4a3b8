//! Requests and responses as the core sees them, and reading a JSON body safely.

use glimpse_shared::ApiError;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::route::Method;

/// An HTTP request as the core sees it.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    /// The origin this request was addressed to (`https://glimpse.example`), from its URL.
    pub origin: String,
    /// Path without the query string, exactly as received (still percent-encoded).
    pub path: String,
    /// The query string without `?` (still percent-encoded).
    pub query: String,
    /// Header names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Every request header the core reads (lowercase): the edge copies only these from the
/// runtime's request. A test checks that no `get_header` in the worker names another.
pub const HEADERS_READ: &[&str] = &[
    "authorization",
    "cf-connecting-ip",
    "content-length",
    "content-type",
    "if-none-match",
    "origin",
    "range",
    // A live room's WebSocket upgrade (`crate::live::is_upgrade`).
    "upgrade",
];

/// The headers the core reads for a request to `route` (a subset of [`HEADERS_READ`]):
/// `/health` only the body's length, the feed — the hottest public read — that and its
/// CORS origin and ETag revalidation; every other route (or none) all of them. The edge
/// copies only these: each is a call into the runtime. `worker/tests/api.rs` checks that the
/// headers left out change nothing for those routes.
pub fn headers_read(route: Option<&crate::route::Route>) -> &'static [&'static str] {
    use crate::route::Route;
    match route {
        Some(Route::Health) => &["content-length"],
        Some(Route::Feed { .. }) => &["content-length", "if-none-match", "origin"],
        _ => HEADERS_READ,
    }
}

impl ApiRequest {
    /// A request for the absolute URL `url` as the runtime serialises it (WHATWG, e.g.
    /// `https://glimpse.example:8443/v1/sites/demo/feed?q=1#x`): split into origin, path and
    /// query without parsing it again. The fragment is dropped; a URL without a path has `/`.
    pub fn from_url(method: Method, url: &str) -> Self {
        let url = url.split_once('#').map_or(url, |(before, _)| before);
        let (url, query) = url.split_once('?').unwrap_or((url, ""));
        let authority_at = url.find("://").map_or(0, |i| i + 3);
        let (origin, path) = match url[authority_at..].find('/') {
            Some(i) => url.split_at(authority_at + i),
            None => (url, "/"),
        };
        Self {
            method,
            origin: origin.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A request for `path`, which may carry a `?query`.
    pub fn new(method: Method, path: &str) -> Self {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        Self {
            method,
            origin: "http://127.0.0.1:8787".to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// A JSON body with its content type.
    pub fn json(self, body: impl Into<Vec<u8>>) -> Self {
        let mut req = self.header("content-type", "application/json");
        req.body = body.into();
        req
    }

    /// The first value of header `name` (case-insensitive).
    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// [`ApiRequest::read_json`], then `validate`: 400 with every problem, naming `what`.
    pub fn read_valid<T: DeserializeOwned>(
        &self,
        limit: usize,
        what: &str,
        validate: impl Fn(&T) -> Vec<glimpse_shared::Problem>,
    ) -> Result<T, ApiError> {
        let value: T = self.read_json(limit)?;
        let problems = validate(&value);
        if problems.is_empty() {
            Ok(value)
        } else {
            Err(ApiError::invalid(what, problems))
        }
    }

    /// The first value of query parameter `name`, percent-decoded (`+` is a space).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| percent_decode(v))
        })
    }

    /// The bearer token in `Authorization`, if any.
    pub fn bearer(&self) -> Option<&str> {
        self.get_header("authorization")
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
    }

    /// The client's address as the edge reports it.
    pub fn client_ip(&self) -> &str {
        self.get_header("cf-connecting-ip").unwrap_or("unknown")
    }

    /// The length the client declared in `Content-Length`, if it sent a valid one.
    pub fn declared_length(&self) -> Option<u64> {
        self.get_header("content-length")
            .and_then(|v| v.trim().parse().ok())
    }

    /// Most bytes of a body the worker does not use that the edge reads and discards (over
    /// the route's limit, or a route that takes none), so the connection stays usable: a
    /// small mistaken body is drained, anything larger is cancelled unread.
    pub const DRAIN_MAX: usize = 64 * 1024;

    /// Whether an unused body may be drained (its declared length, if any, is within
    /// [`ApiRequest::DRAIN_MAX`]); otherwise the edge cancels it at once.
    pub fn may_drain(&self) -> bool {
        self.declared_length()
            .is_none_or(|n| n <= u64::try_from(Self::DRAIN_MAX).unwrap_or(u64::MAX))
    }

    /// 413 if the body is over `limit` bytes, as declared in `Content-Length` or as read (the
    /// edge stops reading one byte past the limit, so an oversized body is never read whole).
    pub fn body_within(&self, limit: usize) -> Result<(), ApiError> {
        let declared_over = self
            .declared_length()
            .is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX));
        if declared_over || self.body.len() > limit {
            Err(ApiError::too_large(limit))
        } else {
            Ok(())
        }
    }

    /// [`ApiRequest::body_within`] the route's limit for `POST` and `PUT`; other methods'
    /// bodies are never read (the edge drops them) and never refused.
    pub fn body_fits(&self, route: &crate::route::Route) -> Result<(), ApiError> {
        match self.method {
            Method::Post | Method::Put => self.body_within(route.body_limit(self.method)),
            _ => Ok(()),
        }
    }

    /// How many body bytes the edge should read for a route taking at most `limit`: none if
    /// it takes no body or the declared length is already over the limit (the core answers
    /// 413 from the declaration), else `limit + 1` — one byte past the limit is enough to
    /// tell the body is too large without reading the rest.
    pub fn body_to_read(&self, limit: usize) -> usize {
        if limit == 0 || self.body_within(limit).is_err() {
            0
        } else {
            limit.saturating_add(1)
        }
    }

    /// Reads the body as `T`: 413 over `limit` bytes, 415 unless it is declared JSON, 400
    /// naming the offending field if it does not parse.
    pub fn read_json<T: DeserializeOwned>(&self, limit: usize) -> Result<T, ApiError> {
        if self.body.len() > limit {
            return Err(ApiError::too_large(limit));
        }
        let is_json = self.get_header("content-type").is_some_and(|ct| {
            let mime = ct.split(';').next().unwrap_or("").trim();
            mime.eq_ignore_ascii_case("application/json")
        });
        if !is_json {
            return Err(ApiError::not_json());
        }
        let invalid = |e: crate::json::JsonError| {
            let err = ApiError::new(
                400,
                "invalid_json",
                format!("body is not valid: {}", e.inner),
            );
            if e.path == "." || e.path.is_empty() {
                err
            } else {
                err.with_field(e.path)
            }
        };
        // One parse: the tags are checked on the same value the type is read from.
        let parsed = crate::json::value(&self.body).map_err(invalid)?;
        if let Some(field) = numeric_tag(&parsed, String::new()) {
            return Err(ApiError::new(
                400,
                "invalid_json",
                format!("{field} must be one of the names the API lists, not a number"),
            )
            .with_field(field));
        }
        let value: T = crate::json::body_from_value(parsed).map_err(invalid)?;
        Ok(value)
    }
}

/// The path of the first variant tag (`kind`, `type`) in `v` that is a number. serde's
/// internally tagged enums (`Event`, `Media`, `PollKind`) also take a variant's index
/// (`"kind": 0`), which the API description does not allow: only the names are the contract.
fn numeric_tag(v: &serde_json::Value, at: String) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let path = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            if (k == "kind" || k == "type") && v.is_number() {
                Some(path)
            } else {
                numeric_tag(v, path)
            }
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| numeric_tag(v, format!("{at}[{i}]"))),
        _ => None,
    }
}

/// Decodes `%XX` and `+`; invalid escapes are kept as they are, invalid UTF-8 is replaced.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An HTTP response as the core produces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// A binary body (photos); sent instead of `body` when set.
    pub binary: Option<Vec<u8>>,
    /// A stored file's bytes the edge streams as the body (media library items): the core
    /// never holds them. Sent instead of `body` when set.
    pub blob: Option<BlobSlice>,
}

/// Bytes `offset..offset + length` of the R2 object `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobSlice {
    pub key: String,
    pub offset: u64,
    pub length: u64,
}

impl ApiResponse {
    pub fn json_text(status: u16, body: String) -> Self {
        Self {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body,
            binary: None,
            blob: None,
        }
    }

    /// `value` as a JSON body; never fails (an unencodable value becomes a 500 JSON error,
    /// which only a bug in the worker can cause).
    pub fn json<T: Serialize>(status: u16, value: &T) -> Self {
        match serde_json::to_string(value) {
            Ok(body) => Self::json_text(status, body).with_header("cache-control", "no-store"),
            Err(_) => Self::error(&ApiError::new(
                500,
                "internal",
                "response could not be encoded",
            )),
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
            binary: None,
            blob: None,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn error(err: &ApiError) -> Self {
        let res =
            Self::json_text(err.status, err.to_json()).with_header("cache-control", "no-store");
        let res = match err.retry_after {
            Some(secs) => res.with_header("retry-after", &secs.to_string()),
            None => res,
        };
        if err.status == 401 {
            res.with_header("www-authenticate", r#"Bearer realm="glimpse-admin""#)
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

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn runtime_urls_split_into_origin_path_and_query() {
        let cases = [
            (
                "https://glimpse.example/v1/sites/demo/feed",
                ("https://glimpse.example", "/v1/sites/demo/feed", ""),
            ),
            (
                "http://127.0.0.1:8787/kb/demo?q=reset%20password&x=1",
                (
                    "http://127.0.0.1:8787",
                    "/kb/demo",
                    "q=reset%20password&x=1",
                ),
            ),
            (
                "https://[::1]:8443/health#top",
                ("https://[::1]:8443", "/health", ""),
            ),
            (
                "https://xn--bcher-kva.example/?",
                ("https://xn--bcher-kva.example", "/", ""),
            ),
            (
                "https://glimpse.example/a%2Fb/?q=a?b#c?d",
                ("https://glimpse.example", "/a%2Fb/", "q=a?b"),
            ),
            (
                "https://glimpse.example",
                ("https://glimpse.example", "/", ""),
            ),
        ];
        for (url, (origin, path, query)) in cases {
            let r = ApiRequest::from_url(Method::Get, url);
            assert_eq!(
                (r.origin.as_str(), r.path.as_str(), r.query.as_str()),
                (origin, path, query),
                "{url}"
            );
        }
    }

    #[test]
    fn the_edge_copies_every_header_the_core_reads() {
        // Every `get_header("…")` on a request in the worker's source names a header in
        // HEADERS_READ, or the edge would hand the core a request without it.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            // The code, not its tests (which also read response headers).
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (_, rest) in text
                .match_indices("get_header(\"")
                .map(|(i, m)| ((), &text[i + m.len()..]))
            {
                if let Some(name) = rest.split('"').next() {
                    seen.push(name.to_string());
                }
            }
        }
        assert!(seen.len() >= 6, "found only {seen:?}");
        let feed = crate::route::Route::Feed { site: "s".into() };
        for route in [Some(&crate::route::Route::Health), Some(&feed), None] {
            assert!(headers_read(route).iter().all(|h| HEADERS_READ.contains(h)));
        }
        for name in &seen {
            assert!(
                HEADERS_READ.contains(&name.as_str()),
                "{name} is read but not copied"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glimpse_shared::PollResponse;

    fn read(req: &ApiRequest) -> Result<PollResponse, ApiError> {
        req.read_json(100)
    }

    #[test]
    fn query_parameters() {
        let r = ApiRequest::new(
            Method::Get,
            "/kb/demo?q=reset+my%20p%C3%A4ss&topic=account&bad=%zz%",
        );
        assert_eq!(r.path, "/kb/demo");
        assert_eq!(r.query_param("q").as_deref(), Some("reset my päss"));
        assert_eq!(r.query_param("topic").as_deref(), Some("account"));
        assert_eq!(r.query_param("bad").as_deref(), Some("%zz%"));
        assert_eq!(r.query_param("none"), None);
    }

    #[test]
    fn body_reading_statuses() {
        let ok = r#"{"id":"aaaaaaaaaaaaaaaa","visitor":"bbbbbbbbbbbbbbbb","answer":{"rating":5}}"#;
        let base = ApiRequest::new(Method::Post, "/");
        assert!(read(&base.clone().json(ok)).is_ok());
        let too_big = base.clone().json(vec![b' '; 101]);
        assert_eq!(read(&too_big).err().map(|e| e.status), Some(413));
        let mut plain = base.clone().header("content-type", "text/plain");
        plain.body = ok.into();
        assert_eq!(read(&plain).err().map(|e| e.status), Some(415));
        let mut missing = base.clone();
        missing.body = ok.into();
        assert_eq!(read(&missing).err().map(|e| e.status), Some(415));
        let with_charset = base
            .clone()
            .header("Content-Type", "Application/JSON; charset=utf-8");
        let mut with_charset = with_charset;
        with_charset.body = ok.into();
        assert!(read(&with_charset).is_ok());
        let e = read(
            &base
                .clone()
                .json(r#"{"id":"aaaaaaaaaaaaaaaa","visitor":"b","answer":{"stars":5}}"#),
        )
        .err();
        assert_eq!(e.as_ref().map(|e| e.status), Some(400));
        assert_eq!(e.and_then(|e| e.field), Some("answer".into()));
        let e = read(&base.clone().json("{not json")).err();
        assert_eq!(e.map(|e| e.code), Some("invalid_json".into()));
        let e = read(&base.clone().json(format!("{ok} x"))).err();
        assert_eq!(e.map(|e| e.status), Some(400));
    }

    #[test]
    fn variant_tags_are_names_never_indexes() {
        let base = ApiRequest::new(Method::Post, "/");
        let batch = |kind: &str| {
            format!(
                r#"{{"id":"aaaaaaaaaaaaaaaa","visitor":"bbbbbbbbbbbbbbbb","events":[{{"kind":{kind},"story":"s"}}]}}"#
            )
        };
        let ok: Result<glimpse_shared::EventBatch, _> =
            base.clone().json(batch(r#""story_view""#)).read_json(1000);
        assert!(ok.is_ok());
        let e = base
            .json(batch("0"))
            .read_json::<glimpse_shared::EventBatch>(1000)
            .err();
        assert_eq!(e.as_ref().map(|e| e.status), Some(400));
        assert_eq!(e.and_then(|e| e.field), Some("events[0].kind".into()));
    }

    #[test]
    fn a_body_over_the_limit_is_refused_from_its_declared_length() {
        let base = ApiRequest::new(Method::Post, "/");
        assert_eq!(base.body_within(10), Ok(()));
        let declared = base.clone().header("Content-Length", "20000000");
        assert_eq!(declared.declared_length(), Some(20_000_000));
        assert_eq!(declared.body_within(10).map_err(|e| e.status), Err(413));
        assert_eq!(
            base.clone()
                .header("content-length", "10")
                .json(vec![b'x'; 10])
                .body_within(10),
            Ok(())
        );
        // A streamed body (no Content-Length) read one byte past the limit.
        let streamed = base.clone().json(vec![b'x'; 11]);
        assert_eq!(streamed.body_within(10).map_err(|e| e.status), Err(413));
        assert_eq!(declared.body_to_read(10), 0, "refused unread");
        assert_eq!(base.body_to_read(10), 11);
        assert_eq!(base.body_to_read(0), 0, "a route that takes no body");
        // A malformed length is no declaration; the body read decides.
        assert!(!declared.may_drain(), "20 MB declared: cancelled unread");
        assert!(base.may_drain());
        assert!(base.clone().header("content-length", "65536").may_drain());
        assert!(!base.clone().header("content-length", "65537").may_drain());
        let odd = base.header("content-length", "lots");
        assert_eq!(odd.declared_length(), None);
        assert_eq!(odd.body_within(10), Ok(()));
    }
}
