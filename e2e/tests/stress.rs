//! The real runtime under concurrency and hostile input: wrangler dev (workerd) with its
//! local KV.

use std::sync::Arc;
use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::stack::Stack;
use serde_json::json;

/// Sends request `i` for every `i` in `range` with `send`, spread over `threads` threads;
/// the statuses in no particular order.
fn concurrently(
    stack: &Arc<Stack>,
    range: Vec<usize>,
    threads: usize,
    send: impl Fn(&Stack, usize) -> Result<u16> + Copy + Send + 'static,
) -> Result<Vec<u16>> {
    let handles: Vec<_> = range
        .chunks(range.len().div_ceil(threads))
        .map(<[usize]>::to_vec)
        .map(|chunk| {
            let stack = Arc::clone(stack);
            std::thread::spawn(move || {
                chunk
                    .into_iter()
                    .map(|i| send(&stack, i))
                    .collect::<Result<Vec<u16>>>()
            })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.extend(
            h.join()
                .map_err(|_| "a sender thread panicked".to_string())??,
        );
    }
    Ok(out)
}

#[test]
#[ignore = "needs the built worker: run by `cargo xtask test`"]
fn a_thousand_concurrent_visitors_are_counted_exactly_once() -> Result {
    // Rate limiting is per client address; all of this comes from 127.0.0.1.
    let stack = Arc::new(Stack::start_demo_with(&[("RATE_LIMIT_PER_MINUTE", "0")])?);
    let visitors = 1_000usize;
    let threads = 25usize;
    let send = |stack: &Stack, i: usize| -> Result<u16> {
        let body = json!({
            "id": format!("stress-response-{i:08}"),
            "visitor": format!("stress-visitor-{i:08}"),
            "answer": {"choice": i % 3},
        });
        stack
            .request(
                "POST",
                "/v1/sites/demo/polls/story-helpful/responses",
                &[("content-type", "application/json")],
                &body.to_string(),
            )
            .map(|r| r.status)
    };
    let run = |range: Vec<usize>| concurrently(&stack, range, threads, send);
    let statuses = run((0..visitors).collect())?;
    let accepted = statuses.iter().filter(|s| **s == 202).count();
    assert_eq!(
        accepted,
        visitors,
        "every answer is 202: {:?}",
        statuses
            .iter()
            .filter(|s| **s != 202)
            .take(5)
            .collect::<Vec<_>>()
    );
    // 200 replays of ids already sent, concurrently: acknowledged, never counted again.
    let replays = run((0..200).map(|i| i * 5).collect())?;
    assert!(replays.iter().all(|s| *s == 202), "replays are 202");
    let r = stack.poll_results_when("demo", "story-helpful", visitors as u64)?;
    assert_eq!(r["total"], json!(visitors), "{r}");
    let counts: Vec<u64> =
        serde_json::from_value(r["counts"].clone()).map_err(|e| e.to_string())?;
    assert_eq!(counts, [334, 333, 333]);
    Ok(())
}

/// A hostile request: method, path, headers, body.
type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, String);

#[test]
#[ignore = "needs the built worker: run by `cargo xtask test`"]
fn hostile_requests_get_4xx_never_5xx() -> Result {
    let stack = Stack::start_demo()?;
    let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let huge = "x".repeat(2 * 1024 * 1024);
    // Over the 64 KiB the deployed worker drains: refused before a byte is read (no site).
    let big = "y".repeat(200 * 1024);
    let invalid_utf8 = String::from_utf8_lossy(&[0x7b, 0xff, 0xfe, 0x7d]).into_owned();
    let json_ct = [("content-type", "application/json")];
    let cases: Vec<Case<'_>> = vec![
        (
            "POST",
            "/v1/sites/demo/polls/csat/responses".into(),
            json_ct.to_vec(),
            "{not json".into(),
        ),
        (
            "POST",
            "/v1/sites/demo/polls/csat/responses".into(),
            json_ct.to_vec(),
            deep.clone(),
        ),
        (
            "POST",
            "/v1/sites/demo/polls/csat/responses".into(),
            json_ct.to_vec(),
            huge.clone(),
        ),
        (
            "POST",
            "/v1/sites/demo/polls/csat/responses".into(),
            json_ct.to_vec(),
            invalid_utf8.clone(),
        ),
        (
            "POST",
            "/v1/sites/demo/polls/csat/responses".into(),
            json_ct.to_vec(),
            r#"{"id":1,"visitor":[],"answer":{"rating":"5"}}"#.into(),
        ),
        (
            "POST",
            "/v1/sites/demo/polls/csat/responses".into(),
            vec![("content-type", "text/plain")],
            "{}".into(),
        ),
        (
            "POST",
            "/v1/sites/demo/events".into(),
            json_ct.to_vec(),
            deep,
        ),
        (
            "POST",
            "/v1/sites/demo/questions".into(),
            json_ct.to_vec(),
            huge.clone(),
        ),
        (
            "POST",
            "/v1/sites/demo/questions".into(),
            json_ct.to_vec(),
            invalid_utf8,
        ),
        (
            "GET",
            "/v1/sites/..%2F..%2Fadmin/feed".into(),
            vec![],
            String::new(),
        ),
        (
            "GET",
            "/v1/sites/demo/../admin/sites/demo".into(),
            vec![],
            String::new(),
        ),
        (
            "GET",
            format!("/v1/sites/{}/feed", "a".repeat(300)),
            vec![],
            String::new(),
        ),
        (
            "GET",
            "/v1/sites/demo/questions/x".into(),
            vec![("authorization", "Bearer ")],
            String::new(),
        ),
        (
            "DELETE",
            "/v1/sites/demo/feed".into(),
            vec![],
            String::new(),
        ),
        (
            "PUT",
            "/v1/admin/sites/demo".into(),
            vec![("authorization", "Bearer wrong")],
            "{}".into(),
        ),
        ("PATCH", "/v1/sites/demo/feed".into(), vec![], String::new()),
        (
            "GET",
            "/v1/sites/demo/kb?q=%ff%fe&topic=..%2F".into(),
            vec![],
            String::new(),
        ),
    ];
    for (method, path, headers, body) in &cases {
        let res = stack.request(method, path, headers, body)?;
        assert!(
            (400..500).contains(&res.status) || (res.status == 404 && path.contains("..")),
            "{method} {path} answered {}: {}",
            res.status,
            res.body.chars().take(200).collect::<String>()
        );
    }
    // The worker is still healthy afterwards.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(stack.get("/health")?.0, 200);
    // Refused early, a large body is still read to its end under wrangler dev (its proxy
    // cannot reuse a connection whose body was cancelled, and would answer the next write
    // with its own 503): each write right after one gets the worker's answer, first time.
    for round in 0..10 {
        for (path, body) in [
            ("/v1/sites/demo/questions", &huge),
            ("/v1/sites/no-such-site/events", &big),
        ] {
            let refused = stack.request_once("POST", path, &json_ct, body)?;
            assert!(
                matches!(refused.status, 404 | 413),
                "round {round}: {path} with {} bytes answered {}: {}",
                body.len(),
                refused.status,
                refused.body
            );
            let batch = json!({
                "id": format!("stress-after-{round}-{}", body.len()),
                "visitor": format!("stress-after-{round}-{}", body.len()),
                "events": [{"kind": "story_view", "story": "track-order"}],
            });
            let next = stack.request_once(
                "POST",
                "/v1/sites/demo/events",
                &json_ct,
                &batch.to_string(),
            )?;
            assert_eq!(
                next.status, 202,
                "round {round}: the write after {path}'s refusal: {}",
                next.body
            );
        }
    }
    Ok(())
}

/// Thousands of event batches and votes through the public API of the real runtime (local
/// D1 and Queues): once the queue drains, the operators' report and results are exact, and
/// erasing a visitor removes their answer from the tally.
#[test]
#[ignore = "needs the built worker: run by `cargo xtask test`"]
fn thousands_of_batches_and_votes_are_exact_once_the_queue_drains() -> Result {
    let stack = Arc::new(Stack::start_demo_with(&[("RATE_LIMIT_PER_MINUTE", "0")])?);
    let batches = 3_000usize;
    let voters = 1_500usize;
    let threads = 16usize;
    // Request i < batches: an event batch from visitor i (a view and a completion of
    // track-order, and a view of reset-password by every other visitor); then the votes.
    let send = move |stack: &Stack, i: usize| -> Result<u16> {
        let (path, body) = if i < batches {
            let mut events = vec![
                json!({"kind": "story_view", "story": "track-order"}),
                json!({"kind": "story_complete", "story": "track-order"}),
            ];
            if i.is_multiple_of(2) {
                events.push(json!({"kind": "story_view", "story": "reset-password"}));
            }
            (
                "/v1/sites/demo/events",
                json!({
                    "id": format!("scale-batch-{i:010}"),
                    "visitor": format!("scale-visitor-{i:08}"),
                    "events": events,
                }),
            )
        } else {
            let v = i - batches;
            (
                "/v1/sites/demo/polls/story-helpful/responses",
                json!({
                    "id": format!("scale-response-{v:08}"),
                    "visitor": format!("scale-visitor-{v:08}"),
                    "answer": {"choice": v % 3},
                }),
            )
        };
        stack
            .request(
                "POST",
                path,
                &[("content-type", "application/json")],
                &body.to_string(),
            )
            .map(|r| r.status)
    };
    let started = std::time::Instant::now();
    let statuses = concurrently(&stack, (0..batches + voters).collect(), threads, send)?;
    let refused: Vec<&u16> = statuses
        .iter()
        .filter(|s| !matches!(s, 201 | 202))
        .collect();
    assert!(
        refused.is_empty(),
        "refused: {:?}",
        &refused[..refused.len().min(10)]
    );
    println!("{} requests in {:?}", statuses.len(), started.elapsed());

    let results = stack.poll_results_when("demo", "story-helpful", voters as u64)?;
    assert_eq!(results["counts"], json!([500, 500, 500]), "{results}");
    let today = glimpse_shared::time::utc_date(glimpse_e2e::stack::now_ms());
    let report_path = format!("/v1/admin/sites/demo/report?from={today}&to={today}");
    let story = |report: &serde_json::Value, id: &str, field: &str| -> u64 {
        report["stories"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["id"] == id))
            .and_then(|s| s[field].as_u64())
            .unwrap_or(0)
    };
    let read = || -> Result<(u64, u64, u64, u64)> {
        let res = stack.admin("GET", &report_path, "")?;
        let report: serde_json::Value =
            serde_json::from_str(&res.body).map_err(|e| format!("{e}: {}", res.body))?;
        Ok((
            story(&report, "track-order", "views"),
            story(&report, "track-order", "completions"),
            story(&report, "reset-password", "views"),
            report["totals"]["visitors"].as_u64().unwrap_or(0),
        ))
    };
    let n = batches as u64;
    stack.eventually(
        "the report once the queue drains",
        (n, n, n / 2, n),
        Duration::from_secs(60),
        read,
    )?;
    println!(
        "drained and exact {:?} after the first request",
        started.elapsed()
    );

    // Erasing a voter removes their answer from the tally (and nothing else).
    let path = "/v1/admin/sites/demo/visitors/scale-visitor-00000001";
    let mut erased = false;
    for _ in 0..20 {
        let res = stack.admin("DELETE", path, "")?;
        assert!(
            matches!(res.status, 200 | 202 | 204),
            "erase: {} {}",
            res.status,
            res.body
        );
        if res.status != 202 {
            erased = true;
            break;
        }
    }
    assert!(erased, "the erasure finished");
    let results = stack.poll_results("demo", "story-helpful")?;
    assert_eq!(results["total"], json!(voters - 1), "{results}");
    assert_eq!(results["counts"], json!([500, 499, 500]), "{results}");
    let export = stack.admin("GET", path, "")?;
    assert_eq!(export.status, 200, "{}", export.body);
    assert!(
        !export.body.contains("scale-response-00000001") && !export.body.contains("track-order"),
        "nothing of the visitor is left: {}",
        export.body
    );
    Ok(())
}
