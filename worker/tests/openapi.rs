//! `worker/openapi.json` describes exactly the routes the worker serves, and every schema
//! it references exists.

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

use std::collections::BTreeSet;

use glimpse_worker::route::{Method, ROUTES, route};
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
            .replace("{visitor}", "visitor-0123456789abcdef");
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
