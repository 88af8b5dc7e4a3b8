//! The real runtime under concurrency and hostile input: wrangler dev (workerd) with its
//! local KV.

use std::sync::Arc;
use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::stack::Stack;
use serde_json::json;

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
    let run = |range: Vec<usize>| -> Result<Vec<u16>> {
        let chunks: Vec<Vec<usize>> = range
            .chunks(range.len().div_ceil(threads))
            .map(<[usize]>::to_vec)
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let stack = Arc::clone(&stack);
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
    };
    let statuses = run((0..visitors).collect())?;
    let created = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(
        created,
        visitors,
        "every first answer is 201: {:?}",
        statuses
            .iter()
            .filter(|s| **s != 201)
            .take(5)
            .collect::<Vec<_>>()
    );
    // 200 replays of ids already sent, concurrently: acknowledged, never counted again.
    let replays = run((0..200).map(|i| i * 5).collect())?;
    assert!(replays.iter().all(|s| *s == 200), "replays are 200");
    let r = stack.poll_results("demo", "story-helpful")?;
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
            huge,
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
    Ok(())
}
