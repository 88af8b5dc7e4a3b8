//! Live Q&A end to end, in the real runtime (the room is a Durable Object in `wrangler dev`):
//! two visitors and a host. One visitor asks, the other upvotes, the host answers and pins in
//! the console, and both visitors see it without reloading; a visitor who joins late gets the
//! state so far; the worker restarts mid-session and nothing is lost; when the host ends the
//! session its recap draft exists and the visitors' panels show the answers.

use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, HOST_GUARD, Page, deep};
use glimpse_e2e::stack::{Stack, now_ms};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(20);
const SESSION: &str = "live-e2e";

/// A session live from now for an hour, whose answers stay listed for a day after it ends.
fn publish(stack: &Stack) -> Result {
    let now = now_ms();
    let session = json!({
        "id": SESSION, "title": "Live: brewing better espresso", "topic": "orders",
        "host": "Priya", "announce_from": now - 60_000, "starts_at": now - 1_000,
        "ends_at": now + 3_600_000, "answers_until": now + 86_400_000,
        "join_url": "https://northwind.example/live/espresso"
    });
    let res = stack.admin(
        "PUT",
        &format!("/v1/admin/sites/demo/sessions/{SESSION}"),
        &session.to_string(),
    )?;
    if res.status != 201 && res.status != 200 {
        return Err(format!("publish {SESSION}: {} {}", res.status, res.body));
    }
    Stack::await_visitors();
    Ok(())
}

/// The host's view of the room through the admin API.
fn host_view(stack: &Stack) -> Result<Value> {
    let res = stack.admin("GET", &format!("/v1/admin/sites/demo/live/{SESSION}"), "")?;
    if res.status != 200 {
        return Err(format!("host view: {} {}", res.status, res.body));
    }
    serde_json::from_str(&res.body).map_err(|e| format!("{e}: {}", res.body))
}

/// The banner's session: the one this test published (the demo's own session is upcoming).
fn banner(selector: &str) -> String {
    format!("[data-testid=glimpse-banner][data-state=live] {selector}")
}

/// Opens the demo page and the live panel from the session's banner.
fn join(page: &mut Page<'_>, stack: &Stack) -> Result {
    // Counts whatever the widget would throw into the host page.
    page.call(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": HOST_GUARD }),
    )?;
    page.goto(&stack.url("/"))?;
    page.click(&banner("[data-testid=glimpse-join]"))?;
    page.wait_visible("[data-testid=glimpse-live-panel]")?;
    Ok(())
}

/// The question with `text` in a visitor's panel: `[data-testid=glimpse-live-question]` whose
/// text matches, as a JS expression.
fn question_with(text: &str) -> String {
    format!(
        "[...(function all(r) {{ let out = [...r.querySelectorAll('[data-testid=glimpse-live-question]')]; \
         for (const e of r.querySelectorAll('*')) if (e.shadowRoot) out = out.concat(all(e.shadowRoot)); \
         return out; }})(document)].find(e => e.querySelector('[data-testid=glimpse-live-question-text]')?.innerText.includes({}))",
        json!(text)
    )
}

/// Waits until the question with `text` satisfies `check` (JS over `q`, the element).
fn wait_question(page: &mut Page<'_>, text: &str, check: &str) -> Result {
    page.wait_for(
        &format!(
            "(() => {{ const q = {}; return !!q && ({check}); }})()",
            question_with(text)
        ),
        TIMEOUT,
    )
    .map(|_| ())
}

/// Opens the console's Live Q&A page on this test's session, once its first question shows.
fn open_live(console: &mut Page<'_>) -> Result {
    console.click("[data-testid=nav-live]")?;
    console.wait_for("location.hash.startsWith('#/live')", TIMEOUT)?;
    console.eval(&format!(
        "(() => {{ const s = document.querySelector('[data-testid=live-session-select]'); \
         s.value = {}; s.dispatchEvent(new Event('change', {{bubbles: true}})); }})()",
        json!(SESSION)
    ))?;
    console.wait_text("[data-testid=live-question-text]", ASKED)
}

const ASKED: &str = "Which grind size for a 25 second shot?";
const ANSWER: &str = "Start fine, like table salt, and adjust two clicks at a time.";

#[test]
#[ignore = "needs the built bundle, wrangler and Chromium: cargo xtask test"]
fn two_visitors_and_a_host_run_a_live_session() -> Result {
    let mut stack = Stack::start_demo()?;
    publish(&stack)?;
    let mut first = Browser::launch(&stack.tools.chromium)?;
    let mut second = Browser::launch(&stack.tools.chromium)?;
    let mut host = Browser::launch(&stack.tools.chromium)?;
    {
        let mut a = first.new_page()?;
        let mut b = second.new_page()?;
        join(&mut a, &stack)?;
        join(&mut b, &stack)?;
        assert_eq!(
            a.eval(&format!(
                "{}.dataset.transport",
                deep("[data-testid=glimpse-live-panel]")
            ))?,
            json!("websocket")
        );

        // The first visitor asks; the second sees it arrive.
        a.fill("[data-testid=glimpse-live-ask-input]", ASKED)?;
        a.click("[data-testid=glimpse-live-ask-send]")?;
        wait_question(
            &mut a,
            ASKED,
            "q.dataset.mine === 'true' && q.dataset.state === 'waiting'",
        )?;
        wait_question(&mut b, ASKED, "q.dataset.mine === 'false'")?;
        // The second upvotes it (once: the button is then spent); the first sees the count.
        b.eval(&format!(
            "{}.querySelector('[data-testid=glimpse-live-upvote]').click()",
            question_with(ASKED)
        ))?;
        wait_question(
            &mut a,
            ASKED,
            "q.querySelector('[data-testid=glimpse-live-votes]').innerText.includes('1')",
        )?;
        wait_question(
            &mut b,
            ASKED,
            "q.querySelector('[data-testid=glimpse-live-upvote]').disabled",
        )?;
        // The asker's own question cannot be upvoted by them.
        wait_question(
            &mut a,
            ASKED,
            "!q.querySelector('[data-testid=glimpse-live-upvote]') || q.querySelector('[data-testid=glimpse-live-upvote]').disabled",
        )?;

        // The host answers and pins it in the console.
        {
            let mut console = stack.console(&mut host)?;
            open_live(&mut console)?;
            console.wait_text("[data-testid=live-votes]", "1")?;
            console.fill("[data-testid=live-answer-input]", ANSWER)?;
            console.click("[data-testid=live-answer-send]")?;
            console.wait_for(
                "document.querySelector('[data-testid=live-question]')?.dataset.state === 'answered'",
                TIMEOUT,
            )?;
            console.click("[data-testid=live-pin]")?;
            console.wait_for(
                "document.querySelector('[data-testid=live-question]')?.dataset.pinned === 'true'",
                TIMEOUT,
            )?;
            console.fill(
                "[data-testid=live-status-input]",
                "Taking your questions now",
            )?;
            console.click("[data-testid=live-status-save]")?;
            console.wait_text("[data-testid=live-watching]", "2")?;
            console.screenshot("140-live-console")?;
            assert_eq!(console.exceptions(), Vec::<String>::new());
        }
        for page in [&mut a, &mut b] {
            wait_question(
                page,
                ASKED,
                &format!(
                    "q.dataset.state === 'answered' && q.dataset.pinned === 'true' && \
                     q.querySelector('[data-testid=glimpse-live-answer]')?.innerText.includes({})",
                    json!(ANSWER)
                ),
            )?;
            page.wait_text(
                "[data-testid=glimpse-live-status]",
                "Taking your questions now",
            )?;
        }
        a.screenshot("141-live-panel")?;

        // The worker restarts mid-session: the room is in the object's storage, and the
        // panels reconnect.
        stack.restart_worker()?;
        let after = host_view(&stack)?;
        assert_eq!(after["questions"][0]["text"], ASKED, "{after}");
        assert_eq!(after["questions"][0]["votes"], 1, "{after}");
        assert_eq!(after["questions"][0]["answer"]["text"], ANSWER, "{after}");
        assert_eq!(after["status"], "Taking your questions now");
        // A second question after the restart reaches the other visitor live.
        let second_question = "Does the water temperature matter?";
        b.fill("[data-testid=glimpse-live-ask-input]", second_question)?;
        b.click("[data-testid=glimpse-live-ask-send]")?;
        wait_question(&mut a, second_question, "q.dataset.mine === 'false'")?;
        a.assert_host_page_clean()?;
        b.assert_host_page_clean()?;
    }

    // A visitor who joins late gets the state so far — here one whose network blocks
    // WebSockets, who follows the room by polling.
    {
        let mut late = first.new_page()?;
        late.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": "window.WebSocket = undefined;" }),
        )?;
        join(&mut late, &stack)?;
        late.wait_for(
            &format!(
                "{}?.dataset.transport === 'polling'",
                deep("[data-testid=glimpse-live-panel]")
            ),
            TIMEOUT,
        )?;
        wait_question(
            &mut late,
            ASKED,
            &format!(
                "q.dataset.pinned === 'true' && q.querySelector('[data-testid=glimpse-live-answer]')?.innerText.includes({})",
                json!(ANSWER)
            ),
        )?;
        late.wait_text(
            "[data-testid=glimpse-live-status]",
            "Taking your questions now",
        )?;
        // A change after they joined reaches them at the next poll.
        let res = stack.admin(
            "PUT",
            &format!("/v1/admin/sites/demo/live/{SESSION}/status"),
            &json!({ "status": "Last questions now" }).to_string(),
        )?;
        assert_eq!(res.status, 200, "{}", res.body);
        late.wait_text("[data-testid=glimpse-live-status]", "Last questions now")?;
        late.assert_host_page_clean()?;
    }

    // The host ends the session: the recap draft exists, and viewers see the answers.
    {
        let mut console = stack.console(&mut host)?;
        open_live(&mut console)?;
        // Ending asks again first, like the console's deletions.
        console.click("[data-testid=live-end]")?;
        console.wait_text("[data-testid=live-end]", "Really")?;
        console.click("[data-testid=live-end]")?;
        console.wait_text("[data-testid=live-recap]", ANSWER)?;
        console.wait_visible("[data-testid=live-recap-kb]")?;
        console.screenshot("142-live-recap")?;
    }
    let res = stack.admin(
        "GET",
        &format!("/v1/admin/sites/demo/live/{SESSION}/recap"),
        "",
    )?;
    assert_eq!(res.status, 200, "{}", res.body);
    let recap: Value = serde_json::from_str(&res.body).map_err(|e| e.to_string())?;
    let slides = recap["recap"]["story"]["slides"].to_string();
    assert!(slides.contains(ASKED) && slides.contains(ANSWER), "{recap}");
    let kb = recap["kb"][0].as_str().unwrap_or_default().to_string();
    assert!(kb.starts_with("question-live-"), "{recap}");
    // The knowledge-base draft is there, unpublished.
    let res = stack.admin(
        "GET",
        &format!(
            "/v1/admin/sites/demo/kb/questions/{}",
            kb.trim_start_matches("question-")
        ),
        "",
    )?;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains("\"published\":false"), "{}", res.body);

    // The session's answers stay visible to visitors after its end.
    {
        let mut later = second.new_page()?;
        // Ended early by the host: the banner still says live until its time is up, and
        // joining shows the session as over.
        join(&mut later, &stack)?;
        later.wait_for(
            &format!(
                "{}?.dataset.state === 'ended'",
                deep("[data-testid=glimpse-live-panel]")
            ),
            TIMEOUT,
        )?;
        wait_question(
            &mut later,
            ASKED,
            "!!q.querySelector('[data-testid=glimpse-live-answer]')",
        )?;
        assert!(!later.exists("[data-testid=glimpse-live-ask-input]")?);
        later.screenshot("143-live-ended")?;
        later.assert_host_page_clean()?;
    }
    Ok(())
}
