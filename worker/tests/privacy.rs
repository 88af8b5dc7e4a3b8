//! Export and erase everything stored for one visitor; nothing of anyone else is touched.

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use common::*;
use glimpse_worker::http::ApiRequest;
use glimpse_worker::route::Method;
use glimpse_worker::store::MemoryKv;
use serde_json::json;

#[test]
fn a_visitors_data_is_exported_then_erased() {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    h.seed();
    let (me, other) = (tok("visitor", 1), tok("visitor", 2));
    for (v, r) in [(&me, 1), (&other, 2)] {
        assert_eq!(
            h.vote("helpful", &tok("resp", r), v, json!({"choice": 0}), T0)
                .status,
            201
        );
        assert_eq!(
            h.vote("csat", &tok("rate", r), v, json!({"rating": 4}), T0)
                .status,
            201
        );
        let res = h.call(
            ApiRequest::new(Method::Post, "/v1/sites/demo/events")
                .json(json!({"id": tok("batch", r), "visitor": v, "events": [{"kind": "story_view", "story": "reset"}]}).to_string()),
            T0,
        );
        assert_eq!(res.status, 202);
        let res = h.call(
            ApiRequest::new(Method::Post, "/v1/sites/demo/questions").json(
                json!({"visitor": v, "topic": "orders", "message": format!("question from {r}")})
                    .to_string(),
            ),
            T0,
        );
        let id = body(&res)["id"].as_str().unwrap_or_default().to_string();
        h.admin(
            Method::Post,
            &format!("/v1/admin/sites/demo/questions/{id}/replies"),
            Some(json!({"text": "hi"})),
            T0,
        );
    }
    let path = format!("/v1/admin/sites/demo/visitors/{me}");
    let export = body(&h.admin(Method::Get, &path, None, T0));
    assert_eq!(export["visitor"], json!(me));
    assert_eq!(export["votes"].as_array().map(Vec::len), Some(2));
    assert_eq!(export["event_batches"].as_array().map(Vec::len), Some(1));
    assert_eq!(export["questions"][0]["message"], "question from 1");
    assert_eq!(export["questions"].as_array().map(Vec::len), Some(1));

    // Their votes reached D1's tallies first (a message still queued at erasure is the
    // consumer's erased-visitor filter's job).
    h.drain(T0);
    assert_eq!(h.results("helpful", T0)["total"], 2);
    let before = h.kv.keys().len();
    let res = h.admin(Method::Delete, &path, None, T0);
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        body(&res)["erased"],
        json!({"votes": 2, "event_batches": 1, "questions": 1, "knowledge_base": 0})
    );
    // question + 2 votes + 1 batch are gone (replies are D1 rows); receipts hold no visitor id.
    assert_eq!(h.kv.keys().len(), before - 4);
    let export = body(&h.admin(Method::Get, &path, None, T0));
    assert_eq!(
        (export["votes"].clone(), export["questions"].clone()),
        (json!([]), json!([]))
    );
    // The other visitor is untouched; results now count only them.
    h.drain(T0);
    assert_eq!(h.results("helpful", T0)["total"], 1);
    let other_export = body(&h.admin(
        Method::Get,
        &format!("/v1/admin/sites/demo/visitors/{other}"),
        None,
        T0,
    ));
    assert_eq!(other_export["votes"].as_array().map(Vec::len), Some(2));
    // Erasing again is harmless; bad ids and missing tokens are refused.
    assert_eq!(h.admin(Method::Delete, &path, None, T0).status, 200);
    let res = h.admin(Method::Get, "/v1/admin/sites/demo/visitors/short", None, T0);
    assert_eq!((res.status, field(&res)), (400, "visitor".to_string()));
    assert_eq!(
        h.call(ApiRequest::new(Method::Delete, &path), T0).status,
        401
    );
}
