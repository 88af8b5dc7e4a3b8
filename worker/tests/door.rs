//! The operators' door over the whole core: failed authentication throttled per client, one
//! 401 text, ids failing closed without a CSPRNG, thread tokens hashed (old plain ones still
//! working), visitors deleting their thread, whole sites deleted in bounded batches, expiries
//! storage would refuse, and sandboxed photos.

#![allow(clippy::panic)]

mod common;

use common::*;
use glimpse_worker::door::{AuthThrottle, hash_token};
use glimpse_worker::http::ApiRequest;
use glimpse_worker::route::Method;
use glimpse_worker::store::{KvStore, MemoryKv, Put};
use serde_json::json;

fn seeded() -> H<MemoryKv> {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    h.seed();
    h
}

fn from(ip: &str, auth: &str) -> ApiRequest {
    ApiRequest::new(Method::Get, "/v1/admin/sites/demo")
        .header("cf-connecting-ip", ip)
        .header("authorization", auth)
}

fn ask(h: &H<MemoryKv>) -> (String, String) {
    let res = h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/questions")
            .header("origin", ORIGIN)
            .json(
                json!({"visitor": tok("visitor", 7), "topic": "orders", "message": "Where is my parcel?"})
                    .to_string(),
            ),
        T0,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    let v = body(&res);
    (
        v["id"].as_str().unwrap_or_default().to_string(),
        v["token"].as_str().unwrap_or_default().to_string(),
    )
}

fn with_token(method: Method, path: &str, token: &str) -> ApiRequest {
    ApiRequest::new(method, path).header("authorization", &format!("Bearer {token}"))
}

#[test]
fn failed_admin_logins_are_throttled_per_client_and_ipv6_per_64() {
    let mut h = seeded();
    h.auth_failures = AuthThrottle::per_minute();
    let good = format!("Bearer {TOKEN}");
    for i in 0..10 {
        let res = h.call(from("203.0.113.5", "Bearer guess"), T0 + i);
        assert_eq!(res.status, 401, "attempt {i}");
    }
    // The 11th attempt in the minute is refused, even with the right token.
    for auth in ["Bearer guess", good.as_str()] {
        let res = h.call(from("203.0.113.5", auth), T0 + 20);
        assert_eq!(res.status, 429, "{}", res.body);
        assert_eq!(code(&res), "rate_limited");
        assert_eq!(res.get_header("retry-after"), Some("60"));
    }
    // Another client is not held back by it.
    assert_eq!(h.call(from("198.51.100.7", &good), T0 + 20).status, 200);
    // A minute later the client may try again.
    assert_eq!(h.call(from("203.0.113.5", &good), T0 + 60_001).status, 200);

    // IPv6: every address of one /64 shares the budget; the next /64 does not.
    for i in 0..10 {
        let ip = format!("2001:db8:1:2::{:x}", i + 1);
        assert_eq!(h.call(from(&ip, "Bearer guess"), T0).status, 401);
    }
    assert_eq!(h.call(from("2001:db8:1:2:ffff::9", &good), T0).status, 429);
    assert_eq!(h.call(from("2001:db8:1:3::1", &good), T0).status, 200);
}

#[test]
fn guessing_the_admin_token_through_a_thread_is_throttled_too() {
    let mut h = seeded();
    h.auth_failures = AuthThrottle::per_minute();
    let (id, _) = ask(&h);
    let path = format!("/v1/sites/demo/questions/{id}");
    for _ in 0..10 {
        let res = h.call(
            with_token(Method::Get, &path, "guess").header("cf-connecting-ip", "192.0.2.1"),
            T0,
        );
        assert_eq!(res.status, 401);
    }
    let res = h.call(
        with_token(Method::Get, &path, TOKEN).header("cf-connecting-ip", "192.0.2.1"),
        T0,
    );
    assert_eq!(res.status, 429);
}

#[test]
fn an_unconfigured_or_short_admin_token_reads_like_a_wrong_one() {
    let mut h = seeded();
    let wrong = h.call(from("192.0.2.9", "Bearer not-the-token"), T0);
    h.token = None;
    let unset = h.call(from("192.0.2.9", &format!("Bearer {TOKEN}")), T0);
    h.token = Some("short-but-exact-token");
    let short = h.call(from("192.0.2.9", "Bearer short-but-exact-token"), T0);
    for res in [&wrong, &unset, &short] {
        assert_eq!(res.status, 401);
        assert_eq!(res.body, wrong.body);
    }
    assert!(!unset.body.contains("ADMIN_TOKEN"));
}

#[test]
fn without_a_csprng_no_question_or_reply_is_made() {
    let mut h = seeded();
    let (id, _) = ask(&h);
    h.csprng = false;
    let before = h.kv.keys();
    let res = h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/questions")
            .header("origin", ORIGIN)
            .json(
                json!({"visitor": tok("visitor", 1), "topic": "orders", "message": "Hello there"})
                    .to_string(),
            ),
        T0,
    );
    assert_eq!(res.status, 503, "{}", res.body);
    assert!(res.get_header("retry-after").is_some());
    let reply = h.admin(
        Method::Post,
        &format!("/v1/admin/sites/demo/questions/{id}/replies"),
        Some(json!({"text": "On its way"})),
        T0,
    );
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(h.kv.keys(), before, "nothing was stored");
}

#[test]
fn thread_tokens_are_stored_hashed_and_never_exported() {
    let h = seeded();
    let (id, token) = ask(&h);
    let raw = pollster::block_on(h.kv.get(&format!("site/demo/question/{id}")))
        .ok()
        .flatten()
        .unwrap_or_default();
    assert!(!raw.contains(&token), "plain token stored: {raw}");
    assert!(raw.contains(&hash_token(&token)));
    h.drain(T0);
    let export = h.admin(
        Method::Get,
        &format!("/v1/admin/sites/demo/visitors/{}", tok("visitor", 7)),
        None,
        T0,
    );
    assert_eq!(export.status, 200);
    assert_eq!(body(&export)["questions"][0]["id"], id.as_str());
    assert!(body(&export)["questions"][0].get("token").is_none());
    assert!(!export.body.contains(&token) && !export.body.contains("sha256:"));
    // The token still opens the thread; its hash does not.
    let path = format!("/v1/sites/demo/questions/{id}");
    assert_eq!(
        h.call(with_token(Method::Get, &path, &token), T0).status,
        200
    );
    let hashed = hash_token(&token);
    assert_eq!(
        h.call(with_token(Method::Get, &path, &hashed), T0).status,
        401
    );
}

#[test]
fn questions_stored_with_a_plain_token_still_open_with_it() {
    let h = seeded();
    let token = "legacyplaintoken0123456789abcdefghijklmnop";
    let q = json!({"id": "old1", "topic": "orders", "message": "Before hashing", "visitor": tok("visitor", 3), "token": token, "created_at": T0});
    pollster::block_on(h.kv.put("site/demo/question/old1", &q.to_string(), Put::default()))
        .unwrap_or_else(|e| panic!("{e}"));
    let path = "/v1/sites/demo/questions/old1";
    assert_eq!(h.call(with_token(Method::Get, path, token), T0).status, 200);
    assert_eq!(
        h.call(with_token(Method::Get, path, "wrong"), T0).status,
        401
    );
    assert_eq!(
        h.call(with_token(Method::Delete, path, token), T0).status,
        204
    );
    // Gone: its token opens nothing (401, as for any token; only operators get 404).
    assert_eq!(h.call(with_token(Method::Get, path, token), T0).status, 401);
    assert_eq!(h.admin(Method::Get, path, None, T0).status, 404);
}

#[test]
fn a_visitor_deletes_their_whole_thread_and_nobody_else_can() {
    let h = seeded();
    let (id, token) = ask(&h);
    let (other, other_token) = ask(&h);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let mut photo = with_token(
        Method::Put,
        &format!("/v1/sites/demo/questions/{id}/photo"),
        &token,
    )
    .header("content-type", "image/png");
    photo.body = png.to_vec();
    assert_eq!(h.call(photo, T0).status, 201);
    for (path, body) in [
        (
            format!("/v1/admin/sites/demo/questions/{id}/replies"),
            json!({"text": "On its way"}),
        ),
        (
            format!("/v1/admin/sites/demo/questions/{id}/resolve"),
            json!({"category": "orders"}),
        ),
    ] {
        let res = h.admin(Method::Post, &path, Some(body), T0 + 1);
        assert!(res.status < 300, "{path}: {}", res.body);
    }
    let path = format!("/v1/sites/demo/questions/{id}");
    // Someone else's token, or a page the site did not allow, deletes nothing.
    assert_eq!(
        h.call(with_token(Method::Delete, &path, &other_token), T0)
            .status,
        401
    );
    let foreign =
        with_token(Method::Delete, &path, &token).header("origin", "https://evil.example");
    assert_eq!(h.call(foreign, T0).status, 403);
    let res = h.call(with_token(Method::Delete, &path, &token), T0 + 2);
    assert_eq!(res.status, 204, "{}", res.body);
    let left: Vec<String> =
        h.kv.keys()
            .into_iter()
            .filter(|k| k.contains(&format!("/{id}")) && !k.contains("/kb"))
            .collect();
    assert_eq!(left, Vec::<String>::new());
    assert_eq!(
        h.call(with_token(Method::Get, &path, &token), T0).status,
        401
    );
    // The other thread is untouched.
    let other_path = format!("/v1/sites/demo/questions/{other}");
    assert_eq!(
        h.call(with_token(Method::Get, &other_path, &other_token), T0)
            .status,
        200
    );
}

#[test]
fn photos_are_served_sandboxed_and_inline() {
    let h = seeded();
    let (id, token) = ask(&h);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let path = format!("/v1/sites/demo/questions/{id}/photo");
    let mut put = with_token(Method::Put, &path, &token).header("content-type", "image/png");
    put.body = png.to_vec();
    assert_eq!(h.call(put, T0).status, 201);
    let res = h.call(with_token(Method::Get, &path, &token), T0);
    assert_eq!(res.status, 200);
    assert_eq!(res.get_header("content-security-policy"), Some("sandbox"));
    assert_eq!(res.get_header("content-disposition"), Some("inline"));
    assert_eq!(res.get_header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn a_site_is_deleted_whole_in_bounded_repeatable_batches() {
    let h = seeded();
    let other = {
        let mut s = site();
        s["id"] = json!("other");
        s
    };
    assert_eq!(h.put("/v1/admin/sites/other", other, T0).status, 201);
    ask(&h);
    // One KV record per response: 3,000 keys and more.
    for i in 0..3_000 {
        let res = h.vote(
            "helpful",
            &tok("r", i),
            &tok("v", i),
            json!({"choice": 0}),
            T0,
        );
        assert_eq!(res.status, 202, "{}", res.body);
    }
    let mut rounds = 0;
    loop {
        rounds += 1;
        let res = h.admin(Method::Delete, "/v1/admin/sites/demo", None, T0);
        if res.status == 204 {
            break;
        }
        assert_eq!(res.status, 202, "{}", res.body);
        assert_eq!(body(&res)["remaining"], true);
        assert!(body(&res)["deleted"].as_u64().unwrap_or(0) <= 900);
        // The site is gone for visitors from the first round on.
        assert_eq!(
            h.call(ApiRequest::new(Method::Get, "/v1/sites/demo/feed"), T0)
                .status,
            404
        );
        assert!(rounds < 10, "never finishes");
    }
    assert!(rounds >= 3, "3,000+ keys took {rounds} rounds");
    let left: Vec<String> =
        h.kv.keys()
            .into_iter()
            .filter(|k| k.starts_with("site/demo/") || k == "sites/demo")
            .collect();
    assert_eq!(left, Vec::<String>::new());
    assert!(h.kv.keys().iter().any(|k| k.starts_with("site/other/")));
    // Repeating is harmless.
    assert_eq!(
        h.admin(Method::Delete, "/v1/admin/sites/demo", None, T0)
            .status,
        204
    );
    let sites = h.admin(Method::Get, "/v1/admin/sites", None, T0);
    assert_eq!(ids(&body(&sites)["sites"]), ["other"]);
}

#[test]
fn the_readmes_2100_expiry_is_a_400_naming_the_field() {
    let h = seeded();
    // 2100-01-01T00:00:00Z
    let res = h.put(
        "/v1/admin/sites/demo/stories/far",
        story("far", T0, 4_102_444_800_000),
        T0,
    );
    assert_eq!(res.status, 400, "{}", res.body);
    assert_eq!(field(&res), "expires_at");
    assert!(res.body.contains("2038-01-19"));
    // Just inside storage's limit, but the site's 30-day retention would take it past.
    let res = h.put(
        "/v1/admin/sites/demo/stories/edge",
        story("edge", T0, 2_147_000_000_000),
        T0,
    );
    assert_eq!(res.status, 400, "{}", res.body);
    assert_eq!(field(&res), "expires_at");
    assert!(res.body.contains("retention of 30 days"));
    let res = h.put(
        "/v1/admin/sites/demo/sessions/far",
        session("far", T0, T0 + HOUR, 4_102_444_800_000),
        T0,
    );
    assert_eq!(res.status, 400);
    assert!(field(&res) == "ends_at", "{}", res.body);
    let mut p = json!({"id": "far", "question": "Helpful?", "kind": {"type":"rating"}, "publish_at": T0, "expires_at": i64::MAX});
    let res = h.put("/v1/admin/sites/demo/polls/far", p.take(), T0);
    assert_eq!(res.status, 400);
    assert_eq!(field(&res), "expires_at");
}

#[test]
fn pages_send_a_csp_frame_ancestors_referrer_policy_and_nosniff() {
    let h = seeded();
    // The help centre's pages send a referrer to their own origin only: their "Did this
    // help?" form's POST must name its origin (browsers send `Origin: null` under
    // `no-referrer`); nothing goes to other sites.
    for (path, referrer) in [
        ("/", "no-referrer"),
        ("/kb/demo", "same-origin"),
        ("/kb/demo/stories/reset", "same-origin"),
    ] {
        let res = h.call(ApiRequest::new(Method::Get, path), T0);
        assert_eq!(res.status, 200, "{path}");
        let csp = res
            .get_header("content-security-policy")
            .unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("base-uri 'none'"), "{path}: {csp}");
        assert!(!csp.contains("'unsafe-eval'"), "{path}: {csp}");
        assert_eq!(res.get_header("referrer-policy"), Some(referrer), "{path}");
        assert_eq!(
            res.get_header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(res.get_header("x-frame-options"), Some("DENY"), "{path}");
    }
    // The knowledge-base pages run no script at all.
    for path in ["/kb/demo", "/kb/demo/stories/reset"] {
        let kb = h.call(ApiRequest::new(Method::Get, path), T0);
        let csp = kb.get_header("content-security-policy").unwrap_or_default();
        assert!(
            csp.starts_with("default-src 'none'") && !csp.contains("script-src"),
            "{path}: {csp}"
        );
    }
}

#[test]
fn a_vote_still_on_its_way_when_the_site_is_deleted_brings_nothing_back() {
    let h = seeded();
    let res = h.vote(
        "helpful",
        &tok("r", 1),
        &tok("v", 1),
        json!({"choice": 0}),
        T0,
    );
    assert_eq!(res.status, 202, "{}", res.body);
    // The operator deletes the site before the queue delivers the vote.
    loop {
        let res = h.admin(Method::Delete, "/v1/admin/sites/demo", None, T0);
        if res.status == 204 {
            break;
        }
        assert_eq!(res.status, 202, "{}", res.body);
    }
    h.drain(T0 + 1_000);
    for table in ["responses", "votes", "tallies", "sites"] {
        let rows = pollster::block_on(h.db().query(&glimpse_worker::sql::Stmt::new(format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE site = 'demo'"
        ))))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows[0]["n"], json!(0), "{table}");
    }
}

#[test]
fn a_thread_without_a_token_is_401_whether_or_not_it_exists() {
    let h = seeded();
    let (id, _) = ask(&h);
    for path in [
        format!("/v1/sites/demo/questions/{id}"),
        "/v1/sites/demo/questions/v09zzsz80p83w2q1lutnxdv2ln".to_string(),
        format!("/v1/sites/demo/questions/{id}/photo"),
        "/v1/sites/demo/questions/v09zzsz80p83w2q1lutnxdv2ln/photo".to_string(),
    ] {
        for method in [Method::Get, Method::Delete] {
            if method == Method::Delete && path.ends_with("/photo") {
                continue;
            }
            let res = h.call(ApiRequest::new(method, &path), T0 + 1);
            assert_eq!(res.status, 401, "{} {path}: {}", method.as_str(), res.body);
            assert!(res.get_header("www-authenticate").is_some());
        }
    }
    // The thread is still there for its token.
    assert_eq!(h.kv.keys().iter().filter(|k| k.contains(&id)).count(), 1);
}
