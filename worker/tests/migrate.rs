//! A site's data from 0.14 (everything in KV) brought into D1 by
//! `POST /v1/admin/sites/{site}/rebuild`, in bounded steps: afterwards results, the report,
//! the inbox, the knowledge base and exports are exactly what the 0.14 data says, and a
//! second run changes nothing.

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use common::*;
use glimpse_shared::keys::{self, ContentKind};
use glimpse_worker::queue::Message;
use glimpse_worker::route::Method;
use glimpse_worker::sql::{Stmt, rows};
use glimpse_worker::store::{KvStore, MemoryKv, Put};
use serde_json::{Value, json};

const DAY: &str = "2026-11-22";

fn put(h: &H<MemoryKv>, key: &str, value: &Value, metadata: Option<Value>) {
    let opts = Put {
        expires_at_ms: None,
        metadata,
    };
    pollster::block_on(h.kv.put(key, &value.to_string(), opts)).unwrap_or_else(|e| panic!("{e}"));
}

fn query(h: &H<MemoryKv>, sql: &str) -> Vec<Value> {
    pollster::block_on(rows(h.db(), Stmt::new(sql.to_string())))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn visitor(n: usize) -> String {
    tok("visitor", n)
}

/// A 0.14 site as 0.14 stored it, key by key: content, votes (answer in metadata) with
/// receipts, event batches, questions with replies and a resolution, KB entries, the old
/// indexes and registry entry.
fn old_site(h: &H<MemoryKv>) {
    put(h, &keys::site("demo"), &site(), None);
    put(h, "sites/demo", &json!(""), None);
    put(
        h,
        &keys::content("demo", ContentKind::Story, "reset"),
        &story("reset", T0, T0 + 48 * HOUR),
        None,
    );
    put(
        h,
        &keys::content("demo", ContentKind::Session, "qa"),
        &session("qa", T0, T0 + HOUR, T0 + 2 * HOUR),
        None,
    );
    put(
        h,
        &keys::content("demo", ContentKind::Poll, "helpful"),
        &poll(
            "helpful",
            json!({"type":"choice","options":["Yes","No","Partly"]}),
        ),
        None,
    );
    put(
        h,
        &keys::content("demo", ContentKind::Poll, "csat"),
        &poll("csat", json!({"type":"rating"})),
        None,
    );
    // Votes: visitors 1-3 on helpful (Yes, Yes, No), 1-2 on csat (5, 4).
    for (poll, n, answer) in [
        ("helpful", 1, json!({"choice": 0})),
        ("helpful", 2, json!({"choice": 0})),
        ("helpful", 3, json!({"choice": 1})),
        ("csat", 1, json!({"rating": 5})),
        ("csat", 2, json!({"rating": 4})),
    ] {
        let vote = json!({"id": tok(&format!("r{poll}"), n), "answer": answer, "at": T0 + 1000});
        put(
            h,
            &keys::vote("demo", poll, &visitor(n)),
            &json!(""),
            Some(vote.clone()),
        );
        put(
            h,
            &keys::receipt("demo", poll, &tok(&format!("r{poll}"), n)),
            &vote,
            None,
        );
    }
    // Event batches: visitors 1-4 viewed the story, 1 and 2 completed it.
    for n in 1..=4 {
        let mut events = vec![json!({"kind": "story_view", "story": "reset"})];
        if n <= 2 {
            events.push(json!({"kind": "story_complete", "story": "reset"}));
        }
        let batch = json!({"visitor": visitor(n), "received_at": T0 + 2000, "events": events});
        put(
            h,
            &keys::events("demo", DAY, &tok("batch", n)),
            &batch,
            None,
        );
    }
    // Questions: q1 (visitor 1) answered and resolved, q2 (visitor 2) open.
    for (id, n) in [("q1", 1), ("q2", 2)] {
        let q = json!({"id": id, "topic": "orders", "message": format!("help {n}"),
            "visitor": visitor(n), "token": "sha256:00", "created_at": T0 + 3000});
        put(
            h,
            &keys::question("demo", id),
            &q,
            Some(
                json!({"topic": "orders", "created_at": T0 + 3000, "preview": format!("help {n}")}),
            ),
        );
    }
    put(
        h,
        &keys::reply("demo", "q1", T0 + 63_000, "ra"),
        &json!({"text": "Try resetting", "at": T0 + 63_000}),
        None,
    );
    put(
        h,
        &keys::reply("demo", "q1", T0 + 123_000, "rb"),
        &json!({"text": "Did it work?", "at": T0 + 123_000}),
        None,
    );
    put(
        h,
        &keys::resolution("demo", "q1"),
        &json!({"category": "orders", "at": T0 + 603_000}),
        None,
    );
    // The knowledge base: the story's entry and an answer to visitor 1's question.
    put(
        h,
        &keys::kb_entry("demo", "story-reset"),
        &json!({"id": "story-reset", "source": "story",
        "source_id": "reset", "topic": "orders", "title": "How to reset", "body": "Open Settings\nTap Reset",
        "published_at": T0}),
        None,
    );
    put(
        h,
        &keys::kb_entry("demo", "question-q1"),
        &json!({"id": "question-q1", "source": "question",
        "source_id": "q1", "visitor": visitor(1), "topic": "orders", "title": "Resetting an order",
        "body": "Open Settings, tap Reset.", "published_at": T0 + 700_000, "edited": true}),
        None,
    );
    put(h, &keys::kb_index("demo"), &json!([]), None);
    // Roll-ups: one of a day long past retention (its events have expired), one of a day
    // whose events are still there (counted from them, never twice).
    let rollup = |day: &str, views: u32| {
        json!({"day": day, "stories": {"reset": {"views": views, "completions": 1,
            "slide_views": [views, 1], "cta_clicks": 0, "helped": 1, "not_helpful": 0}},
            "escalations": {"email": 1}, "session_joins": {}, "csat_counts": [0, 0, 0, 0, 3],
            "csat_mean": 5.0, "csat_satisfied": 1.0, "questions_asked": 0,
            "first_reply": {"count": 0}, "resolution": {"count": 0}, "visitors": views})
    };
    put(
        h,
        "site/demo/rollup/2026-09-01",
        &rollup("2026-09-01", 9),
        None,
    );
    put(
        h,
        &format!("site/demo/rollup/{DAY}"),
        &rollup(DAY, 99),
        None,
    );
}

/// Runs the rebuild until done; `between` runs after each step (the queue consumer).
fn rebuild(h: &H<MemoryKv>, now: i64, between: &mut dyn FnMut()) -> Vec<Value> {
    let mut steps = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/admin/sites/demo/rebuild?cursor={c}"),
            None => "/v1/admin/sites/demo/rebuild".to_string(),
        };
        let res = h.admin(Method::Post, &path, None, now);
        assert_eq!(res.status, 200, "{}", res.body);
        let step = body(&res);
        steps.push(step.clone());
        between();
        if step["done"] == true {
            return steps;
        }
        cursor = step["cursor"].as_str().map(String::from);
        assert!(cursor.is_some(), "{step}");
        assert!(steps.len() < 50, "the rebuild never ends: last step {step}");
    }
}

/// Every D1 row of the site's tables, to compare runs.
fn tables(h: &H<MemoryKv>) -> Vec<Vec<Value>> {
    [
        "sites",
        "content",
        "votes",
        "tallies",
        "batches",
        "seen",
        "daily",
        "popularity",
        "questions",
        "replies",
        "kb",
    ]
    .iter()
    .map(|t| query(h, &format!("SELECT * FROM {t} ORDER BY 1, 2, 3")))
    .collect()
}

#[test]
fn rebuild_steps_write_rows_and_send_messages_and_a_second_run_changes_nothing() {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    old_site(&h);
    // Pages of 20 keys: the questions and their replies share the first page.
    h.kv.set_page_size(20);
    // The queue consumer runs after each step; what each step sent is kept.
    let mut sent: Vec<Message> = Vec::new();
    let mut consume = || {
        let waiting = h.queue.peek();
        assert!(
            waiting.iter().all(
                |m| !matches!(m, Message::Question { question, .. } if !question.token.is_empty())
            ),
            "a token left storage"
        );
        sent.extend(waiting);
        h.drain(T0 + HOUR);
    };
    let steps = rebuild(&h, T0 + HOUR, &mut consume);
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert!(
        steps.iter().any(|s| s["waiting"] == true),
        "replies waited for their question"
    );
    let kinds = |sent: &[Message]| {
        let mut v: Vec<String> = sent
            .iter()
            .map(|m| match m {
                Message::Vote { poll, visitor, .. } => format!("vote {poll} {visitor}"),
                Message::Events { id, .. } => format!("events {id}"),
                Message::Question { question, .. } => format!("question {}", question.id),
                other => format!("{other:?}"),
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let first = kinds(&sent);
    assert_eq!(first.len(), 5 + 4 + 2, "{first:?}");
    assert_eq!(
        query(
            &h,
            "SELECT kind, id, over_at, purge_at FROM content ORDER BY kind, id"
        ),
        [
            json!({"kind": "poll", "id": "csat", "over_at": T0 + 24 * HOUR, "purge_at": T0 + 24 * HOUR + 30 * 24 * HOUR}),
            json!({"kind": "poll", "id": "helpful", "over_at": T0 + 24 * HOUR, "purge_at": T0 + 24 * HOUR + 30 * 24 * HOUR}),
            json!({"kind": "session", "id": "qa", "over_at": T0 + 2 * HOUR, "purge_at": T0 + 2 * HOUR + 30 * 24 * HOUR}),
            json!({"kind": "story", "id": "reset", "over_at": T0 + 48 * HOUR, "purge_at": T0 + 48 * HOUR + 30 * 24 * HOUR}),
        ]
    );
    assert_eq!(
        query(
            &h,
            "SELECT id, first_reply_at, resolved_at, category FROM questions ORDER BY id"
        ),
        [
            json!({"id": "q1", "first_reply_at": T0 + 63_000, "resolved_at": T0 + 603_000, "category": "orders"}),
            json!({"id": "q2", "first_reply_at": null, "resolved_at": null, "category": null}),
        ]
    );
    assert_eq!(
        query(&h, "SELECT question, at, id FROM replies ORDER BY at"),
        [
            json!({"question": "q1", "at": T0 + 63_000, "id": "ra"}),
            json!({"question": "q1", "at": T0 + 123_000, "id": "rb"}),
        ]
    );
    assert_eq!(
        query(&h, "SELECT id, visitor FROM kb ORDER BY id"),
        [
            json!({"id": "question-q1", "visitor": visitor(1)}),
            json!({"id": "story-reset", "visitor": null}),
        ]
    );
    assert_eq!(
        query(&h, "SELECT site, name FROM sites"),
        [json!({"site": "demo", "name": "Demo Coffee"})]
    );
    // The operator's views and the feed read D1 now.
    let stories = body(&h.admin(Method::Get, "/v1/admin/sites/demo/stories", None, T0 + HOUR));
    assert_eq!(ids(&stories["stories"]), ["reset"]);
    assert_eq!(ids(&h.feed(T0 + HOUR)["polls"]), ["csat", "helpful"]);

    // A second run sends the same messages again (the consumer ignores repeats) and
    // changes no row.
    let before = tables(&h);
    sent.clear();
    let mut consume = || {
        sent.extend(h.queue.peek());
        h.drain(T0 + 2 * HOUR);
    };
    let again = rebuild(&h, T0 + 2 * HOUR, &mut consume);
    assert!(again.iter().all(|s| s["waiting"] == false), "{again:?}");
    assert_eq!(tables(&h), before);
    assert_eq!(kinds(&sent), first);
    // A bad cursor is refused; an unknown site is 404.
    let res = h.admin(
        Method::Post,
        "/v1/admin/sites/demo/rebuild?cursor=x",
        None,
        T0,
    );
    assert_eq!((res.status, field(&res)), (400, "cursor".to_string()));
    let res = h.admin(Method::Post, "/v1/admin/sites/ghost/rebuild", None, T0);
    assert_eq!(res.status, 404);
}

/// The whole path with the real consumer: needs the ingestion of votes, events and
/// questions (issue 15's ingest and inbox work).
#[test]
fn a_014_site_reads_exactly_the_same_after_the_rebuild() {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    old_site(&h);
    h.kv.set_page_size(6);
    let now = T0 + HOUR;
    rebuild(&h, now, &mut || h.drain(now));
    h.drain(now);

    let helpful = h.results("helpful", now);
    assert_eq!(
        (helpful["total"].clone(), helpful["counts"].clone()),
        (json!(3), json!([2, 1, 0]))
    );
    let csat = h.results("csat", now);
    assert_eq!(
        (csat["total"].clone(), csat["counts"].clone()),
        (json!(2), json!([0, 0, 0, 1, 1]))
    );

    let inbox = body(&h.admin(Method::Get, "/v1/admin/sites/demo/questions", None, now));
    assert_eq!(ids(&inbox["questions"]), ["q2"], "{inbox}");

    let kb = body(&h.admin(Method::Get, "/v1/admin/sites/demo/kb", None, now));
    let mut kb_ids: Vec<String> = kb["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            e["entry"]["id"]
                .as_str()
                .or(e["id"].as_str())
                .map(String::from)
        })
        .collect();
    kb_ids.sort();
    assert_eq!(kb_ids, ["question-q1", "story-reset"], "{kb}");

    let export = body(&h.admin(
        Method::Get,
        &format!("/v1/admin/sites/demo/visitors/{}", visitor(1)),
        None,
        now,
    ));
    let len = |k: &str| export[k].as_array().map_or(0, Vec::len);
    assert_eq!(
        (
            len("votes"),
            len("event_batches"),
            len("questions"),
            len("knowledge_base")
        ),
        (2, 1, 1, 1),
        "{export}"
    );

    let report = body(&h.admin(
        Method::Get,
        &format!("/v1/admin/sites/demo/report?from={DAY}&to={DAY}"),
        None,
        now,
    ));
    assert_eq!(report["totals"]["story_views"], 4, "{report}");
    assert_eq!(report["totals"]["completions"], 2, "{report}");
    assert_eq!(report["totals"]["visitors"], 4, "{report}");
    assert_eq!(report["totals"]["questions_asked"], 2, "{report}");
    assert_eq!(
        report["totals"]["csat_counts"],
        json!([0, 0, 0, 1, 1]),
        "{report}"
    );

    // The old day's report comes from its roll-up (without its votes).
    let old_day = body(&h.admin(
        Method::Get,
        "/v1/admin/sites/demo/report?from=2026-09-01&to=2026-09-01",
        None,
        now,
    ));
    assert_eq!(old_day["totals"]["story_views"], 9, "{old_day}");
    assert_eq!(old_day["totals"]["visitors"], 9, "{old_day}");
    assert_eq!(old_day["totals"]["escalations"], 1, "{old_day}");
    assert_eq!(
        old_day["totals"]["csat_counts"],
        json!([0, 0, 0, 0, 0]),
        "{old_day}"
    );

    // A second run changes nothing.
    let before = tables(&h);
    rebuild(&h, now + HOUR, &mut || h.drain(now + HOUR));
    assert_eq!(tables(&h), before);
    assert_eq!(h.results("helpful", now)["total"], 3);
}

#[test]
fn a_large_site_is_rebuilt_within_each_steps_budget() {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    put(&h, &keys::site("demo"), &site(), None);
    for n in 0..600 {
        let id = format!("q{n:04}");
        let q = json!({"id": id, "topic": "orders", "message": "help", "visitor": visitor(n),
            "created_at": T0});
        put(&h, &keys::question("demo", &id), &q, None);
        let at = T0 + 60_000 + i64::from(u16::try_from(n).unwrap_or(0));
        put(
            &h,
            &keys::reply("demo", &id, at, "r"),
            &json!({"text": "hi", "at": at}),
            None,
        );
    }
    let mut consume = || h.drain(T0 + HOUR);
    // Every step is checked against Cloudflare's per-invocation limits by the harness.
    let steps = rebuild(&h, T0 + HOUR, &mut consume);
    assert!(steps.len() >= 2, "{steps:?}");
    assert_eq!(
        query(
            &h,
            "SELECT COUNT(*) AS n, COUNT(first_reply_at) AS replied FROM questions"
        ),
        [json!({"n": 600, "replied": 600})]
    );
    assert_eq!(
        query(&h, "SELECT COUNT(*) AS n FROM replies"),
        [json!({"n": 600})]
    );
}
