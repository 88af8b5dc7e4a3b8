//! A team, not a token: operators with roles and sites, personal tokens shown once and stored
//! hashed, revocation, read-only API keys, every operators' route checked for every role, the
//! audit log, and replies signed with the operator's name.

#![allow(clippy::panic)]

mod common;

use common::*;
use glimpse_worker::door::hash_token;
use glimpse_worker::http::{ApiRequest, ApiResponse};
use glimpse_worker::route::{Method, ROUTES};
use glimpse_worker::sql::{Stmt, rows};
use glimpse_worker::store::MemoryKv;
use serde_json::{Value, json};

fn seeded() -> H<MemoryKv> {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    h.seed();
    h
}

fn call_as(
    h: &H<MemoryKv>,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> ApiResponse {
    let mut req = ApiRequest::new(method, path).header("authorization", &format!("Bearer {token}"));
    if let Some(b) = body {
        req = req.json(b.to_string());
    }
    h.call(req, T0 + 1_000)
}

/// Creates an operator (as the bootstrap owner unless `by` is given); their token.
fn operator(h: &H<MemoryKv>, by: Option<&str>, name: &str, role: &str, sites: Value) -> String {
    let body = json!({"name": name, "role": role, "sites": sites});
    let res = match by {
        Some(t) => call_as(h, t, Method::Post, "/v1/admin/operators", Some(body)),
        None => h.admin(Method::Post, "/v1/admin/operators", Some(body), T0),
    };
    assert_eq!(res.status, 201, "{}", res.body);
    let v = body_of(&res);
    v["token"].as_str().unwrap_or_default().to_string()
}

fn body_of(res: &ApiResponse) -> Value {
    serde_json::from_str(&res.body).unwrap_or(Value::Null)
}

fn api_key(h: &H<MemoryKv>, sites: Value) -> String {
    let res = h.admin(
        Method::Post,
        "/v1/admin/keys",
        Some(json!({"name": "Warehouse", "sites": sites})),
        T0,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    body_of(&res)["token"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn tokens_are_shown_once_and_stored_only_as_their_hash() {
    let h = seeded();
    let token = operator(&h, None, "Ada", "agent", json!(["demo"]));
    assert!(token.starts_with("glop_") && token.len() > 50, "{token}");
    // Listing never shows a token or its hash.
    let listed = h.admin(Method::Get, "/v1/admin/operators", None, T0);
    assert_eq!(listed.status, 200);
    assert!(!listed.body.contains(&token));
    assert!(!listed.body.contains("sha256:"));
    let ops = &body_of(&listed)["operators"];
    assert_eq!(ops[0]["name"], "Ada");
    assert_eq!(ops[0]["role"], "agent");
    assert_eq!(ops[0]["sites"], json!(["demo"]));
    assert_eq!(ops[0]["created_by"], "owner");
    // D1 holds the hash, never the token.
    #[derive(serde::Deserialize)]
    struct Row {
        token_hash: String,
    }
    let stored: Vec<Row> =
        pollster::block_on(rows(h.db(), Stmt::new("SELECT token_hash FROM operators")))
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].token_hash, hash_token(&token));
    // The token works, and says who it is.
    let me = call_as(&h, &token, Method::Get, "/v1/admin/me", None);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(body_of(&me)["name"], "Ada");
    assert_eq!(body_of(&me)["role"], "agent");
    // A made-up token of the same shape is the one 401.
    let forged = call_as(
        &h,
        &format!("glop_{}", "a".repeat(52)),
        Method::Get,
        "/v1/admin/me",
        None,
    );
    assert_eq!(forged.status, 401);
    assert_eq!(code(&forged), "unauthorized");
}

#[test]
fn a_revoked_token_is_refused_at_once_and_stays_listed() {
    let h = seeded();
    let token = operator(&h, None, "Ada", "agent", json!(["demo"]));
    let id = body_of(&h.admin(Method::Get, "/v1/admin/operators", None, T0))["operators"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        call_as(
            &h,
            &token,
            Method::Get,
            "/v1/admin/sites/demo/questions",
            None
        )
        .status,
        200
    );
    let res = h.admin(
        Method::Delete,
        &format!("/v1/admin/operators/{id}"),
        None,
        T0,
    );
    assert_eq!(res.status, 204, "{}", res.body);
    assert_eq!(
        call_as(
            &h,
            &token,
            Method::Get,
            "/v1/admin/sites/demo/questions",
            None
        )
        .status,
        401
    );
    let listed = body_of(&h.admin(Method::Get, "/v1/admin/operators", None, T0));
    assert!(listed["operators"][0]["revoked_at"].is_i64(), "{listed}");
    // A revoked operator cannot be changed back into use.
    let res = h.admin(
        Method::Put,
        &format!("/v1/admin/operators/{id}"),
        Some(json!({"name": "Ada", "role": "owner", "sites": ["*"]})),
        T0,
    );
    assert_eq!(res.status, 409);
}

/// Who may use each operators' endpoint: `o`wner, `e`ditor, `a`gent, `r`ead-only API key.
/// Every operators' route and method must be here (HEAD as GET).
const WHO: &[(&str, Method, &str)] = &[
    ("/v1/admin/sites", Method::Get, "oea"),
    ("/v1/admin/sites/{site}/live/{session}", Method::Get, "oea"),
    (
        "/v1/admin/sites/{site}/live/{session}/questions/{id}",
        Method::Post,
        "oea",
    ),
    (
        "/v1/admin/sites/{site}/live/{session}/status",
        Method::Put,
        "oea",
    ),
    (
        "/v1/admin/sites/{site}/live/{session}/end",
        Method::Post,
        "oea",
    ),
    (
        "/v1/admin/sites/{site}/live/{session}/recap",
        Method::Get,
        "oea",
    ),
    ("/v1/admin/sites/{site}", Method::Get, "oea"),
    ("/v1/admin/sites/{site}", Method::Put, "o"),
    ("/v1/admin/sites/{site}", Method::Delete, "o"),
    ("/v1/admin/sites/{site}/stories", Method::Get, "oe"),
    ("/v1/admin/sites/{site}/sessions", Method::Get, "oe"),
    ("/v1/admin/sites/{site}/polls", Method::Get, "oe"),
    ("/v1/admin/sites/{site}/stories/{id}", Method::Get, "oe"),
    ("/v1/admin/sites/{site}/stories/{id}", Method::Put, "oe"),
    ("/v1/admin/sites/{site}/stories/{id}", Method::Delete, "oe"),
    ("/v1/admin/sites/{site}/sessions/{id}", Method::Get, "oe"),
    ("/v1/admin/sites/{site}/sessions/{id}", Method::Put, "oe"),
    ("/v1/admin/sites/{site}/sessions/{id}", Method::Delete, "oe"),
    ("/v1/admin/sites/{site}/polls/{id}", Method::Get, "oe"),
    ("/v1/admin/sites/{site}/polls/{id}", Method::Put, "oe"),
    ("/v1/admin/sites/{site}/polls/{id}", Method::Delete, "oe"),
    (
        "/v1/admin/sites/{site}/polls/{poll}/results",
        Method::Get,
        "oer",
    ),
    ("/v1/admin/sites/{site}/questions", Method::Get, "oa"),
    ("/v1/admin/sites/{site}/kb/recount", Method::Post, "oe"),
    ("/v1/admin/sites/{site}/kb", Method::Get, "oea"),
    ("/v1/admin/sites/{site}/kb/stories/{id}", Method::Get, "oea"),
    ("/v1/admin/sites/{site}/kb/stories/{id}", Method::Put, "oe"),
    (
        "/v1/admin/sites/{site}/kb/stories/{id}",
        Method::Delete,
        "oe",
    ),
    (
        "/v1/admin/sites/{site}/kb/questions/{id}",
        Method::Get,
        "oea",
    ),
    (
        "/v1/admin/sites/{site}/kb/questions/{id}",
        Method::Put,
        "oea",
    ),
    (
        "/v1/admin/sites/{site}/kb/questions/{id}",
        Method::Delete,
        "oea",
    ),
    ("/v1/admin/sites/{site}/rollups", Method::Get, "oer"),
    ("/v1/admin/sites/{site}/report", Method::Get, "oer"),
    ("/v1/admin/sites/{site}/rollups/{id}", Method::Post, "oe"),
    (
        "/v1/admin/sites/{site}/visitors/{visitor}",
        Method::Get,
        "o",
    ),
    (
        "/v1/admin/sites/{site}/visitors/{visitor}",
        Method::Delete,
        "o",
    ),
    (
        "/v1/admin/sites/{site}/questions/{id}/replies",
        Method::Post,
        "oa",
    ),
    (
        "/v1/admin/sites/{site}/questions/{id}/resolve",
        Method::Post,
        "oa",
    ),
    ("/v1/admin/sites/{site}/rebuild", Method::Post, "o"),
    ("/v1/admin/sites/{site}/availability", Method::Get, "oea"),
    ("/v1/admin/sites/{site}/media", Method::Get, "oea"),
    ("/v1/admin/sites/{site}/media", Method::Post, "oea"),
    ("/v1/admin/sites/{site}/media/{id}", Method::Get, "oea"),
    ("/v1/admin/sites/{site}/media/{id}", Method::Delete, "oe"),
    ("/v1/admin/sites/{site}/questions/{id}", Method::Get, "oa"),
    (
        "/v1/admin/sites/{site}/questions/{id}/photo",
        Method::Get,
        "oa",
    ),
    ("/v1/admin/me", Method::Get, "oear"),
    ("/v1/admin/operators", Method::Get, "o"),
    ("/v1/admin/operators", Method::Post, "o"),
    ("/v1/admin/operators/{id}", Method::Get, "o"),
    ("/v1/admin/operators/{id}", Method::Put, "o"),
    ("/v1/admin/operators/{id}", Method::Delete, "o"),
    ("/v1/admin/keys", Method::Get, "o"),
    ("/v1/admin/keys", Method::Post, "o"),
    ("/v1/admin/keys/{id}", Method::Get, "o"),
    ("/v1/admin/keys/{id}", Method::Delete, "o"),
    ("/v1/admin/audit", Method::Get, "o"),
    ("/v1/admin/sites/{site}/webhooks", Method::Get, "o"),
    ("/v1/admin/sites/{site}/webhooks", Method::Post, "o"),
    ("/v1/admin/sites/{site}/webhooks/{id}", Method::Get, "o"),
    ("/v1/admin/sites/{site}/webhooks/{id}", Method::Put, "o"),
    ("/v1/admin/sites/{site}/webhooks/{id}", Method::Delete, "o"),
    (
        "/v1/admin/sites/{site}/webhooks/{id}/test",
        Method::Post,
        "o",
    ),
    (
        "/v1/admin/sites/{site}/webhooks/{id}/deliveries",
        Method::Get,
        "o",
    ),
    ("/v1/admin/sites/{site}/saved-replies", Method::Get, "oa"),
    ("/v1/admin/sites/{site}/saved-replies", Method::Post, "oa"),
    (
        "/v1/admin/sites/{site}/saved-replies/{id}",
        Method::Get,
        "oa",
    ),
    (
        "/v1/admin/sites/{site}/saved-replies/{id}",
        Method::Put,
        "oa",
    ),
    (
        "/v1/admin/sites/{site}/saved-replies/{id}",
        Method::Delete,
        "oa",
    ),
    ("/v1/admin/sites/{site}/export", Method::Get, "oer"),
];

fn concrete(template: &str) -> String {
    template
        .replace("{site}", "demo")
        .replace("{poll}", "csat")
        .replace("{session}", "qa")
        .replace("{visitor}", &tok("visitor", 9))
        .replace("{id}", "x1")
}

#[test]
fn every_operators_route_is_refused_to_the_roles_it_is_not_for() {
    // The table names every operators' route and method.
    for (template, methods) in ROUTES {
        if !template.starts_with("/v1/admin") {
            continue;
        }
        for m in methods.iter().filter(|m| **m != Method::Head) {
            assert!(
                WHO.iter().any(|(t, wm, _)| t == template && wm == m),
                "{} {template} is missing from WHO",
                m.as_str()
            );
        }
    }
    let h = seeded();
    let tokens = [
        ('e', operator(&h, None, "Eve", "editor", json!(["demo"]))),
        ('a', operator(&h, None, "Ada", "agent", json!(["demo"]))),
        ('r', api_key(&h, json!(["demo"]))),
        // An owner of every site: runs last, so its allowed deletions come after the others.
        ('o', operator(&h, None, "Olga", "owner", json!(["*"]))),
    ];
    for (who, token) in &tokens {
        for (template, method, allowed) in WHO {
            let path = concrete(template);
            // Deleting the site itself would end the test early.
            if *method == Method::Delete && *template == "/v1/admin/sites/{site}" && *who == 'o' {
                continue;
            }
            let body = matches!(method, Method::Post | Method::Put).then(|| json!({}));
            let methods: &[Method] = if *method == Method::Get {
                &[Method::Get, Method::Head]
            } else {
                std::slice::from_ref(method)
            };
            for m in methods {
                let res = call_as(&h, token, *m, &path, body.clone());
                let may = allowed.contains(*who);
                assert_ne!(
                    res.status,
                    401,
                    "{who}: {} {path}: {}",
                    m.as_str(),
                    res.body
                );
                if may {
                    assert_ne!(
                        res.status,
                        403,
                        "{who}: {} {path}: {}",
                        m.as_str(),
                        res.body
                    );
                } else {
                    assert_eq!(
                        res.status,
                        403,
                        "{who}: {} {path}: {}",
                        m.as_str(),
                        res.body
                    );
                    if *m != Method::Head {
                        assert_eq!(code(&res), "forbidden", "{path}");
                    }
                }
            }
        }
    }
}

#[test]
fn operators_act_only_on_their_sites() {
    let h = seeded();
    let mut other = site();
    other["id"] = json!("other");
    let res = h.put("/v1/admin/sites/other", other, T0);
    assert!(res.status < 300, "{}", res.body);
    let agent = operator(&h, None, "Ada", "agent", json!(["demo"]));
    let res = call_as(
        &h,
        &agent,
        Method::Get,
        "/v1/admin/sites/other/questions",
        None,
    );
    assert_eq!(res.status, 403);
    assert!(
        body_of(&res)["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not for site other"))
    );
    let sites = body_of(&call_as(&h, &agent, Method::Get, "/v1/admin/sites", None));
    assert_eq!(ids(&sites["sites"]), ["demo"]);
    // An owner of one site grants only that site, never "*", and manages only its operators.
    let owner = operator(&h, None, "Olga", "owner", json!(["demo"]));
    let grant = |sites: Value| {
        call_as(
            &h,
            &owner,
            Method::Post,
            "/v1/admin/operators",
            Some(json!({"name": "Bo", "role": "agent", "sites": sites})),
        )
        .status
    };
    assert_eq!(grant(json!(["demo"])), 201);
    assert_eq!(grant(json!(["other"])), 403);
    assert_eq!(grant(json!(["*"])), 403);
    let listed = body_of(&call_as(
        &h,
        &owner,
        Method::Get,
        "/v1/admin/operators",
        None,
    ));
    let names: Vec<&str> = listed["operators"]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["Ada", "Olga", "Bo"]);
    // Its audit log must name one of its sites.
    assert_eq!(
        call_as(&h, &owner, Method::Get, "/v1/admin/audit", None).status,
        400
    );
    assert_eq!(
        call_as(&h, &owner, Method::Get, "/v1/admin/audit?site=demo", None).status,
        200
    );
    assert_eq!(
        call_as(&h, &owner, Method::Get, "/v1/admin/audit?site=other", None).status,
        403
    );
}

#[test]
fn new_operators_are_validated() {
    let h = seeded();
    for (body, field) in [
        (
            json!({"name": "", "role": "agent", "sites": ["demo"]}),
            "name",
        ),
        (
            json!({"name": "A\nB", "role": "agent", "sites": ["demo"]}),
            "name",
        ),
        (
            json!({"name": "Ada", "role": "reader", "sites": ["demo"]}),
            "role",
        ),
        (
            json!({"name": "Ada", "role": "agent", "sites": []}),
            "sites",
        ),
        (
            json!({"name": "Ada", "role": "agent", "sites": ["*", "demo"]}),
            "sites",
        ),
        (
            json!({"name": "Ada", "role": "agent", "sites": ["Demo"]}),
            "sites[0]",
        ),
    ] {
        let res = h.admin(Method::Post, "/v1/admin/operators", Some(body.clone()), T0);
        assert_eq!(res.status, 400, "{body}: {}", res.body);
        assert_eq!(field_of(&res), field, "{body}");
    }
    let res = h.admin(
        Method::Post,
        "/v1/admin/operators",
        Some(json!({"name": "Ada", "role": "boss", "sites": ["demo"]})),
        T0,
    );
    assert_eq!(res.status, 400, "{}", res.body);
    assert_eq!(
        pollster::block_on(rows::<Value>(h.db(), Stmt::new("SELECT id FROM operators")))
            .map(|r| r.len())
            .ok(),
        Some(0)
    );
}

fn field_of(res: &ApiResponse) -> String {
    body_of(res)["error"]["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
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
    let v = body_of(&res);
    (
        v["id"].as_str().unwrap_or_default().to_string(),
        v["token"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn replies_carry_the_operators_name_and_the_visitor_sees_it() {
    let h = seeded();
    let (id, thread_token) = ask(&h);
    h.drain(T0);
    let agent = operator(&h, None, "Ada Lovelace", "agent", json!(["demo"]));
    // A name sent in the body is not taken: the server signs the reply.
    let res = call_as(
        &h,
        &agent,
        Method::Post,
        &format!("/v1/admin/sites/demo/questions/{id}/replies"),
        Some(json!({"text": "It left the warehouse today.", "author": "The CEO"})),
    );
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(body_of(&res)["author"], "Ada Lovelace");
    // The bootstrap owner's replies are the team's (no name).
    let res = h.admin(
        Method::Post,
        &format!("/v1/admin/sites/demo/questions/{id}/replies"),
        Some(json!({"text": "Tracking: see your email."})),
        T0 + 2_000,
    );
    assert_eq!(res.status, 201, "{}", res.body);
    let thread = h.call(
        ApiRequest::new(Method::Get, &format!("/v1/sites/demo/questions/{id}"))
            .header("authorization", &format!("Bearer {thread_token}")),
        T0 + 3_000,
    );
    assert_eq!(thread.status, 200, "{}", thread.body);
    let replies = &body_of(&thread)["replies"];
    assert_eq!(replies[0]["author"], "Ada Lovelace");
    assert!(replies[1].get("author").is_none(), "{replies}");
    // The agent reads the whole thread through the operators' API.
    let res = call_as(
        &h,
        &agent,
        Method::Get,
        &format!("/v1/admin/sites/demo/questions/{id}"),
        None,
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(body_of(&res)["message"], "Where is my parcel?");
    // An operator's token is not a thread token on the visitors' API.
    let res = h.call(
        ApiRequest::new(Method::Get, &format!("/v1/sites/demo/questions/{id}"))
            .header("authorization", &format!("Bearer {agent}")),
        T0 + 3_000,
    );
    assert_eq!(res.status, 401);
}

#[test]
fn every_write_is_in_the_audit_log_with_who_made_it() {
    let h = seeded();
    let editor = operator(&h, None, "Eve", "editor", json!(["demo"]));
    let res = call_as(
        &h,
        &editor,
        Method::Put,
        "/v1/admin/sites/demo/stories/audit-me",
        Some(story("audit-me", T0 - HOUR, T0 + 24 * HOUR)),
    );
    assert!(res.status < 300, "{}", res.body);
    // Refused writes are recorded too (with their answer); reads are not.
    let res = call_as(&h, &editor, Method::Delete, "/v1/admin/sites/demo", None);
    assert_eq!(res.status, 403);
    call_as(
        &h,
        &editor,
        Method::Get,
        "/v1/admin/sites/demo/stories",
        None,
    );
    let log = body_of(&h.admin(Method::Get, "/v1/admin/audit?site=demo", None, T0));
    let entries = log["entries"].as_array().cloned().unwrap_or_default();
    let line = |e: &Value| {
        format!(
            "{} {} {}",
            e["actor_name"].as_str().unwrap_or(""),
            e["action"].as_str().unwrap_or(""),
            e["status"]
        )
    };
    let lines: Vec<String> = entries.iter().map(line).collect();
    assert!(
        lines.contains(&"Eve DELETE /v1/admin/sites/demo 403".to_string()),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Eve PUT /v1/admin/sites/demo/stories/audit-me 20")),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("GET")), "{lines:?}");
    // Newest first, a page at a time.
    let page = body_of(&h.admin(Method::Get, "/v1/admin/audit?limit=1", None, T0));
    assert_eq!(page["entries"].as_array().map(Vec::len), Some(1));
    let next = page["next"].as_str().unwrap_or_default().to_string();
    let older = body_of(&h.admin(
        Method::Get,
        &format!("/v1/admin/audit?limit=1&before={next}"),
        None,
        T0,
    ));
    assert_ne!(older["entries"][0], page["entries"][0]);
    assert_eq!(
        h.admin(Method::Get, "/v1/admin/audit?before=x", None, T0)
            .status,
        400
    );
}

#[test]
fn api_keys_read_reports_and_nothing_else() {
    let h = seeded();
    let key = api_key(&h, json!(["demo"]));
    assert!(key.starts_with("glak_"));
    assert_eq!(
        call_as(&h, &key, Method::Get, "/v1/admin/sites/demo/report", None).status,
        200
    );
    assert_eq!(
        call_as(&h, &key, Method::Get, "/v1/admin/me", None).status,
        200
    );
    assert_eq!(
        body_of(&call_as(&h, &key, Method::Get, "/v1/admin/me", None))["role"],
        "reader"
    );
    let res = call_as(
        &h,
        &key,
        Method::Post,
        "/v1/admin/sites/demo/rollups/2026-11-21",
        None,
    );
    assert_eq!(res.status, 403);
    assert!(
        body_of(&res)["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("read-only API key"))
    );
    // Revoked: 401 at once.
    let id = body_of(&h.admin(Method::Get, "/v1/admin/keys", None, T0))["keys"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        h.admin(Method::Delete, &format!("/v1/admin/keys/{id}"), None, T0)
            .status,
        204
    );
    assert_eq!(
        call_as(&h, &key, Method::Get, "/v1/admin/sites/demo/report", None).status,
        401
    );
}

#[test]
fn agents_keep_saved_replies_per_site_and_editors_cannot() {
    let h = seeded();
    let agent = operator(&h, None, "Ada", "agent", json!(["demo"]));
    let editor = operator(&h, None, "Eve", "editor", json!(["demo"]));
    let path = "/v1/admin/sites/demo/saved-replies";
    let res = call_as(
        &h,
        &agent,
        Method::Post,
        path,
        Some(
            json!({"title": "Password reset", "text": "Use \"Forgot password\" on the sign-in page.\nThe link lasts an hour."}),
        ),
    );
    assert_eq!(res.status, 201, "{}", res.body);
    let id = body_of(&res)["id"].as_str().unwrap_or_default().to_string();
    let res = call_as(
        &h,
        &agent,
        Method::Post,
        path,
        Some(json!({"title": "a refund", "text": "Refunds take 5 working days."})),
    );
    assert_eq!(res.status, 201, "{}", res.body);
    // Listed by title, whatever the case.
    let list = body_of(&call_as(&h, &agent, Method::Get, path, None));
    let titles: Vec<&str> = list["saved_replies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["title"].as_str())
        .collect();
    assert_eq!(titles, vec!["a refund", "Password reset"]);
    // Edited, with who did it.
    let res = call_as(
        &h,
        &agent,
        Method::Put,
        &format!("{path}/{id}"),
        Some(json!({"title": "Password reset", "text": "Use the link in the sign-in page."})),
    );
    assert_eq!(res.status, 200, "{}", res.body);
    let got = body_of(&call_as(
        &h,
        &agent,
        Method::Get,
        &format!("{path}/{id}"),
        None,
    ));
    assert_eq!(got["text"], "Use the link in the sign-in page.");
    assert!(
        got["updated_by"].as_str().is_some_and(|s| s != "owner"),
        "{got}"
    );
    // Bad input changes nothing.
    for bad in [
        json!({"title": "", "text": "x"}),
        json!({"title": "two\nlines", "text": "x"}),
        json!({"title": "t", "text": "x".repeat(2_001)}),
        json!({"title": "t"}),
    ] {
        let res = call_as(&h, &agent, Method::Post, path, Some(bad.clone()));
        assert!(
            res.status == 400 || res.status == 422,
            "{bad}: {}",
            res.body
        );
    }
    assert_eq!(
        body_of(&call_as(&h, &agent, Method::Get, path, None))["saved_replies"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // Editors do not answer questions.
    assert_eq!(call_as(&h, &editor, Method::Get, path, None).status, 403);
    assert_eq!(
        call_as(&h, &agent, Method::Delete, &format!("{path}/{id}"), None).status,
        204
    );
    assert_eq!(
        call_as(&h, &agent, Method::Get, &format!("{path}/{id}"), None).status,
        404
    );
}
