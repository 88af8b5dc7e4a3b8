//! Storage failures (KV 429s, 5xx, timeouts, and writes that happened but whose answer was
//! lost) turn into 503 + Retry-After, and a client that retries ends up with its response
//! recorded exactly once: never twice, never lost.

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use common::*;
use glimpse_worker::http::{ApiRequest, ApiResponse};
use glimpse_worker::route::Method;
use glimpse_worker::store::{Fault, FaultyKv, MemoryKv};
use serde_json::json;

const FAULTS: [Fault; 4] = [
    Fault::RateLimited,
    Fault::ServerError,
    Fault::Timeout,
    Fault::AppliedThenTimeout,
];

fn seeded() -> H<FaultyKv> {
    let h = H::with(FaultyKv::new(MemoryKv::new()));
    h.kv.inner.set_now(T0);
    h.seed();
    h
}

fn assert_unavailable(res: &ApiResponse, what: &str) {
    assert_eq!(res.status, 503, "{what}: {}", res.body);
    assert_eq!(code(res), "unavailable", "{what}");
    assert_eq!(res.get_header("retry-after"), Some("5"), "{what}");
}

/// Sends `req` until it is answered with something other than 503, as a client honouring
/// Retry-After would. Faults are injected only into the first attempt: a fault scheduled
/// past its last operation is withdrawn.
fn until_answered(h: &H<FaultyKv>, req: impl Fn() -> ApiResponse) -> ApiResponse {
    let first = req();
    h.kv.heal();
    if first.status != 503 {
        return first;
    }
    assert_unavailable(&first, "first attempt");
    req()
}

#[test]
fn every_endpoint_answers_503_when_the_store_is_down() {
    for fault in FAULTS {
        let h = seeded();
        h.kv.fail_all(fault);
        let before = h.kv.inner.keys();
        let requests = [
            ApiRequest::new(Method::Get, "/v1/sites/demo/feed"),
            ApiRequest::new(Method::Options, "/v1/sites/demo/feed").header("origin", ORIGIN),
            ApiRequest::new(Method::Post, "/v1/sites/demo/events").json(
                json!({"id": tok("b", 1), "visitor": tok("v", 1),
                       "events": [{"kind": "story_view", "story": "reset"}]})
                .to_string(),
            ),
        ];
        for req in requests {
            let what = format!("{fault:?} {:?} {}", req.method, req.path);
            assert_unavailable(&h.call(req, T0), &what);
        }
        assert_unavailable(
            &h.vote("csat", &tok("r", 1), &tok("v", 1), json!({"rating": 5}), T0),
            "vote",
        );
        assert_unavailable(
            &h.put(
                "/v1/admin/sites/demo/stories/x",
                story("x", T0, T0 + HOUR),
                T0,
            ),
            "put",
        );
        // Operators' results read D1 only (the poll's content row and its tallies): they
        // still answer while KV is down, and a D1 failure is a 503.
        let results = || {
            h.admin(
                Method::Get,
                "/v1/admin/sites/demo/polls/csat/results",
                None,
                T0,
            )
        };
        assert_eq!(results().status, 200, "results while KV is down");
        h.sql.fail_statement(0);
        assert_unavailable(&results(), "results while D1 fails");
        assert_unavailable(
            &h.admin(
                Method::Delete,
                "/v1/admin/sites/demo/stories/reset",
                None,
                T0,
            ),
            "delete",
        );
        if fault != Fault::AppliedThenTimeout {
            assert_eq!(
                h.kv.inner.keys(),
                before,
                "{fault:?}: a failed request wrote nothing"
            );
        }
    }
}

#[test]
fn a_vote_is_never_counted_twice_or_lost_whatever_operation_fails() {
    for fault in FAULTS {
        for k in 0..8 {
            let h = seeded();
            // An earlier answer by the same visitor, to be replaced.
            let first = h.vote(
                "helpful",
                &tok("r", 1),
                &tok("v", 1),
                json!({"choice": 0}),
                T0,
            );
            assert_eq!(first.status, 202);
            // Someone else's vote, which must survive untouched.
            assert_eq!(
                h.vote(
                    "helpful",
                    &tok("r", 9),
                    &tok("v", 9),
                    json!({"choice": 1}),
                    T0
                )
                .status,
                202
            );

            h.kv.fail_op(k, fault);
            let res = until_answered(&h, || {
                h.vote(
                    "helpful",
                    &tok("r", 2),
                    &tok("v", 1),
                    json!({"choice": 2}),
                    T0 + 1,
                )
            });
            assert!(
                res.status == 202,
                "{fault:?} at op {k}: {} {}",
                res.status,
                res.body
            );
            // The client may retry again (it never saw the first answer): still once.
            let again = h.vote(
                "helpful",
                &tok("r", 2),
                &tok("v", 1),
                json!({"choice": 2}),
                T0 + 2,
            );
            assert_eq!(again.status, 202, "{fault:?} at op {k}");
            // A stale replay of the replaced response changes nothing.
            assert_eq!(
                h.vote(
                    "helpful",
                    &tok("r", 1),
                    &tok("v", 1),
                    json!({"choice": 0}),
                    T0 + 3
                )
                .status,
                202
            );

            h.drain(T0 + 4);
            let r = h.results("helpful", T0 + 4);
            assert_eq!(r["total"], 2, "{fault:?} at op {k}: {r}");
            assert_eq!(r["counts"], json!([0, 1, 1]), "{fault:?} at op {k}: {r}");
        }
    }
}

#[test]
fn a_publish_is_never_lost_whatever_operation_fails() {
    for fault in FAULTS {
        for k in 0..12 {
            let h = seeded();
            h.kv.fail_op(k, fault);
            let res = until_answered(&h, || {
                h.put(
                    "/v1/admin/sites/demo/stories/new",
                    story("new", T0, T0 + HOUR),
                    T0,
                )
            });
            assert!(
                res.status == 201 || res.status == 200,
                "{fault:?} at op {k}: {}",
                res.body
            );
            let feed = h.feed(T0);
            assert_eq!(
                ids(&feed["stories"]),
                ["new", "reset"],
                "{fault:?} at op {k}"
            );
            assert_eq!(ids(&feed["polls"]).len(), 3, "{fault:?} at op {k}");

            h.kv.fail_op(k, fault);
            let res = until_answered(&h, || {
                h.admin(Method::Delete, "/v1/admin/sites/demo/stories/new", None, T0)
            });
            assert_eq!(res.status, 204, "{fault:?} at op {k}");
            assert_eq!(
                ids(&h.feed(T0)["stories"]),
                ["reset"],
                "{fault:?} at op {k}"
            );
        }
    }
}

#[test]
fn an_event_batch_is_stored_once_whatever_fails() {
    for fault in FAULTS {
        for k in 0..3 {
            let h = seeded();
            let before = h.kv.inner.keys().len();
            h.kv.fail_op(k, fault);
            let res = until_answered(&h, || {
                h.call(
                    ApiRequest::new(Method::Post, "/v1/sites/demo/events").json(
                        json!({"id": tok("batch", 1), "visitor": tok("v", 1),
                               "events": [{"kind": "story_complete", "story": "reset"}]})
                        .to_string(),
                    ),
                    T0,
                )
            });
            assert_eq!(res.status, 202, "{fault:?} at op {k}: {}", res.body);
            assert_eq!(h.kv.inner.keys().len(), before + 1, "{fault:?} at op {k}");
        }
    }
}
