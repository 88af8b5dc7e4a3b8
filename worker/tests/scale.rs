//! One site at real traffic, natively on real SQLite: 50,000 event batches, 20,000 votes,
//! 5,000 questions (1,000 answered, 500 resolved) and 2,000 knowledge-base answers. Every
//! request and every consumer invocation runs under the per-invocation budget (`H` fails the
//! test above Cloudflare's limits); then every operators' read, the cron, an export and an
//! erasure give exact numbers.
#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use common::*;
use glimpse_shared::events::{Event, EventKind, StoredBatch};
use glimpse_shared::{Answer, Vote};
use glimpse_worker::http::ApiRequest;
use glimpse_worker::queue::Message;
use glimpse_worker::route::Method;
use glimpse_worker::store::MemoryKv;
use serde_json::{Value, json};

const DAY: &str = "2026-11-22";
const MINUTE: i64 = 60_000;
const BATCHES: usize = 50_000;
const VISITORS: usize = 5_000;
const VOTES: usize = 20_000;
const VOTERS: usize = 8_000;
const QUESTIONS: usize = 5_000;
const ANSWERED: usize = 1_000;
const RESOLVED: usize = 500;
const KB_ANSWERS: usize = 2_000;

fn visitor(n: usize) -> String {
    tok("visitor", n)
}

/// Every page of a paged admin list (`{key: [...], next}`), each request within budget.
fn walk(h: &H<MemoryKv>, path: &str, key: &str, now: i64) -> Vec<Value> {
    let mut all = Vec::new();
    let mut before: Option<String> = None;
    for _ in 0..1_000 {
        let url = match &before {
            Some(b) => format!("{path}?before={}", b.replace(':', "%3A")),
            None => path.to_string(),
        };
        let res = h.admin(Method::Get, &url, None, now);
        assert_eq!(res.status, 200, "{url}: {}", res.body);
        let page = body(&res);
        let items = page[key].as_array().cloned().unwrap_or_default();
        assert!(items.len() <= 500, "a page is bounded");
        all.extend(items);
        match page["next"].as_str() {
            Some(n) => before = Some(n.to_string()),
            None => return all,
        }
    }
    panic!("{path} never ended");
}

#[test]
fn one_site_at_real_traffic_stays_exact_and_within_every_invocation_budget() {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    h.seed();

    // Visitors' batches and votes, as the public API sends them, delivered by the queue in
    // batches of 100.
    let mut messages = Vec::with_capacity(BATCHES + VOTES);
    for i in 0..BATCHES {
        if i % VISITORS == 7 {
            // The visitor exported and erased below sends through the public API (their
            // batch records are in KV, as every real visitor's are).
            let res = h.call(
                ApiRequest::new(Method::Post, "/v1/sites/demo/events")
                    .header("origin", ORIGIN)
                    .json(
                        json!({"id": tok("batch", i), "visitor": visitor(7), "events": [
                            {"kind": "story_view", "story": "reset"},
                            {"kind": "slide_view", "story": "reset", "slide": 0}]})
                        .to_string(),
                    ),
                T0 + i as i64 * 1_000,
            );
            assert_eq!(res.status, 202, "{}", res.body);
            assert!(h.counts.total() <= 3, "an event batch: {:?}", h.counts);
            continue;
        }
        let events = [
            EventKind::StoryView {
                story: "reset".into(),
            },
            EventKind::SlideView {
                story: "reset".into(),
                slide: 0,
            },
        ];
        messages.push(Message::Events {
            site: "demo".into(),
            id: tok("batch", i),
            batch: StoredBatch {
                visitor: visitor(i % VISITORS),
                received_at: T0 + i as i64 * 1_000,
                events: events
                    .into_iter()
                    .map(|kind| Event { kind, at: None })
                    .collect(),
            },
        });
    }
    for j in 0..VOTES {
        // Visitor w answers 2-3 times; the last answer is always 1 + w % 5 stars.
        messages.push(Message::Vote {
            site: "demo".into(),
            poll: "csat".into(),
            visitor: visitor(j % VOTERS),
            vote: Vote {
                id: tok("response", j),
                answer: Answer::Rating(1 + (j % 5) as u8),
                at: T0 + j as i64 * 2_000,
            },
        });
    }
    for chunk in messages.chunks(100) {
        h.consume(chunk, T0 + 20 * HOUR)
            .unwrap_or_else(|e| panic!("consumer: {e}"));
    }

    // Questions through the API; the first ANSWERED get a reply (1-10 minutes later), the
    // first RESOLVED are resolved an hour after they were asked; KB_ANSWERS are published.
    let mut ids = Vec::with_capacity(QUESTIONS);
    for k in 0..QUESTIONS {
        let res = h.call(
            ApiRequest::new(Method::Post, "/v1/sites/demo/questions")
                .header("origin", ORIGIN)
                .json(
                    json!({"visitor": visitor(k % 1_000), "topic": "orders",
                           "message": format!("Question number {k}: where is my parcel?")})
                    .to_string(),
                ),
            T0 + k as i64 * 1_000,
        );
        assert_eq!(res.status, 201, "{}", res.body);
        ids.push(body(&res)["id"].as_str().unwrap_or_default().to_string());
    }
    h.drain(T0 + 2 * HOUR);
    for (k, id) in ids.iter().enumerate().take(ANSWERED) {
        let asked = T0 + k as i64 * 1_000;
        let res = h.admin(
            Method::Post,
            &format!("/v1/admin/sites/demo/questions/{id}/replies"),
            Some(json!({"text": "We are on it."})),
            asked + (k as i64 % 10 + 1) * MINUTE,
        );
        assert_eq!(res.status, 201, "{}", res.body);
        if k < RESOLVED {
            let res = h.admin(
                Method::Post,
                &format!("/v1/admin/sites/demo/questions/{id}/resolve"),
                Some(json!({"category": "orders"})),
                asked + HOUR,
            );
            assert_eq!(res.status, 200, "{}", res.body);
        }
    }
    for (k, id) in ids.iter().enumerate().take(KB_ANSWERS) {
        let res = h.admin(
            Method::Put,
            &format!("/v1/admin/sites/demo/kb/questions/{id}"),
            Some(
                json!({"topic": "orders", "title": format!("Parcel answer zq{k}x"),
                        "body": "Parcels arrive within five days; we chase the courier."}),
            ),
            T0 + 3 * HOUR,
        );
        assert_eq!(res.status, 201, "{}", res.body);
    }
    let now = T0 + 20 * HOUR;

    // Results: exact, one tally read.
    let results = h.results("csat", now);
    assert_eq!(results["total"], VOTERS as u64);
    assert_eq!(
        results["counts"],
        json!([1_600, 1_600, 1_600, 1_600, 1_600])
    );
    // What visitors read: one snapshot read and one tally query.
    let public = h.call(
        ApiRequest::new(Method::Get, "/v1/sites/demo/polls/csat/results"),
        now,
    );
    assert_eq!(public.status, 200, "{}", public.body);
    assert!(h.counts.total() <= 2, "public results: {:?}", h.counts);
    assert_eq!(body(&public)["total"], VOTERS as u64);

    // The report: exact counts and timings from a bounded number of queries.
    let res = h.admin(
        Method::Get,
        &format!("/v1/admin/sites/demo/report?from={DAY}&to={DAY}"),
        None,
        now,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(h.counts.d1_calls.get() <= 5, "report: {:?}", h.counts);
    let report = body(&res);
    let totals = &report["totals"];
    assert_eq!(
        totals["story_views"], VISITORS as u64,
        "each visitor once a day"
    );
    assert_eq!(totals["visitors"], VISITORS as u64);
    assert_eq!(
        totals["csat_counts"],
        json!([1_600, 1_600, 1_600, 1_600, 1_600])
    );
    assert_eq!(totals["questions_asked"], QUESTIONS as u64);
    assert_eq!(totals["first_reply"]["count"], ANSWERED as u64);
    assert_eq!(totals["first_reply"]["median_ms"], 5 * MINUTE);
    assert_eq!(totals["first_reply"]["p90_ms"], 9 * MINUTE);
    assert_eq!(totals["resolution"]["count"], RESOLVED as u64);
    assert_eq!(totals["resolution"]["median_ms"], HOUR);

    // The inbox: every open question exactly once, a page at a time.
    let open = walk(&h, "/v1/admin/sites/demo/questions", "questions", now);
    assert_eq!(open.len(), QUESTIONS - RESOLVED);
    let mut seen: Vec<&str> = open.iter().filter_map(|q| q["id"].as_str()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), QUESTIONS - RESOLVED, "no question listed twice");

    // The knowledge base: the operators' list, search and the public page.
    let entries = walk(&h, "/v1/admin/sites/demo/kb", "entries", now);
    assert_eq!(
        entries.len(),
        KB_ANSWERS + 1,
        "the answers and the story's entry"
    );
    let res = h.call(
        ApiRequest::new(Method::Get, "/v1/sites/demo/kb?q=zq1234x"),
        now,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(h.counts.total() <= 2, "search: {:?}", h.counts);
    let found = body(&res);
    let titles: Vec<&str> = found["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["entry"]["title"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(titles, ["Parcel answer zq1234x"], "{found}");
    let res = h.call(
        ApiRequest::new(Method::Get, "/kb/demo?q=parcel+courier"),
        now,
    );
    assert_eq!(res.status, 200);
    assert!(
        res.body.contains("Parcel answer zq"),
        "the page lists answers"
    );

    // The cron: one fan-out message; every site's tick runs within the budget.
    h.queue.push([Message::Fanout {
        after: None,
        now_ms: now,
    }]);
    h.drain(now);

    // Export and erase one visitor who did everything: 10 batches, a vote, 5 questions
    // (two of them answered in the knowledge base).
    let who = visitor(7);
    let path = format!("/v1/admin/sites/demo/visitors/{who}");
    let mut exported = (0, 0, 0, 0);
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?cursor={c}"),
            None => path.clone(),
        };
        let page = body(&h.admin(Method::Get, &url, None, now));
        let n = |k: &str| page[k].as_array().map_or(0, Vec::len);
        exported.0 += n("votes");
        exported.1 += n("event_batches");
        exported.2 += n("questions");
        exported.3 += n("knowledge_base");
        match page["next"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(exported, (1, BATCHES / VISITORS, QUESTIONS / 1_000, 2));
    let mut steps = 0;
    loop {
        steps += 1;
        let res = h.admin(Method::Delete, &path, None, now);
        match res.status {
            202 => assert!(steps < 20, "the erasure ends"),
            200 => break,
            s => panic!("erase: {s} {}", res.body),
        }
    }
    let after = body(&h.admin(Method::Get, &path, None, now));
    for k in [
        "votes",
        "event_batches",
        "questions",
        "knowledge_base",
        "seen",
    ] {
        assert_eq!(after[k], json!([]), "{k} left: {after}");
    }
    let results = h.results("csat", now);
    assert_eq!(results["total"], VOTERS as u64 - 1);
    assert_eq!(
        results["counts"],
        json!([1_600, 1_600, 1_599, 1_600, 1_600]),
        "visitor 7's 3 stars are gone"
    );
}
