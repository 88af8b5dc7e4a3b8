//! Whole requests against the API core over in-memory KV: whatever the method, path,
//! headers and body, the answer is never a 5xx and every error is the JSON error shape.
#![no_main]

use glimpse_worker::core::{Api, handle};
use glimpse_worker::http::ApiRequest;
use glimpse_worker::limit::{Limit, RateLimiter};
use glimpse_worker::route::Method;
use glimpse_worker::store::MemoryKv;
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "fuzz-admin-token-0123456789abcdefghij";
const NOW: i64 = 1_795_305_600_000;
const SITE: &str = r#"{"id":"demo","name":"Demo","origins":["https://shop.example"],"channels":[{"kind":"email","label":"Email","value":"help@shop.example"}],"topics":[{"id":"orders","label":"Orders"}]}"#;
const POLL: &str = r#"{"id":"csat","question":"How did we do?","kind":{"type":"rating"},"publish_at":0,"expires_at":2082758400000}"#;

fuzz_target!(|data: &[u8]| {
    // method byte, flag byte, path up to the first newline, then the body.
    let [m, flags, rest @ ..] = data else {
        return;
    };
    let split = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    let Ok(path) = std::str::from_utf8(&rest[..split]) else {
        return;
    };
    let body = rest.get(split + 1..).unwrap_or_default().to_vec();
    let method = match m % 7 {
        0 => Method::Get,
        1 => Method::Head,
        2 => Method::Post,
        3 => Method::Put,
        4 => Method::Delete,
        5 => Method::Options,
        _ => Method::Other,
    };
    let kv = MemoryKv::new();
    kv.set_now(NOW);
    let limiter = RateLimiter::new(Limit::per_minute(0));
    let random = || Some("fuzzid000000000000000000".to_string());
    let auth_failures = glimpse_worker::door::AuthThrottle::per_minute();
    let Ok(sql) = glimpse_worker::sqlite::Sqlite::memory() else {
        return;
    };
    let queue = glimpse_worker::queue::MemoryQueue::new();
    let api = Api {
        store: &kv,
        admin_token: Some(TOKEN),
        limiter: &limiter,
        auth_failures: &auth_failures,
        random: &random,
        sql: &sql,
        queue: &queue,
        zones: &glimpse_worker::hours::TzDatabase,
        memo: &glimpse_worker::memo::SnapshotMemo::default(),
        local: true,
    };
    let admin = |method: Method, path: &str, body: &str| {
        let req = ApiRequest::new(method, path)
            .header("authorization", &format!("Bearer {TOKEN}"))
            .json(body.as_bytes().to_vec());
        pollster::block_on(handle(&api, &req, NOW))
    };
    admin(Method::Put, "/v1/admin/sites/demo", SITE);
    admin(Method::Put, "/v1/admin/sites/demo/polls/csat", POLL);

    let mut req = ApiRequest::new(method, path);
    if flags & 1 != 0 {
        req = req.header("content-type", "application/json");
    }
    if flags & 2 != 0 {
        req = req.header("authorization", &format!("Bearer {TOKEN}"));
    }
    if flags & 4 != 0 {
        req = req.header("origin", "https://shop.example");
    }
    req.body = body;
    let res = pollster::block_on(handle(&api, &req, NOW + 1));
    assert!(res.status < 500, "{path} -> {} {}", res.status, res.body);
    if res.status >= 400 && method != Method::Head {
        let v: serde_json::Value = serde_json::from_str(&res.body).expect("a JSON error body");
        assert!(v["error"]["code"].is_string(), "{}", res.body);
    }
});
