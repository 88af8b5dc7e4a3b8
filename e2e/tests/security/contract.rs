//! See ../security.rs. The HTTP contract in the real runtime: a method the API does not
//! serve is refused with 405, the methods it does serve in `Allow`, and a JSON error — never
//! answered as a GET (the workers-rs request type turns methods it does not know into GET,
//! so the edge reads the raw method) — and it changes nothing.

use std::collections::BTreeSet;

use glimpse_e2e::Result;
use glimpse_e2e::stack::Stack;
use serde_json::Value;
use xtask::wrangler::HttpResponse;

/// Methods no Glimpse route serves: new or WebDAV ones, and the standard ones left out.
const UNKNOWN: [&str; 5] = ["QUERY", "PATCH", "PROPFIND", "MKCOL", "TRACE"];

fn allow_set(res: &HttpResponse) -> BTreeSet<String> {
    res.header("allow")
        .unwrap_or("")
        .split(',')
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect()
}

fn set(methods: &[&str]) -> BTreeSet<String> {
    methods.iter().map(|m| (*m).to_string()).collect()
}

/// `method path` was refused with 405, `allow` in the `Allow` header and a JSON error body.
fn assert_refused(res: &HttpResponse, method: &str, path: &str, allow: &[&str]) -> Result {
    assert_eq!(
        res.status, 405,
        "{method} {path}: {} {}",
        res.status, res.body
    );
    assert_eq!(allow_set(res), set(allow), "{method} {path}: Allow");
    let body: Value = serde_json::from_str(&res.body)
        .map_err(|e| format!("{method} {path}: not JSON ({e}): {}", res.body))?;
    assert_eq!(
        body["error"]["code"], "method_not_allowed",
        "{method} {path}: {}",
        res.body
    );
    assert!(
        res.header("content-type")
            .is_some_and(|ct| ct.starts_with("application/json")),
        "{method} {path}: content-type {:?}",
        res.header("content-type")
    );
    Ok(())
}

#[test]
#[ignore = "needs the built worker: run by `cargo xtask test`"]
fn unknown_methods_are_refused_with_405_and_allow_and_change_nothing() -> Result {
    let stack = Stack::start_demo()?;
    let auth = format!("Bearer {}", stack.admin_token);
    let story_path = "/v1/admin/sites/demo/stories/track-order";
    let story_before = stack.admin("GET", story_path, "")?;
    assert_eq!(story_before.status, 200, "{}", story_before.body);
    let feed_before = stack.get("/v1/sites/demo/feed")?;
    assert_eq!(feed_before.0, 200, "{}", feed_before.1);
    let results_before = stack.poll_results("demo", "csat")?;

    // A rewrite of the story, as an operator's PATCH (or any unknown method) would carry it.
    let mut rewritten: Value = serde_json::from_str(&story_before.body)
        .map_err(|e| format!("stored story is not JSON ({e})"))?;
    rewritten["title"] = Value::from("Defaced by a method nobody serves");
    let rewritten = rewritten.to_string();
    let vote =
        r#"{"id":"contract-vote-0001","visitor":"contract-visitor-01","answer":{"rating":1}}"#;

    let cases: [(&str, &[&str], &str); 5] = [
        ("/health", &["GET", "HEAD"], ""),
        ("/v1/sites/demo/feed", &["GET", "HEAD", "OPTIONS"], ""),
        (
            "/v1/sites/demo/polls/csat/responses",
            &["POST", "OPTIONS"],
            vote,
        ),
        (story_path, &["GET", "HEAD", "PUT", "DELETE"], &rewritten),
        (
            "/v1/admin/sites/demo",
            &["GET", "HEAD", "PUT", "DELETE"],
            "",
        ),
    ];
    for (path, allow, body) in cases {
        for method in UNKNOWN {
            let res = stack.request(
                method,
                path,
                &[
                    ("authorization", &auth),
                    ("content-type", "application/json"),
                ],
                body,
            )?;
            assert_refused(&res, method, path, allow)?;
        }
    }
    // A method the route does not serve, though the API knows it, is refused the same way.
    let res = stack.request("DELETE", "/health", &[], "")?;
    assert_refused(&res, "DELETE", "/health", &["GET", "HEAD"])?;

    // Nothing changed: the story, the visitors' feed and the poll's votes are as before.
    let story_after = stack.admin("GET", story_path, "")?;
    assert_eq!(story_after.status, 200);
    assert_eq!(story_after.body, story_before.body);
    let feed_after = stack.get("/v1/sites/demo/feed")?;
    assert!(
        !feed_after.1.contains("Defaced"),
        "the feed shows the rewrite: {}",
        feed_after.1
    );
    assert_eq!(stack.poll_results("demo", "csat")?, results_before);
    Ok(())
}
