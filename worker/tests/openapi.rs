//! `worker/openapi.json` describes exactly the routes the worker serves, and every schema
//! it references exists.

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use std::collections::BTreeSet;

use common::{H, ORIGIN, T0, TOKEN, tok};
use glimpse_worker::http::{ApiRequest, ApiResponse};
use glimpse_worker::limit::{Limit, RateLimiter};
use glimpse_worker::route::{Method, ROUTES, route};
use glimpse_worker::store::{Fault, FaultyKv, MemoryKv};
use serde_json::Value;

fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json"))
        .unwrap_or_else(|e| panic!("read openapi.json: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("openapi.json: {e}"))
}

const OPERATIONS: [&str; 6] = ["get", "put", "post", "delete", "options", "head"];

/// (path, method) pairs the spec documents. HEAD is implied by GET, as the worker does.
fn documented() -> BTreeSet<(String, String)> {
    let spec = spec();
    let mut out = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for op in OPERATIONS {
            if item.get(op).is_some() {
                out.insert((path.clone(), op.to_uppercase()));
            }
        }
    }
    out
}

fn served() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .flat_map(|(path, methods)| {
            methods
                .iter()
                .filter(|m| **m != Method::Head)
                .map(|m| (path.to_string(), m.as_str().to_string()))
        })
        .collect()
}

#[test]
fn the_spec_lists_exactly_the_served_routes() {
    assert_eq!(
        spec()["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    let documented = documented();
    let served = served();
    let missing: Vec<_> = served.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "served but not in openapi.json: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "in openapi.json but not served: {extra:?}"
    );
}

#[test]
fn every_documented_operation_routes() {
    for (path, method) in documented() {
        let concrete = path
            .replace("{site}", "demo")
            .replace("{poll}", "csat")
            .replace("rollups/{id}", "rollups/2026-11-22")
            .replace("{id}", "x")
            .replace("{visitor}", "visitor-0123456789abcdef")
            .replace("{session}", "qa");
        let m = Method::parse(&method);
        assert!(
            route(m, &concrete).is_ok(),
            "{method} {concrete} does not route"
        );
        if m == Method::Get {
            assert!(route(Method::Head, &concrete).is_ok(), "HEAD {concrete}");
        }
    }
}

#[test]
fn every_reference_resolves() {
    let spec = spec();
    fn walk(v: &Value, refs: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    if k == "$ref" {
                        refs.extend(v.as_str().map(String::from));
                    }
                    walk(v, refs);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    walk(&spec, &mut refs);
    assert!(refs.len() > 20);
    for r in refs {
        let pointer = r.trim_start_matches('#');
        assert!(spec.pointer(pointer).is_some(), "dangling $ref {r}");
    }
}

/// The statuses the spec documents for `method path` (HEAD: those of GET).
fn documented_statuses(spec: &Value, path: &str, method: Method) -> BTreeSet<u16> {
    let op = match method {
        Method::Head => "get".to_string(),
        other => other.as_str().to_ascii_lowercase(),
    };
    spec["paths"][path][op.as_str()]["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(code, _)| code.parse().ok())
        .collect()
}

/// `template` with every parameter replaced by a value the worker accepts (`fill`), or the
/// parameter `bad` replaced by one it refuses.
fn concrete(template: &str, bad: Option<&str>, site: &str) -> String {
    let mut out = Vec::new();
    let segments: Vec<&str> = template.split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        let Some(name) = seg.strip_prefix('{').and_then(|n| n.strip_suffix('}')) else {
            out.push((*seg).to_string());
            continue;
        };
        let value = if bad == Some(name) {
            "%C2%84".to_string()
        } else {
            match (name, segments.get(i - 1).copied()) {
                ("site", _) => site.to_string(),
                ("poll", _) => "csat".to_string(),
                ("visitor", _) => tok("visitor", 1),
                (_, Some("rollups")) => "2026-11-22".to_string(),
                (_, Some("stories")) => "reset".to_string(),
                (_, Some("sessions")) => "qa".to_string(),
                // The seeded live session (`live/{session}`).
                (_, Some("live")) => "qa".to_string(),
                (_, Some("polls")) => "helpful".to_string(),
                _ => "nosuch".to_string(),
            }
        };
        out.push(value);
    }
    out.join("/")
}

fn params(template: &str) -> Vec<&str> {
    template
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|n| n.strip_suffix('}')))
        .collect()
}

/// A seeded API over a store that can be made to fail, with a limiter of `per_minute`.
fn harness(per_minute: u32) -> H<FaultyKv> {
    let mut h = H::with(FaultyKv::new(MemoryKv::new()));
    h.kv.inner.set_now(T0);
    h.seed();
    h.limiter = RateLimiter::new(Limit::per_minute(per_minute));
    h
}

/// Every kind of answer a route gives to a kind of request is documented for it: bad path
/// parameters (400), missing or wrong admin tokens (401), unknown sites and items (404),
/// bodies that are not JSON (415), too large (413) or invalid (400), writes over the rate
/// limit (429), storage down (503), and methods the path does not serve (405 + Allow).
/// New routes are held to it as soon as they are in ROUTES and the spec.
#[test]
fn every_kind_of_answer_is_documented() {
    let spec = spec();
    let undocumented = std::cell::RefCell::new(Vec::<String>::new());
    let check = |what: &str, path: &str, method: Method, req: ApiRequest, res: &ApiResponse| {
        let documented = documented_statuses(&spec, path, method);
        if !documented.contains(&res.status) {
            undocumented.borrow_mut().push(format!(
                "{} {path} ({what}: {} {}) answered {} {}; documented {documented:?}",
                method.as_str(),
                req.method.as_str(),
                req.path,
                res.status,
                res.body.chars().take(120).collect::<String>()
            ));
        }
    };
    let with_body = |req: ApiRequest, ct: &str, body: Vec<u8>| {
        let mut req = req.header("content-type", ct);
        req.body = body;
        req
    };
    for (template, methods) in ROUTES {
        let admin = template.starts_with("/v1/admin/");
        for &method in *methods {
            let base = |path: &str| {
                let req = ApiRequest::new(method, path).header("cf-connecting-ip", "192.0.2.7");
                let req = if admin {
                    req.header("authorization", &format!("Bearer {TOKEN}"))
                } else {
                    req.header("origin", ORIGIN)
                };
                if method == Method::Options {
                    req.header("access-control-request-method", "POST")
                } else {
                    req
                }
            };
            let good = concrete(template, None, "demo");
            let mut probes: Vec<(&str, ApiRequest)> = vec![
                ("as is", base(&good)),
                ("unknown site", base(&concrete(template, None, "nosuch"))),
            ];
            for name in params(template) {
                probes.push((
                    "bad path parameter",
                    base(&concrete(template, Some(name), "demo")),
                ));
            }
            if admin {
                probes.push(("no token", ApiRequest::new(method, &good)));
                probes.push((
                    "wrong token",
                    ApiRequest::new(method, &good).header("authorization", "Bearer wrong-token"),
                ));
            } else {
                probes.push((
                    "foreign origin",
                    base(&good).header("origin", "https://evil.example"),
                ));
            }
            if matches!(method, Method::Post | Method::Put) {
                probes.push((
                    "empty JSON object",
                    with_body(base(&good), "application/json", b"{}".to_vec()),
                ));
                probes.push((
                    "broken JSON",
                    with_body(base(&good), "application/json", b"{\"".to_vec()),
                ));
                probes.push((
                    "text body",
                    with_body(base(&good), "text/plain", b"hello".to_vec()),
                ));
                probes.push((
                    "huge body",
                    with_body(
                        base(&good),
                        "application/json",
                        vec![b' '; 16 * 1024 * 1024],
                    ),
                ));
            }
            for (what, req) in probes {
                let h = harness(0);
                let res = h.call(req.clone(), T0 + 1);
                check(what, template, method, req, &res);
            }
            // Storage down.
            let h = harness(0);
            h.kv.fail_all(Fault::ServerError);
            let req = base(&good);
            let res = h.call(req.clone(), T0 + 1);
            check("storage down", template, method, req, &res);
            // A client over the write limit.
            let h = harness(1);
            for _ in 0..3 {
                let req = base(&good);
                let res = h.call(req.clone(), T0 + 1);
                check("over the rate limit", template, method, req, &res);
            }
        }
        // Methods this path does not serve: 405 with exactly the served ones in Allow.
        let path = concrete(template, None, "demo");
        for method in [
            Method::Get,
            Method::Post,
            Method::Put,
            Method::Delete,
            Method::Options,
            Method::Other,
        ] {
            if methods.contains(&method) {
                continue;
            }
            let h = harness(0);
            let res = h.call(
                ApiRequest::new(method, &path).header("authorization", &format!("Bearer {TOKEN}")),
                T0 + 1,
            );
            let allow: BTreeSet<&str> = res.get_header("allow").unwrap_or("").split(", ").collect();
            let served: BTreeSet<&str> = methods.iter().map(|m| m.as_str()).collect();
            if res.status != 405 || allow != served {
                undocumented.borrow_mut().push(format!(
                    "{} {path}: {} with Allow {:?}, expected 405 with {served:?}",
                    method.as_str(),
                    res.status,
                    res.get_header("allow")
                ));
            }
        }
    }
    let undocumented = undocumented.into_inner();
    assert!(
        undocumented.is_empty(),
        "answers openapi.json does not document:\n{}",
        undocumented.join("\n")
    );
}
