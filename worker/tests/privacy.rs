//! Export and erase everything stored for one visitor; nothing of anyone else is touched.
//! The visitor's data is found through D1's per-visitor indexes, a bounded page per request.

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use common::*;
use glimpse_shared::keys;
use glimpse_worker::http::ApiRequest;
use glimpse_worker::route::Method;
use glimpse_worker::sql::{Stmt, rows};
use glimpse_worker::store::{KvStore, MemoryKv, Put};
use serde_json::{Value, json};

fn exec(h: &H<MemoryKv>, sql: &str) {
    pollster::block_on(h.db().query(&Stmt::new(sql.to_string())))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn query(h: &H<MemoryKv>, sql: &str) -> Vec<Value> {
    pollster::block_on(rows(h.db(), Stmt::new(sql.to_string())))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn kv_put(h: &H<MemoryKv>, key: &str, value: &str) {
    pollster::block_on(h.kv.put(key, value, Put::default())).unwrap_or_else(|e| panic!("{e}"));
}

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
            202
        );
        assert_eq!(
            h.vote("csat", &tok("rate", r), v, json!({"rating": 4}), T0)
                .status,
            202
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
        h.drain(T0);
        h.admin(
            Method::Post,
            &format!("/v1/admin/sites/demo/questions/{id}/replies"),
            Some(json!({"text": "hi"})),
            T0,
        );
    }
    h.drain(T0);
    let path = format!("/v1/admin/sites/demo/visitors/{me}");
    let export = body(&h.admin(Method::Get, &path, None, T0));
    assert_eq!(export["visitor"], json!(me));
    assert_eq!(export["votes"].as_array().map(Vec::len), Some(2));
    assert_eq!(export["responses"].as_array().map(Vec::len), Some(2));
    assert_eq!(export["responses"][0][0], "csat");
    assert_eq!(export["responses"][0][1]["answer"], json!({"rating": 4}));
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
        json!({"votes": 2, "responses": 2, "event_batches": 1, "questions": 1, "knowledge_base": 0, "seen": body(&res)["erased"]["seen"]})
    );
    assert!(body(&res)["erased"]["seen"].as_u64().unwrap_or(0) > 0);
    // The question, the 2 responses' records and 1 batch are gone from KV.
    assert_eq!(h.kv.keys().len(), before - 4);
    let export = body(&h.admin(Method::Get, &path, None, T0));
    assert_eq!(
        (
            export["votes"].clone(),
            export["responses"].clone(),
            export["questions"].clone()
        ),
        (json!([]), json!([]), json!([]))
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

/// Seeds D1 and KV directly in the schema's shape (what the consumer writes), so erasure and
/// export are checked against exact rows: `me` and `other` both answered 400 polls, sent 10
/// event batches, asked 2 questions (with replies), were seen 1500 times; `me` has a KB entry.
fn seed_rows(h: &H<MemoryKv>, me: &str, other: &str) {
    for v in [me, other] {
        exec(
            h,
            &format!(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 399) \
             INSERT INTO votes (site, poll, visitor, response, answer, value, at) \
             SELECT 'demo', printf('p%03d', i), '{v}', printf('{v}-r%03d', i), '0', '{{\"choice\":0}}', {T0} FROM n"
            ),
        );
        exec(
            h,
            &format!(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9) \
             INSERT INTO batches (site, id, visitor, day, received_at) \
             SELECT 'demo', printf('{v}-b%02d', i), '{v}', '2026-11-22', {T0} FROM n"
            ),
        );
        exec(
            h,
            &format!(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1499) \
             INSERT INTO seen (site, day, metric, key, visitor) \
             SELECT 'demo', '2026-11-22', 'story_view', printf('s%04d', i), '{v}' FROM n"
            ),
        );
        for q in 0..2 {
            let id = format!("q-{}-{q}", &v[v.len() - 2..]);
            exec(
                h,
                &format!(
                    "INSERT INTO questions (site, id, visitor, topic, message, has_photo, created_at) \
                 VALUES ('demo', '{id}', '{v}', 'orders', 'words of {v}', 1, {T0})"
                ),
            );
            exec(
                h,
                &format!(
                    "INSERT INTO replies (site, question, at, id, body) \
                 VALUES ('demo', '{id}', {T0}, 'r1', '{{\"text\":\"hi\",\"at\":{T0}}}')"
                ),
            );
            kv_put(h, &keys::question("demo", &id), "{}");
            kv_put(h, &keys::question_photo("demo", &id), "jpeg");
            // What 0.14 kept beside a question: one key per reply and the resolution.
            kv_put(h, &keys::reply("demo", &id, T0, "r1"), "{}");
            kv_put(h, &keys::resolution("demo", &id), "{}");
        }
        for i in 0..400 {
            let poll = format!("p{i:03}");
            kv_put(h, &keys::vote("demo", &poll, v), "{}");
            kv_put(
                h,
                &keys::receipt("demo", &poll, &format!("{v}-r{i:03}")),
                "{}",
            );
        }
        // Each current answer's response, and 200 replaced ones, each with its KV record.
        exec(
            h,
            &format!(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 399) \
             INSERT INTO responses (site, poll, response, visitor, value, at) \
             SELECT 'demo', printf('p%03d', i), printf('{v}-r%03d', i), '{v}', '{{\"choice\":0}}', {T0} FROM n \
             UNION ALL SELECT 'demo', printf('p%03d', i), printf('{v}-old%03d', i), '{v}', '{{\"choice\":1}}', {T0} - 1 \
             FROM n WHERE i < 200"
            ),
        );
        for i in 0..400 {
            let poll = format!("p{i:03}");
            kv_put(
                h,
                &keys::response("demo", &poll, &format!("{v}-r{i:03}")),
                "{}",
            );
            if i < 200 {
                kv_put(
                    h,
                    &keys::response("demo", &poll, &format!("{v}-old{i:03}")),
                    "{}",
                );
            }
        }
        for i in 0..10 {
            let batch = json!({"visitor": v, "received_at": T0, "events": []}).to_string();
            kv_put(
                h,
                &keys::events("demo", "2026-11-22", &format!("{v}-b{i:02}")),
                &batch,
            );
        }
    }
    exec(
        h,
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 399) \
             INSERT INTO tallies (site, poll, answer, n) SELECT 'demo', printf('p%03d', i), '0', 2 FROM n",
    );
    // A poll only `me` answered: its tally row goes with the vote.
    exec(
        h,
        &format!(
            "INSERT INTO votes (site, poll, visitor, response, answer, value, at) \
         VALUES ('demo', 'solo', '{me}', 'solo-r', '1', '{{\"choice\":1}}', {T0})"
        ),
    );
    exec(
        h,
        "INSERT INTO tallies (site, poll, answer, n) VALUES ('demo', 'solo', '1', 1)",
    );
    let entry = json!({"id": "question-q-01-0", "source": "question", "source_id": "q-01-0",
        "visitor": me, "topic": "orders", "title": "t", "body": "b", "published_at": T0});
    exec(
        h,
        &format!(
            "INSERT INTO kb (site, id, visitor, topic, title, body, entry, updated_at) \
         VALUES ('demo', 'question-q-01-0', '{me}', 'orders', 't', 'b', '{entry}', {T0})"
        ),
    );
}

#[test]
fn a_large_erasure_takes_bounded_steps_and_keeps_tallies_exact() {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    h.seed();
    let (me, other) = (tok("visitor", 1), tok("visitor", 2));
    seed_rows(&h, &me, &other);
    let path = format!("/v1/admin/sites/demo/visitors/{me}");

    // The export pages through everything (every call is within Cloudflare's budget).
    let (mut votes, mut responses, mut batches, mut questions, mut seen, mut kb) =
        (0, 0, 0, 0, 0, 0);
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let p = match &cursor {
            Some(c) => format!("{path}?cursor={c}"),
            None => path.clone(),
        };
        let res = h.admin(Method::Get, &p, None, T0);
        assert_eq!(res.status, 200, "{}", res.body);
        let page = body(&res);
        let len = |k: &str| page[k].as_array().map_or(0, Vec::len);
        votes += len("votes");
        responses += len("responses");
        batches += len("event_batches");
        questions += len("questions");
        seen += len("seen");
        kb += len("knowledge_base");
        assert!(
            page["questions"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|q| q["message"] == format!("words of {me}") && q.get("token").is_none())
        );
        pages += 1;
        match page["next"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 20, "the export never ends");
    }
    assert_eq!(
        (votes, responses, batches, questions, seen, kb),
        (401, 600, 10, 2, 1500, 1)
    );
    assert!(pages > 2, "{pages} pages");
    let res = h.admin(Method::Get, &format!("{path}?cursor=nope"), None, T0);
    assert_eq!((res.status, field(&res)), (400, "cursor".to_string()));

    // The erasure: 202 while more remains, then 200; each step within the budget.
    let mut steps = Vec::new();
    loop {
        let res = h.admin(Method::Delete, &path, None, T0 + steps.len() as i64);
        steps.push(res.status);
        if res.status == 202 {
            assert_eq!(body(&res)["remaining"], true);
        } else {
            assert_eq!(res.status, 200, "{}", res.body);
            break;
        }
        assert!(steps.len() < 10);
    }
    assert!(steps.len() >= 3, "{steps:?}");
    // The tombstone names the visitor, from the first step on.
    assert_eq!(
        query(&h, &format!("SELECT at FROM erased WHERE visitor = '{me}'")),
        [json!({"at": T0 + steps.len() as i64 - 1})]
    );
    // Nothing of `me` is left in D1 or KV.
    for table in ["votes", "responses", "batches", "questions", "seen", "kb"] {
        assert_eq!(
            query(
                &h,
                &format!("SELECT COUNT(*) AS n FROM {table} WHERE visitor = '{me}'")
            ),
            [json!({"n": 0})],
            "{table}"
        );
    }
    assert_eq!(
        query(
            &h,
            "SELECT COUNT(*) AS n FROM replies WHERE question LIKE 'q-01-%'"
        ),
        [json!({"n": 0})]
    );
    assert!(
        h.kv.keys()
            .iter()
            .all(|k| !k.contains(&me) && !k.contains("q-01-")),
        "{:?}",
        h.kv.keys()
            .iter()
            .filter(|k| k.contains(&me))
            .collect::<Vec<_>>()
    );
    // Tallies are exact: `other`'s answer remains on every shared poll; the solo poll is gone.
    assert_eq!(
        query(
            &h,
            "SELECT COUNT(*) AS polls, SUM(n) AS n FROM tallies WHERE site = 'demo'"
        ),
        [json!({"polls": 400, "n": 400})]
    );
    // `other` is untouched, in D1 and KV.
    for (table, n) in [
        ("votes", 400),
        ("responses", 600),
        ("batches", 10),
        ("questions", 2),
        ("seen", 1500),
    ] {
        assert_eq!(
            query(
                &h,
                &format!("SELECT COUNT(*) AS n FROM {table} WHERE visitor = '{other}'")
            ),
            [json!({"n": n})],
            "{table}"
        );
    }
    assert_eq!(
        query(
            &h,
            "SELECT COUNT(*) AS n FROM replies WHERE question LIKE 'q-02-%'"
        ),
        [json!({"n": 2})]
    );
    assert_eq!(
        h.kv.keys()
            .iter()
            .filter(|k| k.contains(&other) || k.contains("q-02-"))
            .count(),
        400 * 2 + 600 + 10 + 2 * 4
    );
    // Erasing again finds nothing and says so at once.
    let res = h.admin(Method::Delete, &path, None, T0 + 100);
    assert_eq!(
        (res.status, body(&res)["erased"]["votes"].clone()),
        (200, json!(0))
    );
}

fn count(h: &H<MemoryKv>, sql: &str) -> i64 {
    query(h, sql)
        .first()
        .and_then(|r| r["n"].as_i64())
        .unwrap_or(-1)
}

#[test]
fn the_cron_deletes_rows_past_retention_in_bounded_ticks() {
    use glimpse_worker::queue::Message;
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    h.seed();
    let (me, other) = (tok("visitor", 1), tok("visitor", 2));
    seed_rows(&h, &me, &other);
    exec(
        &h,
        &format!(
            "INSERT INTO votes (site, poll, visitor, response, answer, value, at) \
         VALUES ('demo', 'helpful', '{other}', 'h-r', '0', '{{\"choice\":0}}', {T0})"
        ),
    );
    exec(
        &h,
        "INSERT INTO tallies (site, poll, answer, n) VALUES ('demo', 'helpful', '0', 1)",
    );
    exec(
        &h,
        "INSERT INTO daily (site, day, metric, key, n) VALUES ('demo', '2026-11-22', 'story_view', 'reset', 7)",
    );
    let day = 24 * HOUR;
    let tick = |now: i64| {
        h.queue.push([Message::Tick {
            site: "demo".into(),
            now_ms: now,
        }]);
        h.drain(now);
    };
    let totals = |h: &H<MemoryKv>| {
        [
            "votes",
            "responses",
            "tallies",
            "batches",
            "seen",
            "questions",
            "replies",
            "content",
            "kb",
            "daily",
        ]
        .map(|t| {
            count(
                h,
                &format!("SELECT COUNT(*) AS n FROM {t} WHERE site = 'demo'"),
            )
        })
    };
    // Within retention (30 days after each thing) the tick keeps everything that has a poll;
    // the 400 polls without a content row (deleted by an operator) lose their votes and
    // responses (1,200 rows: three ticks of 500). The KB holds the story's entry and `me`'s
    // answer.
    tick(T0 + 5 * day);
    assert_eq!(totals(&h), [1, 0, 1, 20, 3000, 4, 4, 5, 2, 1]);
    // A month later everything of the visitors is past retention: batches, seen marks,
    // questions with replies, votes and tallies of closed polls and the content past
    // purge_at go; the story (live until T0 + 48 h) stays, and the KB and the anonymous
    // daily counters are kept for good. Each tick deletes at most 500 rows per table and
    // sends itself again (the drain delivers those within the budget).
    tick(T0 + 31 * day + HOUR);
    assert_eq!(totals(&h), [0, 0, 0, 0, 0, 0, 0, 1, 2, 1]);
    assert_eq!(
        query(&h, "SELECT kind, id FROM content"),
        [json!({"kind": "story", "id": "reset"})]
    );
    assert!(h.queue.is_empty());
    // A deleted site's leftover ticks do nothing.
    let mut statuses = Vec::new();
    while statuses.last() != Some(&204) && statuses.len() < 10 {
        statuses.push(
            h.admin(Method::Delete, "/v1/admin/sites/demo", None, T0)
                .status,
        );
    }
    // 2,000-odd keys, 900 a request.
    assert_eq!(statuses, [202, 202, 202, 204]);
    assert!(h.kv.keys().is_empty(), "{:?}", h.kv.keys());
    assert_eq!(count(&h, "SELECT COUNT(*) AS n FROM sites"), 0);
    tick(T0 + 400 * day);
    assert_eq!(totals(&h), [0; 10]);
}
