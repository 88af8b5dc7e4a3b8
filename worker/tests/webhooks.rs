//! Signed webhooks: what a receiver gets for each event (signature, headers, JSON or Slack
//! text), each event once, retries with growing delays after a failure, the delivery log,
//! "Send test", and the limits on what an owner may register.

#![allow(clippy::panic)]

mod common;

use common::*;
use glimpse_shared::webhook::{MAX_ATTEMPTS, retry_delay_s};
use glimpse_worker::http::{ApiRequest, ApiResponse};
use glimpse_worker::queue::Message;
use glimpse_worker::route::Method;
use glimpse_worker::store::MemoryKv;
use glimpse_worker::webhooks::{Sent, signature};
use serde_json::{Value, json};

fn seeded() -> H<MemoryKv> {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    h.seed();
    h
}

/// Adds a webhook for `events`; (its id, its secret).
fn hook(h: &H<MemoryKv>, url: &str, events: Value, format: &str) -> (String, String) {
    let res = h.admin(
        Method::Post,
        "/v1/admin/sites/demo/webhooks",
        Some(json!({"url": url, "events": events, "format": format})),
        T0,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    let v = body(&res);
    let secret = v["secret"].as_str().unwrap_or_default().to_string();
    assert!(secret.starts_with("whsec_"), "{v}");
    (v["id"].as_str().unwrap_or_default().to_string(), secret)
}

fn ask(h: &H<MemoryKv>, message: &str, email: Option<&str>, now: i64) -> Value {
    let mut q = json!({"visitor": tok("visitor", 1), "topic": "orders", "message": message});
    if let Some(e) = email {
        q["email"] = json!(e);
        q["email_consent"] = json!(true);
    }
    let res = h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/questions")
            .header("origin", ORIGIN)
            .json(q.to_string()),
        now,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    body(&res)
}

fn header<'a>(sent: &'a Sent, name: &str) -> &'a str {
    sent.headers
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The receiver's check, as the README shows it: recompute the HMAC of "t.body".
fn verifies(sent: &Sent, secret: &str) -> bool {
    let sig = header(sent, "glimpse-signature");
    let Some((t, _)) = sig.strip_prefix("t=").and_then(|s| s.split_once(",v1=")) else {
        return false;
    };
    let Ok(t) = t.parse::<i64>() else {
        return false;
    };
    signature(secret, t, &sent.body) == sig
}

fn sent(h: &H<MemoryKv>) -> Vec<Sent> {
    h.deliver.sent.borrow().clone()
}

fn log(h: &H<MemoryKv>, id: &str) -> Vec<Value> {
    let res = h.admin(
        Method::Get,
        &format!("/v1/admin/sites/demo/webhooks/{id}/deliveries"),
        None,
        T0 + 60_000,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    body(&res)["deliveries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_new_question_reaches_the_receiver_signed_and_once() {
    let h = seeded();
    let (id, secret) = hook(
        &h,
        "https://hooks.example/glimpse",
        json!(["question.created"]),
        "json",
    );
    // The secret is shown once: never again.
    let res = h.admin(Method::Get, "/v1/admin/sites/demo/webhooks", None, T0);
    assert!(
        !res.body.contains(&secret) && !res.body.contains("whsec_"),
        "{}",
        res.body
    );

    let created = ask(
        &h,
        "My invoice shows the wrong VAT number",
        Some("ada@example.com"),
        T0,
    );
    // The visitor's request queued the question; ingestion alerts; the delivery is its own
    // message.
    h.drain(T0 + 1_000);
    let got = sent(&h);
    assert_eq!(got.len(), 1, "{got:?}");
    let d = &got[0];
    assert_eq!(d.url, "https://hooks.example/glimpse");
    assert!(verifies(d, &secret), "{:?}", d.headers);
    assert!(!verifies(d, "whsec_wrong"));
    assert_eq!(header(d, "glimpse-event"), "question.created");
    let event: Value = serde_json::from_str(&d.body).unwrap_or(Value::Null);
    assert_eq!(event["type"], "question.created");
    assert_eq!(event["site"], "demo");
    assert_eq!(
        header(d, "glimpse-delivery"),
        event["id"].as_str().unwrap_or("?")
    );
    assert_eq!(event["data"]["question"], created["id"]);
    assert_eq!(
        event["data"]["message"],
        "My invoice shows the wrong VAT number"
    );
    assert_eq!(
        event["data"]["email"], "ada@example.com",
        "the email the visitor left"
    );

    // The same batch delivered again (a queue redelivery) alerts nobody twice.
    let again = h.queue.peek();
    assert!(again.is_empty(), "{again:?}");
    let replay = Message::Question {
        site: "demo".into(),
        question: serde_json::from_value(json!({
            "id": created["id"], "topic": "billing", "message": "My invoice shows the wrong VAT number",
            "visitor": tok("visitor", 1), "token": "x", "created_at": T0
        }))
        .unwrap_or_else(|e| panic!("{e}")),
    };
    if h.consume(&[replay], T0 + 2_000).is_ok() {
        h.drain(T0 + 3_000);
    }
    assert_eq!(
        sent(&h).len(),
        1,
        "a redelivered question is not announced again"
    );
    assert_eq!(log(&h, &id).len(), 1);
}

#[test]
fn a_failed_delivery_is_retried_with_growing_delays_and_logged() {
    let h = seeded();
    let (id, secret) = hook(
        &h,
        "https://hooks.example/down",
        json!(["question.created"]),
        "json",
    );
    *h.deliver.script.borrow_mut() = vec![Err("connection refused".into()), Ok(500), Ok(200)];
    ask(&h, "Where is my parcel?", None, T0);
    h.drain(T0 + 1_000);
    // Attempt 1 failed → one message waiting, 10 s later; drain delivers it (attempt 2: 500)
    // and then attempt 3 (200).
    let got = sent(&h);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        *h.queue.delays.borrow(),
        vec![retry_delay_s(1).unwrap_or(0), retry_delay_s(2).unwrap_or(0)]
    );
    assert!(retry_delay_s(1) < retry_delay_s(2), "backoff grows");
    // Every attempt is the same event, signed anew.
    let ids: Vec<&str> = got.iter().map(|s| header(s, "glimpse-delivery")).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    assert!(got.iter().all(|s| verifies(s, &secret)));
    // The log, newest first: 200, then 500 with a retry time, then the refused connection.
    let entries = log(&h, &id);
    let statuses: Vec<i64> = entries
        .iter()
        .filter_map(|e| e["status"].as_i64())
        .collect();
    assert_eq!(statuses, vec![200, 500, 0], "{entries:?}");
    let attempts: Vec<i64> = entries
        .iter()
        .filter_map(|e| e["attempt"].as_i64())
        .collect();
    assert_eq!(attempts, vec![3, 2, 1]);
    assert!(
        entries[2]["error"]
            .as_str()
            .unwrap_or("")
            .contains("connection refused")
    );
    assert!(entries[1]["retry_at"].is_i64() && entries[0].get("retry_at").is_none());
}

#[test]
fn a_receiver_that_never_answers_is_given_up_after_the_last_attempt() {
    let h = seeded();
    let (id, _) = hook(
        &h,
        "https://hooks.example/gone",
        json!(["question.created"]),
        "json",
    );
    *h.deliver.script.borrow_mut() = vec![Ok(503)];
    ask(&h, "Is the shop open on Sunday?", None, T0);
    h.drain(T0 + 1_000);
    assert_eq!(sent(&h).len(), MAX_ATTEMPTS as usize);
    assert_eq!(h.queue.delays.borrow().len(), MAX_ATTEMPTS as usize - 1);
    assert!(h.queue.is_empty());
    let entries = log(&h, &id);
    assert_eq!(entries.len(), MAX_ATTEMPTS as usize);
    assert!(
        entries[0].get("retry_at").is_none(),
        "the last attempt is final"
    );
}

#[test]
fn replies_resolutions_and_the_test_button_reach_subscribed_hooks_only() {
    let h = seeded();
    let (all, _) = hook(
        &h,
        "https://hooks.example/all",
        json!(["question.replied", "question.resolved"]),
        "json",
    );
    let (slack, secret) = hook(
        &h,
        "https://hooks.slack.example/T1/B2",
        json!(["question.replied"]),
        "slack",
    );
    let q = ask(&h, "How do I reset my password?", None, T0);
    h.drain(T0 + 1_000);
    assert!(sent(&h).is_empty(), "nobody subscribed to question.created");
    let qid = q["id"].as_str().unwrap_or_default();
    let res = h.admin(
        Method::Post,
        &format!("/v1/admin/sites/demo/questions/{qid}/replies"),
        Some(json!({"text": "Use \"Forgot password\" on the sign-in page <b>now</b>."})),
        T0 + 2_000,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    let res = h.admin(
        Method::Post,
        &format!("/v1/admin/sites/demo/questions/{qid}/resolve"),
        Some(json!({"category": "account"})),
        T0 + 3_000,
    );
    assert!(res.status < 300, "{}", res.body);
    h.drain(T0 + 4_000);
    let got = sent(&h);
    let kinds: Vec<(&str, &str)> = got
        .iter()
        .map(|s| (s.url.as_str(), header(s, "glimpse-event")))
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(kinds.contains(&("https://hooks.example/all", "question.replied")));
    assert!(kinds.contains(&("https://hooks.example/all", "question.resolved")));
    assert!(kinds.contains(&("https://hooks.slack.example/T1/B2", "question.replied")));
    // The Slack format: one escaped text line, signed like the others.
    let s = got
        .iter()
        .find(|s| s.url.contains("slack"))
        .unwrap_or_else(|| panic!("no slack delivery"));
    assert!(verifies(s, &secret));
    let text: Value = serde_json::from_str(&s.body).unwrap_or(Value::Null);
    let text = text["text"].as_str().unwrap_or("");
    assert!(
        text.contains("&lt;b&gt;now&lt;/b&gt;") && !text.contains("<b>"),
        "{text}"
    );
    // Send test: one `test` event to that hook only, logged.
    let before = sent(&h).len();
    let res = h.admin(
        Method::Post,
        &format!("/v1/admin/sites/demo/webhooks/{all}/test"),
        None,
        T0 + 5_000,
    );
    assert_eq!(res.status, 202, "{}", res.body);
    h.drain(T0 + 6_000);
    let got = sent(&h);
    assert_eq!(got.len(), before + 1);
    assert_eq!(header(&got[before], "glimpse-event"), "test");
    assert_eq!(got[before].url, "https://hooks.example/all");
    assert_eq!(log(&h, &all)[0]["event"], "test");
    assert!(log(&h, &slack).iter().all(|e| e["event"] != "test"));
}

#[test]
fn low_csat_alerts_and_good_csat_does_not() {
    let h = seeded();
    hook(
        &h,
        "https://hooks.example/csat",
        json!(["csat.low"]),
        "json",
    );
    for (n, stars) in [(1, 5), (2, 2), (3, 1), (4, 3)] {
        let res = h.vote(
            "csat",
            &tok("resp", n),
            &tok("visitor", n),
            json!({"rating": stars}),
            T0 + 10,
        );
        assert!(res.status < 300, "{}", res.body);
    }
    h.drain(T0 + 1_000);
    let mut stars: Vec<i64> = sent(&h)
        .iter()
        .map(|s| serde_json::from_str::<Value>(&s.body).unwrap_or(Value::Null))
        .filter_map(|v| v["data"]["stars"].as_i64())
        .collect();
    stars.sort_unstable();
    assert_eq!(stars, vec![1, 2]);
}

#[test]
fn a_story_about_to_expire_is_announced_once() {
    let h = seeded();
    hook(
        &h,
        "https://hooks.example/stories",
        json!(["story.expiring"]),
        "json",
    );
    // The seeded story expires at T0 + 48 h: not yet within a day.
    h.consume(
        &[Message::Tick {
            site: "demo".into(),
            now_ms: T0 + HOUR,
        }],
        T0 + HOUR,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    h.drain(T0 + HOUR);
    assert!(sent(&h).is_empty());
    for hours in [25, 26, 30] {
        let now = T0 + hours * HOUR;
        h.consume(
            &[Message::Tick {
                site: "demo".into(),
                now_ms: now,
            }],
            now,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        h.drain(now);
    }
    let got = sent(&h);
    assert_eq!(got.len(), 1, "{got:?}");
    let v: Value = serde_json::from_str(&got[0].body).unwrap_or(Value::Null);
    assert_eq!(v["data"]["story"], "reset");
}

#[test]
fn owners_register_https_receivers_only_and_a_bounded_number() {
    let h = seeded();
    let post = |body: Value| -> ApiResponse {
        h.admin(
            Method::Post,
            "/v1/admin/sites/demo/webhooks",
            Some(body),
            T0,
        )
    };
    for (body, field) in [
        (
            json!({"url": "http://hooks.example/x", "events": ["question.created"]}),
            "url",
        ),
        (
            json!({"url": "javascript:alert(1)", "events": ["question.created"]}),
            "url",
        ),
        (
            json!({"url": "https://hooks.example/x", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://hooks.example/x", "events": ["test"]}),
            "events[0]",
        ),
        (
            json!({"url": "https://hooks.example/x", "events": ["csat.low", "csat.low"]}),
            "events[1]",
        ),
    ] {
        let res = post(body.clone());
        assert!(
            res.status == 400 || res.status == 422,
            "{body}: {} {}",
            res.status,
            res.body
        );
        assert_eq!(field_of(&res), field, "{body}: {}", res.body);
    }
    let res = h.admin(Method::Get, "/v1/admin/sites/demo/webhooks", None, T0);
    assert_eq!(body(&res)["webhooks"], json!([]), "nothing was added");
    for n in 0..20 {
        let res = post(
            json!({"url": format!("https://hooks.example/{n}"), "events": ["question.created"]}),
        );
        assert_eq!(res.status, 201, "{}", res.body);
    }
    let res = post(json!({"url": "https://hooks.example/21", "events": ["question.created"]}));
    assert_eq!(res.status, 409, "{}", res.body);
    // A removed hook gets no more deliveries, even the retries already queued.
    let list = body(&h.admin(Method::Get, "/v1/admin/sites/demo/webhooks", None, T0));
    let first = list["webhooks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|w| w["url"] == "https://hooks.example/0")
        .and_then(|w| w["id"].as_str())
        .unwrap_or_default()
        .to_string();
    *h.deliver.script.borrow_mut() = vec![Ok(500)];
    ask(&h, "Can I change my delivery address?", None, T0);
    h.consume(&h.queue.take(100), T0 + 1_000)
        .unwrap_or_else(|e| panic!("{e}"));
    h.consume(&h.queue.take(100), T0 + 1_000)
        .unwrap_or_else(|e| panic!("{e}"));
    let before = sent(&h).iter().filter(|s| s.url.ends_with("/0")).count();
    assert_eq!(before, 1);
    let res = h.admin(
        Method::Delete,
        &format!("/v1/admin/sites/demo/webhooks/{first}"),
        None,
        T0 + 2_000,
    );
    assert_eq!(res.status, 204, "{}", res.body);
    h.drain(T0 + 3_000);
    assert_eq!(sent(&h).iter().filter(|s| s.url.ends_with("/0")).count(), 1);
}

fn field_of(res: &ApiResponse) -> String {
    field(res)
}
