//! Every endpoint and every error status of the HTTP API, through the pure core.

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use std::collections::HashMap;

use common::*;
use glimpse_shared::keys;
use glimpse_worker::http::ApiRequest;
use glimpse_worker::limit::{Limits, RateLimiter};
use glimpse_worker::route::Method;
use glimpse_worker::store::MemoryKv;
use serde_json::{Value, json};

fn seeded() -> H<MemoryKv> {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    h.seed();
    h
}

#[test]
fn admin_requires_the_bearer_token() {
    let h = H::with(MemoryKv::new());
    let put = |auth: Option<&str>| {
        let mut req = ApiRequest::new(Method::Put, "/v1/admin/sites/demo").json(site().to_string());
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        h.call(req, T0)
    };
    for auth in [
        None,
        Some("Bearer wrong"),
        Some(&format!("Basic {TOKEN}")[..]),
        Some(TOKEN),
    ] {
        let res = put(auth);
        assert_eq!(res.status, 401, "{auth:?}");
        assert_eq!(code(&res), "unauthorized");
        assert_eq!(
            res.get_header("www-authenticate"),
            Some(r#"Bearer realm="glimpse-admin""#)
        );
    }
    assert!(h.kv.keys().is_empty(), "a refused request wrote nothing");
    for path in [
        "/v1/admin/sites/demo",
        "/v1/admin/sites/demo/stories/x",
        "/v1/admin/sites/demo/polls/x/results",
    ] {
        assert_eq!(
            h.call(ApiRequest::new(Method::Get, path), T0).status,
            401,
            "{path}"
        );
    }
    // Without a configured token nobody gets in, not even with an empty bearer.
    let mut off = H::with(MemoryKv::new());
    off.token = None;
    let res = off.admin(Method::Put, "/v1/admin/sites/demo", Some(site()), T0);
    assert_eq!(res.status, 401);
    // The answer does not tell that admin is unconfigured: the same words as a wrong token.
    let wrong = put(Some("Bearer wrong-token-wrong-token-wrong-token"));
    assert_eq!(body(&res)["error"], body(&wrong)["error"]);
    assert!(!res.body.contains("ADMIN_TOKEN") && !res.body.contains("disabled"));
    assert_eq!(put(Some("Bearer ")).status, 401);
    // A truncated or extended token is wrong too.
    let short = &TOKEN[..TOKEN.len() - 1];
    assert_eq!(put(Some(&format!("Bearer {short}"))).status, 401);
    assert_eq!(put(Some(&format!("Bearer {TOKEN}x"))).status, 401);
    assert_eq!(put(Some(&format!("Bearer {TOKEN}"))).status, 201);
}

#[test]
fn every_admin_route_and_method_refuses_missing_wrong_and_truncated_tokens() {
    let h = seeded();
    let before = h.kv.keys();
    let short = format!("Bearer {}", &TOKEN[..TOKEN.len() / 2]);
    let mut checked = 0;
    for (template, methods) in glimpse_worker::route::ROUTES {
        if !template.starts_with("/v1/admin/") {
            continue;
        }
        let path = template
            .replace("{site}", "demo")
            .replace("{visitor}", &tok("visitor", 1))
            .replace("{poll}", "helpful")
            .replace("{session}", "qa")
            .replace("{id}", "reset");
        for method in methods.iter().copied() {
            for auth in [None, Some("Bearer nope"), Some(short.as_str())] {
                let mut req = ApiRequest::new(method, &path).json("{}");
                if let Some(a) = auth {
                    req = req.header("authorization", a);
                }
                let res = h.call(req, T0);
                assert_eq!(res.status, 401, "{} {path} with {auth:?}", method.as_str());
                checked += 1;
            }
        }
    }
    assert!(checked >= 3 * 30, "only {checked} admin requests checked");
    assert_eq!(h.kv.keys(), before, "refused requests wrote nothing");
}

#[test]
fn sites_are_created_replaced_read_and_validated() {
    let h = H::with(MemoryKv::new());
    let res = h.put("/v1/admin/sites/demo", site(), T0);
    assert_eq!(res.status, 201);
    assert_eq!(body(&res)["item"]["name"], "Demo Coffee");
    assert_eq!(body(&res)["warnings"], json!([]));
    let mut renamed = site();
    renamed["name"] = json!("Demo Tea");
    renamed["channels"] = json!([]);
    let res = h.put("/v1/admin/sites/demo", renamed, T0);
    assert_eq!(res.status, 200);
    assert_eq!(body(&res)["warnings"][0]["field"], "channels");
    let res = h.admin(Method::Get, "/v1/admin/sites/demo", None, T0);
    assert_eq!(body(&res)["name"], "Demo Tea");
    assert_eq!(h.feed(T0)["site"]["name"], "Demo Tea");

    let mut bad = site();
    bad["theme"]["accent"] = json!("blue");
    bad["origins"] = json!(["https://shop.example/path"]);
    let res = h.put("/v1/admin/sites/demo", bad, T0);
    assert_eq!(res.status, 400);
    assert_eq!(code(&res), "invalid");
    assert_eq!(field(&res), "origins[0]");
    assert_eq!(body(&res)["error"]["problems"][1]["field"], "theme.accent");

    let res = h.put("/v1/admin/sites/other", site(), T0);
    assert_eq!((res.status, field(&res)), (400, "id".to_string()));
    let res = h.admin(Method::Get, "/v1/admin/sites/nope", None, T0);
    assert_eq!((res.status, code(&res)), (404, "not_found".to_string()));
    let res = h.put("/v1/admin/sites/demo", json!({"id": "demo", "name": 5}), T0);
    assert_eq!((res.status, field(&res)), (400, "name".to_string()));
    assert_eq!(
        h.feed(T0)["site"]["name"],
        "Demo Tea",
        "refused writes changed nothing"
    );
}

#[test]
fn content_is_published_to_the_feed_and_removed_from_it() {
    let h = seeded();
    let feed = h.feed(T0);
    assert_eq!(feed["now"], T0);
    assert_eq!(ids(&feed["stories"]), ["reset"]);
    assert_eq!(ids(&feed["sessions"]), ["qa"]);
    assert_eq!(ids(&feed["polls"]), ["csat", "helpful", "ideas"]);
    assert_eq!(feed["site"]["channels"][0]["value"], "help@shop.example");
    assert!(feed["site"].get("origins").is_none());

    // Replacing reports 200; GET returns what was stored.
    let mut s = story("reset", T0, T0 + 48 * HOUR);
    s["title"] = json!("Reset your password");
    let res = h.put("/v1/admin/sites/demo/stories/reset", s, T0);
    assert_eq!(res.status, 200);
    let res = h.admin(Method::Get, "/v1/admin/sites/demo/stories/reset", None, T0);
    assert_eq!(body(&res)["title"], "Reset your password");
    assert_eq!(h.feed(T0)["stories"][0]["title"], "Reset your password");

    // Scheduled content appears when its time comes, by the server's clock.
    h.put(
        "/v1/admin/sites/demo/stories/later",
        story("later", T0 + HOUR, T0 + 2 * HOUR),
        T0,
    );
    assert_eq!(ids(&h.feed(T0)["stories"]), ["reset"]);
    assert_eq!(ids(&h.feed(T0 + HOUR)["stories"]), ["later", "reset"]);
    assert_eq!(ids(&h.feed(T0 + 2 * HOUR)["stories"]), ["reset"]);
    // Sessions stay until they end.
    assert_eq!(ids(&h.feed(T0 + 2 * HOUR - 1)["sessions"]), ["qa"]);
    assert!(ids(&h.feed(T0 + 2 * HOUR)["sessions"]).is_empty());

    let res = h.admin(
        Method::Delete,
        "/v1/admin/sites/demo/stories/reset",
        None,
        T0,
    );
    assert_eq!(res.status, 204);
    assert!(res.body.is_empty());
    assert!(ids(&h.feed(T0)["stories"]).is_empty());
    let res = h.admin(Method::Get, "/v1/admin/sites/demo/stories/reset", None, T0);
    assert_eq!(res.status, 404);
    // Deleting again is still 204: DELETE is idempotent.
    assert_eq!(
        h.admin(
            Method::Delete,
            "/v1/admin/sites/demo/stories/reset",
            None,
            T0
        )
        .status,
        204
    );
    for kind in ["sessions/qa", "polls/csat"] {
        assert_eq!(
            h.admin(
                Method::Delete,
                &format!("/v1/admin/sites/demo/{kind}"),
                None,
                T0
            )
            .status,
            204
        );
    }
    let feed = h.feed(T0);
    assert!(ids(&feed["sessions"]).is_empty());
    assert_eq!(ids(&feed["polls"]), ["helpful", "ideas"]);
}

#[test]
fn content_puts_validate_and_lint() {
    let h = seeded();
    let mut s = story("long", T0, T0 + HOUR);
    s["slides"][0]["text"] = json!("x".repeat(200));
    s["topic"] = json!("shipping");
    let res = h.put("/v1/admin/sites/demo/stories/long", s, T0);
    assert_eq!(res.status, 201);
    let warnings: Vec<_> = body(&res)["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .map(|x| x["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(warnings, ["slides[0].text", "topic"]);

    let mut bad = story("bad", T0, T0 + HOUR);
    bad["slides"][1]["cta"]["url"] = json!("javascript:alert(1)");
    let res = h.put("/v1/admin/sites/demo/stories/bad", bad, T0);
    assert_eq!(
        (res.status, field(&res)),
        (400, "slides[1].cta.url".to_string())
    );
    let res = h.put(
        "/v1/admin/sites/demo/stories/other",
        story("bad", T0, T0 + HOUR),
        T0,
    );
    assert_eq!((res.status, field(&res)), (400, "id".to_string()));
    let res = h.put(
        "/v1/admin/sites/demo/sessions/qa2",
        session("qa2", T0, T0, T0 - 1),
        T0,
    );
    assert_eq!((res.status, field(&res)), (400, "ends_at".to_string()));
    let res = h.put(
        "/v1/admin/sites/demo/polls/p",
        poll("p", json!({"type":"choice","options":["one"]})),
        T0,
    );
    assert_eq!((res.status, field(&res)), (400, "kind.options".to_string()));
    let res = h.put("/v1/admin/sites/demo/polls/p", json!({"id":"p"}), T0);
    assert_eq!(res.status, 400);
    assert_eq!(code(&res), "invalid_json");
    // Content needs its site first.
    let res = h.put(
        "/v1/admin/sites/ghost/stories/a",
        story("a", T0, T0 + HOUR),
        T0,
    );
    assert_eq!(res.status, 404);
    assert!(
        h.kv.keys()
            .iter()
            .all(|k| !k.contains("/bad") && !k.contains("ghost"))
    );
    assert_eq!(ids(&h.feed(T0)["stories"]), ["long", "reset"]);
}

#[test]
fn targeting_rules_are_validated_and_travel_in_the_one_feed() {
    let h = seeded();
    let mut s = story("pricing", T0, T0 + HOUR);
    s["targeting"] = json!({
        "pages": ["/pricing", "/plans/*"], "exclude_pages": ["/plans/internal/*"],
        "labels": ["checkout"], "delay_seconds": 5, "frequency": {"times": 1},
        "devices": ["mobile", "tablet"]
    });
    let res = h.put("/v1/admin/sites/demo/stories/pricing", s.clone(), T0);
    assert_eq!(res.status, 201, "{}", res.body);
    // Everyone gets the same feed: the rules go with the story, the widget decides.
    let feed = h.feed(T0);
    assert_eq!(ids(&feed["stories"]), ["pricing", "reset"]);
    assert_eq!(feed["stories"][0]["targeting"], s["targeting"]);
    assert!(
        feed["stories"][1].get("targeting").is_none(),
        "no rules, no key: {}",
        feed["stories"][1]
    );
    for (rules, field_path) in [
        (json!({"pages": ["pricing"]}), "targeting.pages[0]"),
        (
            json!({"exclude_pages": ["/a b"]}),
            "targeting.exclude_pages[0]",
        ),
        (json!({"labels": ["two words"]}), "targeting.labels[0]"),
        (json!({"delay_seconds": 7200}), "targeting.delay_seconds"),
        (
            json!({"frequency": {"times": 0}}),
            "targeting.frequency.times",
        ),
        (
            json!({"frequency": {"times": 1, "per_hours": 0}}),
            "targeting.frequency.per_hours",
        ),
        (
            json!({"devices": ["mobile", "mobile"]}),
            "targeting.devices",
        ),
    ] {
        let mut bad = story("pricing", T0, T0 + HOUR);
        bad["targeting"] = rules.clone();
        let res = h.put("/v1/admin/sites/demo/stories/pricing", bad, T0);
        assert_eq!(
            (res.status, field(&res)),
            (400, field_path.to_string()),
            "{rules}"
        );
    }
    let mut bad = story("pricing", T0, T0 + HOUR);
    bad["targeting"] = json!({"devices": ["watch"]});
    let res = h.put("/v1/admin/sites/demo/stories/pricing", bad, T0);
    assert_eq!((res.status, code(&res)), (400, "invalid_json".to_string()));
    let mut p = poll("targeted", json!({"type": "rating"}));
    p["targeting"] = json!({"labels": ["checkout"]});
    assert_eq!(
        h.put("/v1/admin/sites/demo/polls/targeted", p, T0).status,
        201
    );
    let mut q = session("qa2", T0, T0 + HOUR, T0 + 2 * HOUR);
    q["targeting"] = json!({"pages": ["/live/*"]});
    assert_eq!(
        h.put("/v1/admin/sites/demo/sessions/qa2", q, T0).status,
        201
    );
    let feed = h.feed(T0);
    let targeting_of = |list: &Value, id: &str| {
        list.as_array()
            .and_then(|l| l.iter().find(|x| x["id"] == id))
            .map(|x| x["targeting"].clone())
    };
    assert_eq!(
        targeting_of(&feed["polls"], "targeted"),
        Some(json!({"labels": ["checkout"]}))
    );
    assert_eq!(
        targeting_of(&feed["sessions"], "qa2"),
        Some(json!({"pages": ["/live/*"]}))
    );
}

#[test]
fn translations_are_checked_against_the_sites_languages_and_linted() {
    let h = seeded();
    let mut s = site();
    s["languages"] = json!(["es", "nb"]);
    s["topics"][0]["translations"] = json!({"es": "Pedidos", "nb": "Bestillinger"});
    assert_eq!(h.put("/v1/admin/sites/demo", s.clone(), T0).status, 200);
    let mut st = story("reset", T0, T0 + HOUR);
    st["translations"] = json!({"es": {
        "title": "Cómo restablecer",
        "slides": [{"text": "Abre Ajustes"}, {"text": "Toca Restablecer", "cta_label": "Abrir"}]
    }});
    let res = h.put("/v1/admin/sites/demo/stories/reset", st.clone(), T0);
    assert_eq!(res.status, 200, "{}", res.body);
    let warnings: Vec<String> = body(&res)["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .map(|x| x["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        warnings,
        ["translations.nb"],
        "es is complete; nb is missing"
    );
    // Visitors get every translation in the one feed; the widget picks.
    let feed = h.feed(T0);
    assert_eq!(feed["site"]["languages"], json!(["es", "nb"]));
    assert_eq!(feed["site"]["topics"][0]["translations"]["es"], "Pedidos");
    assert_eq!(
        feed["stories"][0]["translations"]["es"]["title"],
        "Cómo restablecer"
    );

    // A translation made from an older text is flagged once the text changes.
    let fingerprint = {
        let story: glimpse_shared::Story =
            serde_json::from_value(st.clone()).unwrap_or_else(|e| panic!("{e}"));
        story.fingerprint()
    };
    st["translations"]["es"]["source"] = json!(fingerprint);
    let res = h.put("/v1/admin/sites/demo/stories/reset", st.clone(), T0);
    assert!(!res.body.contains("older than its source"), "{}", res.body);
    st["slides"][0]["text"] = json!("Open Settings, then Account");
    let res = h.put("/v1/admin/sites/demo/stories/reset", st.clone(), T0);
    assert!(res.body.contains("older than its source"), "{}", res.body);

    // A language the site does not offer is refused, naming the translation; so is a
    // malformed tag or a translated slide the story does not have.
    for (translations, field_path) in [
        (json!({"de": {"title": "Wie"}}), "translations.de"),
        (
            json!({"not a tag": {"title": "x"}}),
            "translations.not a tag",
        ),
        (
            json!({"es": {"slides": [{"text": "a"}, {"text": "b"}, {"text": "c"}]}}),
            "translations.es.slides",
        ),
    ] {
        let mut bad = story("reset", T0, T0 + HOUR);
        bad["translations"] = translations.clone();
        let res = h.put("/v1/admin/sites/demo/stories/reset", bad, T0);
        assert_eq!(
            (res.status, field(&res)),
            (400, field_path.to_string()),
            "{translations}"
        );
    }
    // A topic label in a language the site does not offer is refused too.
    let mut bad_site = s;
    bad_site["topics"][0]["translations"] = json!({"de": "Bestellungen"});
    let res = h.put("/v1/admin/sites/demo", bad_site, T0);
    assert_eq!(
        (res.status, field(&res)),
        (400, "topics[0].translations.de".to_string())
    );
}

#[test]
fn content_rows_are_purged_after_retention_and_no_item_keys_are_written() {
    let h = seeded();
    let day = 86_400_000;
    let purge: Vec<Value> = pollster::block_on(glimpse_worker::sql::rows(
        h.db(),
        glimpse_worker::sql::Stmt::new(
            "SELECT kind, id, over_at, purge_at FROM content WHERE site = 'demo' ORDER BY kind, id",
        ),
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(purge.len(), 5, "{purge:?}");
    let reset = purge
        .iter()
        .find(|r| r["id"] == "reset")
        .unwrap_or_else(|| panic!("no row for the story: {purge:?}"));
    assert_eq!(reset["kind"], "story");
    assert_eq!(reset["over_at"], json!(T0 + 48 * HOUR));
    assert_eq!(reset["purge_at"], json!(T0 + 48 * HOUR + 30 * day));
    // Content lives in D1 only: KV holds the config and the snapshot built from the rows.
    for kind in keys::ContentKind::ALL {
        let prefix = keys::content_prefix("demo", kind);
        assert!(
            h.kv.keys().iter().all(|k| !k.starts_with(&prefix)),
            "{:?}",
            h.kv.keys()
        );
    }
    assert!(h.kv.keys().iter().all(|k| !k.starts_with("sites/")));
    assert_eq!(h.kv.expiration(&keys::snapshot("demo")), None);
    assert_eq!(h.kv.expiration(&keys::site("demo")), None);
    // The operator still reads each item as stored, and a deleted one is gone.
    let res = h.admin(Method::Get, "/v1/admin/sites/demo/stories/reset", None, T0);
    assert_eq!(
        (res.status, body(&res)["title"].clone()),
        (200, json!("How to reset"))
    );
    let path = "/v1/admin/sites/demo/polls/ideas";
    assert_eq!(h.admin(Method::Delete, path, None, T0).status, 204);
    assert_eq!(h.admin(Method::Get, path, None, T0).status, 404);
    let polls = body(&h.admin(Method::Get, "/v1/admin/sites/demo/polls", None, T0));
    assert_eq!(ids(&polls["polls"]), ["csat", "helpful"]);
    assert_eq!(ids(&h.feed(T0)["polls"]), ["csat", "helpful"]);
    // A new retention moves every item's purge time.
    let mut longer = site();
    longer["retention_days"] = json!(60);
    assert_eq!(h.put("/v1/admin/sites/demo", longer, T0).status, 200);
    let purge: Vec<Value> = pollster::block_on(glimpse_worker::sql::rows(
        h.db(),
        glimpse_worker::sql::Stmt::new("SELECT purge_at FROM content WHERE id = 'reset'"),
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(purge, [json!({"purge_at": T0 + 48 * HOUR + 60 * day})]);
    let sites = body(&h.admin(Method::Get, "/v1/admin/sites", None, T0));
    assert_eq!(
        sites,
        json!({"sites": [{"id": "demo", "name": "Demo Coffee"}]})
    );
}

#[test]
fn feed_revalidates_with_etag() {
    let h = seeded();
    let req = || ApiRequest::new(Method::Get, "/v1/sites/demo/feed");
    let first = h.call(req(), T0);
    assert_eq!(first.status, 200);
    assert_eq!(
        first.get_header("cache-control"),
        Some("public, max-age=10")
    );
    let etag = first.get_header("etag").unwrap_or_default().to_string();
    assert!(etag.starts_with('"') && etag.len() == 18, "{etag}");
    // Same content a second later: 304 with no body, though `now` moved.
    let again = h.call(req().header("if-none-match", &etag), T0 + 1_000);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.get_header("etag"), Some(etag.as_str()));
    // The server's clock rides on both answers, so a browser's cached body (whose `now` is
    // old) still gets the current time from the revalidation's headers.
    let (t0, t1) = (T0.to_string(), (T0 + 1_000).to_string());
    assert_eq!(first.get_header("glimpse-now"), Some(t0.as_str()));
    assert_eq!(again.get_header("glimpse-now"), Some(t1.as_str()));
    assert_eq!(
        h.call(req().header("if-none-match", &format!("W/{etag}")), T0)
            .status,
        304
    );
    // Changed content, or a scheduled item going live, changes the tag.
    h.put(
        "/v1/admin/sites/demo/stories/later",
        story("later", T0 + HOUR, T0 + 2 * HOUR),
        T0,
    );
    assert_eq!(h.call(req().header("if-none-match", &etag), T0).status, 304);
    let live = h.call(req().header("if-none-match", &etag), T0 + HOUR);
    assert_eq!(live.status, 200);
    assert_ne!(live.get_header("etag"), Some(etag.as_str()));
    let head = h.call(ApiRequest::new(Method::Head, "/v1/sites/demo/feed"), T0);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[test]
fn unknown_sites_and_bad_paths_are_json_errors() {
    let h = seeded();
    for (method, path, status) in [
        (Method::Get, "/v1/sites/nope/feed", 404),
        (Method::Post, "/v1/sites/nope/events", 404),
        (Method::Get, "/v1/sites/DEMO/feed", 400),
        (Method::Get, "/v1/sites/..%2Fx/feed", 400),
        (Method::Post, "/v1/sites/demo/feed", 405),
        (Method::Post, "/v1/admin/sites/demo", 405),
        (Method::Other, "/health", 405),
        (Method::Get, "/v1/nothing", 404),
    ] {
        let res = h.call(ApiRequest::new(method, path), T0);
        assert_eq!(res.status, status, "{method:?} {path}");
        assert!(!code(&res).is_empty(), "{path}: error is JSON");
        assert_eq!(
            res.get_header("content-type"),
            Some("application/json; charset=utf-8")
        );
    }
    let res = h.call(ApiRequest::new(Method::Post, "/v1/sites/demo/feed"), T0);
    assert_eq!(res.get_header("allow"), Some("GET, HEAD, OPTIONS"));
}

#[test]
fn cors_allows_only_the_sites_origins_and_never_credentials() {
    let h = seeded();
    let get = |origin: &str| {
        h.call(
            ApiRequest::new(Method::Get, "/v1/sites/demo/feed").header("origin", origin),
            T0,
        )
    };
    let ok = get(ORIGIN);
    assert_eq!(ok.get_header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(ok.get_header("vary"), Some("Origin"));
    let evil = get("https://evil.example");
    assert_eq!(evil.status, 200);
    assert_eq!(evil.get_header("access-control-allow-origin"), None);
    assert_eq!(
        get("https://shop.example.evil.example").get_header("access-control-allow-origin"),
        None
    );

    let preflight = |origin: &str, path: &str| {
        h.call(
            ApiRequest::new(Method::Options, path)
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type"),
            T0,
        )
    };
    let res = preflight(ORIGIN, "/v1/sites/demo/polls/csat/responses");
    assert_eq!(res.status, 204);
    assert_eq!(res.get_header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(res.get_header("access-control-allow-methods"), Some("POST"));
    assert_eq!(
        res.get_header("access-control-allow-headers"),
        Some("Content-Type, Authorization")
    );
    assert!(res.get_header("access-control-max-age").is_some());
    let res = preflight(ORIGIN, "/v1/sites/demo/feed");
    assert_eq!(
        res.get_header("access-control-allow-methods"),
        Some("GET, HEAD")
    );
    let res = preflight("https://evil.example", "/v1/sites/demo/events");
    assert_eq!(
        (res.status, code(&res)),
        (403, "origin_not_allowed".to_string())
    );
    assert_eq!(res.get_header("access-control-allow-origin"), None);
    assert_eq!(preflight(ORIGIN, "/v1/sites/nope/events").status, 404);
    assert_eq!(preflight(ORIGIN, "/v1/admin/sites/demo").status, 405);

    // A page the site did not allow cannot vote; nothing is written.
    let before = h.kv.keys();
    let res = h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/polls/csat/responses")
            .header("origin", "https://evil.example")
            .json(
                json!({"id": tok("r", 1), "visitor": tok("v", 1), "answer": {"rating": 1}})
                    .to_string(),
            ),
        T0,
    );
    assert_eq!(res.status, 403);
    assert_eq!(h.kv.keys(), before);
    for res in [ok, res] {
        assert_eq!(res.get_header("access-control-allow-credentials"), None);
        assert_eq!(res.get_header("set-cookie"), None);
    }
    // Errors to allowed origins are readable by the widget.
    let res = h.vote("nope", &tok("r", 2), &tok("v", 2), json!({"rating": 1}), T0);
    assert_eq!(res.status, 404);
    assert_eq!(res.get_header("access-control-allow-origin"), Some(ORIGIN));
}

#[test]
fn a_vote_is_recorded_once_and_replay_is_idempotent() {
    let h = seeded();
    let (r1, v1) = (tok("resp", 1), tok("visitor", 1));
    let res = h.vote("helpful", &r1, &v1, json!({"choice": 0}), T0 + 5);
    assert_eq!(res.status, 202, "{}", res.body);
    assert_eq!(
        body(&res),
        json!({"id": r1, "poll": "helpful", "answer": {"choice": 0}})
    );
    // A retry of the same response id is accepted again and counted once.
    let res = h.vote("helpful", &r1, &v1, json!({"choice": 0}), T0 + 6);
    assert_eq!(res.status, 202);
    h.drain(T0);
    let r = h.results("helpful", T0);
    assert_eq!(r["total"], 1);
    assert_eq!(r["counts"], json!([1, 0, 0]));

    // The same visitor answering again replaces their answer.
    let r2 = tok("resp", 2);
    let res = h.vote("helpful", &r2, &v1, json!({"choice": 2}), T0 + 7);
    assert_eq!(res.status, 202);
    h.drain(T0);
    assert_eq!(h.results("helpful", T0)["counts"], json!([0, 0, 1]));
    // A late replay of the first response (it arrives after the change, so the edge stamps
    // it later) changes nothing: the consumer has seen its id.
    let res = h.vote("helpful", &r1, &v1, json!({"choice": 0}), T0 + 8);
    assert_eq!(res.status, 202);
    h.drain(T0);
    let r = h.results("helpful", T0);
    assert_eq!(
        (r["total"].clone(), r["counts"].clone()),
        (json!(1), json!([0, 0, 1]))
    );
    // One record per response id, holding who answered what; each expires with the poll
    // plus retention. Nothing per (poll, visitor) and no receipts any more.
    let record = keys::response("demo", "helpful", &r2);
    assert_eq!(
        h.kv.keys()
            .iter()
            .filter(|k| k.contains("/response/helpful/"))
            .count(),
        2
    );
    assert!(
        h.kv.keys()
            .iter()
            .all(|k| !k.contains("/vote/") && !k.contains("/receipt/"))
    );
    let stored: glimpse_shared::ResponseRecord = serde_json::from_str(
        &h.kv
            .dump()
            .into_iter()
            .find(|(k, ..)| *k == record)
            .map(|(_, v, ..)| v)
            .unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        stored,
        glimpse_shared::ResponseRecord {
            visitor: v1.clone(),
            id: r2.clone(),
            answer: glimpse_shared::Answer::Choice(2),
            at: T0 + 7,
        }
    );
    assert_eq!(
        h.kv.expiration(&record),
        Some(T0 + 24 * HOUR + 30 * 86_400_000)
    );
}

#[test]
fn poll_response_errors() {
    let h = seeded();
    let (r, v) = (tok("resp", 1), tok("visitor", 1));
    let cases = [
        (
            h.vote("nope", &r, &v, json!({"choice": 0}), T0),
            404,
            "not_found",
            "",
        ),
        (
            h.vote("helpful", &r, &v, json!({"choice": 3}), T0),
            400,
            "invalid",
            "answer",
        ),
        (
            h.vote("helpful", &r, &v, json!({"rating": 3}), T0),
            400,
            "invalid",
            "answer",
        ),
        (
            h.vote("csat", &r, &v, json!({"rating": 6}), T0),
            400,
            "invalid",
            "answer",
        ),
        (
            h.vote("ideas", &r, &v, json!({"text": "x".repeat(201)}), T0),
            400,
            "invalid",
            "answer",
        ),
        (
            h.vote("csat", "short", &v, json!({"rating": 3}), T0),
            400,
            "invalid",
            "id",
        ),
        (
            h.vote("csat", &r, "bad visitor id!!", json!({"rating": 3}), T0),
            400,
            "invalid",
            "visitor",
        ),
        (
            h.vote("csat", &r, &v, json!({"stars": 3}), T0),
            400,
            "invalid_json",
            "answer",
        ),
        (
            h.vote("csat", &r, &v, json!({"rating": 3}), T0 + 24 * HOUR),
            410,
            "gone",
            "",
        ),
    ];
    for (i, (res, status, c, f)) in cases.into_iter().enumerate() {
        assert_eq!(res.status, status, "case {i}: {}", res.body);
        assert_eq!(code(&res), c, "case {i}");
        assert_eq!(field(&res), f, "case {i}");
    }
    let post = |body: Vec<u8>, ct: &str| {
        let mut req = ApiRequest::new(Method::Post, "/v1/sites/demo/polls/csat/responses")
            .header("content-type", ct);
        req.body = body;
        h.call(req, T0)
    };
    let res = post(vec![b' '; 8 * 1024 + 1], "application/json");
    assert_eq!(
        (res.status, code(&res)),
        (413, "payload_too_large".to_string())
    );
    let res = post(b"id=1".to_vec(), "application/x-www-form-urlencoded");
    assert_eq!(
        (res.status, code(&res)),
        (415, "unsupported_media_type".to_string())
    );
    let res = post(b"{\"id\":".to_vec(), "application/json");
    assert_eq!((res.status, code(&res)), (400, "invalid_json".to_string()));
    assert!(h.kv.keys().iter().all(|k| !k.contains("/response/")));

    // A poll that closed and was pruned from the snapshot is still 410, not 404.
    h.put(
        "/v1/admin/sites/demo/stories/touch",
        story("touch", T0, T0 + 48 * HOUR),
        T0 + 25 * HOUR,
    );
    let res = h.vote("csat", &r, &v, json!({"rating": 3}), T0 + 25 * HOUR);
    assert_eq!(res.status, 410);
    // A scheduled poll is not there yet.
    let mut later = poll("later", json!({"type": "rating"}));
    later["publish_at"] = json!(T0 + HOUR);
    h.put("/v1/admin/sites/demo/polls/later", later, T0);
    assert_eq!(
        h.vote("later", &r, &v, json!({"rating": 3}), T0).status,
        404
    );
    assert_eq!(
        h.vote("later", &r, &v, json!({"rating": 3}), T0 + HOUR)
            .status,
        202
    );
}

#[test]
fn results_are_exact_for_many_visitors() {
    let h = seeded();
    h.kv.set_page_size(37);
    let mut expected_choice: HashMap<String, usize> = HashMap::new();
    let mut expected_rating: HashMap<String, u8> = HashMap::new();
    let mut texts = 0;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for i in 0..600 {
        let visitor = tok("visitor", next(400) as usize);
        let choice = next(3) as usize;
        let res = h.vote(
            "helpful",
            &tok("c", i),
            &visitor,
            json!({"choice": choice}),
            T0 + i as i64,
        );
        assert!(res.status == 202, "{}", res.body);
        expected_choice.insert(visitor.clone(), choice);
        let stars = next(5) as u8 + 1;
        h.vote(
            "csat",
            &tok("r", i),
            &visitor,
            json!({"rating": stars}),
            T0 + i as i64,
        );
        expected_rating.insert(visitor.clone(), stars);
        if i % 50 == 0 {
            h.vote(
                "ideas",
                &tok("t", i),
                &tok("writer", i),
                json!({"text": format!("idea {i}")}),
                T0 + i as i64,
            );
            texts += 1;
        }
        if i % 7 == 0 {
            // Retries of earlier responses never count twice.
            h.vote(
                "helpful",
                &tok("c", i / 2),
                &tok("visitor", 9_999),
                json!({"choice": 0}),
                T0,
            );
        }
    }
    h.drain(T0);
    let r = h.results("helpful", T0 + 1_000);
    let mut counts = [0u64; 3];
    for c in expected_choice.values() {
        counts[*c] += 1;
    }
    assert_eq!(r["total"], expected_choice.len() as u64);
    assert_eq!(r["counts"], json!(counts));
    assert_eq!(r["ignored"], 0);

    let r = h.results("csat", T0 + 1_000);
    let mut dist = [0u64; 5];
    for s in expected_rating.values() {
        dist[usize::from(*s) - 1] += 1;
    }
    let n = expected_rating.len() as f64;
    let mean = expected_rating.values().map(|s| f64::from(*s)).sum::<f64>() / n;
    assert_eq!(r["counts"], json!(dist));
    assert_eq!(r["total"], expected_rating.len() as u64);
    assert!((r["mean"].as_f64().unwrap_or(0.0) - mean).abs() < 1e-9);
    assert!((r["csat"].as_f64().unwrap_or(0.0) - (dist[3] + dist[4]) as f64 / n).abs() < 1e-9);

    let r = h.results("ideas", T0 + 1_000);
    assert_eq!(r["total"], texts);
    assert_eq!(r["texts"][0]["text"], "idea 550");
    assert_eq!(
        h.admin(
            Method::Get,
            "/v1/admin/sites/demo/polls/nope/results",
            None,
            T0
        )
        .status,
        404
    );
}

#[test]
fn events_are_one_write_per_batch() {
    let h = seeded();
    let batch = |id: &str, n: usize| {
        let events: Vec<_> = (0..n)
            .map(|i| json!({"kind": "slide_view", "story": "reset", "slide": i % 3, "at": T0}))
            .collect();
        json!({"id": id, "visitor": tok("visitor", 1), "events": events})
    };
    let post = |b: serde_json::Value| {
        h.call(
            ApiRequest::new(Method::Post, "/v1/sites/demo/events")
                .header("origin", ORIGIN)
                .json(b.to_string()),
            T0 + 5,
        )
    };
    let before = h.kv.keys().len();
    let res = post(batch(&tok("batch", 1), 50));
    assert_eq!(res.status, 202, "{}", res.body);
    assert_eq!(body(&res)["accepted"], 50);
    assert_eq!(res.get_header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(h.kv.keys().len(), before + 1);
    let key = keys::events("demo", "2026-11-22", &tok("batch", 1));
    assert!(h.kv.keys().contains(&key));
    assert_eq!(h.kv.expiration(&key), Some(T0 + 5 + 30 * 86_400_000));
    // A resent batch overwrites itself.
    assert_eq!(post(batch(&tok("batch", 1), 50)).status, 202);
    assert_eq!(h.kv.keys().len(), before + 1);

    let res = post(batch(&tok("batch", 2), 51));
    assert_eq!((res.status, field(&res)), (400, "events".to_string()));
    let res = post(batch(&tok("batch", 2), 0));
    assert_eq!((res.status, field(&res)), (400, "events".to_string()));
    let res = post(
        json!({"id": tok("batch", 3), "visitor": tok("v", 1), "events": [{"kind": "teleport"}]}),
    );
    assert_eq!(res.status, 400);
    let res = post(
        json!({"id": tok("batch", 3), "visitor": tok("v", 1), "events": [{"kind": "banner_join", "session": "No Slug"}]}),
    );
    assert_eq!(
        (res.status, field(&res)),
        (400, "events[0].session".to_string())
    );
    let all = [
        json!({"kind": "story_view", "story": "reset"}),
        json!({"kind": "story_complete", "story": "reset"}),
        json!({"kind": "cta_click", "story": "reset", "slide": 1}),
        json!({"kind": "not_helpful", "story": "reset"}),
        json!({"kind": "escalation", "channel": "email", "topic": "billing"}),
        json!({"kind": "banner_join", "session": "qa"}),
    ];
    let res = post(json!({"id": tok("batch", 4), "visitor": tok("v", 1), "events": all}));
    assert_eq!(res.status, 202, "{}", res.body);
    assert_eq!(h.kv.keys().len(), before + 2);
}

#[test]
fn public_writes_are_rate_limited_per_ip_and_site() {
    let mut h = seeded();
    // Three per visitor and three per address: four visitors on one address hit the latter.
    h.limiter = RateLimiter::with_limits(Limits::per_minute(3, 3));
    let vote = |ip: &str, i: usize| {
        h.call(
            ApiRequest::new(Method::Post, "/v1/sites/demo/polls/csat/responses")
                .header("origin", ORIGIN)
                .header("cf-connecting-ip", ip)
                .json(
                    json!({"id": tok("r", i), "visitor": tok("v", i), "answer": {"rating": 5}})
                        .to_string(),
                ),
            T0 + 10_000,
        )
    };
    for i in 0..3 {
        assert_eq!(vote("203.0.113.7", i).status, 202);
    }
    let res = vote("203.0.113.7", 3);
    assert_eq!((res.status, code(&res)), (429, "rate_limited".to_string()));
    assert_eq!(res.get_header("retry-after"), Some("50"));
    assert_eq!(res.get_header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(
        vote("198.51.100.1", 4).status,
        202,
        "another address is not limited"
    );
    h.drain(T0);
    assert_eq!(h.results("csat", T0)["total"], 4);
    // Reads are never limited.
    assert_eq!(h.feed(T0 + 10_000)["stories"][0]["id"], "reset");
}

#[test]
fn demo_page_embeds_the_widget_with_one_script_tag() {
    let h = H::with(MemoryKv::new());
    let res = h.call(ApiRequest::new(Method::Get, "/"), 0);
    assert_eq!(res.status, 200);
    assert_eq!(
        res.get_header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(res.body.matches("<script").count(), 1);
    assert!(res.body.contains(
        r#"<script src="http://127.0.0.1:8787/widget.js" data-site="demo" async></script>"#
    ));
    let res = h.call(ApiRequest::new(Method::Get, "/health"), 42);
    assert_eq!(
        (res.status, res.body.as_str()),
        (200, r#"{"ok":true,"now":42}"#)
    );
}

#[test]
fn visitors_see_results_only_for_polls_that_show_them() {
    let h = seeded();
    for (i, choice) in [0, 0, 2].into_iter().enumerate() {
        h.vote(
            "helpful",
            &tok("r", i),
            &tok("v", i),
            json!({"choice": choice}),
            T0,
        );
    }
    h.vote(
        "ideas",
        &tok("t", 1),
        &tok("v", 1),
        json!({"text": "secret idea"}),
        T0,
    );
    let get = |path: &str| {
        h.call(
            ApiRequest::new(Method::Get, path).header("origin", ORIGIN),
            T0,
        )
    };
    // Eventually consistent: nothing counts until the queue is delivered.
    let res = get("/v1/sites/demo/polls/helpful/results");
    assert_eq!(body(&res)["total"], 0, "{}", res.body);
    h.drain(T0);
    let res = get("/v1/sites/demo/polls/helpful/results");
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(body(&res)["complete"], true);
    assert_eq!(body(&res)["computed_at"], T0);
    assert_eq!(body(&res)["counts"], json!([2, 0, 1]));
    assert_eq!(res.get_header("access-control-allow-origin"), Some(ORIGIN));
    let res = get("/v1/sites/demo/polls/ideas/results");
    assert_eq!(body(&res)["total"], 1);
    assert!(
        !res.body.contains("secret idea"),
        "text answers stay private"
    );
    let mut private = poll("private", json!({"type": "rating"}));
    private["show_results"] = json!(false);
    h.put("/v1/admin/sites/demo/polls/private", private, T0);
    let res = get("/v1/sites/demo/polls/private/results");
    assert_eq!(
        (res.status, code(&res)),
        (403, "results_private".to_string())
    );
    assert_eq!(get("/v1/sites/demo/polls/nope/results").status, 404);
}

#[test]
fn the_feed_says_when_live_help_is_open() {
    let h = seeded();
    let mut s = site();
    s["topics"][0]["hours"] = json!([{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": "09:00", "to": "17:00"}]);
    assert_eq!(h.put("/v1/admin/sites/demo", s.clone(), T0).status, 200);
    // T0 is 2026-11-22 00:00Z = 01:00 in Berlin: closed, opens at 09:00 local (08:00Z).
    let feed = h.feed(T0);
    let orders = feed["availability"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["topic"] == "orders"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(orders["open"], false);
    assert_eq!(orders["next_open"], T0 + 8 * HOUR);
    let feed = h.feed(T0 + 9 * HOUR);
    let orders = &feed["availability"][0];
    assert_eq!(
        (orders["open"].clone(), orders["until"].clone()),
        (json!(true), json!(T0 + 16 * HOUR))
    );
    // The billing topic has the seeded live session (T0+1h … T0+2h).
    let billing = feed["availability"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["topic"] == "billing"))
        .cloned();
    assert!(billing.is_none(), "the session is over by then");
    s["timezone"] = json!("Europe/Atlantis");
    let res = h.put("/v1/admin/sites/demo", s, T0);
    assert_eq!((res.status, field(&res)), (400, "timezone".to_string()));
}

#[test]
fn operators_list_every_item_of_a_kind() {
    let h = seeded();
    h.put(
        "/v1/admin/sites/demo/stories/old",
        story("old", T0 - 2 * HOUR, T0 - HOUR),
        T0,
    );
    let res = h.admin(Method::Get, "/v1/admin/sites/demo/stories", None, T0);
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        ids(&body(&res)["stories"]),
        ["old", "reset"],
        "expired items are listed too"
    );
    let res = h.admin(Method::Get, "/v1/admin/sites/demo/polls", None, T0);
    assert_eq!(ids(&body(&res)["polls"]), ["csat", "helpful", "ideas"]);
    assert_eq!(
        h.admin(Method::Get, "/v1/admin/sites/nope/sessions", None, T0)
            .status,
        404
    );
    assert_eq!(
        h.call(
            ApiRequest::new(Method::Get, "/v1/admin/sites/demo/stories"),
            T0
        )
        .status,
        401
    );
}

#[test]
fn one_sites_content_never_leaks_into_anothers() {
    let h = seeded();
    let mut other = site();
    other["id"] = json!("other");
    other["name"] = json!("Other Co");
    assert_eq!(h.put("/v1/admin/sites/other", other, T0).status, 201);
    assert_eq!(
        h.put(
            "/v1/admin/sites/other/stories/secret-launch",
            story("secret-launch", T0, T0 + HOUR),
            T0
        )
        .status,
        201
    );
    assert_eq!(ids(&h.feed(T0)["stories"]), ["reset"]);
    let res = h.call(ApiRequest::new(Method::Get, "/v1/sites/other/feed"), T0);
    assert_eq!(ids(&body(&res)["stories"]), ["secret-launch"]);
    assert_eq!(
        h.admin(
            Method::Get,
            "/v1/admin/sites/demo/stories/secret-launch",
            None,
            T0
        )
        .status,
        404
    );
    let res = h.call(
        ApiRequest::new(Method::Get, "/v1/sites/demo/kb?q=secret"),
        T0,
    );
    assert_eq!(body(&res)["results"], json!([]));
    // A vote on one site's poll id under another site is not found.
    assert_eq!(
        h.call(
            ApiRequest::new(Method::Post, "/v1/sites/other/polls/helpful/responses").json(
                json!({"id": tok("r", 1), "visitor": tok("v", 1), "answer": {"choice": 0}})
                    .to_string()
            ),
            T0
        )
        .status,
        404
    );
}

#[test]
fn operators_preview_availability_at_any_instant_across_dst() {
    let h = H::with(MemoryKv::new());
    let mut s = site();
    s["timezone"] = json!("Europe/Oslo");
    s["topics"][0]["hours"] = json!([{"days": ["mon","tue","wed","thu","fri","sat","sun"], "from": "09:00", "to": "17:00"}]);
    assert_eq!(h.put("/v1/admin/sites/demo", s, T0).status, 201);
    let at = |q: &str| {
        h.admin(
            Method::Get,
            &format!("/v1/admin/sites/demo/availability{q}"),
            None,
            T0,
        )
    };
    // Sat 2026-03-28 20:00Z: Sunday opens at 09:00 CEST = 07:00Z (after the spring change).
    let res = at("?at=1774728000000");
    assert_eq!(res.status, 200, "{}", res.body);
    let b = body(&res);
    assert_eq!(b["timezone"], json!("Europe/Oslo"));
    assert_eq!(
        b["availability"][0]["next_open"],
        json!(1_774_767_600_000_i64)
    );
    // Without `at`, the request's own time.
    assert_eq!(body(&at(""))["at"], json!(T0));
    let res = at("?at=tomorrow");
    assert_eq!((res.status, field(&res)), (400, "at".to_string()));
    // Operators only.
    let res = h.call(
        ApiRequest::new(Method::Get, "/v1/admin/sites/demo/availability"),
        T0,
    );
    assert_eq!(res.status, 401);
}

#[test]
fn the_headers_the_edge_leaves_out_change_nothing_for_health_and_the_feed() {
    // The edge copies only `http::headers_read(route)` from the runtime's request. For the
    // routes that read fewer than all, a request carrying every header the core can read
    // must be answered exactly as one carrying only that route's.
    let h = seeded();
    let etag = h
        .call(
            ApiRequest::new(Method::Get, "/v1/sites/demo/feed").header("origin", ORIGIN),
            T0,
        )
        .get_header("etag")
        .unwrap_or_default()
        .to_string();
    let all = [
        ("authorization", format!("Bearer {TOKEN}")),
        ("cf-connecting-ip", "203.0.113.9".to_string()),
        ("content-length", "0".to_string()),
        ("content-type", "application/json".to_string()),
        ("origin", ORIGIN.to_string()),
    ];
    for (method, path) in [
        (Method::Get, "/health"),
        (Method::Get, "/v1/sites/demo/feed"),
        (Method::Head, "/v1/sites/demo/feed"),
        (Method::Options, "/v1/sites/demo/feed"),
    ] {
        let route = glimpse_worker::route::route(method, path).ok();
        let kept = glimpse_worker::http::headers_read(route.as_ref());
        assert!(
            kept.len() < glimpse_worker::http::HEADERS_READ.len(),
            "{path}"
        );
        for if_none_match in [None, Some(etag.as_str()), Some("\"stale\"")] {
            let request = |only: Option<&[&str]>| {
                let mut req = ApiRequest::new(method, path);
                let mut headers: Vec<(&str, String)> = all.to_vec();
                if let Some(tag) = if_none_match {
                    headers.push(("if-none-match", tag.to_string()));
                }
                for (name, value) in headers {
                    if only.is_none_or(|o| o.contains(&name)) {
                        req = req.header(name, &value);
                    }
                }
                h.call(req, T0 + 1_000)
            };
            let (full, trimmed) = (request(None), request(Some(kept)));
            assert_eq!(
                (full.status, &full.headers, &full.body),
                (trimmed.status, &trimmed.headers, &trimmed.body),
                "{method:?} {path} {if_none_match:?}"
            );
        }
    }
}
