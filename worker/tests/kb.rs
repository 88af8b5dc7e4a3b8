//! The knowledge base: stories (even expired, never before they go live) and answers an
//! operator published are found by search and on the plain HTML page; resolving a question
//! publishes nothing; every entry can be edited, unpublished and deleted; erasing a visitor
//! removes the answers made from their questions; authored text is escaped.

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use common::*;
use glimpse_worker::http::ApiRequest;
use glimpse_worker::route::Method;
use glimpse_worker::store::MemoryKv;
use serde_json::json;

fn seeded() -> H<MemoryKv> {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    h.seed();
    h
}

fn kb(h: &H<MemoryKv>, query: &str) -> Vec<String> {
    let res = h.call(
        ApiRequest::new(Method::Get, &format!("/v1/sites/demo/kb?{query}")),
        T0 + 100 * HOUR,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    body(&res)["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["entry"]["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn expired_stories_stay_found_and_deleting_a_story_removes_its_entry() {
    let h = seeded();
    let mut old = story("old-tracking", T0 - 48 * HOUR, T0 - HOUR);
    old["title"] = json!("Tracking a parcel abroad");
    old["slides"][0]["text"] = json!("International parcels get a second tracking number.");
    assert_eq!(
        h.put("/v1/admin/sites/demo/stories/old-tracking", old, T0)
            .status,
        201
    );
    // It is gone from the feed, but not from the knowledge base.
    assert!(!ids(&h.feed(T0)["stories"]).contains(&"old-tracking".to_string()));
    assert_eq!(kb(&h, "q=tracking+abroad"), ["story-old-tracking"]);
    // Both stories mention "Reset"; the one titled with it ranks first.
    assert_eq!(kb(&h, "q=reset"), ["story-reset", "story-old-tracking"]);
    // Deleting a story removes it from the knowledge base too.
    h.admin(
        Method::Delete,
        "/v1/admin/sites/demo/stories/old-tracking",
        None,
        T0,
    );
    assert!(kb(&h, "q=abroad").is_empty());
}

/// Asks a question as `visitor` and replies to it; its id.
fn asked(h: &H<MemoryKv>, visitor: &str, message: &str, reply: &str) -> String {
    let res = h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/questions")
            .json(json!({"visitor": visitor, "topic": "orders", "message": message}).to_string()),
        T0,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    let id = body(&res)["id"].as_str().unwrap_or_default().to_string();
    let res = h.admin(
        Method::Post,
        &format!("/v1/admin/sites/demo/questions/{id}/replies"),
        Some(json!({ "text": reply })),
        T0,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    id
}

fn html(h: &H<MemoryKv>, query: &str) -> String {
    h.call(
        ApiRequest::new(Method::Get, &format!("/kb/demo?{query}")),
        T0 + 100 * HOUR,
    )
    .body
}

#[test]
fn resolving_publishes_nothing_an_operators_answer_is_published_on_its_own() {
    let h = seeded();
    let visitor = tok("v", 1);
    let id = asked(
        &h,
        &visitor,
        "My name is Jane Roe, 12 Main Street, order 4711 never arrived",
        "Sorry Jane! We chased the courier: parcels held abroad arrive within 5 days.",
    );
    let res = h.admin(
        Method::Post,
        &format!("/v1/admin/sites/demo/questions/{id}/resolve"),
        Some(json!({"category": "orders"})),
        T0,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    // Nothing of the thread is public: not in search, not on the page, not listed for operators.
    for q in ["q=jane", "q=4711", "q=main+street", "q=courier", "q="] {
        assert!(kb(&h, q).iter().all(|e| !e.starts_with("question-")), "{q}");
        // (The page repeats the query in its search box: look for the thread's own words.)
        let page = html(&h, q);
        assert!(
            !page.contains("Jane Roe") && !page.contains("chased the courier"),
            "{q}"
        );
    }
    let entries =
        body(&h.admin(Method::Get, "/v1/admin/sites/demo/kb", None, T0))["entries"].clone();
    assert!(!entries.to_string().contains("question-"), "{entries}");

    // The operator writes the answer and publishes it, deliberately.
    let path = format!("/v1/admin/sites/demo/kb/questions/{id}");
    let draft = json!({"topic": "orders", "title": "My parcel from abroad is late",
                       "body": "Parcels held at customs arrive within 5 days. We chase the courier for you."});
    let res = h.admin(Method::Put, &path, Some(draft.clone()), T0 + HOUR);
    assert_eq!(res.status, 201, "{}", res.body);
    let saved = body(&res);
    assert_eq!(saved["status"], "public");
    assert_eq!(saved["source"], "question");
    assert_eq!(saved["source_id"], json!(id));
    assert_eq!(saved["visitor"], json!(visitor));
    assert_eq!(kb(&h, "q=customs"), [format!("question-{id}")]);
    assert!(kb(&h, "q=jane").is_empty() && kb(&h, "q=4711").is_empty());
    // Visitors see the article, never where it came from.
    let res = h.call(
        ApiRequest::new(Method::Get, "/v1/sites/demo/kb?q=customs"),
        T0 + HOUR,
    );
    let hit = body(&res)["results"][0]["entry"].clone();
    assert!(
        hit.get("visitor").is_none() && hit.get("source_id").is_none(),
        "{hit}"
    );
    assert!(!res.body.contains(&visitor));
    assert!(html(&h, "q=customs").contains("Parcels held at customs"));
    assert!(!html(&h, "").contains(&visitor));

    // Edited, then unpublished: gone for visitors, kept for operators.
    let res = h.admin(
        Method::Put,
        &path,
        Some(json!({"topic": "orders",
        "title": "Parcels from abroad", "body": "Customs can hold parcels for 5 days."})),
        T0 + 2 * HOUR,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(html(&h, "q=customs").contains("Customs can hold parcels"));
    let res = h.admin(
        Method::Put,
        &path,
        Some(json!({"topic": "orders", "published": false,
        "title": "Parcels from abroad", "body": "Customs can hold parcels for 5 days."})),
        T0 + 3 * HOUR,
    );
    assert_eq!(
        (res.status, body(&res)["status"].clone()),
        (200, json!("unpublished"))
    );
    assert!(kb(&h, "q=customs").is_empty() && !html(&h, "q=customs").contains("Customs"));
    assert_eq!(
        body(&h.admin(Method::Get, &path, None, T0))["status"],
        "unpublished"
    );

    // Refusals: unknown question, bad drafts, a topic the site lacks, card numbers.
    let put = |p: &str, v: serde_json::Value| {
        let res = h.admin(Method::Put, p, Some(v), T0);
        (res.status, field(&res))
    };
    assert_eq!(
        put("/v1/admin/sites/demo/kb/questions/nope", draft.clone()).0,
        404
    );
    assert_eq!(
        put("/v1/admin/sites/demo/kb/stories/nope", draft.clone()).0,
        404
    );
    assert_eq!(
        put(&path, json!({"topic": "orders", "title": "", "body": "x"})),
        (400, "title".into())
    );
    assert_eq!(
        put(&path, json!({"topic": "garden", "title": "t", "body": "x"})),
        (400, "topic".into())
    );
    assert_eq!(
        put(
            &path,
            json!({"topic": "orders", "title": "t", "body": "Pay with 4111 1111 1111 1111"})
        ),
        (400, "body".into())
    );
    assert_eq!(
        h.call(
            ApiRequest::new(Method::Put, &path).json(draft.to_string()),
            T0
        )
        .status,
        401
    );
}

#[test]
fn story_entries_can_be_edited_unpublished_and_deleted() {
    let h = seeded();
    let path = "/v1/admin/sites/demo/kb/stories/reset";
    let res = h.admin(
        Method::Put,
        path,
        Some(json!({"topic": "orders",
        "title": "Forgot your password?", "body": "Use the link in the sign-in page."})),
        T0,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(html(&h, "q=forgot").contains("Use the link in the sign-in page."));
    // Saving the story again keeps the operator's words.
    let mut s = story("reset", T0, T0 + 48 * HOUR);
    s["title"] = json!("How to reset (v2)");
    assert_eq!(
        h.put("/v1/admin/sites/demo/stories/reset", s.clone(), T0)
            .status,
        200
    );
    assert_eq!(kb(&h, "q=forgot"), ["story-reset"]);
    // Unpublished, it stays out, even when the story is saved again.
    let res = h.admin(
        Method::Put,
        path,
        Some(json!({"topic": "orders", "published": false,
        "title": "Forgot your password?", "body": "Use the link."})),
        T0,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        h.put("/v1/admin/sites/demo/stories/reset", s, T0).status,
        200
    );
    assert!(kb(&h, "q=forgot").is_empty() && kb(&h, "q=reset").is_empty());
    assert_eq!(h.admin(Method::Delete, path, None, T0).status, 204);
    assert_eq!(h.admin(Method::Get, path, None, T0).status, 404);
    assert_eq!(h.admin(Method::Delete, path, None, T0).status, 204);
}

#[test]
fn a_scheduled_story_is_secret_in_the_knowledge_base_until_it_goes_live() {
    let h = seeded();
    let week = 7 * 24 * HOUR;
    let mut s = story("launch", T0 + week, T0 + 2 * week);
    s["title"] = json!("Our secret spring launch");
    s["slides"][0]["text"] = json!("The Moonbean grinder ships on April 1.");
    assert_eq!(
        h.put("/v1/admin/sites/demo/stories/launch", s, T0).status,
        201
    );
    let at = |now: i64, q: &str| {
        let json = h.call(
            ApiRequest::new(Method::Get, &format!("/v1/sites/demo/kb?q={q}")),
            now,
        );
        let page = h.call(
            ApiRequest::new(Method::Get, &format!("/kb/demo?q={q}")),
            now,
        );
        {
            // (Both repeat the query: look for the story's own words.)
            let secret = |b: &str| b.contains("Moonbean grinder") || b.contains("secret spring");
            (secret(&json.body), secret(&page.body))
        }
    };
    for q in ["moonbean", "spring", "", "launch"] {
        assert_eq!(at(T0, q), (false, false), "{q}");
        assert_eq!(at(T0 + week - 1, q), (false, false), "{q}");
    }
    assert_eq!(at(T0 + week, "moonbean"), (true, true));
    // And it stays after the story expires.
    assert_eq!(at(T0 + 3 * week, "moonbean"), (true, true));
    let listed =
        body(&h.admin(Method::Get, "/v1/admin/sites/demo/kb", None, T0))["entries"].clone();
    let launch = listed
        .as_array()
        .and_then(|a| a.iter().find(|e| e["id"] == "story-launch"))
        .cloned();
    assert_eq!(
        launch.map(|e| e["status"].clone()),
        Some(json!("scheduled"))
    );
}

#[test]
fn erasing_a_visitor_removes_the_answers_made_from_their_questions() {
    let h = seeded();
    let (me, other) = (tok("v", 1), tok("v", 2));
    let mine = asked(&h, &me, "Where is my parcel?", "It is held at customs.");
    let theirs = asked(
        &h,
        &other,
        "Can I pay by invoice?",
        "Yes, for orders over 100 EUR.",
    );
    for (id, title) in [
        (&mine, "Parcels held at customs"),
        (&theirs, "Paying by invoice"),
    ] {
        let res = h.admin(
            Method::Put,
            &format!("/v1/admin/sites/demo/kb/questions/{id}"),
            Some(json!({"topic": "orders", "title": title, "body": "Answer."})),
            T0,
        );
        assert_eq!(res.status, 201, "{}", res.body);
    }
    let path = format!("/v1/admin/sites/demo/visitors/{me}");
    let export = body(&h.admin(Method::Get, &path, None, T0));
    assert_eq!(
        export["knowledge_base"][0]["id"],
        json!(format!("question-{mine}"))
    );
    assert_eq!(export["knowledge_base"].as_array().map(Vec::len), Some(1));
    let res = h.admin(Method::Delete, &path, None, T0);
    assert_eq!(body(&res)["erased"]["knowledge_base"], 1, "{}", res.body);
    assert!(kb(&h, "q=customs").is_empty());
    assert_eq!(kb(&h, "q=invoice"), [format!("question-{theirs}")]);
    assert_eq!(
        h.admin(
            Method::Get,
            &format!("/v1/admin/sites/demo/kb/questions/{mine}"),
            None,
            T0
        )
        .status,
        404
    );
}

#[test]
fn bad_searches_are_400_and_unknown_sites_404() {
    let h = seeded();
    let res = h.call(
        ApiRequest::new(
            Method::Get,
            &format!("/v1/sites/demo/kb?q={}", "x".repeat(201)),
        ),
        T0,
    );
    assert_eq!((res.status, field(&res)), (400, "q".to_string()));
    let res = h.call(
        ApiRequest::new(Method::Get, "/v1/sites/demo/kb?topic=Not%20a%20slug"),
        T0,
    );
    assert_eq!((res.status, field(&res)), (400, "topic".to_string()));
    assert_eq!(
        h.call(ApiRequest::new(Method::Get, "/v1/sites/nope/kb"), T0)
            .status,
        404
    );
    assert_eq!(
        h.call(ApiRequest::new(Method::Get, "/kb/nope"), T0).status,
        404
    );
}

#[test]
fn the_html_page_lists_and_searches_and_escapes() {
    let h = seeded();
    let mut s = story("xss", T0, T0 + HOUR);
    s["title"] = json!("<script>alert(1)</script> Returns");
    assert_eq!(h.put("/v1/admin/sites/demo/stories/xss", s, T0).status, 201);
    let res = h.call(ApiRequest::new(Method::Get, "/kb/demo"), T0);
    assert_eq!(res.status, 200);
    assert_eq!(
        res.get_header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(res.body.contains("<h1>Demo Coffee — Help</h1>"));
    // Everything inside one main landmark, the form a search landmark (axe: landmark-one-main,
    // region; the page itself is checked by axe-core in e2e/tests/a11y.rs).
    assert!(res.body.contains("<body><main><h1>") && res.body.ends_with("</main></body></html>"));
    assert!(res.body.contains("<form method=\"get\" role=\"search\""));
    assert!(res.body.contains("How to reset"));
    assert!(
        res.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; Returns")
    );
    assert!(!res.body.contains("<script>"));
    let res = h.call(ApiRequest::new(Method::Get, "/kb/demo?q=returns"), T0);
    assert!(res.body.contains("Returns") && !res.body.contains("How to reset"));
    assert!(res.body.contains("value=\"returns\""));
}

/// Sets a story's counted popularity as the queue consumer keeps it (tests/ingest.rs shows
/// how events fill the `popularity` table).
fn counted(h: &H<MemoryKv>, story: &str, views: i64, helped: i64) {
    h.sql
        .execute_script(&format!(
            "INSERT INTO popularity (site, story, views, helped) VALUES ('demo', '{story}', {views}, {helped}) \
             ON CONFLICT (site, story) DO UPDATE SET views = excluded.views, helped = excluded.helped"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn popularity_from_the_counters_ranks_results() {
    let h = seeded();
    let mut twin = story("reset-twin", T0, T0 + HOUR);
    twin["title"] = json!("How to reset");
    assert_eq!(
        h.put("/v1/admin/sites/demo/stories/reset-twin", twin, T0)
            .status,
        201
    );
    // Both entries tie on text; the older id order decides.
    let search = || {
        let res = h.call(
            ApiRequest::new(Method::Get, "/v1/sites/demo/kb?q=how+to+reset"),
            T0,
        );
        assert_eq!(res.status, 200, "{}", res.body);
        body(&res)["results"].clone()
    };
    assert_eq!(search()[0]["entry"]["id"], "story-reset");
    counted(&h, "reset-twin", 2, 1);
    let results = search();
    assert_eq!(results[0]["entry"]["id"], "story-reset-twin", "{results}");
    assert_eq!(results[0]["entry"]["views"], 2);
    assert_eq!(results[0]["entry"]["helped"], 1);
    // The operators see the same counts; the recount endpoint answers them.
    let res = h.admin(
        Method::Get,
        "/v1/admin/sites/demo/kb/stories/reset-twin",
        None,
        T0,
    );
    assert_eq!(body(&res)["views"], 2);
    let res = h.admin(Method::Post, "/v1/admin/sites/demo/kb/recount", None, T0);
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(body(&res)["story-reset-twin"], json!([2, 1]));
    assert_eq!(
        h.admin(Method::Post, "/v1/admin/sites/nope/kb/recount", None, T0)
            .status,
        404
    );
}

#[test]
fn a_visitor_deleting_their_thread_takes_the_answer_made_from_it() {
    let h = seeded();
    let res = h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/questions").json(
            json!({"visitor": tok("v", 1), "topic": "orders", "message": "Is my parcel lost?"})
                .to_string(),
        ),
        T0,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    let (id, token) = (
        body(&res)["id"].as_str().unwrap_or_default().to_string(),
        body(&res)["token"].as_str().unwrap_or_default().to_string(),
    );
    let res = h.admin(
        Method::Put,
        &format!("/v1/admin/sites/demo/kb/questions/{id}"),
        Some(
            json!({"topic": "orders", "title": "Lost parcels", "body": "We refund lost parcels."}),
        ),
        T0,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(kb(&h, "q=lost+parcels"), [format!("question-{id}")]);
    let res = h.call(
        ApiRequest::new(Method::Delete, &format!("/v1/sites/demo/questions/{id}"))
            .header("authorization", &format!("Bearer {token}"))
            .header("origin", ORIGIN),
        T0,
    );
    assert_eq!(res.status, 204, "{}", res.body);
    assert!(kb(&h, "q=lost+parcels").is_empty());
}

#[test]
fn answers_copied_verbatim_by_older_versions_stay_hidden_until_rewritten() {
    let h = seeded();
    let res = h.call(
        ApiRequest::new(Method::Post, "/v1/sites/demo/questions").json(
            json!({"visitor": tok("v", 3), "topic": "orders", "message": "My name is Jane Roe, order 4711 never arrived"})
                .to_string(),
        ),
        T0,
    );
    let id = body(&res)["id"].as_str().unwrap_or_default().to_string();
    // What 0.13 stored when it was resolved: the visitor's words, no visitor id, `created_at`
    // (in D1 as the KV→D1 rebuild writes it).
    let legacy = json!({"id": format!("question-{id}"), "source": "question", "topic": "orders",
        "title": "My name is Jane Roe, order 4711 never arrived",
        "body": "My name is Jane Roe, order 4711 never arrived\nSorry!", "created_at": T0,
        "views": 0, "helped": 0});
    let legacy: glimpse_shared::kb::KbEntry =
        serde_json::from_value(legacy).unwrap_or_else(|e| panic!("{e}"));
    let entry_id = format!("question-{id}");
    pollster::block_on(glimpse_worker::kb::write(
        &h.sql,
        "demo",
        &[(&entry_id, Some(&legacy))],
    ))
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(kb(&h, "q=jane").is_empty() && !kb(&h, "q=").contains(&entry_id));
    assert!(!html(&h, "").contains("Jane Roe"));
    let path = format!("/v1/admin/sites/demo/kb/questions/{id}");
    assert_eq!(
        body(&h.admin(Method::Get, &path, None, T0))["status"],
        "needs_review"
    );
    // Rewritten and published by an operator, it is public — and remembers the visitor.
    let res = h.admin(
        Method::Put,
        &path,
        Some(json!({"topic": "orders", "title": "Missing parcels", "body": "We trace and refund them."})),
        T0 + HOUR,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(body(&res)["visitor"], json!(tok("v", 3)));
    assert_eq!(kb(&h, "q=missing+parcels"), [format!("question-{id}")]);
}

#[test]
fn a_live_story_rescheduled_with_new_words_keeps_them_secret_until_then() {
    let h = seeded();
    let week = 7 * 24 * HOUR;
    let mut s = story("reset", T0 + week, T0 + 2 * week);
    s["title"] = json!("Platypusprice rise next month");
    s["slides"][0]["text"] = json!("Confidential: prices go up 40 percent, code NUMBAT77");
    assert_eq!(
        h.put("/v1/admin/sites/demo/stories/reset", s, T0).status,
        200
    );
    for q in ["platypusprice", "numbat77", "confidential", ""] {
        for path in [
            format!("/v1/sites/demo/kb?q={q}"),
            format!("/kb/demo?q={q}"),
        ] {
            let res = h.call(ApiRequest::new(Method::Get, &path), T0 + HOUR);
            assert!(
                !res.body.contains("Platypusprice rise") && !res.body.contains("NUMBAT77"),
                "{path}: {}",
                res.body
            );
        }
    }
    // What was live stays readable meanwhile; the new words from the new publish_at.
    let res = h.call(ApiRequest::new(Method::Get, "/kb/demo?q=reset"), T0 + HOUR);
    assert!(res.body.contains("How to reset"), "{}", res.body);
    let res = h.call(
        ApiRequest::new(Method::Get, "/v1/sites/demo/kb?q=platypusprice"),
        T0 + week,
    );
    assert!(res.body.contains("Platypusprice rise"), "{}", res.body);
}

#[test]
fn popularity_counts_only_entries_that_exist() {
    let h = seeded();
    // Counted views of stories that do not exist (anonymous batches may name anything).
    for v in 0..20 {
        counted(&h, &format!("bogus-{v}"), 1, 0);
    }
    counted(&h, "reset", 20, 0);
    let res = h.admin(Method::Post, "/v1/admin/sites/demo/kb/recount", None, T0);
    assert_eq!(res.status, 200, "{}", res.body);
    let counted = body(&res);
    assert!(
        counted
            .as_object()
            .is_some_and(|m| m.keys().all(|k| k == "story-reset")),
        "{counted}"
    );
}

/// Saves story `id` (published at T0) with `title` and one slide of `text`.
fn story_with(h: &H<MemoryKv>, id: &str, title: &str, text: &str) {
    let mut s = story(id, T0, T0 + HOUR);
    s["title"] = json!(title);
    s["slides"][0]["text"] = json!(text);
    let res = h.put(&format!("/v1/admin/sites/demo/stories/{id}"), s, T0);
    assert!(res.status == 201 || res.status == 200, "{}", res.body);
}

fn percent(q: &str) -> String {
    q.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn full_text_search_finds_stems_prefixes_and_accents_and_no_input_breaks_it() {
    let h = seeded();
    story_with(
        &h,
        "refunds",
        "Reembolsó de pagos",
        "Payments are refunded to your card within five days.",
    );
    story_with(
        &h,
        "passwords",
        "Contraseña olvidada",
        "Reset passwords from Settings.",
    );
    assert_eq!(kb(&h, "q=payment"), ["story-refunds"], "stem");
    assert_eq!(kb(&h, "q=refund"), ["story-refunds"], "stem");
    assert_eq!(kb(&h, "q=reembolso"), ["story-refunds"], "accent");
    assert_eq!(
        kb(&h, "q=CONTRASENA"),
        ["story-passwords"],
        "accent and case"
    );
    assert_eq!(kb(&h, "q=contrase%C3%B1a"), ["story-passwords"]);
    assert_eq!(kb(&h, "q=pass"), ["story-passwords"], "prefix");
    assert_eq!(kb(&h, "q=card+five"), ["story-refunds"], "every word");
    assert!(kb(&h, "q=card+unicorn").is_empty());
    // FTS5 syntax, quotes, stars, operators, column filters and odd Unicode are words or
    // nothing: always an answer, never a storage error.
    let long = "payment ".repeat(25);
    let hostile = [
        "\"",
        "\"\"",
        "*",
        "payment*",
        "\"payment",
        "NEAR(",
        "NEAR(payment card",
        "-",
        "-payment",
        ":",
        "title:payment",
        "{title}:x",
        "site:demo",
        "payment AND",
        "OR",
        "NOT card",
        "^card",
        "(",
        ")",
        "'; DROP TABLE kb; --",
        "\u{301}",
        "\u{301}payment",
        "日本語",
        "🙂",
        "\u{0}",
        "a b c d e f g h i j k l m n o p q r s t u v w x y z",
        long.trim(),
    ];
    for q in hostile {
        for path in [
            format!("/v1/sites/demo/kb?q={}", percent(q)),
            format!("/kb/demo?q={}", percent(q)),
        ] {
            let res = h.call(ApiRequest::new(Method::Get, &path), T0 + HOUR);
            assert_eq!(res.status, 200, "{q:?} {path}: {}", res.body);
        }
    }
    assert_eq!(
        kb(&h, &format!("q={}", percent("payment*"))),
        ["story-refunds"]
    );
    assert_eq!(
        kb(&h, &format!("q={}", percent("\"payment"))),
        ["story-refunds"]
    );
    assert_eq!(
        kb(&h, &format!("q={}", percent("title:payment"))),
        Vec::<String>::new()
    );
    // Longer than the search allows: 400 for the API, cut for the page; never 5xx.
    let q = percent(&"x".repeat(1000));
    let res = h.call(
        ApiRequest::new(Method::Get, &format!("/v1/sites/demo/kb?q={q}")),
        T0,
    );
    assert_eq!(res.status, 400, "{}", res.body);
    let res = h.call(ApiRequest::new(Method::Get, &format!("/kb/demo?q={q}")), T0);
    assert_eq!(res.status, 200);
}

#[test]
fn a_site_finds_only_its_own_entries() {
    let h = seeded();
    let mut other = site();
    other["id"] = json!("other");
    assert_eq!(h.put("/v1/admin/sites/other", other, T0).status, 201);
    let mut s = story("secret", T0, T0 + HOUR);
    s["title"] = json!("Otherwise unique wombat words");
    assert_eq!(
        h.put("/v1/admin/sites/other/stories/secret", s, T0).status,
        201
    );
    assert!(kb(&h, "q=wombat").is_empty());
    assert!(
        kb(&h, "q=demo").is_empty(),
        "the site column is not searched"
    );
    let res = h.call(
        ApiRequest::new(Method::Get, "/v1/sites/other/kb?q=wombat"),
        T0,
    );
    assert_eq!(body(&res)["results"][0]["entry"]["id"], "story-secret");
    assert_eq!(body(&res)["results"].as_array().map(Vec::len), Some(1));
}

#[test]
fn at_scale_search_the_page_and_the_admin_list_stay_within_budget_and_exact() {
    let h = seeded();
    // 2,000 entries written as the API writes them (one transaction per 200).
    let entries: Vec<glimpse_shared::kb::KbEntry> = (0..2000)
        .map(|i| {
            let story: glimpse_shared::Story = serde_json::from_value({
                let mut s = story(&format!("s{i:04}"), T0 - 1000 + i64::from(i), T0 + HOUR);
                s["title"] = json!(format!("Article {i} about parcels"));
                s["slides"][0]["text"] = json!(if i == 1234 {
                    "The zebrafinch courier answers in person.".to_string()
                } else {
                    format!("Parcel tracking detail number {i}.")
                });
                s
            })
            .unwrap_or_else(|e| panic!("{e}"));
            glimpse_shared::kb::story_entry(&story, None, T0)
        })
        .collect();
    for chunk in entries.chunks(200) {
        let changes: Vec<(&str, Option<&glimpse_shared::kb::KbEntry>)> =
            chunk.iter().map(|e| (e.id.as_str(), Some(e))).collect();
        pollster::block_on(glimpse_worker::kb::write(&h.sql, "demo", &changes))
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
    // One rare word: exactly its entry. A word in every entry: a full, bounded page.
    assert_eq!(kb(&h, "q=zebrafinch"), ["story-s1234"]);
    assert_eq!(h.counts.d1_calls.get(), 1);
    assert_eq!(kb(&h, "q=parcels").len(), 20);
    assert_eq!(kb(&h, "q=").len(), 20);
    let page = html(&h, "q=parcel");
    assert_eq!(
        page.matches("<article").count(),
        100,
        "bounded by the candidates"
    );
    let page = html(&h, "");
    assert!(page.contains("Article 1999 about parcels"), "newest first");
    // The admin list: pages of 500 through all 2,001 entries, each exactly once.
    let mut seen = std::collections::BTreeSet::new();
    let mut query = "?limit=500".to_string();
    loop {
        let res = h.admin(
            Method::Get,
            &format!("/v1/admin/sites/demo/kb{query}"),
            None,
            T0,
        );
        assert_eq!(res.status, 200, "{}", res.body);
        let v = body(&res);
        for id in ids(&v["entries"]) {
            assert!(seen.insert(id));
        }
        match v["next"].as_str() {
            Some(next) => query = format!("?limit=500&before={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 2001);
}

#[test]
fn the_knowledge_base_reads_and_searches_in_each_of_the_sites_languages() {
    let h = seeded();
    let mut s = site();
    s["languages"] = json!(["es", "nb"]);
    s["topics"][0]["translations"] = json!({"es": "Pedidos"});
    assert_eq!(h.put("/v1/admin/sites/demo", s, T0).status, 200);
    let mut st = story("reset", T0, T0 + HOUR);
    st["title"] = json!("Reset your password");
    st["translations"] = json!({
        "es": {"title": "Restablece tu contraseña", "slides": [{"text": "Abre Ajustes"}]},
        "nb": {"title": "Tilbakestill passordet ditt"}
    });
    assert_eq!(
        h.put("/v1/admin/sites/demo/stories/reset", st, T0).status,
        200
    );
    let first = |query: &str| {
        let res = h.call(
            ApiRequest::new(Method::Get, &format!("/v1/sites/demo/kb?{query}")),
            T0 + 100 * HOUR,
        );
        assert_eq!(res.status, 200, "{}", res.body);
        body(&res)["results"][0]["entry"].clone()
    };
    // A Spanish search finds it and reads in Spanish, untranslated parts in English.
    let es = first("q=contrase%C3%B1a&lang=es");
    assert_eq!(es["title"], "Restablece tu contraseña");
    assert_eq!(es["body"], "Abre Ajustes\nTap Reset");
    // es-MX reads es; Norwegian `no` reads nb; a language the site lacks reads English.
    assert_eq!(
        first("q=ajustes&lang=es-MX")["title"],
        "Restablece tu contraseña"
    );
    assert_eq!(
        first("q=passordet&lang=no")["title"],
        "Tilbakestill passordet ditt"
    );
    assert_eq!(first("q=password&lang=de")["title"], "Reset your password");
    assert_eq!(first("q=password")["title"], "Reset your password");
    let res = h.call(
        ApiRequest::new(Method::Get, "/v1/sites/demo/kb?q=x&lang=%3Cscript%3E"),
        T0,
    );
    assert_eq!((res.status, field(&res)), (400, "lang".to_string()));

    // The page: in Spanish with its topic label, the search keeps the language, and links
    // to the other languages; without JavaScript.
    let page = html(&h, "lang=es");
    assert!(page.contains("<html lang=\"es\">"), "{page}");
    assert!(page.contains("<h2>Pedidos</h2>"), "{page}");
    assert!(
        page.contains(
            "<h3><a href=\"/kb/demo/stories/reset?lang=es\">Restablece tu contraseña</a></h3>"
        ),
        "{page}"
    );
    assert!(page.contains("name=\"lang\" value=\"es\""), "{page}");
    assert!(page.contains("Buscar ayuda"), "{page}");
    assert!(page.contains("href=\"?lang=nb\""), "{page}");
    assert!(page.contains("href=\"?lang=en\""), "{page}");
    assert!(!page.contains("<script"), "{page}");
    let page = html(&h, "q=passordet&lang=nb");
    assert!(
        page.contains(">Tilbakestill passordet ditt</a></h3>"),
        "{page}"
    );
    assert!(
        page.contains("<h2>Orders</h2>"),
        "nb has no topic label: {page}"
    );

    // An operator's own words replace the story's, and its translations with them.
    let draft =
        json!({"topic": "orders", "title": "Password help", "body": "Ask us.", "published": true});
    let res = h.admin(
        Method::Put,
        "/v1/admin/sites/demo/kb/stories/reset",
        Some(draft),
        T0,
    );
    assert!(res.status < 300, "{}", res.body);
    assert_eq!(first("q=password&lang=es")["title"], "Password help");
}

#[test]
fn an_operators_answer_carries_its_own_translations() {
    let h = seeded();
    let mut s = site();
    s["languages"] = json!(["es"]);
    assert_eq!(h.put("/v1/admin/sites/demo", s, T0).status, 200);
    let id = asked(
        &h,
        &tok("visitor", 7),
        "¿Enviáis a Canarias?",
        "Sí, en 5 días.",
    );
    let path = format!("/v1/admin/sites/demo/kb/questions/{id}");
    let draft = |translations: serde_json::Value| {
        json!({"topic": "orders", "title": "Shipping to the Canary Islands",
               "body": "Yes, within 5 working days.", "translations": translations})
    };
    // A language the site does not offer, or a card number in a translation, is refused.
    let res = h.admin(
        Method::Put,
        &path,
        Some(draft(json!({"de": {"title": "Versand"}}))),
        T0,
    );
    assert_eq!(
        (res.status, field(&res)),
        (400, "translations.de".to_string())
    );
    let res = h.admin(
        Method::Put,
        &path,
        Some(draft(
            json!({"es": {"title": "Envíos", "body": "Tarjeta 4111 1111 1111 1111"}}),
        )),
        T0,
    );
    assert_eq!(
        (res.status, field(&res)),
        (400, "translations.es.body".to_string())
    );
    let res = h.admin(
        Method::Put,
        &path,
        Some(draft(
            json!({"es": {"title": "Envíos a Canarias", "body": "Sí, en 5 días laborables."}}),
        )),
        T0,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    let found = h.call(
        ApiRequest::new(Method::Get, "/v1/sites/demo/kb?q=canarias&lang=es"),
        T0 + HOUR,
    );
    assert_eq!(
        body(&found)["results"][0]["entry"]["title"],
        "Envíos a Canarias"
    );
    assert!(html(&h, "lang=es").contains(">Envíos a Canarias</a></h3>"));
}

// ---- The help centre: one page per entry, "Did this help?" without JavaScript ----

/// Saves story `reset` with pictures and hostile authored text (and Spanish alt text).
fn hostile_story_with_pictures(h: &H<MemoryKv>) {
    let mut s = site();
    s["languages"] = json!(["es"]);
    s["topics"][0]["translations"] = json!({"es": "Pedidos"});
    assert_eq!(h.put("/v1/admin/sites/demo", s, T0).status, 200);
    let mut st = story("reset", T0, T0 + 48 * HOUR);
    st["title"] = json!("</script><script>alert(1)</script> Reset & \"more\"");
    st["slides"] = json!([
        {"text": "Open <b>Settings</b> <img src=x onerror=alert(2)>", "duration_ms": 5000,
         "media": {"kind": "image", "url": "https://cdn.example/reset-1.webp",
                   "alt": "The \"Settings\" screen <script>alert(3)</script>"}},
        {"text": "Watch the tap", "duration_ms": 5000,
         "media": {"kind": "video", "url": "/media/demo/tap.webm", "alt": "A tap"}},
        {"text": "Tap Reset", "duration_ms": 5000,
         "media": {"kind": "image", "url": "/media/demo/reset-2.webp", "alt": "The reset button"}}
    ]);
    st["translations"] =
        json!({"es": {"title": "Restablecer", "slides": [{"alt": "La pantalla de ajustes"}]}});
    assert_eq!(
        h.put("/v1/admin/sites/demo/stories/reset", st, T0).status,
        200
    );
}

fn get(h: &H<MemoryKv>, path: &str) -> glimpse_worker::http::ApiResponse {
    h.call(ApiRequest::new(Method::Get, path), T0 + HOUR)
}

/// The text of the page's one JSON-LD script.
fn json_ld(page: &str) -> String {
    let start = "<script type=\"application/ld+json\">";
    let from = page.find(start).map(|i| i + start.len()).unwrap_or(0);
    let to = page[from..].find("</script>").map_or(from, |i| from + i);
    page[from..to].to_string()
}

#[test]
fn an_entry_has_its_own_page_with_canonical_link_description_json_ld_and_pictures() {
    let h = seeded();
    hostile_story_with_pictures(&h);
    let res = get(&h, "/kb/demo/stories/reset");
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.get_header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(res.get_header("cache-control"), Some("public, max-age=10"));
    let page = &res.body;
    assert!(
        page.starts_with("<!doctype html><html lang=\"en\">"),
        "{page}"
    );
    assert!(
        page.contains(
            "<link rel=\"canonical\" href=\"http://127.0.0.1:8787/kb/demo/stories/reset\">"
        ),
        "{page}"
    );
    assert!(
        page.contains(
            "<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; Reset &amp; &quot;more&quot; — Demo Coffee</title>"
        ),
        "{page}"
    );
    assert!(
        page.contains("<meta name=\"description\" content=\"Open &lt;b&gt;Settings&lt;/b&gt; &lt;img src=x onerror=alert(2)&gt;. Watch the tap. Tap Reset.\">"),
        "{page}"
    );
    // One script element, the JSON-LD data block, which no authored text can close.
    assert_eq!(page.matches("<script").count(), 1, "{page}");
    assert_eq!(page.matches("</script>").count(), 1, "{page}");
    let ld_text = json_ld(page);
    assert!(
        !ld_text.contains('<') && !ld_text.contains('>'),
        "{ld_text}"
    );
    let ld: serde_json::Value =
        serde_json::from_str(&ld_text).unwrap_or_else(|e| panic!("{e}: {ld_text}"));
    assert_eq!(ld["@context"], "https://schema.org");
    assert_eq!(ld["@type"], "Article");
    assert_eq!(
        ld["headline"],
        "</script><script>alert(1)</script> Reset & \"more\""
    );
    assert_eq!(ld["inLanguage"], "en");
    assert_eq!(ld["url"], "http://127.0.0.1:8787/kb/demo/stories/reset");
    assert_eq!(
        ld["image"],
        json!([
            "https://cdn.example/reset-1.webp",
            "http://127.0.0.1:8787/media/demo/reset-2.webp"
        ])
    );
    assert_eq!(ld["publisher"]["name"], "Demo Coffee");
    // The pictures with their alt text, lazily; the video has none.
    assert!(
        page.contains("<img src=\"https://cdn.example/reset-1.webp\" alt=\"The &quot;Settings&quot; screen &lt;script&gt;alert(3)&lt;/script&gt;\" loading=\"lazy\""),
        "{page}"
    );
    assert!(
        page.contains(
            "<img src=\"/media/demo/reset-2.webp\" alt=\"The reset button\" loading=\"lazy\""
        ),
        "{page}"
    );
    assert!(!page.contains("tap.webm"), "{page}");
    // Authored text is text.
    assert!(
        page.contains("<p>Open &lt;b&gt;Settings&lt;/b&gt; &lt;img src=x onerror=alert(2)&gt;</p>"),
        "{page}"
    );
    assert!(
        !page.contains("<b>") && !page.contains("onerror=alert(2)>"),
        "{page}"
    );
    // The way back, the languages, the channels.
    assert!(
        page.contains("<a href=\"/kb/demo\">Demo Coffee — Help</a> › <a href=\"/kb/demo#topic-orders\">Orders</a>"),
        "{page}"
    );
    assert!(page.contains("href=\"?lang=es\""), "{page}");
    assert!(
        page.contains("<a href=\"mailto:help@shop.example\">Email us</a>"),
        "{page}"
    );

    // In Spanish: its words, its alt text where translated, its own canonical URL.
    let page = get(&h, "/kb/demo/stories/reset?lang=es").body;
    assert!(
        page.starts_with("<!doctype html><html lang=\"es\">"),
        "{page}"
    );
    assert!(page.contains("<h1>Restablecer</h1>"), "{page}");
    assert!(page.contains("alt=\"La pantalla de ajustes\""), "{page}");
    assert!(page.contains("alt=\"The reset button\""), "{page}");
    assert!(
        page.contains(
            "<link rel=\"canonical\" href=\"http://127.0.0.1:8787/kb/demo/stories/reset?lang=es\">"
        ),
        "{page}"
    );
    assert!(page.contains("¿Te ha ayudado?"), "{page}");
    assert!(json_ld(&page).contains("\"inLanguage\":\"es\""));

    // The index links to it, in the language it is read in.
    let index = html(&h, "lang=es");
    assert!(
        index.contains("<a href=\"/kb/demo/stories/reset?lang=es\">Restablecer</a>"),
        "{index}"
    );
    // Both are cached at the edge like the search; the form's POST never is.
    for path in ["/kb/demo/stories/reset", "/kb/demo/stories/reset?lang=es"] {
        assert!(
            glimpse_worker::core::edge_cache_key(&ApiRequest::new(Method::Get, path)).is_some()
        );
    }
    assert!(
        glimpse_worker::core::edge_cache_key(&ApiRequest::new(
            Method::Post,
            "/kb/demo/stories/reset/feedback"
        ))
        .is_none()
    );
}

#[test]
fn pictures_stored_with_unsafe_urls_are_never_shown() {
    let h = seeded();
    // Entries are written only from validated stories; one stored otherwise (an older
    // version, a hand edit) still shows only https or same-origin pictures.
    let mut entry: glimpse_shared::kb::KbEntry = serde_json::from_value(json!({
        "id": "story-reset", "source": "story", "source_id": "reset", "topic": "orders",
        "title": "Reset", "body": "Open Settings", "published_at": T0,
        "pictures": [
            {"url": "javascript:alert(1)", "alt": "a"},
            {"url": "http://plain.example/x.webp", "alt": "b"},
            {"url": "//evil.example/x.webp", "alt": "c"},
            {"url": "data:image/png;base64,AAAA", "alt": "d"},
            {"url": "/media/../admin", "alt": "e"},
            {"url": "https://cdn.example/ok.webp", "alt": "fine"}
        ]
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    entry.updated_at = T0;
    pollster::block_on(glimpse_worker::kb::write(
        &h.sql,
        "demo",
        &[("story-reset", Some(&entry))],
    ))
    .unwrap_or_else(|e| panic!("{e:?}"));
    let page = get(&h, "/kb/demo/stories/reset").body;
    assert_eq!(page.matches("<img ").count(), 1, "{page}");
    assert!(page.contains("<img src=\"https://cdn.example/ok.webp\" alt=\"fine\""));
    assert!(
        json_ld(&page).contains("\"image\":[\"https://cdn.example/ok.webp\"]"),
        "{page}"
    );
}

#[test]
fn entry_pages_are_404_unless_the_entry_is_public() {
    let h = seeded();
    let status = |path: &str, now: i64| h.call(ApiRequest::new(Method::Get, path), now).status;
    assert_eq!(status("/kb/demo/stories/reset", T0), 200);
    assert_eq!(status("/kb/demo/stories/nope", T0), 404);
    assert_eq!(status("/kb/demo/questions/nope", T0), 404);
    assert_eq!(status("/kb/nope/stories/reset", T0), 404);
    assert_eq!(status("/kb/demo/stories/Not_A_Slug", T0), 400);
    assert_eq!(
        h.call(
            ApiRequest::new(Method::Get, "/kb/demo/stories/reset?lang=%3Cscript%3E"),
            T0
        )
        .status,
        400
    );
    // Scheduled: not until it goes live (then for good).
    let week = 7 * 24 * HOUR;
    let mut s = story("launch", T0 + week, T0 + 2 * week);
    s["title"] = json!("Our secret spring launch");
    assert_eq!(
        h.put("/v1/admin/sites/demo/stories/launch", s, T0).status,
        201
    );
    assert_eq!(status("/kb/demo/stories/launch", T0 + week - 1), 404);
    assert_eq!(status("/kb/demo/stories/launch", T0 + week), 200);
    assert_eq!(status("/kb/demo/stories/launch", T0 + 3 * week), 200);
    // Unpublished by an operator.
    let res = h.admin(
        Method::Put,
        "/v1/admin/sites/demo/kb/stories/reset",
        Some(json!({"topic": "orders", "title": "Reset", "body": "x", "published": false})),
        T0,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(status("/kb/demo/stories/reset", T0), 404);
    // A question: nothing until an operator publishes an answer; then the answer alone,
    // without "Did this help?" (only stories count it).
    let id = asked(
        &h,
        &tok("v", 5),
        "Jane Roe here, order 4711?",
        "It ships today.",
    );
    let path = format!("/kb/demo/questions/{id}");
    assert_eq!(status(&path, T0), 404);
    let res = h.admin(
        Method::Put,
        &format!("/v1/admin/sites/demo/kb/questions/{id}"),
        Some(json!({"topic": "orders", "title": "When does my order ship?", "body": "Within a day."})),
        T0,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    let page = h.call(ApiRequest::new(Method::Get, &path), T0 + 1).body;
    assert!(page.contains("<h1>When does my order ship?</h1>"), "{page}");
    assert!(!page.contains("Jane") && !page.contains("4711"), "{page}");
    assert!(!page.contains("<form") && !page.contains("<img"), "{page}");
    assert!(page.contains("mailto:help@shop.example"), "{page}");
    assert!(html(&h, "").contains(&format!("href=\"/kb/demo/questions/{id}\"")));
}

#[test]
fn the_index_groups_entries_under_the_sites_topics_in_its_order_and_language() {
    let h = seeded();
    let mut s = site();
    s["languages"] = json!(["es"]);
    s["topics"][0]["translations"] = json!({"es": "Pedidos"});
    s["topics"][1]["translations"] = json!({"es": "Facturación"});
    s["theme"] = json!({"accent": "#aa3300", "mode": "auto"});
    s["channels"] = json!([
        {"kind": "email", "label": "Email us", "value": "help@shop.example"},
        {"kind": "phone", "label": "Call billing", "value": "+49 30 1234567", "topics": ["billing"]},
        {"kind": "ticket", "label": "Open a ticket", "value": "https://shop.example/ticket"}
    ]);
    assert_eq!(h.put("/v1/admin/sites/demo", s, T0).status, 200);
    for (id, topic) in [("refunds", "billing"), ("invoices", "billing")] {
        let mut st = story(id, T0, T0 + HOUR);
        st["topic"] = json!(topic);
        assert_eq!(
            h.put(&format!("/v1/admin/sites/demo/stories/{id}"), st, T0)
                .status,
            201
        );
    }
    let page = html(&h, "");
    // Orders comes first, as the site lists it, though billing's entries are newer.
    let orders = page.find("<section id=\"topic-orders\"><h2>Orders</h2>");
    let billing = page.find("<section id=\"topic-billing\"><h2>Billing</h2>");
    assert!(
        matches!((orders, billing), (Some(o), Some(b)) if o < b),
        "{page}"
    );
    let section = |page: &str, topic: &str| -> String {
        let start = page
            .find(&format!("<section id=\"topic-{topic}\">"))
            .unwrap_or(0);
        let end = page[start..]
            .find("</section>")
            .map_or(page.len(), |i| start + i);
        page[start..end].to_string()
    };
    let billing = section(&page, "billing");
    assert!(
        billing.contains("href=\"/kb/demo/stories/refunds\"")
            && billing.contains("href=\"/kb/demo/stories/invoices\"")
            && !billing.contains("stories/reset"),
        "{billing}"
    );
    assert!(
        section(&page, "orders").contains("href=\"/kb/demo/stories/reset\""),
        "{page}"
    );
    // Translated labels; a search keeps the grouping.
    let es = html(&h, "lang=es");
    assert!(
        es.contains("<h2>Pedidos</h2>") && es.contains("<h2>Facturación</h2>"),
        "{es}"
    );
    let found = html(&h, "q=refunds");
    assert!(!found.contains("topic-orders"), "{found}");
    // In the site's theme: its accent, light and dark as the visitor prefers (mode auto).
    assert!(
        page.contains("--accent:#aa3300;--on-accent:#ffffff"),
        "{page}"
    );
    assert!(
        page.contains("@media (prefers-color-scheme:dark)"),
        "{page}"
    );
    // Every channel, as a link of its kind, on the index; an entry lists those for its topic.
    for link in [
        "<a href=\"mailto:help@shop.example\">Email us</a>",
        "<a href=\"tel:+49301234567\">Call billing</a>",
        "<a href=\"https://shop.example/ticket\">Open a ticket</a>",
    ] {
        assert!(page.contains(link), "{link}: {page}");
    }
    let entry = get(&h, "/kb/demo/stories/reset").body;
    assert!(
        entry.contains("mailto:help@shop.example") && !entry.contains("tel:"),
        "{entry}"
    );
    let entry = get(&h, "/kb/demo/stories/refunds").body;
    assert!(entry.contains("tel:+49301234567"), "{entry}");
}

/// Posts the "Did this help?" form of story `story` with `body`, from the page's own origin.
fn answer(h: &H<MemoryKv>, story: &str, body: &str) -> glimpse_worker::http::ApiResponse {
    let mut req = ApiRequest::new(Method::Post, &format!("/kb/demo/stories/{story}/feedback"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "http://127.0.0.1:8787")
        .header("cf-connecting-ip", "192.0.2.9");
    req.body = body.as_bytes().to_vec();
    h.call(req, T0 + HOUR)
}

#[test]
fn did_this_help_is_a_form_counted_through_the_queue_like_the_widgets_answer() {
    let h = seeded();
    let mut s = site();
    s["languages"] = json!(["es"]);
    assert_eq!(h.put("/v1/admin/sites/demo", s, T0).status, 200);
    let page = get(&h, "/kb/demo/stories/reset").body;
    assert!(
        page.contains("<form method=\"post\" action=\"/kb/demo/stories/reset/feedback\"><button type=\"submit\" name=\"helped\" value=\"yes\">Yes</button><button type=\"submit\" name=\"helped\" value=\"no\">No</button></form>"),
        "{page}"
    );
    let es = get(&h, "/kb/demo/stories/reset?lang=es").body;
    assert!(
        es.contains("<input type=\"hidden\" name=\"lang\" value=\"es\">"),
        "{es}"
    );

    // Yes: one queue message carrying the widget's `helpful` event, then back to the page.
    let res = answer(&h, "reset", "helped=yes");
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        res.get_header("location"),
        Some("/kb/demo/stories/reset?voted=yes#feedback")
    );
    assert_eq!(res.get_header("cache-control"), Some("no-store"));
    let sent = h.queue.take(10);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let glimpse_worker::queue::Message::Events { site, id, batch } = &sent[0] else {
        panic!("{sent:?}");
    };
    assert_eq!(site, "demo");
    assert!(id.starts_with("kb-page-") && batch.visitor.starts_with("kb-page-"));
    assert_eq!(
        batch.events[0].kind,
        glimpse_shared::events::EventKind::Helpful {
            story: "reset".into()
        }
    );
    h.consume(&sent, T0 + HOUR)
        .unwrap_or_else(|e| panic!("{e}"));
    let counted = |h: &H<MemoryKv>| {
        body(&h.admin(
            Method::Get,
            "/v1/admin/sites/demo/kb/stories/reset",
            None,
            T0 + HOUR,
        ))["helped"]
            .clone()
    };
    assert_eq!(counted(&h), 1);
    // The page it comes back to thanks the visitor, and asks no more.
    let thanked = get(&h, "/kb/demo/stories/reset?voted=yes").body;
    assert!(
        thanked
            .contains("<p role=\"status\" data-testid=\"kb-thanks\">Thanks for your answer!</p>"),
        "{thanked}"
    );
    assert!(!thanked.contains("<form method=\"post\""), "{thanked}");

    // No, in Spanish: `not_helpful`, back to the Spanish page, which points to the channels.
    let res = answer(&h, "reset", "lang=es&helped=no");
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        res.get_header("location"),
        Some("/kb/demo/stories/reset?lang=es&voted=no#feedback")
    );
    let sent = h.queue.take(10);
    let glimpse_worker::queue::Message::Events { batch, .. } = &sent[0] else {
        panic!("{sent:?}");
    };
    assert_eq!(
        batch.events[0].kind,
        glimpse_shared::events::EventKind::NotHelpful {
            story: "reset".into()
        }
    );
    h.consume(&sent, T0 + HOUR)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(counted(&h), 1, "a no is not a yes");
    let sorry = get(&h, "/kb/demo/stories/reset?lang=es&voted=no").body;
    assert!(
        sorry.contains("¡Gracias por tu respuesta!")
            && sorry.contains(
                "Lo sentimos. Nuestro equipo puede ayudarte: <a href=\"#contact\">Contáctanos</a>"
            ),
        "{sorry}"
    );
    // The day's counters have both, as the widget's answers.
    let report = body(&h.admin(
        Method::Post,
        &format!(
            "/v1/admin/sites/demo/rollups/{}",
            glimpse_shared::time::utc_date(T0 + HOUR)
        ),
        None,
        T0 + 2 * HOUR,
    ));
    let text = report.to_string();
    assert!(
        text.contains("\"helped\":1") && text.contains("\"not_helpful\":1"),
        "{text}"
    );
}

#[test]
fn bad_answers_are_4xx_and_send_nothing() {
    let h = seeded();
    let status = |res: &glimpse_worker::http::ApiResponse| (res.status, field(res));
    for (body, expected) in [
        ("", (400, "helped".to_string())),
        ("helped=maybe", (400, "helped".to_string())),
        ("helped=YES", (400, "helped".to_string())),
        ("helped", (400, "helped".to_string())),
        ("=&=&%", (400, "helped".to_string())),
        ("helped=yes&lang=%3Cscript%3E", (400, "lang".to_string())),
    ] {
        assert_eq!(status(&answer(&h, "reset", body)), expected, "{body:?}");
    }
    let mut raw = ApiRequest::new(Method::Post, "/kb/demo/stories/reset/feedback")
        .header("content-type", "application/x-www-form-urlencoded");
    raw.body = vec![0xff, 0xfe, b'=', 0x80];
    assert_eq!(h.call(raw, T0).status, 400);
    assert_eq!(answer(&h, "nope", "helped=yes").status, 404);
    // Not a form: JSON, text, nothing declared.
    let post = ApiRequest::new(Method::Post, "/kb/demo/stories/reset/feedback");
    assert_eq!(
        h.call(post.clone().json(r#"{"helped":"yes"}"#), T0).status,
        415
    );
    assert_eq!(h.call(post.clone(), T0).status, 415);
    // Too large, from another site's page, or a GET: refused before anything is read.
    let mut big = post
        .clone()
        .header("content-type", "application/x-www-form-urlencoded");
    big.body = format!("helped=yes&x={}", "a".repeat(9000)).into_bytes();
    assert_eq!(h.call(big, T0).status, 413);
    let foreign = post
        .clone()
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example");
    assert_eq!(h.call(foreign, T0).status, 403);
    assert_eq!(
        h.call(
            ApiRequest::new(Method::Get, "/kb/demo/stories/reset/feedback"),
            T0
        )
        .status,
        405
    );
    // An unpublished entry takes no answers.
    let res = h.admin(
        Method::Put,
        "/v1/admin/sites/demo/kb/stories/reset",
        Some(json!({"topic": "orders", "title": "Reset", "body": "x", "published": false})),
        T0,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(answer(&h, "reset", "helped=yes").status, 404);
    assert!(h.queue.take(100).is_empty(), "nothing was sent");
}

#[test]
fn answers_are_rate_limited_per_address_like_the_other_public_writes() {
    let mut h = seeded();
    h.limiter =
        glimpse_worker::limit::RateLimiter::new(glimpse_worker::limit::Limit::per_minute(3));
    let statuses: Vec<u16> = (0..5)
        .map(|_| answer(&h, "reset", "helped=yes").status)
        .collect();
    assert_eq!(statuses, [303, 303, 303, 429, 429]);
    let res = answer(&h, "reset", "helped=yes");
    assert!(res.get_header("retry-after").is_some());
    assert_eq!(h.queue.take(100).len(), 3);
}

#[test]
fn a_videos_poster_is_its_slides_picture() {
    let h = seeded();
    let mut st = story("reset", T0, T0 + HOUR);
    st["slides"][0]["media"] = json!({"kind": "video", "url": "/media/demo/tap.webm",
        "alt": "A finger taps Reset", "poster": "/media/demo/tap.webp"});
    assert_eq!(
        h.put("/v1/admin/sites/demo/stories/reset", st, T0).status,
        200
    );
    let page = get(&h, "/kb/demo/stories/reset").body;
    assert!(
        page.contains(
            "<img src=\"/media/demo/tap.webp\" alt=\"A finger taps Reset\" loading=\"lazy\""
        ),
        "{page}"
    );
    assert!(!page.contains("tap.webm"), "{page}");
}
