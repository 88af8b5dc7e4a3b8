//! The export: raw responses, questions and events a page at a time as NDJSON or CSV, with
//! visitors' words only when asked, for read-only API keys and reporting roles.

#![allow(clippy::panic)]

mod common;

use common::*;
use glimpse_worker::http::{ApiRequest, ApiResponse};
use glimpse_worker::route::Method;
use glimpse_worker::store::MemoryKv;
use serde_json::{Value, json};

fn seeded() -> H<MemoryKv> {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    h.seed();
    h
}

fn get(h: &H<MemoryKv>, token: Option<&str>, query: &str) -> ApiResponse {
    let path = format!("/v1/admin/sites/demo/export?{query}");
    match token {
        Some(t) => h.call(
            ApiRequest::from_url(Method::Get, &path)
                .header("authorization", &format!("Bearer {t}")),
            T0 + HOUR,
        ),
        None => h.call(
            ApiRequest::from_url(Method::Get, &path)
                .header("authorization", &format!("Bearer {TOKEN}")),
            T0 + HOUR,
        ),
    }
}

fn lines(res: &ApiResponse) -> Vec<Value> {
    res.body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn api_key(h: &H<MemoryKv>) -> String {
    let res = h.admin(
        Method::Post,
        "/v1/admin/keys",
        Some(json!({"name": "Warehouse", "sites": ["demo"]})),
        T0,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    body(&res)["token"].as_str().unwrap_or_default().to_string()
}

#[test]
fn every_response_is_exported_once_across_pages() {
    let h = seeded();
    // 1,203 answers: ratings, choices and text, spread over time.
    let total = 1_203;
    for n in 0..total {
        let (poll, answer) = match n % 3 {
            0 => ("csat", json!({"rating": 1 + n % 5})),
            1 => ("helpful", json!({"choice": n % 3})),
            _ => (
                "ideas",
                json!({"text": format!("idea number {n}, \"quoted\"")}),
            ),
        };
        let res = h.vote(
            poll,
            &tok("resp", n),
            &tok("visitor", n),
            answer,
            T0 + (n as i64) * 7,
        );
        assert!(res.status < 300, "{}", res.body);
        if n % 100 == 99 {
            h.drain(T0 + (n as i64) * 7);
        }
    }
    h.drain(T0 + HOUR);
    let key = api_key(&h);
    let mut seen = Vec::new();
    let mut query = "kind=responses".to_string();
    let mut pages = 0;
    loop {
        let res = get(&h, Some(&key), &query);
        assert_eq!(res.status, 200, "{}", res.body);
        assert!(
            res.get_header("content-type")
                .unwrap_or("")
                .starts_with("application/x-ndjson")
        );
        pages += 1;
        let page = lines(&res);
        assert!(page.len() <= 500);
        for r in &page {
            if r["answer_kind"] == "text" {
                assert!(
                    r.get("text").is_none(),
                    "visitors' words only when asked: {r}"
                );
            }
        }
        seen.extend(
            page.iter()
                .map(|r| r["response"].as_str().unwrap_or("").to_string()),
        );
        match res.get_header("glimpse-next-cursor") {
            Some(c) => {
                assert!(
                    res.get_header("link")
                        .unwrap_or("")
                        .contains("rel=\"next\"")
                );
                query = format!("kind=responses&cursor={c}");
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (total, total));

    // One poll, as CSV, with the text when asked.
    let res = get(
        &h,
        None,
        "kind=responses&poll=ideas&format=csv&include_text=true",
    );
    assert_eq!(res.status, 200, "{}", res.body);
    let mut csv = csv::Reader::from_reader(res.body.as_bytes());
    let headers = csv.headers().cloned().unwrap_or_default();
    assert_eq!(&headers[0], "poll");
    let text_at = headers
        .iter()
        .position(|h| h == "text")
        .unwrap_or(usize::MAX);
    let records: Vec<csv::StringRecord> = csv.records().filter_map(Result::ok).collect();
    assert_eq!(records.len(), 401);
    assert!(records.iter().all(|r| &r[0] == "ideas"));
    assert!(
        records[0][text_at].starts_with("idea number 2, \"quoted\""),
        "{:?}",
        records[0]
    );
}

#[test]
fn questions_leave_out_the_visitors_words_unless_asked() {
    let h = seeded();
    let res = h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/questions")
            .header("origin", ORIGIN)
            .json(
                json!({"visitor": tok("visitor", 1), "topic": "orders",
                       "message": "Where is order 1234?", "email": "ada@example.com",
                       "email_consent": true})
                .to_string(),
            ),
        T0,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    h.drain(T0 + 1_000);
    let res = get(&h, None, "kind=questions");
    let rows = lines(&res);
    assert_eq!(rows.len(), 1, "{}", res.body);
    assert_eq!(rows[0]["topic"], "orders");
    assert!(
        !res.body.contains("1234") && !res.body.contains("ada@"),
        "{}",
        res.body
    );
    let res = get(&h, None, "kind=questions&include_text=true");
    let rows = lines(&res);
    assert_eq!(rows[0]["message"], "Where is order 1234?");
    assert_eq!(rows[0]["email"], "ada@example.com");
}

#[test]
fn events_are_exported_one_row_per_event() {
    let h = seeded();
    for n in 0..3 {
        let res = h.call(
            ApiRequest::new(Method::Post, "/v1/sites/demo/events")
                .header("origin", ORIGIN)
                .json(
                    json!({"id": tok("batch", n), "visitor": tok("visitor", n), "events": [
                        {"kind": "story_view", "story": "reset"},
                        {"kind": "slide_view", "story": "reset", "slide": 1},
                        {"kind": "escalation", "channel": "email", "topic": "orders"}
                    ]})
                    .to_string(),
                ),
            T0 + n as i64,
        );
        assert!(res.status < 300, "{}", res.body);
    }
    h.drain(T0 + 1_000);
    let res = get(&h, None, "kind=events&format=csv");
    assert_eq!(res.status, 200, "{}", res.body);
    let mut csv = csv::Reader::from_reader(res.body.as_bytes());
    let records: Vec<csv::StringRecord> = csv.records().filter_map(Result::ok).collect();
    assert_eq!(records.len(), 9, "{}", res.body);
    assert!(res.body.contains("slide_view") && res.body.contains("escalation"));
}

#[test]
fn bad_queries_are_refused_and_agents_may_not_export() {
    let h = seeded();
    for (query, field) in [
        ("", "kind"),
        ("kind=everything", "kind"),
        ("kind=responses&format=xml", "format"),
        ("kind=responses&cursor=garbage", "cursor"),
        ("kind=questions&poll=csat", "poll"),
        ("kind=responses&include_text=yes", "include_text"),
    ] {
        let res = get(&h, None, query);
        assert_eq!(
            (res.status, field_of(&res)),
            (400, field.to_string()),
            "{query}: {}",
            res.body
        );
    }
    let res = h.admin(
        Method::Post,
        "/v1/admin/operators",
        Some(json!({"name": "Ada", "role": "agent", "sites": ["demo"]})),
        T0,
    );
    let agent = body(&res)["token"].as_str().unwrap_or_default().to_string();
    assert_eq!(get(&h, Some(&agent), "kind=responses").status, 403);
}

fn field_of(res: &ApiResponse) -> String {
    field(res)
}
