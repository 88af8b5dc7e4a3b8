//! Ingestion through the queue: votes and event batches go in through the API (or straight
//! to the consumer), the queue is delivered — twice, reversed, after a consumer that failed
//! half-way — and the results, per-day statistics and report are exactly what the pure
//! `shared::rollup::rollup` counts from the same facts. Every request and consumer
//! invocation stays within Cloudflare's per-invocation limits (the harness checks).

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use std::collections::BTreeMap;

use common::*;
use glimpse_shared::events::{Event, EventBatch, EventKind, StoredBatch};
use glimpse_shared::rollup::rollup;
use glimpse_shared::site::ChannelKind;
use glimpse_shared::{Answer, Vote};
use glimpse_worker::http::ApiRequest;
use glimpse_worker::queue::Message;
use glimpse_worker::route::Method;
use glimpse_worker::sql::Stmt;
use glimpse_worker::store::MemoryKv;
use serde_json::{Value, json};

const DAY: &str = "2026-11-22";

fn seeded() -> H<MemoryKv> {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    h.seed();
    h
}

/// A small deterministic generator (xorshift), so the traffic is varied but repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn events(rng: &mut Rng) -> Vec<Event> {
    let story = |rng: &mut Rng| ["reset", "wifi"][rng.next(2) as usize].to_string();
    (0..1 + rng.next(6))
        .map(|_| {
            let kind = match rng.next(9) {
                0 => EventKind::StoryView { story: story(rng) },
                1 => EventKind::SlideView {
                    story: story(rng),
                    slide: rng.next(4) as u16,
                },
                2 => EventKind::StoryComplete { story: story(rng) },
                3 => EventKind::CtaClick {
                    story: story(rng),
                    slide: rng.next(2) as u16,
                },
                4 => EventKind::Helpful { story: story(rng) },
                5 => EventKind::NotHelpful { story: story(rng) },
                6 => EventKind::BannerJoin {
                    session: "qa".into(),
                },
                7 => EventKind::Escalation {
                    channel: ChannelKind::Email,
                    topic: Some("orders".into()),
                },
                _ => EventKind::Escalation {
                    channel: ChannelKind::Phone,
                    topic: None,
                },
            };
            Event { kind, at: None }
        })
        .collect()
}

fn send_events(h: &H<MemoryKv>, batch: &EventBatch, now: i64) -> u16 {
    h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/events")
            .header("origin", ORIGIN)
            .json(serde_json::to_string(batch).unwrap_or_default()),
        now,
    )
    .status
}

fn stats(h: &H<MemoryKv>, day: &str) -> Value {
    let res = h.admin(
        Method::Post,
        &format!("/v1/admin/sites/demo/rollups/{day}"),
        None,
        T0 + 20 * HOUR,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    body(&res)
}

fn report(h: &H<MemoryKv>) -> Value {
    let res = h.admin(
        Method::Get,
        &format!("/v1/admin/sites/demo/report?from={DAY}&to={DAY}"),
        None,
        T0 + 20 * HOUR,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    body(&res)
}

/// What the pure roll-up counts from `batches` and each visitor's final vote per poll.
fn expected(batches: &[StoredBatch], votes: &BTreeMap<(String, String), Vote>) -> Value {
    let votes: Vec<(String, Vote)> = votes
        .iter()
        .map(|((poll, _), v)| (poll.clone(), v.clone()))
        .collect();
    serde_json::to_value(rollup(DAY, batches, &votes, &[])).unwrap_or_default()
}

/// `got` equals `want`, the CSAT ratios within float rounding (JSON text does not round-trip
/// every last bit of an f64).
fn assert_same_day(mut got: Value, mut want: Value) {
    for field in ["csat_mean", "csat_satisfied"] {
        let (g, w) = (got[field].take(), want[field].take());
        match (g.as_f64(), w.as_f64()) {
            (Some(g), Some(w)) => assert!((g - w).abs() < 1e-12, "{field}: {g} vs {w}"),
            _ => assert_eq!(g, w, "{field}"),
        }
    }
    assert_eq!(got, want);
}

#[test]
fn redelivered_reversed_and_half_failed_deliveries_count_exactly_once() {
    let h = seeded();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut batches = Vec::new();
    for i in 0..120 {
        let now = T0 + i as i64 * 1_000;
        let batch = EventBatch {
            id: tok("batch", i),
            visitor: tok("v", rng.next(15) as usize),
            events: events(&mut rng),
        };
        assert_eq!(send_events(&h, &batch, now), 202);
        batches.push(StoredBatch {
            visitor: batch.visitor,
            received_at: now,
            events: batch.events,
        });
    }
    let mut votes = BTreeMap::new();
    for i in 0..60 {
        let visitor = tok("v", i % 20);
        let now = T0 + 200_000 + i as i64 * 1_000;
        let (poll, answer) = if i % 2 == 0 {
            ("csat", Answer::Rating(1 + (i % 5) as u8))
        } else {
            ("helpful", Answer::Choice((i % 3) as u8))
        };
        let res = h.vote(
            poll,
            &tok("r", i),
            &visitor,
            serde_json::to_value(&answer).unwrap_or_default(),
            now,
        );
        assert!(res.status == 202, "{}", res.body);
        votes.insert(
            (poll.to_string(), visitor),
            Vote {
                id: tok("r", i),
                answer,
                at: now,
            },
        );
    }
    // One vote message and one batch message per request.
    let sent = h.queue.peek();
    assert_eq!(sent.len(), 180);

    // Everything again, reversed; the consumer fails half-way through its first batch.
    let mut again = sent.clone();
    again.reverse();
    h.queue.push(again);
    let first = h.queue.take(100);
    h.sql.fail_statement(5);
    assert!(
        h.consume(&first, T0 + HOUR).is_err(),
        "the injected failure"
    );
    assert_eq!(
        stats(&h, DAY)["visitors"],
        0,
        "a failed delivery leaves nothing"
    );
    h.queue.push(first);
    h.drain(T0 + HOUR);
    // And once more, after everything was applied.
    h.queue.push(sent);
    h.drain(T0 + 2 * HOUR);

    let want = expected(&batches, &votes);
    assert_same_day(stats(&h, DAY), want.clone());
    let r = report(&h);
    assert_eq!(r["totals"]["visitors"], want["visitors"]);
    let views: u64 = ["reset", "wifi"]
        .iter()
        .map(|s| want["stories"][s]["views"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(r["totals"]["story_views"], views);
    assert_eq!(r["totals"]["csat_counts"], want["csat_counts"]);
    assert_eq!(
        r["stories"][0]["title"],
        format!("How to {}", r["stories"][0]["id"].as_str().unwrap_or(""))
    );
    // Operators' and visitors' results agree with each visitor's final answer.
    let mut helpful = [0u64; 3];
    let mut csat = [0u64; 5];
    for ((poll, _), v) in &votes {
        match (poll.as_str(), &v.answer) {
            ("helpful", Answer::Choice(i)) => helpful[usize::from(*i)] += 1,
            ("csat", Answer::Rating(s)) => csat[usize::from(*s) - 1] += 1,
            _ => {}
        }
    }
    assert_eq!(h.results("helpful", T0)["counts"], json!(helpful));
    assert_eq!(h.results("csat", T0)["counts"], json!(csat));
    let public = h.call(
        ApiRequest::new(Method::Get, "/v1/sites/demo/polls/csat/results").header("origin", ORIGIN),
        T0 + 3 * HOUR,
    );
    assert_eq!(body(&public)["counts"], json!(csat));
    // Popularity counts each visitor's view once a day.
    #[derive(serde::Deserialize)]
    struct Pop {
        story: String,
        views: i64,
        helped: i64,
    }
    let pops: Vec<Pop> = pollster::block_on(glimpse_worker::sql::rows(
        h.db(),
        Stmt::new("SELECT story, views, helped FROM popularity WHERE site = 'demo' ORDER BY story"),
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    for p in pops {
        assert_eq!(
            p.views,
            want["stories"][&p.story]["views"].as_i64().unwrap_or(-1)
        );
        assert_eq!(
            p.helped,
            want["stories"][&p.story]["helped"].as_i64().unwrap_or(-1)
        );
    }
}

#[test]
fn a_changed_answer_moves_and_a_late_replay_changes_nothing() {
    let h = seeded();
    let mut two_days = poll("csat", json!({"type":"rating"}));
    two_days["expires_at"] = json!(T0 + 48 * HOUR);
    assert_eq!(
        h.put("/v1/admin/sites/demo/polls/csat", two_days, T0)
            .status,
        200
    );
    let (v, r1, r2) = (tok("v", 1), tok("r", 1), tok("r", 2));
    assert_eq!(
        h.vote("csat", &r1, &v, json!({"rating": 2}), T0 + 1_000)
            .status,
        202
    );
    let replay = h.queue.peek();
    h.drain(T0 + 2_000);
    assert_eq!(h.results("csat", T0)["counts"], json!([0, 1, 0, 0, 0]));
    // The next day the visitor changes their mind.
    let next_day = T0 + 25 * HOUR;
    let res = h.vote("csat", &r2, &v, json!({"rating": 5}), next_day);
    assert_eq!(res.status, 202);
    h.drain(next_day);
    assert_eq!(h.results("csat", T0)["counts"], json!([0, 0, 0, 0, 1]));
    // The first answer's day no longer counts it; the new day does.
    assert_eq!(stats(&h, DAY)["csat_counts"], json!([0, 0, 0, 0, 0]));
    assert_eq!(stats(&h, DAY)["polls"], json!({}));
    assert_eq!(
        stats(&h, "2026-11-23")["csat_counts"],
        json!([0, 0, 0, 0, 1])
    );
    assert_eq!(stats(&h, "2026-11-23")["polls"], json!({"csat": {"5": 1}}));
    // A late redelivery of the replaced answer, and the current one again: nothing moves.
    h.queue.push(replay);
    h.queue.push(h.queue.peek());
    h.drain(next_day + 1);
    let replay2 = h.vote("csat", &r1, &v, json!({"rating": 2}), next_day + 2);
    assert_eq!(replay2.status, 202);
    h.drain(next_day + 3);
    assert_eq!(h.results("csat", T0)["counts"], json!([0, 0, 0, 0, 1]));
    assert_eq!(stats(&h, DAY)["csat_counts"], json!([0, 0, 0, 0, 0]));
    // Text answers: operators see them newest first.
    for (i, text) in ["first idea", "second idea"].iter().enumerate() {
        h.vote(
            "ideas",
            &tok("t", i),
            &tok("w", i),
            json!({"text": text}),
            T0 + i as i64,
        );
    }
    h.drain(T0);
    let r = h.results("ideas", T0);
    assert_eq!(r["total"], 2);
    assert_eq!(r["texts"][0]["text"], "second idea");
}

#[test]
fn a_queue_outage_is_a_503_and_the_retry_counts_once() {
    let h = seeded();
    h.queue.failing.set(true);
    let (v, r1) = (tok("v", 1), tok("r", 1));
    let res = h.vote("helpful", &r1, &v, json!({"choice": 1}), T0);
    assert_eq!((res.status, code(&res)), (503, "unavailable".to_string()));
    let batch = EventBatch {
        id: tok("batch", 1),
        visitor: v.clone(),
        events: vec![Event {
            kind: EventKind::StoryView {
                story: "reset".into(),
            },
            at: None,
        }],
    };
    assert_eq!(send_events(&h, &batch, T0), 503);
    assert!(h.queue.is_empty());
    // The send comes first: a refused write leaves no record D1 would not index.
    assert!(
        h.kv.keys()
            .iter()
            .all(|k| !k.contains("/response/") && !k.contains("/events/")),
        "{:?}",
        h.kv.keys()
    );
    // Healthy again: the client's retries are sent and count once.
    h.queue.failing.set(false);
    let res = h.vote("helpful", &r1, &v, json!({"choice": 1}), T0 + 1);
    assert_eq!(res.status, 202, "{}", res.body);
    assert_eq!(send_events(&h, &batch, T0 + 1), 202);
    assert_eq!(send_events(&h, &batch, T0 + 2), 202);
    h.drain(T0 + 3);
    assert_eq!(h.results("helpful", T0)["counts"], json!([0, 1, 0]));
    assert_eq!(stats(&h, DAY)["stories"]["reset"]["views"], 1);
    assert_eq!(stats(&h, DAY)["visitors"], 1);
    // Another retry after it was applied is sent too, and changes nothing.
    let res = h.vote("helpful", &r1, &v, json!({"choice": 1}), T0 + 4);
    assert_eq!(res.status, 202);
    assert_eq!(h.queue.len(), 1);
    h.drain(T0 + 5);
    assert_eq!(h.results("helpful", T0)["counts"], json!([0, 1, 0]));
    assert_eq!(h.results("helpful", T0)["total"], 1);
}

/// 50,000 event batches and 20,000 votes on one site, delivered to the consumer in batches
/// of 100 as Cloudflare would (every invocation within the budget), then the day's
/// statistics, the report and the results are exact and cost a bounded number of queries.
#[test]
fn fifty_thousand_batches_and_twenty_thousand_votes_stay_exact_and_bounded() {
    let h = seeded();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut batches = Vec::with_capacity(50_000);
    let mut messages = Vec::with_capacity(70_000);
    for i in 0..50_000 {
        let b = StoredBatch {
            visitor: tok("v", rng.next(5_000) as usize),
            received_at: T0 + i as i64 * 1_000,
            events: events(&mut rng),
        };
        messages.push(Message::Events {
            site: "demo".into(),
            id: tok("batch", i),
            batch: b.clone(),
        });
        batches.push(b);
    }
    let mut votes = BTreeMap::new();
    for i in 0..20_000 {
        let visitor = tok("v", rng.next(8_000) as usize);
        let vote = Vote {
            id: tok("r", i),
            answer: Answer::Rating(1 + rng.next(5) as u8),
            at: T0 + i as i64 * 2_000,
        };
        messages.push(Message::Vote {
            site: "demo".into(),
            poll: "csat".into(),
            visitor: visitor.clone(),
            vote: vote.clone(),
        });
        // Later votes of a visitor replace earlier ones.
        votes.insert(("csat".to_string(), visitor), vote);
    }
    for chunk in messages.chunks(100) {
        h.consume(chunk, T0 + 20 * HOUR)
            .unwrap_or_else(|e| panic!("consumer: {e}"));
    }
    let want = expected(&batches, &votes);
    let got = stats(&h, DAY);
    assert!(
        h.counts.d1_statements.get() <= 3,
        "per-day statistics: {}",
        h.counts.d1_statements.get()
    );
    assert_same_day(got, want.clone());
    let r = report(&h);
    assert!(h.counts.d1_statements.get() <= 3, "report");
    assert_eq!(r["totals"]["visitors"], want["visitors"]);
    assert_eq!(r["totals"]["csat_counts"], want["csat_counts"]);
    let results = h.results("csat", T0);
    assert_eq!(results["total"], votes.len() as u64);
    assert_eq!(
        results["counts"],
        json!(want["csat_counts"]),
        "each visitor's final answer was given on {DAY}"
    );
}
