//! Hostile requests: any method, path, headers and body. The API never panics, never
//! answers 5xx for anything a client sent, and every error is the JSON error shape.

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use common::*;
use glimpse_worker::http::ApiRequest;
use glimpse_worker::route::{Method, route};
use glimpse_worker::store::MemoryKv;
use proptest::prelude::*;

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Get),
        Just(Method::Head),
        Just(Method::Post),
        Just(Method::Put),
        Just(Method::Delete),
        Just(Method::Options),
        Just(Method::Other),
    ]
}

/// Paths near the real ones: real segments mixed with hostile ones.
fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("v1".to_string()),
        Just("sites".to_string()),
        Just("admin".to_string()),
        Just("demo".to_string()),
        Just("feed".to_string()),
        Just("polls".to_string()),
        Just("csat".to_string()),
        Just("helpful".to_string()),
        Just("responses".to_string()),
        Just("results".to_string()),
        Just("events".to_string()),
        Just("stories".to_string()),
        Just("sessions".to_string()),
        Just("reset".to_string()),
        Just("..".to_string()),
        Just("%2e%2e".to_string()),
        Just(String::new()),
        "\\PC{0,12}",
    ];
    prop_oneof![
        prop::collection::vec(segment, 0..8).prop_map(|s| format!("/{}", s.join("/"))),
        "\\PC{0,60}",
    ]
}

/// Bodies near the real ones: valid JSON for each endpoint, mutated, or noise.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let valid = prop_oneof![
        Just(r#"{"id":"aaaaaaaaaaaaaaaa","visitor":"bbbbbbbbbbbbbbbb","answer":{"rating":5}}"#.to_string()),
        Just(r#"{"id":"aaaaaaaaaaaaaaaa","visitor":"bbbbbbbbbbbbbbbb","answer":{"choice":1}}"#.to_string()),
        Just(r#"{"id":"aaaaaaaaaaaaaaaa","visitor":"bbbbbbbbbbbbbbbb","events":[{"kind":"story_view","story":"reset"}]}"#.to_string()),
        Just(story("reset", T0, T0 + HOUR).to_string()),
        Just(site().to_string()),
        Just(poll("csat", serde_json::json!({"type":"rating"})).to_string()),
    ];
    prop_oneof![
        (
            valid,
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..6)
        )
            .prop_map(|(v, edits)| {
                let mut b = v.into_bytes();
                for (at, byte, op) in edits {
                    if b.is_empty() {
                        break;
                    }
                    let i = at.index(b.len());
                    match op {
                        0 => b[i] = byte,
                        1 => {
                            b.remove(i);
                        }
                        _ => b.insert(i, byte),
                    }
                }
                b
            }),
        prop::collection::vec(any::<u8>(), 0..300),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_500))]

    #[test]
    fn routing_never_panics(m in method(), p in "\\PC{0,100}") {
        let _ = route(m, &p);
    }

    #[test]
    fn no_request_gets_a_5xx_or_a_non_json_error(
        m in method(),
        p in path(),
        b in body(),
        json_type in any::<bool>(),
        auth in any::<bool>(),
        origin in prop_oneof![Just(None), Just(Some(ORIGIN)), Just(Some("https://evil.example"))],
    ) {
        let h = H::with(MemoryKv::new());
        h.kv.set_now(T0);
        h.seed();
        let mut req = ApiRequest::new(m, &p);
        if json_type {
            req = req.header("content-type", "application/json");
        }
        if auth {
            req = req.header("authorization", &format!("Bearer {TOKEN}"));
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.body = b;
        let res = h.call(req, T0 + 1);
        prop_assert!(res.status < 500, "{} {:?} -> {} {}", p, m, res.status, res.body);
        if res.status >= 400 && m != Method::Head {
            let v: serde_json::Value = serde_json::from_str(&res.body)
                .map_err(|e| TestCaseError::fail(format!("{e}: {}", res.body)))?;
            prop_assert!(v["error"]["code"].is_string());
            prop_assert!(v["error"]["message"].is_string());
        }
    }
}
