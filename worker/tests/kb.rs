//! The knowledge base: stories (even expired) and resolved questions are found by search
//! and on the plain HTML page; authored text is escaped there.

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use common::*;
use glimpse_worker::http::ApiRequest;
use glimpse_worker::route::Method;
use glimpse_worker::store::MemoryKv;
use serde_json::json;

fn seeded() -> H<MemoryKv> {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    h.seed();
    h
}

fn kb(h: &H<MemoryKv>, query: &str) -> Vec<String> {
    let res = h.call(
        ApiRequest::new(Method::Get, &format!("/v1/sites/demo/kb?{query}")),
        T0 + 100 * HOUR,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    body(&res)["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["entry"]["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn expired_stories_and_resolved_questions_are_found() {
    let h = seeded();
    let mut old = story("old-tracking", T0 - 48 * HOUR, T0 - HOUR);
    old["title"] = json!("Tracking a parcel abroad");
    old["slides"][0]["text"] = json!("International parcels get a second tracking number.");
    assert_eq!(
        h.put("/v1/admin/sites/demo/stories/old-tracking", old, T0)
            .status,
        201
    );
    // It is gone from the feed, but not from the knowledge base.
    assert!(!ids(&h.feed(T0)["stories"]).contains(&"old-tracking".to_string()));
    assert_eq!(kb(&h, "q=tracking+abroad"), ["story-old-tracking"]);
    // Both stories mention "Reset"; the one titled with it ranks first.
    assert_eq!(kb(&h, "q=reset"), ["story-reset", "story-old-tracking"]);

    let res = h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/questions")
            .json(json!({"visitor": tok("v", 1), "topic": "orders", "message": "Can I change the delivery address after ordering?"}).to_string()),
        T0,
    );
    let id = body(&res)["id"].as_str().unwrap_or_default().to_string();
    h.admin(
        Method::Post,
        &format!("/v1/admin/sites/demo/questions/{id}/replies"),
        Some(json!({"text": "Yes, until it ships: open My orders and tap Change address."})),
        T0,
    );
    assert!(
        kb(&h, "q=address").is_empty(),
        "open questions are not in the knowledge base"
    );
    let res = h.admin(
        Method::Post,
        &format!("/v1/admin/sites/demo/questions/{id}/resolve"),
        Some(json!({"category": "orders"})),
        T0,
    );
    assert_eq!(res.status, 200);
    assert_eq!(kb(&h, "q=change+address"), [format!("question-{id}")]);
    assert_eq!(kb(&h, "q=ships&topic=orders"), [format!("question-{id}")]);
    assert!(kb(&h, "q=ships&topic=account").is_empty());

    // Deleting a story removes it from the knowledge base too.
    h.admin(
        Method::Delete,
        "/v1/admin/sites/demo/stories/old-tracking",
        None,
        T0,
    );
    assert!(kb(&h, "q=abroad").is_empty());
}

#[test]
fn bad_searches_are_400_and_unknown_sites_404() {
    let h = seeded();
    let res = h.call(
        ApiRequest::new(
            Method::Get,
            &format!("/v1/sites/demo/kb?q={}", "x".repeat(201)),
        ),
        T0,
    );
    assert_eq!((res.status, field(&res)), (400, "q".to_string()));
    let res = h.call(
        ApiRequest::new(Method::Get, "/v1/sites/demo/kb?topic=Not%20a%20slug"),
        T0,
    );
    assert_eq!((res.status, field(&res)), (400, "topic".to_string()));
    assert_eq!(
        h.call(ApiRequest::new(Method::Get, "/v1/sites/nope/kb"), T0)
            .status,
        404
    );
    assert_eq!(
        h.call(ApiRequest::new(Method::Get, "/kb/nope"), T0).status,
        404
    );
}

#[test]
fn the_html_page_lists_and_searches_and_escapes() {
    let h = seeded();
    let mut s = story("xss", T0, T0 + HOUR);
    s["title"] = json!("<script>alert(1)</script> Returns");
    assert_eq!(h.put("/v1/admin/sites/demo/stories/xss", s, T0).status, 201);
    let res = h.call(ApiRequest::new(Method::Get, "/kb/demo"), T0);
    assert_eq!(res.status, 200);
    assert_eq!(
        res.get_header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(res.body.contains("<h1>Demo Coffee — Help</h1>"));
    // Everything inside one main landmark, the form a search landmark (axe: landmark-one-main,
    // region; the page itself is checked by axe-core in e2e/tests/a11y.rs).
    assert!(res.body.contains("<body><main><h1>") && res.body.ends_with("</main></body></html>"));
    assert!(res.body.contains("<form method=\"get\" role=\"search\""));
    assert!(res.body.contains("How to reset"));
    assert!(
        res.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; Returns")
    );
    assert!(!res.body.contains("<script>"));
    let res = h.call(ApiRequest::new(Method::Get, "/kb/demo?q=returns"), T0);
    assert!(res.body.contains("Returns") && !res.body.contains("How to reset"));
    assert!(res.body.contains("value=\"returns\""));
}

#[test]
fn popularity_is_recounted_from_events_and_ranks_results() {
    let h = seeded();
    let mut twin = story("reset-twin", T0, T0 + HOUR);
    twin["title"] = json!("How to reset");
    assert_eq!(
        h.put("/v1/admin/sites/demo/stories/reset-twin", twin, T0)
            .status,
        201
    );
    let send = |visitor: usize, events: serde_json::Value| {
        let res = h.call(
            ApiRequest::new(Method::Post, "/v1/sites/demo/events")
                .json(json!({"id": tok("batch", visitor * 10 + 1), "visitor": tok("v", visitor), "events": events}).to_string()),
            T0,
        );
        assert_eq!(res.status, 202, "{}", res.body);
    };
    send(
        1,
        json!([{"kind": "story_view", "story": "reset-twin"}, {"kind": "helpful", "story": "reset-twin"}]),
    );
    send(
        2,
        json!([{"kind": "story_view", "story": "reset-twin"}, {"kind": "story_view", "story": "reset-twin"}]),
    );
    // Before the recount both entries tie on text; the older id order decides.
    let res = h.admin(Method::Post, "/v1/admin/sites/demo/kb/recount", None, T0);
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(body(&res)["story-reset-twin"], json!([2, 1]));
    let res = h.call(
        ApiRequest::new(Method::Get, "/v1/sites/demo/kb?q=how+to+reset"),
        T0,
    );
    let results = body(&res)["results"].clone();
    assert_eq!(results[0]["entry"]["id"], "story-reset-twin", "{results}");
    assert_eq!(results[0]["entry"]["views"], 2);
    assert_eq!(results[0]["entry"]["helped"], 1);
    assert_eq!(
        h.admin(Method::Post, "/v1/admin/sites/nope/kb/recount", None, T0)
            .status,
        404
    );
}
