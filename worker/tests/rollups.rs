//! Per-day statistics and the report over real API traffic, from D1's counters once the
//! queue is delivered: exact numbers, and asking again changes nothing.

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use common::*;
use glimpse_worker::http::ApiRequest;
use glimpse_worker::route::Method;
use glimpse_worker::sql::{Sql, Stmt};
use glimpse_worker::store::{KvStore, MemoryKv};
use serde_json::json;

/// What the content and questions owners' code writes to D1 (until their work is merged,
/// written here as they would): the content rows the report names things from, and one
/// question with its timings plus its day's `questions` counter.
fn d1_rows<S: KvStore>(h: &H<S>) {
    let mut stmts = Vec::new();
    for (kind, id, body) in [
        ("story", "reset", story("reset", T0, T0 + 48 * HOUR)),
        ("session", "qa", session("qa", T0, T0 + HOUR, T0 + 2 * HOUR)),
        (
            "poll",
            "helpful",
            poll(
                "helpful",
                json!({"type":"choice","options":["Yes","No","Partly"]}),
            ),
        ),
        ("poll", "csat", poll("csat", json!({"type":"rating"}))),
        ("poll", "ideas", poll("ideas", json!({"type":"text"}))),
    ] {
        stmts.push(
            Stmt::new(
                "INSERT OR REPLACE INTO content (site, kind, id, body, over_at, purge_at) \
                 VALUES ('demo', ?1, ?2, ?3, 0, 0)",
            )
            .bind(kind)
            .bind(id)
            .bind(body.to_string()),
        );
    }
    stmts.push(
        Stmt::new(
            "INSERT INTO questions (site, id, visitor, topic, message, created_at, \
             first_reply_at, resolved_at, category) \
             VALUES ('demo', 'q1', ?1, 'orders', 'Where is it?', ?2, ?3, ?4, 'orders')",
        )
        .bind(tok("v", 9))
        .bind(T0 + 10_000)
        .bind(T0 + 130_000)
        .bind(T0 + 610_000),
    );
    stmts.push(Stmt::new(
        "INSERT INTO daily (site, day, metric, key, n) VALUES ('demo', '2026-11-22', ?1, 'orders', 1)",
    ).bind(glimpse_shared::rollup::metric::QUESTIONS));
    pollster::block_on(h.sql.batch(&stmts)).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_day_is_rolled_up_exactly_and_idempotently() {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    h.seed();
    let events = |n: usize, list: serde_json::Value| {
        let res = h.call(
            ApiRequest::new(Method::Post, "/v1/sites/demo/events").json(
                json!({"id": tok("batch", n), "visitor": tok("v", n % 3), "events": list})
                    .to_string(),
            ),
            T0 + n as i64 * 1000,
        );
        assert_eq!(res.status, 202, "{}", res.body);
    };
    events(
        0,
        json!([{"kind": "story_view", "story": "reset"}, {"kind": "slide_view", "story": "reset", "slide": 0},
                     {"kind": "slide_view", "story": "reset", "slide": 1}, {"kind": "story_complete", "story": "reset"}]),
    );
    events(
        1,
        json!([{"kind": "story_view", "story": "reset"}, {"kind": "slide_view", "story": "reset", "slide": 0},
                     {"kind": "not_helpful", "story": "reset"}, {"kind": "escalation", "channel": "email"}]),
    );
    events(2, json!([{"kind": "banner_join", "session": "qa"}]));
    for (i, stars) in [5, 4, 1].into_iter().enumerate() {
        assert_eq!(
            h.vote(
                "csat",
                &tok("r", i),
                &tok("v", i),
                json!({"rating": stars}),
                T0 + 5_000
            )
            .status,
            202
        );
    }
    d1_rows(&h);
    // Nothing counts until the queue is delivered.
    let before = body(&h.admin(
        Method::Post,
        "/v1/admin/sites/demo/rollups/2026-11-22",
        None,
        T0 + 6_000,
    ));
    assert_eq!(before["stories"], json!({}));
    h.drain(T0 + 6_000);
    let run = || {
        h.admin(
            Method::Post,
            "/v1/admin/sites/demo/rollups/2026-11-22",
            None,
            T0 + 3_600_000,
        )
    };
    let first = run();
    assert_eq!(first.status, 200, "{}", first.body);
    let d = body(&first);
    assert_eq!(d["stories"]["reset"]["views"], 2);
    assert_eq!(d["stories"]["reset"]["completions"], 1);
    assert_eq!(d["stories"]["reset"]["slide_views"], json!([2, 1]));
    assert_eq!(d["stories"]["reset"]["not_helpful"], 1);
    assert_eq!(d["escalations"]["email"], 1);
    assert_eq!(d["session_joins"]["qa"], 1);
    assert_eq!(d["csat_counts"], json!([1, 0, 0, 1, 1]));
    assert!((d["csat_mean"].as_f64().unwrap_or(0.0) - 10.0 / 3.0).abs() < 1e-9);
    assert_eq!(d["questions_asked"], 1);
    assert_eq!(d["first_reply"]["median_ms"], 120_000);
    assert_eq!(d["resolution"]["median_ms"], 600_000);
    assert_eq!(d["visitors"], 3);
    assert_eq!(d["polls"]["csat"], json!({"1": 1, "4": 1, "5": 1}));
    // Asking again, or after the same messages are delivered again, gives the same.
    assert_eq!(body(&run()), d);
    assert_eq!(d["day"], "2026-11-22");
    let listed = body(&h.admin(
        Method::Get,
        "/v1/admin/sites/demo/rollups?from=2026-11-01&to=2026-11-30",
        None,
        T0,
    ));
    assert_eq!(listed["days"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["days"][0], d);
    // The report of the period sums the stored days and names the content.
    let report = |query: &str| {
        let res = h.admin(
            Method::Get,
            &format!("/v1/admin/sites/demo/report?{query}"),
            None,
            T0,
        );
        assert_eq!(res.status, 200, "{}", res.body);
        body(&res)
    };
    let r = report("from=2026-11-01&to=2026-11-30");
    assert_eq!(r["totals"]["story_views"], 2);
    assert_eq!(r["totals"]["completion_rate"], 0.5);
    assert_eq!(r["totals"]["escalation_rate"], json!(1.0 / 3.0));
    assert_eq!(r["totals"]["csat_satisfied"], json!(2.0 / 3.0));
    assert_eq!(r["totals"]["first_reply"]["median_ms"], 120_000);
    assert_eq!(r["stories"][0]["title"], "How to reset");
    assert_eq!(r["stories"][0]["slide_views"], json!([2, 1]));
    assert_eq!(r["sessions"][0]["title"], "Live Q&A: billing");
    assert_eq!(
        r["polls"][0]["answers"],
        json!([["1★", 1], ["2★", 0], ["3★", 0], ["4★", 1], ["5★", 1]])
    );
    assert_eq!(r["days"].as_array().map(Vec::len), Some(1));
    // The default period is the 30 days up to today; a topic narrows it.
    assert_eq!(report("")["totals"]["story_views"], 2);
    let billing = report("topic=billing&from=2026-11-22&to=2026-11-22");
    assert_eq!(billing["totals"]["story_views"], 0);
    assert_eq!(billing["totals"]["session_joins"], 1);
    assert_eq!(billing["totals"]["questions_asked"], 0);
    assert_eq!(billing["polls"], json!([]));
    for (query, want) in [
        ("topic=nope", "topic"),
        ("from=2026-11-30&to=2026-11-01", "from"),
        ("from=2024-01-01&to=2026-11-01", "from"),
        ("to=soon", "to"),
    ] {
        let res = h.admin(
            Method::Get,
            &format!("/v1/admin/sites/demo/report?{query}"),
            None,
            T0,
        );
        assert_eq!(
            (res.status, field(&res)),
            (400, want.to_string()),
            "{query}"
        );
    }
    let sites = body(&h.admin(Method::Get, "/v1/admin/sites", None, T0));
    assert_eq!(
        sites["sites"],
        json!([{"id": "demo", "name": "Demo Coffee"}])
    );
    let empty = body(&h.admin(
        Method::Get,
        "/v1/admin/sites/demo/rollups?from=2026-12-01",
        None,
        T0,
    ));
    assert_eq!(empty["days"], json!([]));
    // Another day has nothing.
    let other = body(&h.admin(
        Method::Post,
        "/v1/admin/sites/demo/rollups/2026-11-21",
        None,
        T0,
    ));
    assert_eq!(other["stories"], json!({}));

    let res = h.admin(
        Method::Post,
        "/v1/admin/sites/demo/rollups/2026-13-01",
        None,
        T0,
    );
    assert_eq!((res.status, field(&res)), (400, "day".to_string()));
    let res = h.admin(
        Method::Get,
        "/v1/admin/sites/demo/rollups?from=yesterday",
        None,
        T0,
    );
    assert_eq!((res.status, field(&res)), (400, "from".to_string()));
    assert_eq!(
        h.admin(
            Method::Post,
            "/v1/admin/sites/nope/rollups/2026-11-22",
            None,
            T0
        )
        .status,
        404
    );
}
