//! The edge API in the real runtime: wrangler dev (workerd) with its local KV. An operator
//! publishes through the admin API, visitors see it in the feed, vote, and the operator
//! reads exact results.

use glimpse_e2e::Result;
use glimpse_e2e::stack::{Stack, now_ms};
use serde_json::{Value, json};

fn parse(body: &str) -> Result<Value> {
    serde_json::from_str(body).map_err(|e| format!("not JSON ({e}): {body}"))
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
#[ignore = "needs the built worker: run by `cargo xtask test`"]
fn an_operator_publishes_visitors_vote_and_results_are_exact() -> Result {
    let stack = Stack::start_demo()?;
    let now = now_ms();
    let hour = 3_600_000;

    // Without the token the admin API refuses, and says how to authenticate.
    let res = stack.request("GET", "/v1/admin/sites/demo", &[], "")?;
    assert_eq!(res.status, 401, "{}", res.body);
    assert!(
        res.header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer"))
    );
    assert_eq!(parse(&res.body)?["error"]["code"], "unauthorized");

    // Publish a story and a poll.
    let story = json!({
        "id": "e2e-story", "title": "Change your delivery address", "topic": "orders",
        "slides": [{"text": "Open My orders", "duration_ms": 5000},
                   {"text": "Tap Change address", "duration_ms": 5000}],
        "publish_at": now - 1_000, "expires_at": now + hour
    });
    let res = stack.admin(
        "PUT",
        "/v1/admin/sites/demo/stories/e2e-story",
        &story.to_string(),
    )?;
    assert_eq!(res.status, 201, "{}", res.body);
    // The demo site offers Spanish and Bokmål: the only advice is that this story has
    // neither translation yet.
    let fields: Vec<Value> = parse(&res.body)?["warnings"]
        .as_array()
        .map(|w| w.iter().map(|x| x["field"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(fields, [json!("translations.es"), json!("translations.nb")]);
    let poll = json!({
        "id": "e2e-poll", "question": "Which delivery slot suits you?",
        "kind": {"type": "choice", "options": ["Morning", "Afternoon", "Evening"]},
        "publish_at": now - 1_000, "expires_at": now + hour, "show_results": true
    });
    let res = stack.admin(
        "PUT",
        "/v1/admin/sites/demo/polls/e2e-poll",
        &poll.to_string(),
    )?;
    assert_eq!(res.status, 201, "{}", res.body);
    let res = stack.admin("PUT", "/v1/admin/sites/demo/polls/e2e-poll", "{\"id\":")?;
    assert_eq!(res.status, 400, "{}", res.body);

    // Visitors see both in the feed, with an ETag that revalidates.
    let res = stack.request("GET", "/v1/sites/demo/feed", &[], "")?;
    assert_eq!(res.status, 200);
    let feed = parse(&res.body)?;
    assert!(
        ids(&feed["stories"]).contains(&"e2e-story".to_string()),
        "{feed}"
    );
    assert!(
        ids(&feed["polls"]).contains(&"e2e-poll".to_string()),
        "{feed}"
    );
    let etag = res
        .header("etag")
        .ok_or("the feed has no ETag")?
        .to_string();
    let res = stack.request(
        "GET",
        "/v1/sites/demo/feed",
        &[("if-none-match", &etag)],
        "",
    )?;
    assert_eq!(res.status, 304);

    // A browser on an allowed origin gets its preflight answered; others do not.
    let preflight = |origin: &str| {
        stack.request(
            "OPTIONS",
            "/v1/sites/demo/polls/e2e-poll/responses",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
            "",
        )
    };
    let res = preflight("http://127.0.0.1:8787")?;
    assert_eq!(res.status, 204, "{}", res.body);
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("http://127.0.0.1:8787")
    );
    let res = preflight("https://evil.example")?;
    assert_eq!(res.status, 403);
    assert_eq!(res.header("access-control-allow-origin"), None);

    // Five visitors vote; one retries, one changes their mind.
    let vote = |visitor: usize, response: usize, choice: u8| {
        let body = json!({
            "id": format!("e2e-response-{response:06}"),
            "visitor": format!("e2e-visitor-{visitor:06}"),
            "answer": {"choice": choice},
        });
        stack.request(
            "POST",
            "/v1/sites/demo/polls/e2e-poll/responses",
            &[
                ("content-type", "application/json"),
                ("origin", "http://127.0.0.1:8787"),
            ],
            &body.to_string(),
        )
    };
    for (visitor, choice) in [(1, 0), (2, 0), (3, 1), (4, 2), (5, 2)] {
        let res = vote(visitor, visitor, choice)?;
        assert_eq!(res.status, 202, "{}", res.body);
        assert_eq!(
            res.header("access-control-allow-origin"),
            Some("http://127.0.0.1:8787")
        );
    }
    // Let the first answers be applied, then replay one and change another: the replay is
    // acknowledged again and counted once, the change replaces (decided by the consumer).
    stack.poll_results_when("demo", "e2e-poll", 5)?;
    let res = vote(1, 1, 0)?;
    assert_eq!(
        res.status, 202,
        "a replayed response is acknowledged: {}",
        res.body
    );
    assert_eq!(parse(&res.body)?["answer"], json!({"choice": 0}));
    let res = vote(5, 6, 1)?;
    assert_eq!(res.status, 202, "{}", res.body);
    let res = vote(6, 7, 9)?;
    assert_eq!(res.status, 400);
    assert_eq!(parse(&res.body)?["error"]["field"], "answer");

    stack.eventually(
        "the changed answer counted, the replay not",
        json!([2, 2, 1]),
        std::time::Duration::from_secs(20),
        || Ok(stack.poll_results("demo", "e2e-poll")?["counts"].clone()),
    )?;
    let results = stack.poll_results("demo", "e2e-poll")?;
    assert_eq!(results["total"], 5, "{results}");

    // Events are accepted as a batch.
    let batch = json!({
        "id": "e2e-batch-0000000001", "visitor": "e2e-visitor-000001",
        "events": [{"kind": "story_view", "story": "e2e-story"},
                   {"kind": "story_complete", "story": "e2e-story"}]
    });
    let res = stack.request(
        "POST",
        "/v1/sites/demo/events",
        &[("content-type", "application/json")],
        &batch.to_string(),
    )?;
    assert_eq!(res.status, 202, "{}", res.body);

    // Unpublishing removes the story from the feed at once.
    let res = stack.admin("DELETE", "/v1/admin/sites/demo/stories/e2e-story", "")?;
    assert_eq!(res.status, 204);
    let feed = parse(&stack.request("GET", "/v1/sites/demo/feed", &[], "")?.body)?;
    assert!(!ids(&feed["stories"]).contains(&"e2e-story".to_string()));
    Ok(())
}

#[test]
#[ignore = "needs the built worker: run by `cargo xtask test`"]
fn events_reach_the_report_through_the_queue_and_the_cron_fans_out_to_each_site() -> Result {
    let stack = Stack::start_demo()?;
    let origin = stack.url("");
    let post = |path: &str, body: Value| {
        stack.request(
            "POST",
            path,
            &[("content-type", "application/json"), ("origin", &origin)],
            &body.to_string(),
        )
    };
    let visitor = "cronvisitor00000000001";
    let res = post(
        "/v1/sites/demo/events",
        json!({
            "id": "cronbatch0000000000001", "visitor": visitor,
            "events": [{"kind": "story_view", "story": "track-order"},
                       {"kind": "slide_view", "story": "track-order", "slide": 0}]
        }),
    )?;
    assert_eq!(res.status, 202, "{}", res.body);
    // The day's counters move as soon as the queue has applied the batch (no roll-up step).
    let today = glimpse_shared::time::utc_date(now_ms());
    stack.eventually(
        "today's views",
        json!(1),
        std::time::Duration::from_secs(20),
        || {
            let res = stack.admin(
                "GET",
                &format!("/v1/admin/sites/demo/rollups?from={today}&to={today}"),
                "",
            )?;
            Ok(parse(&res.body)?["days"][0]["stories"]["track-order"]["views"].clone())
        },
    )?;

    // A vote on a poll the operator then deletes: the hourly trigger fans out to every
    // site through the queue, and the demo site's tick removes the deleted poll's votes.
    let poll = json!({
        "id": "cron-poll", "question": "Was this useful?", "publish_at": now_ms() - 60_000,
        "expires_at": now_ms() + 86_400_000, "kind": {"type": "rating"}
    });
    let res = stack.admin(
        "PUT",
        "/v1/admin/sites/demo/polls/cron-poll",
        &poll.to_string(),
    )?;
    assert_eq!(res.status, 201, "{}", res.body);
    let res = post(
        "/v1/sites/demo/polls/cron-poll/responses",
        json!({"id": "cronresponse0000000001", "visitor": visitor, "answer": {"rating": 4}}),
    )?;
    assert_eq!(res.status, 202, "{}", res.body);
    stack.poll_results_when("demo", "cron-poll", 1)?;
    let res = stack.admin("DELETE", "/v1/admin/sites/demo/polls/cron-poll", "")?;
    assert_eq!(res.status, 204, "{}", res.body);
    let votes = || -> Result<usize> {
        let res = stack.admin(
            "GET",
            &format!("/v1/admin/sites/demo/visitors/{visitor}"),
            "",
        )?;
        Ok(parse(&res.body)?["votes"].as_array().map_or(0, Vec::len))
    };
    assert_eq!(votes()?, 1, "kept until the site's tick");
    // The hourly trigger of wrangler.toml, run now (wrangler dev --test-scheduled).
    let (status, body) = stack.get("/__scheduled?cron=17+*+*+*+*")?;
    assert_eq!(status, 200, "{body}");
    stack.eventually(
        "the deleted poll's votes after the tick",
        0,
        std::time::Duration::from_secs(20),
        votes,
    )?;
    Ok(())
}

/// Opening hours across DST changes, computed in the real runtime (workerd's own ICU time
/// zone data, not a compiled-in database), checked at chosen instants through the operators'
/// availability preview. The expected instants are the tz database's (Python's zoneinfo
/// agrees).
#[test]
#[ignore = "needs the built worker: run by `cargo xtask test`"]
fn opening_hours_follow_dst_changes_in_the_real_runtime() -> Result {
    let stack = Stack::start_demo()?;
    let site_with = |zone: &str, hours: Value| -> Result {
        let mut site = serde_json::to_value(&stack.demo.site).map_err(|e| e.to_string())?;
        site["timezone"] = json!(zone);
        site["topics"][1]["hours"] = hours;
        let res = stack.admin("PUT", "/v1/admin/sites/demo", &site.to_string())?;
        assert_eq!(res.status, 200, "{}", res.body);
        Ok(())
    };
    let orders_at = |at: i64| -> Result<Value> {
        let res = stack.admin(
            "GET",
            &format!("/v1/admin/sites/demo/availability?at={at}"),
            "",
        )?;
        assert_eq!(res.status, 200, "{}", res.body);
        let body = parse(&res.body)?;
        assert_eq!(body["at"], json!(at));
        body["availability"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["topic"] == "orders"))
            .cloned()
            .ok_or_else(|| format!("no availability for orders at {at}: {body}"))
    };
    let every_day = json!([{"days": ["mon","tue","wed","thu","fri","sat","sun"], "from": "09:00", "to": "17:00"}]);

    // Oslo: CET (UTC+1) until 2026-03-29 01:00Z, then CEST (UTC+2) until 2026-10-25 01:00Z.
    site_with("Europe/Oslo", every_day.clone())?;
    // Sat 2026-03-28 12:00Z (13:00 CET): open until 17:00 CET = 16:00Z.
    let a = orders_at(1_774_699_200_000)?;
    assert_eq!(
        (&a["open"], &a["until"]),
        (&json!(true), &json!(1_774_713_600_000_i64))
    );
    // Sat 20:00Z: closed; Sunday opens at 09:00 CEST = 07:00Z, an hour earlier in UTC.
    let a = orders_at(1_774_728_000_000)?;
    assert_eq!(
        (&a["open"], &a["next_open"]),
        (&json!(false), &json!(1_774_767_600_000_i64))
    );
    // Sun 2026-03-29 12:00Z (14:00 CEST): open until 17:00 CEST = 15:00Z.
    let a = orders_at(1_774_785_600_000)?;
    assert_eq!(a["until"], json!(1_774_796_400_000_i64));
    // Sat 2026-10-24 20:00Z (22:00 CEST): Sunday opens at 09:00 CET = 08:00Z.
    let a = orders_at(1_792_872_000_000)?;
    assert_eq!(a["next_open"], json!(1_792_915_200_000_i64));

    // An opening inside the spring-forward gap (02:30 does not exist on 2026-03-29 in Oslo)
    // starts when the clock resumes: 03:00 CEST = 01:00Z.
    site_with(
        "Europe/Oslo",
        json!([{"days": ["sun"], "from": "02:30", "to": "04:00"}]),
    )?;
    let a = orders_at(1_774_735_200_000)?;
    assert_eq!(a["next_open"], json!(1_774_746_000_000_i64));

    // New York falls back on 2026-11-01 06:00Z: Sunday 08:00 EST = 13:00Z.
    site_with(
        "America/New_York",
        json!([{"days": ["sun"], "from": "08:00", "to": "18:00"}]),
    )?;
    let a = orders_at(1_793_487_600_000)?;
    assert_eq!(a["next_open"], json!(1_793_538_000_000_i64));

    // A zone the runtime does not know is refused, naming the field.
    let mut site = serde_json::to_value(&stack.demo.site).map_err(|e| e.to_string())?;
    site["timezone"] = json!("Mars/Olympus");
    let res = stack.admin("PUT", "/v1/admin/sites/demo", &site.to_string())?;
    assert_eq!(res.status, 400, "{}", res.body);
    assert_eq!(parse(&res.body)?["error"]["field"], json!("timezone"));
    // And a time that is not one is a 400 naming `at`.
    let res = stack.admin("GET", "/v1/admin/sites/demo/availability?at=soon", "")?;
    assert_eq!(
        (res.status, parse(&res.body)?["error"]["field"].clone()),
        (400, json!("at"))
    );
    Ok(())
}

/// The runtime's time zone data (workerd's ICU, behind `Intl.DateTimeFormat`) and chrono-tz's
/// (what native tests use) give the same live help, at 40 instants spread over 2024–2030 in
/// each of seven zones with DST (30- and 45-minute offsets, southern hemisphere, a 30-minute
/// DST shift): the worker's availability preview in wrangler dev against the same core
/// computed here with `TzDatabase`.
#[test]
#[ignore = "needs the built worker: run by `cargo xtask test`"]
fn the_runtimes_time_zones_agree_with_chrono_tz_over_years() -> Result {
    use glimpse_worker::hours::{TzDatabase, availability};
    let stack = Stack::start_demo()?;
    let (from, to) = (1_704_067_200_000_i64, 1_924_992_000_000_i64); // 2024-01-01 .. 2031-01-01
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64*: a fixed, reproducible spread of instants.
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    for zone in [
        "Europe/Oslo",
        "Europe/London",
        "America/New_York",
        "America/St_Johns",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
    ] {
        let mut site = serde_json::to_value(&stack.demo.site).map_err(|e| e.to_string())?;
        site["timezone"] = json!(zone);
        site["topics"][1]["hours"] = json!([
            {"days": ["mon","tue","wed","thu","fri"], "from": "09:00", "to": "17:00"},
            {"days": ["sun"], "from": "01:30", "to": "03:15"}
        ]);
        let res = stack.admin("PUT", "/v1/admin/sites/demo", &site.to_string())?;
        assert_eq!(res.status, 200, "{}", res.body);
        let site: glimpse_shared::Site = serde_json::from_value(site).map_err(|e| e.to_string())?;
        for _ in 0..40 {
            let span = u64::try_from(to - from).unwrap_or(1);
            let at = from + i64::try_from(next() % span).unwrap_or(0);
            let res = stack.admin(
                "GET",
                &format!("/v1/admin/sites/demo/availability?at={at}"),
                "",
            )?;
            assert_eq!(res.status, 200, "{}", res.body);
            // The topic with hours (the demo's live session adds another topic at the edge).
            let orders = |list: Value| {
                list.as_array()
                    .and_then(|a| a.iter().find(|x| x["topic"] == "orders").cloned())
            };
            let edge = orders(parse(&res.body)?["availability"].clone());
            let native = orders(
                serde_json::to_value(availability(&site, &[], &TzDatabase, at))
                    .map_err(|e| e.to_string())?,
            );
            assert!(edge.is_some(), "{zone} at {at}: no availability for orders");
            assert_eq!(edge, native, "{zone} at {at}");
        }
    }
    Ok(())
}
