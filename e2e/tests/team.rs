//! A team, not a token, end to end: the owner creates an agent in the console; the agent,
//! signed in with their own token, answers a visitor's question with a saved reply and a
//! photo; the visitor, widget closed, sees an unread badge on the launcher at their next
//! page view and the agent's name on the reply; a webhook receiver (a small HTTP server in
//! this test) gets signed deliveries, one of them only on a retry after a failure; and the
//! agent is refused on content routes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, Page, deep};
use glimpse_e2e::stack::Stack;
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(20);

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
    /// What the receiver answered.
    status: u16,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
    }
}

/// A webhook receiver on a loopback port: answers 500 to the first delivery, 204 after.
fn receiver() -> Result<(u16, Arc<Mutex<Vec<Received>>>)> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let log = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(match stream.try_clone() {
                Ok(s) => s,
                Err(_) => continue,
            });
            let mut headers = Vec::new();
            let mut line = String::new();
            // The request line, then headers until the blank line.
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                if let Some((n, v)) = l.split_once(':') {
                    headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
                }
            }
            let length = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let Ok(mut all) = log.lock() else { return };
            let status = if all.is_empty() { 500 } else { 204 };
            all.push(Received {
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
                status,
            });
            drop(all);
            let reason = if status == 500 {
                "Internal Server Error"
            } else {
                "No Content"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    Ok((port, got))
}

/// The receiver's check, as the README shows it: HMAC-SHA256 of "t.body" with the secret.
fn signed_by(r: &Received, secret: &str) -> bool {
    let sig = r.header("glimpse-signature");
    let Some(t) = sig
        .strip_prefix("t=")
        .and_then(|s| s.split_once(",v1="))
        .and_then(|(t, _)| t.parse::<i64>().ok())
    else {
        return false;
    };
    glimpse_worker::webhooks::signature(secret, t, &r.body) == sig
}

fn choose_file(page: &mut Page<'_>, selector: &str, path: &std::path::Path) -> Result {
    let input = page.call("Runtime.evaluate", json!({ "expression": deep(selector) }))?;
    let object_id = input["result"]["objectId"]
        .as_str()
        .ok_or_else(|| format!("no file input {selector}"))?
        .to_string();
    page.call(
        "DOM.setFileInputFiles",
        json!({ "files": [path.to_string_lossy()], "objectId": object_id }),
    )?;
    Ok(())
}

/// Opens the console page `slug` from its navigation link, as an operator would; a click
/// that landed while the header was still settling (the site list and "who am I" arrive
/// after sign-in) is made again.
fn open_page(page: &mut Page<'_>, slug: &str) -> Result {
    for _ in 0..3 {
        page.click(&format!("[data-testid=nav-{slug}]"))?;
        if page
            .wait_for(
                &format!("location.hash === '#/{slug}'"),
                Duration::from_secs(3),
            )
            .is_ok()
        {
            return Ok(());
        }
    }
    Err(format!("the {slug} page did not open"))
}

fn as_operator(
    stack: &Stack,
    token: &str,
    method: &str,
    path: &str,
    body: &str,
) -> Result<(u16, Value)> {
    let auth = format!("Bearer {token}");
    let res = stack.request(
        method,
        path,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        body,
    )?;
    Ok((
        res.status,
        serde_json::from_str(&res.body).unwrap_or(Value::Null),
    ))
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn an_agent_answers_with_a_saved_reply_and_a_photo_and_everyone_hears_of_it() -> Result {
    let stack = Stack::start_demo()?;
    stack.without_demo_session()?;
    let (port, received) = receiver()?;

    // The owner creates an agent in the console; the token is shown once.
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let (token, secret) = {
        let mut owner = stack.console(&mut browser)?;
        open_page(&mut owner, "team")?;
        owner.wait_visible("[data-testid=add-operator]")?;
        owner.fill("[data-testid=operator-name-input]", "Ada Lovelace")?;
        owner.fill("[data-testid=operator-role]", "agent")?;
        owner.click("[data-testid=add-operator-submit]")?;
        owner.wait_visible("[data-testid=issued-token]")?;
        owner.screenshot("120-team-new-agent")?;
        let token = owner.text("[data-testid=issued-token]")?;
        assert!(token.starts_with("glop_"), "{token}");
        // And a webhook for new questions and replies (loopback receivers are allowed in
        // local runs only); its secret is shown once.
        open_page(&mut owner, "webhooks")?;
        owner.wait_visible("[data-testid=webhooks-empty]")?;
        owner.fill(
            "[data-testid=webhook-url]",
            &format!("http://127.0.0.1:{port}/glimpse"),
        )?;
        owner.click("[data-testid='webhook-event-question.created']")?;
        owner.click("[data-testid='webhook-event-question.replied']")?;
        owner.click("[data-testid=add-webhook]")?;
        owner.wait_visible("[data-testid=webhook-secret]")?;
        let secret = owner.text("[data-testid=webhook-secret]")?;
        assert!(secret.starts_with("whsec_"), "{secret}");
        owner.click("[data-testid=webhook-secret-done]")?;
        owner.wait_gone("[data-testid=webhook-secret]")?;
        assert_eq!(owner.exceptions(), Vec::<String>::new());
        (token, secret)
    };
    let res = stack.admin("GET", "/v1/admin/sites/demo/webhooks", "")?;
    let hooks: Value = serde_json::from_str(&res.body).map_err(|e| e.to_string())?;
    let hook_id = hooks["webhooks"][0]["id"]
        .as_str()
        .ok_or("no webhook")?
        .to_string();
    assert!(
        !res.body.contains(&secret),
        "the secret is never shown again"
    );

    // The agent may not touch content, in the API and in the console.
    let story = json!({"id": "x", "title": "X", "topic": "orders",
        "slides": [{"text": "x", "duration_ms": 5000}],
        "publish_at": 0, "expires_at": glimpse_e2e::stack::now_ms() + 86_400_000});
    let (status, body) = as_operator(
        &stack,
        &token,
        "PUT",
        "/v1/admin/sites/demo/stories/x",
        &story.to_string(),
    )?;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let (status, _) = as_operator(&stack, &token, "GET", "/v1/admin/sites/demo/stories", "")?;
    assert_eq!(status, 403);
    let (status, _) = as_operator(&stack, &token, "GET", "/v1/admin/sites/demo/webhooks", "")?;
    assert_eq!(status, 403, "webhooks are the owners'");

    // A visitor asks, leaving an email, and closes the page.
    let id = {
        let mut page = browser.new_page()?;
        page.set_viewport(1280, 900)?;
        page.goto(&stack.url("/"))?;
        page.click("[data-testid=glimpse-launcher]")?;
        page.wait_visible("[data-testid=glimpse-ask]")?;
        page.fill("[data-testid=glimpse-ask-topic]", "orders")?;
        page.fill(
            "[data-testid=glimpse-ask-message]",
            "My parcel arrived without the charger.",
        )?;
        page.fill("[data-testid=glimpse-ask-email]", "grace@example.com")?;
        assert!(
            page.text("[data-testid=glimpse-ask-email-consent]")?
                .contains("erase")
        );
        page.click("[data-testid=glimpse-ask-send]")?;
        page.wait_visible("[data-testid=glimpse-thread]")?;
        assert!(!page.exists("[data-testid=glimpse-unread]")?);
        let stored = page.eval("JSON.parse(localStorage.getItem('glimpse:demo:threads'))[0].id")?;
        assert_eq!(page.exceptions(), Vec::<String>::new());
        stored.as_str().ok_or("no stored thread")?.to_string()
    };
    stack.wait_question("demo", &id)?;

    // The agent signs in with their own token: the inbox, no content pages.
    let photo = xtask::at("target/e2e/reply-charger.jpg");
    std::fs::create_dir_all(photo.parent().ok_or("no dir")?).map_err(|e| e.to_string())?;
    let made = std::process::Command::new("convert")
        .args(["-size", "900x600", "plasma:steelblue-white"])
        .arg(&photo)
        .status()
        .map_err(|e| format!("convert: {e}"))?;
    assert!(made.success(), "convert failed");
    {
        let mut agent = stack.console_as(&mut browser, &token)?;
        agent.wait_visible("[data-testid=nav-questions]")?;
        for page in ["stories", "sessions", "polls", "media", "team", "webhooks"] {
            let hidden = agent.eval(&format!(
                "{}.hidden",
                deep(&format!("[data-testid=nav-{page}]"))
            ))?;
            assert_eq!(hidden, json!(true), "agents are not offered {page}");
        }
        open_page(&mut agent, "questions")?;
        // A saved reply, made here and then inserted.
        agent.wait_visible("[data-testid=saved-replies-empty]")?;
        agent.fill("[data-testid=saved-reply-title]", "Missing part")?;
        agent.fill(
            "[data-testid=saved-reply-text]",
            "Sorry about that! A replacement is on its way today.",
        )?;
        agent.click("[data-testid=save-saved-reply]")?;
        if let Err(e) = agent.wait_text("[data-testid=saved-replies]", "Missing part") {
            let _ = agent.screenshot("121-saved-reply-failed");
            return Err(format!(
                "{e}; the panel says: {}",
                agent
                    .text("[data-testid=saved-replies]")
                    .unwrap_or_default()
            ));
        }
        agent.click(&format!("[data-testid=question-{id}]"))?;
        agent.wait_visible("[data-testid=reply-text]")?;
        agent.wait_text("[data-testid=thread]", "grace@example.com")?;
        // Picked by its title, as an agent would.
        agent.eval(&format!(
            "(() => {{ const s = {}; const o = [...s.options].find(o => o.textContent.trim() === 'Missing part'); \
             s.value = o.value; s.dispatchEvent(new Event('change', {{ bubbles: true }})); return true; }})()",
            deep("[data-testid=saved-reply-picker]")
        ))?;
        agent.wait_for(
            &format!(
                "{}.value.includes('replacement is on its way')",
                deep("[data-testid=reply-text]")
            ),
            TIMEOUT,
        )?;
        choose_file(&mut agent, "[data-testid=reply-photo]", &photo)?;
        agent.wait_visible("[data-testid=reply-photo-preview]")?;
        agent.click("[data-testid=send-reply]")?;
        agent.wait_text("[data-testid=thread]", "Ada Lovelace")?;
        agent.screenshot("121-agent-replied")?;
        assert_eq!(agent.exceptions(), Vec::<String>::new());
    }

    // The visitor's first tab is still open in the background with the conversation
    // showing, polling every 5 s: by now it has the reply, which it must not count as read
    // (the visitor has not seen it).
    std::thread::sleep(Duration::from_secs(6));
    // The visitor's next page view, widget closed: the launcher shows the unread reply.
    let mut page = browser.new_page()?;
    page.set_viewport(1280, 900)?;
    page.goto(&stack.url("/"))?;
    page.wait_text("[data-testid=glimpse-unread]", "1")?;
    let label = page.eval(&format!(
        "{}.getAttribute('aria-label')",
        deep("[data-testid=glimpse-launcher]")
    ))?;
    assert!(
        label.as_str().unwrap_or("").contains("1 new reply"),
        "{label}"
    );
    page.screenshot("122-launcher-unread-reply")?;
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_text("[data-testid=glimpse-reply-author]", "Ada Lovelace")?;
    // The tray brings the conversation with the new reply into view.
    page.wait_for(
        &format!(
            "(() => {{ const r = {}.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }})()",
            deep("[data-testid=glimpse-reply]")
        ),
        TIMEOUT,
    )?;
    page.wait_for(
        &format!(
            "(() => {{ const i = {}; return !!i && i.complete && i.naturalWidth === 900; }})()",
            deep("[data-testid=glimpse-reply-photo]")
        ),
        TIMEOUT,
    )?;
    assert!(
        page.text("[data-testid=glimpse-reply]")?
            .contains("replacement is on its way")
    );
    page.screenshot("123-widget-reply-from-agent")?;
    // Read now: the badge is gone, and stays gone on the next page view.
    page.wait_gone("[data-testid=glimpse-unread]")?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    std::thread::sleep(Duration::from_secs(2));
    assert!(!page.exists("[data-testid=glimpse-unread]")?);
    assert_eq!(page.exceptions(), Vec::<String>::new());

    // The receiver: question.created failed once (500) and came again with the same id
    // after the backoff; question.replied names the agent; every delivery is signed.
    let got = stack.eventually(
        "a retried question.created and a question.replied",
        true,
        Duration::from_secs(60),
        || {
            let all = received.lock().map_err(|e| e.to_string())?;
            let created = all
                .iter()
                .filter(|r| r.header("glimpse-event") == "question.created")
                .count();
            let replied = all
                .iter()
                .any(|r| r.header("glimpse-event") == "question.replied");
            Ok(created >= 2 && replied)
        },
    );
    let all = received.lock().map_err(|e| e.to_string())?.clone();
    got.map_err(|e| format!("{e}: {all:?}"))?;
    assert!(all.iter().all(|r| signed_by(r, &secret)), "{all:?}");
    assert!(all.iter().all(|r| !signed_by(r, "whsec_wrong")));
    let created: Vec<&Received> = all
        .iter()
        .filter(|r| r.header("glimpse-event") == "question.created")
        .collect();
    assert_eq!(created[0].status, 500);
    assert_eq!(created[1].status, 204);
    assert_eq!(
        created[0].header("glimpse-delivery"),
        created[1].header("glimpse-delivery")
    );
    let event: Value = serde_json::from_str(&created[1].body).map_err(|e| e.to_string())?;
    assert_eq!(event["data"]["question"], json!(id));
    assert_eq!(event["data"]["email"], "grace@example.com");
    let replied = all
        .iter()
        .find(|r| r.header("glimpse-event") == "question.replied")
        .ok_or("no question.replied")?;
    let event: Value = serde_json::from_str(&replied.body).map_err(|e| e.to_string())?;
    assert_eq!(event["data"]["author"], "Ada Lovelace");
    assert!(
        event["data"]["photo"]
            .as_str()
            .is_some_and(|p| p.starts_with("/v1/sites/demo/media/"))
    );

    // The delivery log shows the failed attempt and its retry.
    let res = stack.admin(
        "GET",
        &format!("/v1/admin/sites/demo/webhooks/{hook_id}/deliveries"),
        "",
    )?;
    let log: Value = serde_json::from_str(&res.body).map_err(|e| e.to_string())?;
    let statuses: Vec<i64> = log["deliveries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["event"] == "question.created")
        .filter_map(|d| d["status"].as_i64())
        .collect();
    assert_eq!(statuses, vec![204, 500], "{log}");

    // The owner sees the same in the console's delivery log.
    {
        let mut owner = stack.console(&mut browser)?;
        open_page(&mut owner, "webhooks")?;
        owner.wait_for(
            &format!(
                "(() => {{ const log = {}; return !!log && log.querySelectorAll('[data-testid=delivery-row]').length >= 3; }})()",
                deep(&format!("[data-testid=webhook-log-{hook_id}]"))
            ),
            TIMEOUT,
        )?;
        owner.screenshot("124-webhook-delivery-log")?;
        assert_eq!(owner.exceptions(), Vec::<String>::new());
    }

    // The audit log says who did what.
    let res = stack.admin("GET", "/v1/admin/audit?site=demo", "")?;
    assert!(res.body.contains("Ada Lovelace"), "{}", res.body);
    Ok(())
}
