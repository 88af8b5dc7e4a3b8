//! Live Q&A through the API core: visitors ask and upvote, the host answers, pins, hides and
//! ends; the rooms (Durable Objects at the edge) are `MemoryRooms`, whose memory can be
//! dropped as an eviction or a restart would.

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use common::*;
use glimpse_shared::live::{Merge, PublicRoom, Replica, ServerMessage};
use glimpse_worker::http::{ApiRequest, ApiResponse};
use glimpse_worker::route::Method;
use glimpse_worker::store::MemoryKv;
use serde_json::{Value, json};

/// The seeded session "qa" runs from T0 + 1 h to T0 + 2 h.
const LIVE: i64 = T0 + HOUR + 60_000;
const ROOM: &str = "/v1/sites/demo/live/qa";

fn seeded() -> H<MemoryKv> {
    let h = H::with(MemoryKv::default());
    h.seed();
    h
}

fn visitor(n: usize) -> String {
    tok("viewer", n)
}

fn ask(h: &H<MemoryKv>, who: usize, text: &str, now: i64) -> ApiResponse {
    h.call(
        ApiRequest::new(Method::Post, &format!("{ROOM}/questions"))
            .header("origin", ORIGIN)
            .json(json!({"visitor": visitor(who), "text": text}).to_string()),
        now,
    )
}

/// Asks and returns the new question's id (the ask must succeed).
fn asked(h: &H<MemoryKv>, who: usize, text: &str, now: i64) -> String {
    let res = ask(h, who, text, now);
    assert_eq!(res.status, 201, "{}", res.body);
    body(&res)["id"].as_str().unwrap_or_default().to_string()
}

fn upvote(h: &H<MemoryKv>, who: usize, question: &str, now: i64) -> ApiResponse {
    h.call(
        ApiRequest::new(Method::Post, &format!("{ROOM}/questions/{question}/votes"))
            .header("origin", ORIGIN)
            .json(json!({"visitor": visitor(who)}).to_string()),
        now,
    )
}

fn room(h: &H<MemoryKv>, now: i64) -> Value {
    let res = h.call(
        ApiRequest::new(Method::Get, ROOM).header("origin", ORIGIN),
        now,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    body(&res)
}

fn host(h: &H<MemoryKv>, method: Method, rest: &str, b: Option<Value>, now: i64) -> ApiResponse {
    h.admin(
        method,
        &format!("/v1/admin/sites/demo/live/qa{rest}"),
        b,
        now,
    )
}

fn act(h: &H<MemoryKv>, question: &str, action: Value, now: i64) -> Value {
    let res = host(
        h,
        Method::Post,
        &format!("/questions/{question}"),
        Some(action),
        now,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    body(&res)["question"].clone()
}

fn question<'a>(room: &'a Value, id: &str) -> &'a Value {
    room["questions"]
        .as_array()
        .and_then(|qs| qs.iter().find(|q| q["id"] == id))
        .unwrap_or_else(|| panic!("no question {id} in {room}"))
}

#[test]
fn visitors_ask_and_upvote_once_and_see_the_hosts_answers() {
    let h = seeded();
    let asked = ask(&h, 1, "Can I pay by invoice?", LIVE);
    assert_eq!(asked.status, 201, "{}", asked.body);
    let id = body(&asked)["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(body(&asked)["question"]["state"], "waiting");

    // Another visitor sees it, without anyone's visitor id.
    let seen = room(&h, LIVE + 1);
    assert_eq!(question(&seen, &id)["text"], "Can I pay by invoice?");
    assert!(!seen.to_string().contains(&visitor(1)), "{seen}");

    // Upvotes count once per visitor.
    let first = upvote(&h, 2, &id, LIVE + 2);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(body(&first), json!({"votes": 1, "counted": true}));
    let again = upvote(&h, 2, &id, LIVE + 3);
    assert_eq!(body(&again), json!({"votes": 1, "counted": false}));
    assert_eq!(body(&upvote(&h, 3, &id, LIVE + 4))["votes"], 2);

    // The host answers and pins it: everyone reads it.
    let answered = act(
        &h,
        &id,
        json!({"action": "answer", "text": "Yes, from the billing page."}),
        LIVE + 5,
    );
    assert_eq!(answered["state"], "answered");
    act(&h, &id, json!({"action": "pin"}), LIVE + 6);
    let seen = room(&h, LIVE + 7);
    let q = question(&seen, &id);
    assert_eq!(q["answer"]["text"], "Yes, from the billing page.");
    assert_eq!(q["pinned"], true);
    assert_eq!(q["votes"], 2);

    // The host's status line and stream link reach viewers.
    let res = host(
        &h,
        Method::Put,
        "/status",
        Some(json!({"status": "On question 2", "stream_url": "https://stream.example/qa"})),
        LIVE + 8,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    let seen = room(&h, LIVE + 9);
    assert_eq!(seen["status"], "On question 2");
    assert_eq!(seen["stream_url"], "https://stream.example/qa");
}

#[test]
fn the_room_orders_pinned_then_most_voted() {
    let h = seeded();
    let a = body(&ask(&h, 1, "First question", LIVE))["id"].clone();
    let b = body(&ask(&h, 2, "Second question", LIVE + 1))["id"].clone();
    let c = body(&ask(&h, 3, "Third question", LIVE + 2))["id"].clone();
    for who in 4..7 {
        upvote(&h, who, c.as_str().unwrap_or(""), LIVE + 3);
    }
    upvote(&h, 7, b.as_str().unwrap_or(""), LIVE + 4);
    act(
        &h,
        a.as_str().unwrap_or(""),
        json!({"action": "pin"}),
        LIVE + 5,
    );
    let order: Vec<Value> = room(&h, LIVE + 6)["questions"]
        .as_array()
        .map(|qs| qs.iter().map(|q| q["id"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(order, vec![a, c, b]);
}

#[test]
fn hidden_questions_keep_their_text_for_the_host_only() {
    let h = seeded();
    let id = asked(&h, 1, "Off-topic rant", LIVE);
    let hidden = act(&h, &id, json!({"action": "hide"}), LIVE + 1);
    assert_eq!(hidden["text"], "Off-topic rant");
    let seen = room(&h, LIVE + 2);
    let q = question(&seen, &id);
    assert_eq!(q["state"], "hidden");
    assert_eq!(q["text"], "", "{q}");
    // Nobody can upvote it.
    assert_eq!(upvote(&h, 2, &id, LIVE + 3).status, 404);
    let host_view = body(&host(&h, Method::Get, "", None, LIVE + 4));
    assert_eq!(question(&host_view, &id)["text"], "Off-topic rant");
    // Restored, it is back for everyone.
    act(&h, &id, json!({"action": "restore"}), LIVE + 5);
    assert_eq!(question(&room(&h, LIVE + 6), &id)["state"], "waiting");
}

#[test]
fn bad_questions_are_refused_and_change_nothing() {
    let h = seeded();
    // Before the session starts, and a session the feed does not list.
    let early = ask(&h, 1, "Too early?", T0 + HOUR - 1);
    assert_eq!((early.status, code(&early)), (409, "not_started".into()));
    let res = h.call(
        ApiRequest::new(Method::Get, "/v1/sites/demo/live/nope").header("origin", ORIGIN),
        LIVE,
    );
    assert_eq!(res.status, 404);
    // Sensitive data, empty text, too long, a bad visitor id, not JSON.
    let card = ask(&h, 1, "my card is 4111 1111 1111 1111", LIVE);
    assert_eq!((card.status, code(&card)), (422, "sensitive_data".into()));
    assert_eq!(ask(&h, 1, "   ", LIVE).status, 400);
    assert_eq!(ask(&h, 1, &"x".repeat(281), LIVE).status, 400);
    let res = h.call(
        ApiRequest::new(Method::Post, &format!("{ROOM}/questions"))
            .header("origin", ORIGIN)
            .json(json!({"visitor": "short", "text": "hi"}).to_string()),
        LIVE,
    );
    assert_eq!(res.status, 400, "{}", res.body);
    let res = h.call(
        ApiRequest::new(Method::Post, &format!("{ROOM}/questions"))
            .header("origin", ORIGIN)
            .json("{not json"),
        LIVE,
    );
    assert_eq!(res.status, 400, "{}", res.body);
    // A page the site does not allow may not ask on its behalf.
    let res = h.call(
        ApiRequest::new(Method::Post, &format!("{ROOM}/questions"))
            .header("origin", "https://evil.example")
            .json(json!({"visitor": visitor(1), "text": "hi"}).to_string()),
        LIVE,
    );
    assert_eq!(res.status, 403, "{}", res.body);
    // Three waiting questions per visitor at most.
    for n in 0..3 {
        assert_eq!(ask(&h, 1, &format!("Question {n}"), LIVE).status, 201);
    }
    let fourth = ask(&h, 1, "Question 4", LIVE);
    assert_eq!(
        (fourth.status, code(&fourth)),
        (429, "too_many_waiting".into())
    );
    // Unknown questions, actions and status links.
    assert_eq!(upvote(&h, 2, "nope", LIVE).status, 404);
    let res = host(
        &h,
        Method::Post,
        "/questions/nope",
        Some(json!({"action": "pin"})),
        LIVE,
    );
    assert_eq!(res.status, 404);
    let res = host(
        &h,
        Method::Post,
        "/questions/nope",
        Some(json!({"action": "explode"})),
        LIVE,
    );
    assert_eq!(res.status, 400, "{}", res.body);
    let res = host(
        &h,
        Method::Put,
        "/status",
        Some(json!({"status": "Live", "stream_url": "http://insecure.example"})),
        LIVE,
    );
    assert_eq!((res.status, field(&res)), (400, "stream_url".into()));
    // What was refused is nowhere.
    let seen = room(&h, LIVE + 1);
    assert_eq!(seen["questions"].as_array().map(Vec::len), Some(3));
    assert!(!seen.to_string().contains("4111"));
    assert_eq!(seen["status"], "");
}

#[test]
fn a_restarted_room_loses_nothing_and_late_joiners_replay_to_the_same_room() {
    let h = seeded();
    let joined: PublicRoom =
        serde_json::from_value(room(&h, LIVE)).unwrap_or_else(|e| panic!("{e}"));
    let id = asked(&h, 1, "Does the app work offline?", LIVE + 1);
    upvote(&h, 2, &id, LIVE + 2);
    // The object is evicted (or the worker restarts): its memory goes, its storage stays.
    h.rooms.restart();
    let late = room(&h, LIVE + 3);
    assert_eq!(question(&late, &id)["votes"], 1);
    // After the restart a repeated vote still counts once (the vote's key is stored).
    assert_eq!(body(&upvote(&h, 2, &id, LIVE + 4))["counted"], false);
    act(
        &h,
        &id,
        json!({"action": "answer", "text": "Partly."}),
        LIVE + 5,
    );
    act(&h, &id, json!({"action": "done"}), LIVE + 6);

    // A viewer who joined first and followed every broadcast sees what a late joiner reads.
    let mut replica = Replica { room: joined };
    for (name, delta) in h.rooms.broadcast.borrow().iter() {
        assert_eq!(name, "demo/qa");
        let frame = serde_json::to_string(&ServerMessage::Delta(delta.clone())).unwrap_or_default();
        let parsed: ServerMessage =
            serde_json::from_str(&frame).unwrap_or_else(|e| panic!("{e}: {frame}"));
        let ServerMessage::Delta(d) = parsed else {
            panic!("{frame} is not a delta")
        };
        assert_eq!(replica.merge(&d), Merge::Applied);
    }
    let mut now: PublicRoom =
        serde_json::from_value(room(&h, LIVE + 7)).unwrap_or_else(|e| panic!("{e}"));
    now.watching = replica.room.watching;
    assert_eq!(replica.room, now);
}

#[test]
fn each_room_call_makes_a_bounded_number_of_storage_operations() {
    let h = seeded();
    let id = asked(&h, 1, "How many?", LIVE);
    for who in 2..40 {
        upvote(&h, who, &id, LIVE);
    }
    h.rooms.restart();
    // Waking: the meta key and one listing; a vote: one read and one write.
    room(&h, LIVE);
    assert_eq!(h.rooms.storage_ops("demo/qa"), 2);
    upvote(&h, 99, &id, LIVE);
    assert_eq!(h.rooms.storage_ops("demo/qa"), 4);
    room(&h, LIVE);
    assert_eq!(
        h.rooms.storage_ops("demo/qa"),
        4,
        "a read of a loaded room is free"
    );
}

#[test]
fn ending_makes_a_recap_story_draft_and_unpublished_kb_drafts() {
    let h = seeded();
    let a = asked(&h, 1, "Can I get a refund after 30 days?", LIVE);
    let b = asked(&h, 2, "Unanswered one", LIVE + 1);
    act(
        &h,
        &a,
        json!({"action": "answer", "text": "Yes, within 60 days."}),
        LIVE + 2,
    );
    let res = host(&h, Method::Post, "/end", None, LIVE + 3);
    assert_eq!(res.status, 200, "{}", res.body);
    let ended = body(&res);
    assert_eq!(ended["ended_at"], LIVE + 3);
    let slides = ended["recap"]["story"]["slides"].to_string();
    assert!(
        slides.contains("Can I get a refund after 30 days?"),
        "{slides}"
    );
    assert!(slides.contains("Yes, within 60 days."), "{slides}");
    assert!(!slides.contains("Unanswered one"), "{slides}");
    assert_eq!(ended["recap"]["story"]["id"], "qa-recap");
    let kb_id = format!("question-live-{a}");
    assert_eq!(ended["kb"], json!([kb_id]));

    // The story is a draft: not in the feed until an operator publishes it.
    let feed = h.feed(LIVE + 4);
    assert!(!feed.to_string().contains("qa-recap"));
    let story = ended["recap"]["story"].clone();
    let res = h.put("/v1/admin/sites/demo/stories/qa-recap", story, LIVE + 5);
    assert!(res.status == 201 || res.status == 200, "{}", res.body);
    assert!(h.feed(LIVE + 6).to_string().contains("qa-recap"));

    // The KB draft is stored unpublished, for an operator to edit and publish.
    let res = h.admin(
        Method::Get,
        &format!("/v1/admin/sites/demo/kb/questions/live-{a}"),
        None,
        LIVE + 7,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    let entry = body(&res);
    assert_eq!(entry["published"], false, "{entry}");
    assert_eq!(entry["body"], "Yes, within 60 days.");

    // Over: no more asking or voting; ending again answers with the same recap and keeps an
    // operator's edit of the draft.
    let late = ask(&h, 3, "Too late?", LIVE + 8);
    assert_eq!((late.status, code(&late)), (409, "ended".into()));
    assert_eq!(upvote(&h, 3, &b, LIVE + 8).status, 409);
    let edit = h.admin(
        Method::Put,
        &format!("/v1/admin/sites/demo/kb/questions/live-{a}"),
        Some(json!({"topic": "billing", "title": "Refunds after 30 days", "body": "Yes, within 60 days of purchase.", "published": true})),
        LIVE + 9,
    );
    assert_eq!(edit.status, 200, "{}", edit.body);
    let again = body(&host(&h, Method::Post, "/end", None, LIVE + 10));
    assert_eq!(again["ended_at"], LIVE + 3);
    let res = h.admin(
        Method::Get,
        &format!("/v1/admin/sites/demo/kb/questions/live-{a}"),
        None,
        LIVE + 11,
    );
    assert_eq!(body(&res)["title"], "Refunds after 30 days");
    let recap = body(&host(&h, Method::Get, "/recap", None, LIVE + 12));
    assert_eq!(
        recap["recap"]["story"]["slides"],
        ended["recap"]["story"]["slides"]
    );
    // Viewers see that it ended.
    assert_eq!(room(&h, LIVE + 13)["ended_at"], LIVE + 3);
}

#[test]
fn questions_and_votes_are_recorded_as_facts_and_erased_with_their_visitor() {
    let h = seeded();
    let id = asked(&h, 1, "Is there a student discount?", LIVE);
    upvote(&h, 2, &id, LIVE + 1);
    upvote(&h, 2, &id, LIVE + 2);
    h.drain(LIVE + 3);
    let count = |sql: &'static str| -> i64 {
        let rows = pollster::block_on(h.db().query(&glimpse_worker::sql::Stmt::new(sql)))
            .unwrap_or_else(|e| panic!("{e}"));
        rows.first()
            .and_then(|r| r.get("n"))
            .and_then(Value::as_i64)
            .unwrap_or(-1)
    };
    assert_eq!(
        count(
            "SELECT COUNT(*) AS n FROM live_questions WHERE text = 'Is there a student discount?'"
        ),
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM live_votes"),
        1,
        "a repeated vote is no fact"
    );
    for who in [1, 2] {
        let res = h.admin(
            Method::Delete,
            &format!("/v1/admin/sites/demo/visitors/{}", visitor(who)),
            None,
            LIVE + 4,
        );
        assert_eq!(res.status, 200, "{}", res.body);
    }
    assert_eq!(count("SELECT COUNT(*) AS n FROM live_questions"), 0);
    assert_eq!(count("SELECT COUNT(*) AS n FROM live_votes"), 0);
}
