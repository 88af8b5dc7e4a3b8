//! The operators' console at /admin in headless Chromium: sign in, author a story (the lint
//! warns about a too-long slide as it is typed), preview it in the real player, publish it and
//! find it in the widget on the demo page; then traffic, the roll-up and the effectiveness
//! plots checked number by number against the report API; the questions inbox; exporting and
//! erasing a visitor. Screenshots of every page go to target/e2e/screenshots/6x-console-*.png.

use std::time::{Duration, Instant};

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, Page, deep};
use glimpse_e2e::stack::{Stack, now_ms};
use serde_json::{Value, json};

const TITLE: &str = "Charge your scooter";
/// The CSAT ratings visitors 0, 1 and 2 give.
const STARS: [u8; 3] = [5, 4, 2];

fn json_of(body: &str) -> Result<Value> {
    serde_json::from_str(body).map_err(|e| format!("{e}: {body}"))
}

fn token(prefix: &str, n: usize) -> String {
    format!("{prefix}{n:0>20}")
}

/// Event batches, votes and a question from `n` anonymous visitors, through the public API.
fn traffic(stack: &Stack, story: &str) -> Result {
    let origin = stack.url("");
    for (n, stars) in STARS.into_iter().enumerate() {
        let visitor = token("visitor", n);
        // Everyone starts the story; visitors 0 and 1 reach slide 2, visitor 0 finishes it.
        let mut events = vec![
            json!({"kind": "story_view", "story": story}),
            json!({"kind": "slide_view", "story": story, "slide": 0}),
        ];
        if n < 2 {
            events.push(json!({"kind": "slide_view", "story": story, "slide": 1}));
        }
        if n == 0 {
            events.push(json!({"kind": "story_complete", "story": story}));
            events.push(json!({"kind": "cta_click", "story": story, "slide": 1}));
        }
        if n == 2 {
            events.push(json!({"kind": "not_helpful", "story": story}));
            events.push(json!({"kind": "escalation", "channel": "email", "topic": "orders"}));
        }
        let body = json!({"id": token("batch", n), "visitor": visitor, "events": events});
        let res = stack.request(
            "POST",
            "/v1/sites/demo/events",
            &[("content-type", "application/json"), ("origin", &origin)],
            &body.to_string(),
        )?;
        if res.status != 202 {
            return Err(format!("events: {} {}", res.status, res.body));
        }
        let vote = json!({"id": token("vote", n), "visitor": visitor, "answer": {"rating": stars}});
        let res = stack.request(
            "POST",
            "/v1/sites/demo/polls/csat/responses",
            &[("content-type", "application/json"), ("origin", &origin)],
            &vote.to_string(),
        )?;
        if res.status != 202 {
            return Err(format!("vote: {} {}", res.status, res.body));
        }
    }
    Ok(())
}

/// The report the API answers for the console's default period (the 30 days up to today).
fn report(stack: &Stack, topic: Option<&str>) -> Result<Value> {
    let now = now_ms();
    let day = |back: i64| glimpse_shared::time::utc_date(now - back * 86_400_000);
    let mut path = format!("/v1/admin/sites/demo/report?from={}&to={}", day(29), day(0));
    if let Some(t) = topic {
        path.push_str(&format!("&topic={t}"));
    }
    let res = stack.admin("GET", &path, "")?;
    if res.status != 200 {
        return Err(format!("report: {} {}", res.status, res.body));
    }
    json_of(&res.body)
}

/// `data-value`s of a plot's marks (optionally one series), by `data-label`.
fn plot(page: &mut Page<'_>, id: &str) -> Result<Vec<(String, f64)>> {
    let (id, series) = id.split_once(':').unwrap_or((id, ""));
    let marks = if series.is_empty() {
        "[data-value]".to_string()
    } else {
        format!("[data-series=\"{series}\"]")
    };
    let v = page.eval(&format!(
        "Array.from(document.querySelectorAll('[data-plot=\"{id}\"] {marks}')).map(e => [e.dataset.label, Number(e.dataset.value)])"
    ))?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap_or_default().to_string(),
                        p[1].as_f64().unwrap_or(f64::NAN),
                    )
                })
                .collect()
        })
        .unwrap_or_default())
}

fn kpi(page: &mut Page<'_>, id: &str) -> Result<String> {
    page.text(&format!("[data-kpi={id}] strong"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn operators_author_publish_measure_answer_and_erase_in_the_console() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = browser.new_page()?;
    page.set_viewport(1280, 900)?;

    // Sign in: a wrong token is refused, the right one opens the console.
    page.goto(&stack.url("/admin/"))?;
    page.wait_visible("[data-testid=signin]")?;
    page.screenshot("60-console-signin")?;
    page.fill("[data-testid=token]", "not-the-token")?;
    page.click("[data-testid=signin] button[type=submit]")?;
    page.wait_text("[data-testid=notice]", "not accepted")?;
    page.fill("[data-testid=token]", &stack.admin_token)?;
    page.click("[data-testid=signin] button[type=submit]")?;
    page.wait_visible("[data-testid=nav-stories]")?;
    let stored = page.eval("sessionStorage.getItem('glimpse-admin-token')")?;
    assert_eq!(stored.as_str(), Some(stack.admin_token.as_str()));
    assert_eq!(page.eval("document.cookie")?, json!(""), "no cookies");

    // The stories list shows the demo's stories.
    page.wait_visible("[data-testid=story-reset-password]")?;
    page.screenshot("61-console-stories")?;
    // Editing shows the stored story as it is (its topic is not the first one).
    page.click("[data-testid=story-track-order] button.link")?;
    page.wait_visible("[data-testid=story-editor]")?;
    assert_eq!(
        page.eval(&format!("{}.value", deep("[data-testid=story-topic]")))?,
        json!("orders")
    );
    assert_eq!(
        page.eval(&format!("{}.disabled", deep("[data-testid=story-id]")))?,
        json!(true),
        "a published story's id cannot change"
    );
    page.click("[data-testid=cancel]")?;
    page.wait_visible("[data-testid=new-story]")?;

    // A new story: the lint warns about the long slide while typing, and clears when fixed.
    page.click("[data-testid=new-story]")?;
    page.wait_visible("[data-testid=story-editor]")?;
    page.fill("[data-testid=story-title]", TITLE)?;
    assert_eq!(
        page.eval(&format!("{}.value", deep("[data-testid=story-id]")))?,
        json!("charge-your-scooter"),
        "the id follows the title"
    );
    page.fill("[data-testid=story-topic]", "orders")?;
    let long = "Plug the charger into the port under the deck, wait for the light on the handlebar to turn green, then unplug it and fold the cable back into its pocket before you ride away.";
    assert!(long.chars().count() > 160);
    page.fill("[data-testid=slide-0-text]", long)?;
    page.wait_visible("[data-testid=lint-warning][data-field='slides[0].text']")?;
    page.screenshot("62-console-story-lint")?;
    page.fill(
        "[data-testid=slide-0-text]",
        "Plug the charger into the port under the deck.",
    )?;
    page.wait_gone("[data-testid=lint-warning][data-field='slides[0].text']")?;
    page.click("[data-testid=add-slide]")?;
    page.wait_visible("[data-testid=slide-1-text]")?;
    page.fill(
        "[data-testid=slide-1-text]",
        "Wait for the green light, then unplug.",
    )?;
    // A javascript: link is a problem that blocks publishing.
    page.fill("[data-testid=slide-1-cta-label]", "Chargers")?;
    page.fill("[data-testid=slide-1-cta-url]", "javascript:alert(1)")?;
    page.wait_visible("[data-testid=lint-problem][data-field='slides[1].cta.url']")?;
    assert_eq!(
        page.eval(&format!("{}.disabled", deep("[data-testid=publish]")))?,
        json!(true)
    );
    page.fill(
        "[data-testid=slide-1-cta-url]",
        "https://northwind.example/chargers",
    )?;
    page.wait_gone("[data-testid=lint-problem]")?;

    // Preview in the real player (the widget on this page), then close it.
    page.click("[data-testid=preview]")?;
    page.wait_text(
        "[data-testid=glimpse-slide-text]",
        "Plug the charger into the port under the deck.",
    )?;
    page.screenshot("63-console-preview")?;
    page.press("Escape")?;
    page.wait_gone("[data-testid=glimpse-viewer]")?;
    // Make the widget send whatever it queued now: a preview must have queued nothing (the
    // report below counts exactly the visitors' views).
    page.eval("window.dispatchEvent(new Event('pagehide')), true")?;

    page.click("[data-testid=publish]")?;
    page.wait_text("[data-testid=published]", "charge-your-scooter")?;
    // Published by the operators' worker: visitors see it once the visitors' worker's copy
    // of the snapshot has expired.
    Stack::await_visitors();
    page.wait_visible("[data-testid=story-charge-your-scooter]")?;
    let stored = stack.admin(
        "GET",
        "/v1/admin/sites/demo/stories/charge-your-scooter",
        "",
    )?;
    let stored = json_of(&stored.body)?;
    assert_eq!(
        stored["slides"][1]["cta"]["url"],
        "https://northwind.example/chargers"
    );

    // A visitor (another browser) sees it in the widget on the demo page.
    {
        let mut other = Browser::launch(&stack.tools.chromium)?;
        let mut visitor = other.new_page()?;
        visitor.set_viewport(1280, 900)?;
        visitor.goto(&stack.url("/"))?;
        visitor.click("[data-testid=glimpse-launcher]")?;
        visitor.wait_text("[data-testid=glimpse-tray]", TITLE)?;
    }

    // Traffic, a question answered in the inbox, then the roll-up.
    traffic(&stack, "charge-your-scooter")?;
    let asked = stack.request(
        "POST",
        "/v1/sites/demo/questions",
        &[("content-type", "application/json"), ("origin", &stack.url(""))],
        &json!({"visitor": token("visitor", 0), "topic": "orders", "message": "My scooter shows a red light while charging."}).to_string(),
    )?;
    if asked.status != 201 {
        return Err(format!("ask: {} {}", asked.status, asked.body));
    }
    let asked = json_of(&asked.body)?;
    let question = asked["id"].as_str().ok_or("no question id")?.to_string();
    // The visitor's photo, uploaded as the widget does (a PNG drawn in the page).
    let status = page.eval(&format!(
        "(async () => {{ const c = document.createElement('canvas'); c.width = 64; c.height = 48; \
         const g = c.getContext('2d'); g.fillStyle = '#c33'; g.fillRect(0, 0, 64, 48); \
         const png = await new Promise(r => c.toBlob(r, 'image/png')); \
         const res = await fetch('/v1/sites/demo/questions/{question}/photo', {{ method: 'PUT', \
           headers: {{ 'content-type': 'image/png', authorization: 'Bearer ' + {} }}, body: png }}); \
         return res.status; }})()",
        json!(asked["token"])
    ))?;
    assert_eq!(status, json!(201), "photo upload");
    // Visitors' writes reach the inbox and the report through the ingestion queue.
    stack.wait_question("demo", &question)?;

    page.click("[data-testid=nav-questions]")?;
    page.click(&format!("[data-testid=question-{question}]"))?;
    page.wait_text("[data-testid=thread-message]", "red light")?;
    page.wait_for(
        "(() => { const img = document.querySelector('[data-testid=thread-photo]'); return img && img.complete && img.naturalWidth === 64; })()",
        Duration::from_secs(20),
    )?;
    page.fill(
        "[data-testid=reply-text]",
        "Unplug it for a minute and try another socket; if it stays red, call us.",
    )?;
    page.click("[data-testid=send-reply]")?;
    page.wait_text("[data-testid=thread-reply]", "another socket")?;
    page.screenshot("64-console-questions")?;
    page.fill("[data-testid=resolve-category]", "orders")?;
    page.click("[data-testid=resolve]")?;
    page.wait_gone(&format!("[data-testid=question-{question}]"))?;
    // Resolving published nothing; the thread stays open, marked resolved.
    page.wait_text("[data-testid=resolved]", "category orders")?;
    let (_, kb) = stack.get("/v1/sites/demo/kb?q=red+light")?;
    assert!(!kb.contains("red light while charging"), "{kb}");

    // Publishing an answer is its own act: the form says it becomes public, is prefilled
    // with the team's reply (never the visitor's message) and needs a confirmation.
    page.click("[data-testid=publish-open]")?;
    page.wait_text("[data-testid=publish-warning]", "This becomes public")?;
    let prefilled = page.eval(&format!("{}.value", deep("[data-testid=publish-body]")))?;
    assert_eq!(
        prefilled,
        json!("Unplug it for a minute and try another socket; if it stays red, call us.")
    );
    page.fill("[data-testid=publish-title]", "The charging light is red")?;
    let disabled = format!("{}.disabled", deep("[data-testid=publish]"));
    assert_eq!(
        page.eval(&disabled)?,
        json!(true),
        "publishing needs the confirmation"
    );
    page.click("[data-testid=publish-confirm]")?;
    assert_eq!(page.eval(&disabled)?, json!(false));
    page.click("[data-testid=publish]")?;
    page.wait_text("[data-testid=publish-done]", "Published")?;
    let (_, kb) = stack.get("/v1/sites/demo/kb?q=charging+light")?;
    assert!(kb.contains("The charging light is red"), "{kb}");
    assert!(!kb.contains("red light while charging"), "{kb}");
    // The knowledge-base page lists it; unpublishing hides it from visitors again.
    page.click("[data-testid=nav-kb]")?;
    let row = format!("[data-testid=kb-question-{question}]");
    page.wait_text(&row, "The charging light is red")?;
    page.wait_text(&format!("{row} [data-testid=kb-status]"), "Public")?;
    page.click(&format!("{row} [data-testid=kb-edit]"))?;
    page.click("[data-testid=kb-unpublish]")?;
    page.wait_text(&format!("{row} [data-testid=kb-status]"), "Unpublished")?;
    // Visitors stop seeing it once the edge cache's max-age (10 s) has passed.
    let unpublished = Instant::now();
    while stack
        .get("/v1/sites/demo/kb?q=charging+light")?
        .1
        .contains("The charging light is red")
    {
        if unpublished.elapsed() > Duration::from_secs(15) {
            return Err("the unpublished answer is still public after 15 s".into());
        }
        std::thread::sleep(Duration::from_millis(500));
    }

    // The effectiveness page: "Roll up now", then every plotted number equals the API's
    // (once the queue has applied the traffic).
    stack.eventually(
        "the traffic in the report",
        json!(3),
        Duration::from_secs(20),
        || {
            let api = report(&stack, None)?;
            Ok(api["stories"]
                .as_array()
                .and_then(|s| s.iter().find(|s| s["id"] == "charge-your-scooter"))
                .map_or(json!(0), |s| s["views"].clone()))
        },
    )?;
    page.set_viewport(1280, 2400)?;
    page.click("[data-testid=nav-report]")?;
    page.wait_visible("[data-testid=rollup]")?;
    page.click("[data-testid=rollup]")?;
    page.wait_for(
        &format!(
            "(() => {{ const b = {}; return b && !b.disabled && document.querySelector('[data-kpi=story_views]'); }})()",
            deep("[data-testid=rollup]")
        ),
        Duration::from_secs(60),
    )?;
    page.wait_visible("[data-plot=story-views] [data-label='Charge your scooter']")?;
    let api = report(&stack, None)?;
    let ours = api["stories"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == "charge-your-scooter"))
        .cloned()
        .ok_or(format!("story not in report: {api}"))?;
    // What the traffic above makes (the preview tracked nothing).
    assert_eq!(ours["views"], 3, "{ours}");
    assert_eq!(ours["slide_views"], json!([3, 2]));
    assert_eq!(ours["completions"], 1);
    assert_eq!(ours["cta_clicks"], 1);
    assert_eq!(ours["not_helpful"], 1);
    assert_eq!(api["totals"]["csat_counts"], json!([0, 1, 0, 1, 1]));
    assert_eq!(api["totals"]["questions_asked"], 1);
    assert_eq!(api["totals"]["first_reply"]["count"], 1);
    assert_eq!(api["totals"]["resolution"]["count"], 1);

    let views = plot(&mut page, "story-views")?;
    for s in api["stories"].as_array().ok_or("no stories")? {
        let label = s["title"]
            .as_str()
            .filter(|t| !t.is_empty())
            .or(s["id"].as_str())
            .unwrap_or_default();
        let drawn = views.iter().find(|(l, _)| l == label).map(|(_, v)| *v);
        assert_eq!(drawn, s["views"].as_f64(), "views of {label}: {views:?}");
    }
    page.fill("[data-testid=funnel-story]", "charge-your-scooter")?;
    page.wait_text("[data-plot=funnel] figcaption", TITLE)?;
    let funnel: Vec<f64> = plot(&mut page, "funnel")?
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(funnel, [3.0, 2.0]);
    let completion = plot(&mut page, "completion")?;
    assert!(
        completion
            .iter()
            .any(|(l, v)| l == TITLE && close(*v, 100.0 / 3.0)),
        "{completion:?}"
    );
    let csat: Vec<f64> = plot(&mut page, "csat-distribution")?
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let want: Vec<f64> = api["totals"]["csat_counts"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    assert_eq!(csat, want);
    let per_day: Vec<f64> = plot(&mut page, "views-per-day:views")?
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let api_per_day: Vec<f64> = api["days"]
        .as_array()
        .map(|d| d.iter().filter_map(|d| d["story_views"].as_f64()).collect())
        .unwrap_or_default();
    assert_eq!(per_day, api_per_day);
    assert_eq!(
        kpi(&mut page, "story_views")?,
        api["totals"]["story_views"].to_string()
    );
    assert_eq!(kpi(&mut page, "questions_asked")?, "1");
    let satisfied = api["totals"]["csat_satisfied"].as_f64().unwrap_or(0.0);
    assert_eq!(
        kpi(&mut page, "csat_satisfied")?,
        format!("{:.0}%", satisfied * 100.0)
    );
    let escalations = plot(&mut page, "escalations")?;
    assert_eq!(
        escalations,
        [(
            "email".to_string(),
            api["escalations"]["email"].as_f64().unwrap_or(-1.0)
        )]
    );
    page.screenshot_full("65-console-report")?;

    // Each table downloads as CSV with the same numbers.
    page.eval(
        "(() => { window.__csv = null; const make = URL.createObjectURL; \
         URL.createObjectURL = b => { window.__csv = b; return make.call(URL, b); }; return true; })()",
    )?;
    page.click("[data-table=stories] summary")?;
    page.click("[data-testid=csv-stories]")?;
    let csv = page.wait_for(
        "window.__csv && window.__csv.text()",
        Duration::from_secs(10),
    )?;
    let csv = csv.as_str().unwrap_or_default();
    assert!(
        csv.starts_with("story,title,topic,views,completions,completion_pct,slide_views"),
        "{csv}"
    );
    assert!(
        csv.contains(
            "\r\ncharge-your-scooter,Charge your scooter,orders,3,1,33.3,3 2,1,0,1,33.3\r\n"
        ),
        "{csv}"
    );

    // One topic narrows it: the API and the plots agree again, and polls are site-wide.
    page.fill("[data-testid=topic]", "billing")?;
    page.wait_visible("[data-testid=site-wide-note]")?;
    let billing = report(&stack, Some("billing"))?;
    assert_eq!(
        kpi(&mut page, "story_views")?,
        billing["totals"]["story_views"].to_string()
    );
    assert!(
        !plot(&mut page, "story-views")?
            .iter()
            .any(|(l, _)| l == TITLE)
    );
    page.set_viewport(1280, 900)?;

    // Privacy: export a visitor's data, erase it, and it is gone.
    page.click("[data-testid=nav-privacy]")?;
    let visitor = token("visitor", 0);
    page.fill("[data-testid=visitor-id]", &visitor)?;
    page.click("[data-testid=export]")?;
    page.wait_text("[data-testid=export-json]", "My scooter shows a red light")?;
    page.screenshot("66-console-privacy")?;
    page.click("[data-testid=erase]")?;
    page.wait_text("[data-testid=erase]", "Really")?;
    page.click("[data-testid=erase]")?;
    page.wait_text(
        "[data-testid=privacy-message]",
        "Erased: 1 votes, 1 poll responses, 1 event batches, 1 questions",
    )?;
    let after = json_of(
        &stack
            .admin(
                "GET",
                &format!("/v1/admin/sites/demo/visitors/{visitor}"),
                "",
            )?
            .body,
    )?;
    assert_eq!(after["votes"], json!([]), "{after}");
    assert_eq!(after["responses"], json!([]), "{after}");
    assert_eq!(after["event_batches"], json!([]), "{after}");
    assert_eq!(after["questions"], json!([]), "{after}");

    // The remaining pages, for people to look at.
    page.click("[data-testid=nav-sessions]")?;
    page.wait_visible("[data-testid=session-billing-qa]")?;
    page.screenshot("67-console-sessions")?;
    page.click("[data-testid=nav-polls]")?;
    page.wait_visible("[data-testid=poll-csat]")?;
    page.screenshot("68-console-polls")?;
    page.click("[data-testid=new-poll]")?;
    page.fill("[data-testid=poll-question]", "Which charger do you use?")?;
    page.fill("[data-testid=poll-kind]", "choice")?;
    page.fill("[data-testid=poll-options]", "Home\nWork\nPublic")?;
    // The demo site offers Spanish and Bokmål: until both are written the checks say so.
    page.wait_visible("[data-testid=lint-warning][data-field='translations.es']")?;
    page.wait_text("[data-testid=poll-tr-state]", "not started")?;
    // Side by side: the English on the left, the translation typed on the right.
    let translations = [
        ("es", "¿Qué cargador usas?", ["Casa", "Trabajo", "Público"]),
        (
            "nb",
            "Hvilken lader bruker du?",
            ["Hjemme", "Jobb", "Offentlig"],
        ),
    ];
    for (lang, question, options) in translations {
        page.fill("[data-testid=poll-tr-lang]", lang)?;
        page.wait_text(
            "[data-testid=poll-translations] table",
            "Which charger do you use?",
        )?;
        page.fill("[data-testid=poll-tr-question]", question)?;
        for (i, o) in options.iter().enumerate() {
            page.fill(&format!("[data-testid='poll-tr-options[{i}]']"), o)?;
        }
        page.wait_text("[data-testid=poll-tr-state]", "up to date")?;
    }
    page.wait_visible("[data-testid=lint-clean]")?;
    page.screenshot("69-console-poll-editor")?;
    page.click("[data-testid=publish]")?;
    page.wait_visible("[data-testid=poll-which-charger-do-you-use]")?;
    let stored = stack.admin(
        "GET",
        "/v1/admin/sites/demo/polls/which-charger-do-you-use",
        "",
    )?;
    let stored = json_of(&stored.body)?;
    assert_eq!(
        stored["translations"]["es"]["question"],
        "¿Qué cargador usas?"
    );
    assert_eq!(
        stored["translations"]["nb"]["options"],
        json!(["Hjemme", "Jobb", "Offentlig"])
    );
    // Changing the English afterwards makes the translations older than their source.
    page.click("[data-testid=poll-which-charger-do-you-use] button.link")?;
    page.fill(
        "[data-testid=poll-question]",
        "Which charger do you use most?",
    )?;
    page.wait_text("[data-testid=poll-tr-state]", "older than its source")?;
    page.wait_visible("[data-testid=lint-warning][data-field='translations.es']")?;
    page.click("[data-testid=cancel]")?;

    // Signing out forgets the token.
    page.click("[data-testid=signout]")?;
    page.wait_visible("[data-testid=signin]")?;
    assert_eq!(
        page.eval("sessionStorage.getItem('glimpse-admin-token')")?,
        Value::Null
    );
    let errors = page.exceptions();
    assert!(errors.is_empty(), "uncaught: {errors:?}");
    Ok(())
}
