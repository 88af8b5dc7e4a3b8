//! Ask a question: create, read with the thread token, photos, replies, resolution, and the
//! refusals (sensitive data, topics for another channel, bad input).

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

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

fn ask(h: &H<MemoryKv>, topic: &str, message: &str) -> ApiResponse {
    h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/questions")
            .header("origin", ORIGIN)
            .json(
                json!({"visitor": tok("visitor", 1), "topic": topic, "message": message})
                    .to_string(),
            ),
        T0,
    )
}

fn thread(h: &H<MemoryKv>, id: &str, token: &str) -> ApiResponse {
    h.call(
        ApiRequest::new(Method::Get, &format!("/v1/sites/demo/questions/{id}"))
            .header("authorization", &format!("Bearer {token}")),
        T0 + 1,
    )
}

/// The integer `n` of the first row of `query` on D1.
fn count(h: &H<MemoryKv>, query: &str) -> i64 {
    let rows = pollster::block_on(
        h.db()
            .query(&glimpse_worker::sql::Stmt::new(query.to_string())),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    rows.first()
        .and_then(|r| r.get("n"))
        .and_then(serde_json::Value::as_i64)
        .unwrap_or_else(|| panic!("{query}: {rows:?}"))
}

fn created(res: &ApiResponse) -> (String, String) {
    assert_eq!(res.status, 201, "{}", res.body);
    let v = body(res);
    (
        v["id"].as_str().unwrap_or_default().to_string(),
        v["token"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn a_visitor_asks_and_reads_the_teams_reply() {
    let h = seeded();
    let (id, token) = created(&ask(
        &h,
        "orders",
        "My parcel says delivered but it is not here.",
    ));
    assert!(token.len() >= 32);
    let res = thread(&h, &id, &token);
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        body(&res)["message"],
        "My parcel says delivered but it is not here."
    );
    assert_eq!(body(&res)["replies"], json!([]));

    // Without the token (or with another thread's), nothing is shown.
    assert_eq!(thread(&h, &id, "wrong").status, 401);
    let (_, other_token) = created(&ask(&h, "orders", "Another question"));
    assert_eq!(thread(&h, &id, &other_token).status, 401);
    // A question that does not exist reads like a wrong token: tokens cannot probe for ids.
    assert_eq!(thread(&h, "nope", &token).status, 401);

    // Operators see it in the open list once the queue delivered it, reply, then resolve it.
    let res = h.admin(Method::Get, "/v1/admin/sites/demo/questions", None, T0 + 2);
    assert_eq!(body(&res)["questions"], json!([]), "not delivered yet");
    h.drain(T0 + 2);
    let res = h.admin(Method::Get, "/v1/admin/sites/demo/questions", None, T0 + 2);
    let open: Vec<Value> = body(&res)["questions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(open.len(), 2);
    assert!(
        open.iter().any(|q| q["id"] == json!(id)
            && q["preview"] == "My parcel says delivered but it is not here.")
    );
    let path = format!("/v1/admin/sites/demo/questions/{id}/replies");
    let res = h.admin(
        Method::Post,
        &path,
        Some(json!({"text": "Sorry! We have asked the courier.", "story": "reset"})),
        T0 + 60_000,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    h.admin(
        Method::Post,
        &path,
        Some(json!({"text": "Found it: it is with your neighbour."})),
        T0 + 120_000,
    );
    let v = body(&thread(&h, &id, &token));
    assert_eq!(v["replies"][0]["text"], "Sorry! We have asked the courier.");
    assert_eq!(v["replies"][0]["story"], "reset");
    assert_eq!(v["replies"][1]["at"], T0 + 120_000);
    let res = h.admin(
        Method::Post,
        &format!("/v1/admin/sites/demo/questions/{id}/resolve"),
        Some(json!({"category": "orders"})),
        T0 + 180_000,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        body(&thread(&h, &id, &token))["resolved"]["category"],
        "orders"
    );
    // The visitor's record expires after the site's retention (30 days in the test site);
    // replies and the resolution are inbox rows (retention deletes them in D1). Resolving
    // published nothing: no knowledge-base entry, no KV key but the question's.
    let retention = 30 * 86_400_000;
    let thread_keys: Vec<String> =
        h.kv.keys()
            .into_iter()
            .filter(|k| k.contains(&id))
            .collect();
    assert_eq!(thread_keys, [format!("site/demo/question/{id}")]);
    assert_eq!(h.kv.expiration(&thread_keys[0]), Some(T0 + retention));
    assert_eq!(
        count(
            &h,
            "SELECT COUNT(*) AS n FROM kb WHERE id LIKE 'question-%'"
        ),
        0
    );
    assert_eq!(
        count(
            &h,
            &format!("SELECT COUNT(*) AS n FROM replies WHERE question = '{id}'")
        ),
        2
    );
    // Timings for the report: first reply and resolution.
    assert_eq!(
        count(
            &h,
            &format!("SELECT first_reply_at - created_at AS n FROM questions WHERE id = '{id}'")
        ),
        60_000
    );
    assert_eq!(
        count(
            &h,
            &format!("SELECT resolved_at - created_at AS n FROM questions WHERE id = '{id}'")
        ),
        180_000
    );
    let res = h.admin(
        Method::Get,
        "/v1/admin/sites/demo/questions",
        None,
        T0 + 200_000,
    );
    assert_eq!(
        body(&res)["questions"].as_array().map(Vec::len),
        Some(1),
        "resolved questions leave the open list"
    );

    // Bad replies and resolutions are refused.
    assert_eq!(
        h.admin(Method::Post, &path, Some(json!({"text": " "})), T0)
            .status,
        400
    );
    let res = h.admin(
        Method::Post,
        &format!("/v1/admin/sites/demo/questions/{id}/resolve"),
        Some(json!({"category": "Not A Slug"})),
        T0,
    );
    assert_eq!((res.status, field(&res)), (400, "category".to_string()));
    assert_eq!(
        h.admin(
            Method::Post,
            "/v1/admin/sites/demo/questions/nope/replies",
            Some(json!({"text": "hi"})),
            T0
        )
        .status,
        404
    );
    assert_eq!(
        h.call(
            ApiRequest::new(Method::Get, "/v1/admin/sites/demo/questions"),
            T0
        )
        .status,
        401
    );
}

#[test]
fn sensitive_data_and_other_channels_are_refused() {
    let h = seeded();
    let before = h.kv.keys().len();
    let res = ask(&h, "orders", "Please charge 4111 1111 1111 1111 again");
    assert_eq!(
        (res.status, code(&res), field(&res)),
        (422, "sensitive_data".to_string(), "message".to_string())
    );
    let message = body(&res)["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains("payment card") && message.contains("help@shop.example"),
        "{message}"
    );
    let res = ask(&h, "orders", "my password is hunter2, please log in for me");
    assert_eq!(code(&res), "sensitive_data");
    // Billing is marked as not simple: it belongs to the traditional channels.
    let res = ask(&h, "billing", "I was charged twice");
    assert_eq!(
        (res.status, code(&res), field(&res)),
        (422, "wrong_channel".to_string(), "topic".to_string())
    );
    assert!(
        body(&res)["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Email us")
    );
    let res = ask(&h, "nope", "hello");
    assert_eq!((res.status, field(&res)), (400, "topic".to_string()));
    let res = ask(&h, "orders", &"x".repeat(501));
    assert_eq!((res.status, field(&res)), (400, "message".to_string()));
    assert_eq!(h.kv.keys().len(), before, "nothing refused was stored");
}

#[test]
fn photos_are_checked_stored_and_served_to_the_thread_only() {
    let h = seeded();
    let (id, token) = created(&ask(&h, "orders", "The box arrived like this"));
    let put = |ct: &str, bytes: Vec<u8>, token: &str| {
        let mut req = ApiRequest::new(Method::Put, &format!("/v1/sites/demo/questions/{id}/photo"))
            .header("content-type", ct)
            .header("authorization", &format!("Bearer {token}"))
            .header("origin", ORIGIN);
        req.body = bytes;
        h.call(req, T0)
    };
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[7u8; 100]].concat();
    assert_eq!(put("image/gif", b"GIF89a".to_vec(), &token).status, 415);
    assert_eq!(
        put("image/jpeg", png.clone(), &token).status,
        415,
        "the bytes must match the type"
    );
    assert_eq!(
        put("image/png", vec![0u8; 1024 * 1024 + 1], &token).status,
        413
    );
    assert_eq!(put("image/png", png.clone(), "wrong").status, 401);
    let res = put("image/png", png.clone(), &token);
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.get_header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(body(&thread(&h, &id, &token))["photo"], true);

    let get = |auth: &str| {
        h.call(
            ApiRequest::new(Method::Get, &format!("/v1/sites/demo/questions/{id}/photo"))
                .header("authorization", &format!("Bearer {auth}")),
            T0,
        )
    };
    let res = get(&token);
    assert_eq!(res.status, 200);
    assert_eq!(res.get_header("content-type"), Some("image/png"));
    assert_eq!(res.binary.as_deref(), Some(png.as_slice()));
    assert_eq!(get(TOKEN).status, 200, "operators can see it");
    assert_eq!(get("nope").status, 401);
}

#[test]
fn the_preflight_allows_the_thread_token_header() {
    let h = seeded();
    let res = h.call(
        ApiRequest::new(Method::Options, "/v1/sites/demo/questions/x/photo")
            .header("origin", ORIGIN)
            .header("access-control-request-method", "PUT"),
        T0,
    );
    assert_eq!(res.status, 204);
    assert_eq!(
        res.get_header("access-control-allow-methods"),
        Some("GET, HEAD, PUT")
    );
    assert_eq!(
        res.get_header("access-control-allow-headers"),
        Some("Content-Type, Authorization")
    );
}

fn ask_as(h: &H<MemoryKv>, visitor: usize, message: &str, now: i64) -> ApiResponse {
    h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/questions")
            .header("origin", ORIGIN)
            .json(
                json!({"visitor": tok("visitor", visitor), "topic": "orders", "message": message})
                    .to_string(),
            ),
        now,
    )
}

fn inbox(h: &H<MemoryKv>, query: &str) -> Value {
    let res = h.admin(
        Method::Get,
        &format!("/v1/admin/sites/demo/questions{query}"),
        None,
        T0 + HOUR,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    body(&res)
}

/// The `daily` questions counter of the demo site for `day`.
fn asked_on(h: &H<MemoryKv>, day: &str) -> i64 {
    count(
        h,
        &format!(
            "SELECT COALESCE(SUM(n), 0) AS n FROM daily WHERE site = 'demo' AND day = '{day}' \
             AND metric = '{}' AND key = 'orders'",
            glimpse_shared::question::DAILY_METRIC
        ),
    )
}

#[test]
fn duplicated_and_reordered_question_messages_are_applied_once() {
    let h = seeded();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            created(&ask_as(
                &h,
                i,
                &format!("Question number {i}"),
                T0 + i as i64,
            ))
            .0,
        );
    }
    // Nothing in the message is the thread's secret.
    let sent = h.queue.peek();
    assert_eq!(sent.len(), 5);
    assert!(
        serde_json::to_string(&sent)
            .unwrap_or_default()
            .matches("token")
            .count()
            == 0,
        "{sent:?}"
    );
    // Delivered reversed, each twice, and one of them again in a later batch.
    let mut twice: Vec<_> = sent.iter().rev().cloned().collect();
    twice.extend(sent.iter().cloned());
    h.queue.take(5);
    h.consume(&twice, T0 + 10).unwrap_or_else(|e| panic!("{e}"));
    h.consume(&sent[2..3], T0 + 20)
        .unwrap_or_else(|e| panic!("{e}"));
    let open = inbox(&h, "");
    let listed: Vec<String> = ids_of(&open["questions"]);
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(listed, newest_first);
    assert_eq!(asked_on(&h, "2026-11-22"), 5);
    assert_eq!(count(&h, "SELECT COUNT(*) AS n FROM questions"), 5);
}

fn ids_of(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|q| q["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_consumer_failing_half_way_applies_the_redelivered_batch_exactly_once() {
    let h = seeded();
    for i in 0..3 {
        created(&ask_as(&h, i, "Where is my parcel?", T0));
    }
    let batch = h.queue.take(100);
    // The read succeeds, the transaction's second statement fails: nothing is written.
    h.sql.fail_statement(2);
    assert!(h.consume(&batch, T0).is_err());
    assert_eq!(count(&h, "SELECT COUNT(*) AS n FROM questions"), 0);
    assert_eq!(asked_on(&h, "2026-11-22"), 0);
    // Redelivered (twice): exactly once.
    h.consume(&batch, T0).unwrap_or_else(|e| panic!("{e}"));
    h.consume(&batch, T0).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(count(&h, "SELECT COUNT(*) AS n FROM questions"), 3);
    assert_eq!(asked_on(&h, "2026-11-22"), 3);
}

#[test]
fn a_failed_send_is_503_and_the_retry_sends_again() {
    let h = seeded();
    h.queue.failing.set(true);
    let res = ask_as(&h, 1, "Is anyone there?", T0);
    assert_eq!(res.status, 503, "{}", res.body);
    assert!(
        !h.kv.keys().iter().any(|k| k.contains("/question/")),
        "no record is left behind that the inbox would never show"
    );
    h.queue.failing.set(false);
    let (id, token) = created(&ask_as(&h, 1, "Is anyone there?", T0 + 1000));
    assert_eq!(h.queue.len(), 1);
    h.drain(T0 + 1000);
    assert_eq!(
        ids_of(&inbox(&h, "")["questions"]),
        std::slice::from_ref(&id)
    );
    assert_eq!(thread(&h, &id, &token).status, 200);
}

#[test]
fn replies_and_resolutions_before_the_queue_delivered_the_question_are_kept() {
    let h = seeded();
    let (id, token) = created(&ask_as(&h, 1, "Late delivery", T0));
    let (other, _) = created(&ask_as(&h, 2, "Wrong size", T0));
    let res = h.admin(
        Method::Post,
        &format!("/v1/admin/sites/demo/questions/{id}/replies"),
        Some(json!({"text": "On it"})),
        T0 + 5_000,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    let res = h.admin(
        Method::Post,
        &format!("/v1/admin/sites/demo/questions/{other}/resolve"),
        Some(json!({"category": "sizes"})),
        T0 + 6_000,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    h.drain(T0 + 10_000);
    assert_eq!(
        ids_of(&inbox(&h, "")["questions"]),
        std::slice::from_ref(&id)
    );
    assert_eq!(
        count(
            &h,
            &format!("SELECT first_reply_at AS n FROM questions WHERE id = '{id}'")
        ),
        T0 + 5_000
    );
    assert_eq!(asked_on(&h, "2026-11-22"), 2, "each question counted once");
    assert_eq!(
        body(&thread(&h, &id, &token))["replies"][0]["text"],
        "On it"
    );
}

#[test]
fn the_inbox_is_paged_newest_first() {
    let h = seeded();
    let mut ids = Vec::new();
    // Seven questions, two of them at the same instant.
    for i in 0..7usize {
        let at = T0 + (i.min(5) as i64) * 1000;
        ids.push(created(&ask_as(&h, i, &format!("Question {i}\nmore detail"), at)).0);
    }
    h.drain(T0 + 10_000);
    let mut all = Vec::new();
    let mut query = "?limit=3".to_string();
    loop {
        let page = inbox(&h, &query);
        let got = ids_of(&page["questions"]);
        assert!(got.len() <= 3);
        all.extend(got);
        match page["next"].as_str() {
            Some(next) => query = format!("?limit=3&before={next}"),
            None => break,
        }
    }
    assert_eq!(all.len(), 7, "{all:?}");
    let unique: std::collections::BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), 7);
    assert!(all[2..].iter().all(|id| ids[..5].contains(id)));
    assert_eq!(
        inbox(&h, "?limit=1")["questions"][0]["preview"],
        "Question 6"
    );
    for bad in [
        "?limit=0",
        "?limit=501",
        "?limit=x",
        "?before=nope",
        "?before=12:a%20b",
    ] {
        let res = h.admin(
            Method::Get,
            &format!("/v1/admin/sites/demo/questions{bad}"),
            None,
            T0,
        );
        assert_eq!(res.status, 400, "{bad}: {}", res.body);
    }
}

#[test]
fn deleting_a_thread_before_its_message_arrives_leaves_nothing_of_it() {
    let h = seeded();
    let (id, token) = created(&ask_as(&h, 1, "My address is 12 Main Street", T0));
    let res = h.call(
        ApiRequest::new(Method::Delete, &format!("/v1/sites/demo/questions/{id}"))
            .header("authorization", &format!("Bearer {token}"))
            .header("origin", ORIGIN),
        T0 + 1,
    );
    assert_eq!(res.status, 204, "{}", res.body);
    h.drain(T0 + 2);
    assert!(ids_of(&inbox(&h, "")["questions"]).is_empty());
    assert_eq!(
        count(
            &h,
            "SELECT COUNT(*) AS n FROM questions WHERE message <> '' OR visitor <> ''"
        ),
        0
    );
    assert!(!h.kv.keys().iter().any(|k| k.contains(&id)));
    assert_eq!(thread(&h, &id, &token).status, 401);
}

#[test]
fn at_scale_the_inbox_stays_within_budget_and_exact() {
    let h = seeded();
    for i in 0..5000usize {
        let res = ask_as(&h, i, &format!("Question {i}"), T0 + i as i64);
        assert_eq!(res.status, 201, "{}", res.body);
    }
    h.drain(T0 + HOUR);
    assert_eq!(asked_on(&h, "2026-11-22"), 5000);
    // Resolve every third one (operators' requests): 0, 3, …, 4998.
    let ids: Vec<String> = {
        let rows = pollster::block_on(h.db().query(&glimpse_worker::sql::Stmt::new(
            "SELECT id FROM questions ORDER BY created_at",
        )))
        .unwrap_or_else(|e| panic!("{e}"));
        rows.iter()
            .filter_map(|r| r.get("id").and_then(Value::as_str).map(String::from))
            .collect()
    };
    for id in ids.iter().step_by(3) {
        let res = h.admin(
            Method::Post,
            &format!("/v1/admin/sites/demo/questions/{id}/resolve"),
            Some(json!({"category": "orders"})),
            T0 + HOUR,
        );
        assert_eq!(res.status, 200, "{}", res.body);
    }
    let first = inbox(&h, "");
    assert_eq!(first["questions"].as_array().map(Vec::len), Some(100));
    assert_eq!(first["questions"][0]["preview"], "Question 4999");
    let mut open = 0;
    let mut query = "?limit=500".to_string();
    loop {
        let page = inbox(&h, &query);
        assert_eq!(h.counts.d1_calls.get(), 1);
        open += page["questions"].as_array().map_or(0, Vec::len);
        match page["next"].as_str() {
            Some(next) => query = format!("?limit=500&before={next}"),
            None => break,
        }
    }
    assert_eq!(open, 5000 - 5000usize.div_ceil(3));
}

/// A reply of the longest allowed text fits however its JSON escapes it (2,000 characters as
/// `\uXXXX` escapes are 12 KB); one character more is a 400 naming the field, not a 413.
#[test]
fn the_longest_reply_fits_however_it_is_escaped() {
    let h = seeded();
    let (id, _) = created(&ask(&h, "orders", "Where is my parcel?"));
    h.drain(T0);
    let path = format!("/v1/admin/sites/demo/questions/{id}/replies");
    let escaped = |n: usize| format!(r#"{{"text": "{}"}}"#, "\\u00e9".repeat(n));
    let send = |body: String| {
        h.call(
            ApiRequest::new(Method::Post, &path)
                .header("authorization", &format!("Bearer {TOKEN}"))
                .json(body),
            T0 + 60_000,
        )
    };
    let res = send(escaped(2_000));
    assert_eq!(res.status, 201, "{}", res.body);
    let res = send(escaped(2_001));
    assert_eq!(res.status, 400, "{}", res.body);
    assert_eq!(field(&res), "text");
}

/// The widget's "Usually replies within …": the median first reply of the last 7 days, in
/// the feed after the hourly tick, gone again when the replies age out of the window.
#[test]
fn the_feed_tells_the_expected_reply_time_from_the_last_week() {
    let h = seeded();
    let feed_minutes = |now: i64| h.feed(now)["site"]["reply_minutes"].clone();
    let tick = |now: i64| {
        h.consume(
            &[glimpse_worker::queue::Message::Tick {
                site: "demo".into(),
                now_ms: now,
            }],
            now,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    };
    // Three questions answered after 90 min, 100 min and 3 days; a second reply to the first
    // does not count again.
    let mut ids = Vec::new();
    for n in 0..3 {
        let res = h.call(
            ApiRequest::new(Method::Post, "/v1/sites/demo/questions")
                .header("origin", ORIGIN)
                .json(
                    json!({"visitor": tok("visitor", n), "topic": "orders",
                           "message": format!("Where is order {n}?")})
                    .to_string(),
                ),
            T0,
        );
        assert_eq!(res.status, 201, "{}", res.body);
        ids.push(body(&res)["id"].as_str().unwrap_or_default().to_string());
    }
    h.drain(T0 + 1_000);
    tick(T0 + 2_000);
    assert_eq!(feed_minutes(T0 + 3_000), Value::Null, "no replies yet");
    for (id, after) in [
        (&ids[0], 90 * 60_000),
        (&ids[0], 91 * 60_000),
        (&ids[1], 100 * 60_000),
        (&ids[2], 3 * 86_400_000),
    ] {
        let res = h.admin(
            Method::Post,
            &format!("/v1/admin/sites/demo/questions/{id}/replies"),
            Some(json!({"text": "It left our warehouse today."})),
            T0 + after,
        );
        assert_eq!(res.status, 201, "{}", res.body);
    }
    let now = T0 + 3 * 86_400_000 + HOUR;
    tick(now);
    assert_eq!(
        feed_minutes(now),
        json!(120),
        "half were answered within 2 h"
    );
    // Eight days later the replies are out of the window: nothing is claimed.
    let later = now + 8 * 86_400_000;
    tick(later);
    assert_eq!(feed_minutes(later), Value::Null);
}
