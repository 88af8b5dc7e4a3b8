//! What a visitor sees and does, in headless Chromium on the demo page, against the real
//! worker: the tray, playing stories by tap and keyboard, pause, banners that change state
//! on the server clock, polls (online and offline), hostile host CSS, light and dark.

use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Page, deep, deep_with_text};
use glimpse_e2e::stack::{Stack, now_ms};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(15);

fn attr(page: &mut Page<'_>, selector: &str, name: &str) -> Result<Value> {
    page.eval(&format!(
        "(() => {{ const el = {}; return el && el.getAttribute({}); }})()",
        deep(selector),
        json!(name)
    ))
}

fn open_page<'b>(stack: &Stack, browser: &'b mut glimpse_e2e::cdp::Browser) -> Result<Page<'b>> {
    let mut page = browser.new_page()?;
    page.set_viewport(1280, 800)?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    Ok(page)
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_visitor_plays_stories_by_tap_and_keyboard_pauses_and_closes() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = glimpse_e2e::cdp::Browser::launch(&stack.tools.chromium)?;
    let mut page = open_page(&stack, &mut browser)?;
    let stories = stack.demo_stories_on("/");

    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_visible("[data-testid=glimpse-tray]")?;
    for s in &stories {
        page.wait_text("[data-testid=glimpse-tray]", &s.title)?;
    }
    page.screenshot("10-tray-light")?;

    // By tap: the right part of the slide goes forward.
    page.click("[data-testid=glimpse-story-item]")?;
    page.wait_visible("[data-testid=glimpse-viewer]")?;
    let title = attr(&mut page, "[data-testid=glimpse-viewer]", "aria-label")?;
    let story = stories
        .iter()
        .find(|s| json!(s.title) == title)
        .ok_or(format!("viewer shows an unknown story {title}"))?;
    for (i, slide) in story.slides.iter().enumerate() {
        page.wait_text("[data-testid=glimpse-slide-text]", &slide.text)?;
        if i == 0 {
            page.screenshot("11-story-light")?;
        }
        page.click("[data-testid=glimpse-next]")?;
    }
    page.wait_visible("[data-testid=glimpse-end-card]")?;
    page.wait_text("[data-testid=glimpse-end-card]", "Did this help?")?;
    page.click("[data-testid=glimpse-helped-no]")?;
    page.wait_visible("[data-testid=glimpse-channel]")?;
    page.screenshot("12-end-card-channels")?;

    // Pause holds the slide still; play resumes it.
    page.click("[data-testid=glimpse-end-next]")?;
    page.wait_visible("[data-testid=glimpse-slide-text]")?;
    page.click("[data-testid=glimpse-pause]")?;
    assert_eq!(
        attr(&mut page, "[data-testid=glimpse-pause]", "aria-pressed")?,
        json!("true")
    );
    let paused_at = page.story_progress()?;
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        page.story_progress()?,
        paused_at,
        "nothing advances while paused"
    );
    page.press(" ")?;
    assert_eq!(
        attr(&mut page, "[data-testid=glimpse-pause]", "aria-pressed")?,
        json!("false")
    );
    page.wait_for(
        &format!(
            "(() => {{ const v = {}; return v !== null; }})()",
            deep("[data-testid=glimpse-viewer]")
        ),
        TIMEOUT,
    )?;
    std::thread::sleep(Duration::from_millis(600));
    let resumed = page.story_progress()?;
    assert!(
        resumed > paused_at,
        "playing again: {paused_at} -> {resumed}"
    );

    // By keyboard: → advances, Esc closes and focus returns to the launcher.
    let before = page.text("[data-testid=glimpse-slide-text]")?;
    page.press("ArrowRight")?;
    page.wait_for(
        &format!(
            "{}.innerText !== {}",
            deep("[data-testid=glimpse-slide-text]"),
            json!(before)
        ),
        TIMEOUT,
    )?;
    page.press("Escape")?;
    page.wait_gone("[data-testid=glimpse-viewer]")?;
    page.wait_focus_on_launcher()?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn touch_swipes_change_stories_and_a_swipe_down_closes() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = glimpse_e2e::cdp::Browser::launch(&stack.tools.chromium)?;
    let mut page = open_page(&stack, &mut browser)?;
    assert!(stack.demo.stories.len() >= 2, "the demo has two stories");

    page.click("[data-testid=glimpse-launcher]")?;
    page.click("[data-testid=glimpse-story-item]")?;
    page.wait_visible("[data-testid=glimpse-slide-text]")?;
    let first = attr(&mut page, "[data-testid=glimpse-viewer]", "aria-label")?;
    let label_is_not = |label: &Value| {
        format!(
            "(() => {{ const v = {}; return v && v.getAttribute('aria-label') !== {label}; }})()",
            deep("[data-testid=glimpse-viewer]")
        )
    };

    // Swipe left: the next story, from its first slide.
    page.swipe("[data-testid=glimpse-slide-text]", -160.0, 10.0)?;
    page.wait_for(&label_is_not(&first), TIMEOUT)?;
    let second = attr(&mut page, "[data-testid=glimpse-viewer]", "aria-label")?;
    let titles: Vec<Value> = stack.demo.stories.iter().map(|s| json!(s.title)).collect();
    assert!(titles.contains(&second), "an authored story: {second}");

    // Swipe right: back to the first story.
    page.swipe("[data-testid=glimpse-slide-text]", 160.0, -10.0)?;
    page.wait_for(&label_is_not(&second), TIMEOUT)?;
    assert_eq!(
        attr(&mut page, "[data-testid=glimpse-viewer]", "aria-label")?,
        first
    );

    // A short drag is neither a swipe nor a tap that skips: the story and the slide stay,
    // also once the touch has settled (300 ms: a reaction would show within a frame).
    let slide = page.text("[data-testid=glimpse-slide-text]")?;
    page.swipe("[data-testid=glimpse-slide-text]", 0.0, 20.0)?;
    page.eval("new Promise(r => setTimeout(() => requestAnimationFrame(() => r(true)), 300))")?;
    assert_eq!(
        attr(&mut page, "[data-testid=glimpse-viewer]", "aria-label")?,
        first
    );
    assert_eq!(page.text("[data-testid=glimpse-slide-text]")?, slide);

    // Swipe down: the viewer closes and focus goes back to the launcher.
    page.swipe("[data-testid=glimpse-slide-text]", 5.0, 220.0)?;
    page.wait_gone("[data-testid=glimpse-viewer]")?;
    page.wait_focus_on_launcher()?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn the_main_flow_works_by_keyboard_alone() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = glimpse_e2e::cdp::Browser::launch(&stack.tools.chromium)?;
    let mut page = open_page(&stack, &mut browser)?;
    let focused = "(() => { let a = document.activeElement; while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement; return a ? (a.dataset.testid || a.getAttribute('aria-label') || a.localName) : null; })()";
    // Tab through the page until the launcher has focus.
    let mut reached = false;
    for _ in 0..40 {
        page.press("Tab")?;
        if page.eval(focused)? == json!("glimpse-launcher") {
            reached = true;
            break;
        }
    }
    assert!(reached, "the launcher is reachable with Tab");
    page.press("Enter")?;
    page.wait_visible("[data-testid=glimpse-tray]")?;
    page.wait_for(
        &format!("{focused} === 'glimpse-tray' || {focused} === 'Help stories'"),
        TIMEOUT,
    )?;
    let mut on_story = false;
    for _ in 0..6 {
        page.press("Tab")?;
        if page.eval(focused)? == json!("glimpse-story-item") {
            on_story = true;
            break;
        }
    }
    assert!(on_story, "a story in the tray is reachable with Tab");
    page.press("Enter")?;
    page.wait_visible("[data-testid=glimpse-viewer]")?;
    let first = page.text("[data-testid=glimpse-slide-text]")?;
    page.press("ArrowRight")?;
    page.wait_for(
        &format!(
            "{}.innerText !== {}",
            deep("[data-testid=glimpse-slide-text]"),
            json!(first)
        ),
        TIMEOUT,
    )?;
    // Focus stays inside the dialog.
    for _ in 0..8 {
        page.press("Tab")?;
        let inside = page.eval(&format!(
            "(() => {{ let a = document.activeElement; while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement; return {}.contains(a); }})()",
            deep("[data-testid=glimpse-viewer]")
        ))?;
        assert_eq!(inside, json!(true), "Tab never leaves the open dialog");
    }
    page.press("Escape")?;
    page.wait_gone("[data-testid=glimpse-viewer]")?;
    assert_eq!(page.eval(focused)?, json!("glimpse-launcher"));
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_banner_counts_down_goes_live_and_disappears() -> Result {
    let stack = Stack::start_demo()?;
    stack.publish_session("e2e-live", "E2E live Q&A", 6_000, 11_000)?;
    // The demo's own session is announced too; find ours by title.
    let mut browser = glimpse_e2e::cdp::Browser::launch(&stack.tools.chromium)?;
    let mut page = open_page(&stack, &mut browser)?;
    let state = format!(
        "(() => {{ const b = {}; return b ? b.dataset.state : 'gone'; }})()",
        deep_with_text("[data-testid=glimpse-banner]", "E2E live Q&A")
    );
    page.wait_for(&format!("{state} === 'upcoming'"), TIMEOUT)?;
    page.wait_text("[data-testid=glimpse-banners]", "Starts in 0:0")?;
    page.screenshot("13-banner-upcoming")?;
    page.wait_for(&format!("{state} === 'live'"), TIMEOUT)?;
    page.wait_text("[data-testid=glimpse-banners]", "Live now")?;
    page.screenshot("14-banner-live")?;
    page.wait_for(&format!("{state} === 'gone'"), TIMEOUT)?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_vote_reaches_the_results_online_and_after_being_offline() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = glimpse_e2e::cdp::Browser::launch(&stack.tools.chromium)?;
    let mut page = open_page(&stack, &mut browser)?;
    let results = |poll: &str| stack.poll_results("demo", poll);
    assert_eq!(results("story-helpful")?["total"], 0);

    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_visible("[data-testid=glimpse-poll]")?;
    page.screenshot("15-poll-light")?;
    page.click("[data-poll=story-helpful] [data-testid=glimpse-poll-option]")?;
    page.wait_visible("[data-poll=story-helpful] [data-testid=glimpse-poll-results]")?;
    page.screenshot("16-poll-results-light")?;
    let r = stack.poll_results_when("demo", "story-helpful", 1)?;
    assert_eq!(
        (r["total"].clone(), r["counts"].clone()),
        (json!(1), json!([1, 0, 0]))
    );

    // Offline: the answer is kept and delivered once the network is back.
    page.offline(true)?;
    page.click("[data-poll=csat] [data-testid=glimpse-poll-rating]")?;
    page.wait_text(
        "[data-poll=csat] [data-testid=glimpse-poll-thanks]",
        "back online",
    )?;
    assert_eq!(results("csat")?["total"], 0);
    page.offline(false)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if results("csat")?["total"] == 1 {
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err("the offline vote was never delivered".into());
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(results("csat")?["counts"], json!([1, 0, 0, 0, 0]));
    page.wait_for("JSON.parse(localStorage.getItem('glimpse:outbox') || '{\"pending\":[]}').pending.length === 0", TIMEOUT)?;
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn hostile_host_css_changes_nothing_and_dark_mode_works() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = glimpse_e2e::cdp::Browser::launch(&stack.tools.chromium)?;
    let mut page = open_page(&stack, &mut browser)?;
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_visible("[data-testid=glimpse-tray]")?;
    let rect = page.eval(&format!(
        "(() => {{ const r = {}.getBoundingClientRect(); \
         return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]; }})()",
        deep("[data-testid=glimpse-tray]")
    ))?;
    let clip = |i: usize| rect[i].as_f64().unwrap_or(0.0);
    // Inside the tray's rounded corners: only the widget's own pixels.
    let clip = (
        clip(0) + 12.0,
        clip(1) + 12.0,
        clip(2) - 24.0,
        clip(3) - 24.0,
    );
    std::thread::sleep(Duration::from_millis(300));
    let plain = page.capture(clip)?;
    page.eval(
        "(() => { const s = document.createElement('style'); s.textContent = \
         '* { all: unset !important; font-family: Papyrus, fantasy !important; color: red !important; } \
          glimpse-widget { display: block !important; } \
          button, a, div, section { background: lime !important; border: 9px dashed blue !important; \
          font-size: 40px !important; padding: 30px !important; transform: rotate(3deg) !important; }'; \
         document.head.appendChild(s); return true; })()",
    )?;
    std::thread::sleep(Duration::from_millis(300));
    let hostile = page.capture(clip)?;
    let dir = xtask::at("target/e2e/screenshots");
    let _ = std::fs::write(dir.join("17a-tray-plain-clip.png"), &plain);
    let _ = std::fs::write(dir.join("17b-tray-hostile-clip.png"), &hostile);
    page.screenshot("17-tray-under-hostile-css")?;
    assert!(
        plain == hostile,
        "the widget looks different under hostile host CSS"
    );

    page.color_scheme("dark")?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_visible("[data-testid=glimpse-tray]")?;
    let bg = page.eval(&format!(
        "getComputedStyle({}).backgroundColor",
        deep("[data-testid=glimpse-tray]")
    ))?;
    assert_eq!(
        bg,
        json!("rgb(23, 21, 29)"),
        "dark theme follows the visitor's preference"
    );
    page.screenshot("20-tray-dark")?;
    page.click("[data-poll=story-helpful] [data-testid=glimpse-poll-option]")?;
    page.wait_visible("[data-poll=story-helpful] [data-testid=glimpse-poll-thanks]")?;
    page.screenshot("21-poll-dark")?;
    page.click("[data-testid=glimpse-story-item]")?;
    page.wait_visible("[data-testid=glimpse-viewer]")?;
    page.screenshot("22-story-dark")?;
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn the_command_api_and_host_events_work() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = glimpse_e2e::cdp::Browser::launch(&stack.tools.chromium)?;
    let mut page = open_page(&stack, &mut browser)?;
    let story = stack.demo.stories.last().ok_or("no demo story")?;
    page.eval(
        "(() => { window.__events = []; \
         Glimpse('on', 'story_view', d => window.__events.push(['story_view', d.story])); \
         Glimpse('on', 'close', d => 0); return true; })()",
    )?;
    page.eval(&format!(
        "Glimpse('open', {{ story: {} }})",
        json!(story.id)
    ))?;
    page.wait_visible("[data-testid=glimpse-viewer]")?;
    assert_eq!(
        attr(&mut page, "[data-testid=glimpse-viewer]", "aria-label")?,
        json!(story.title)
    );
    page.wait_for("window.__events.length > 0", TIMEOUT)?;
    assert_eq!(
        page.eval("window.__events[0]")?,
        json!(["story_view", story.id])
    );
    page.eval("Glimpse('close')")?;
    page.wait_gone("[data-testid=glimpse-viewer]")?;
    page.eval("Glimpse('open')")?;
    page.wait_visible("[data-testid=glimpse-tray]")?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn the_embedding_contract_holds_on_strict_and_crowded_pages() -> Result {
    let stack = Stack::start_demo()?;

    // A CSP without 'wasm-unsafe-eval': the widget stays away with one warning.
    {
        let mut browser = glimpse_e2e::cdp::Browser::launch(&stack.tools.chromium)?;
        let mut page = browser.new_page()?;
        page.goto(&stack.url("/demo/csp-strict"))?;
        page.wait_for("new Promise(r => setTimeout(() => r(true), 1500))", TIMEOUT)?;
        let lines = page.glimpse_console();
        assert_eq!(lines.len(), 1, "exactly one warning: {lines:?}");
        assert!(
            lines[0].starts_with("console.warning") || lines[0].starts_with("console.warn"),
            "{lines:?}"
        );
        assert_eq!(page.exceptions(), Vec::<String>::new());
        assert!(!page.exists("[data-testid=glimpse-launcher]")?);
    }

    // With 'wasm-unsafe-eval' and a style nonce, it works and is styled.
    {
        let mut browser = glimpse_e2e::cdp::Browser::launch(&stack.tools.chromium)?;
        let mut page = browser.new_page()?;
        page.goto(&stack.url("/demo/csp-nonce"))?;
        page.wait_visible("[data-testid=glimpse-launcher]")?;
        let bg = page.eval(&format!(
            "getComputedStyle({}).backgroundColor",
            deep("[data-testid=glimpse-launcher]")
        ))?;
        assert_eq!(
            bg,
            json!("rgb(138, 75, 42)"),
            "the nonced stylesheet and the accent apply"
        );
        assert_eq!(page.exceptions(), Vec::<String>::new());
    }

    // Aggressive global CSS on the host page does not reach the widget.
    {
        let mut browser = glimpse_e2e::cdp::Browser::launch(&stack.tools.chromium)?;
        let mut page = browser.new_page()?;
        page.set_viewport(1280, 800)?;
        let look = "(() => { const s = getComputedStyle(%L); return [s.width, s.height, s.borderRadius, s.backgroundColor, s.position, s.fontFamily]; })()";
        page.goto(&stack.url("/"))?;
        page.wait_visible("[data-testid=glimpse-launcher]")?;
        let plain = page.eval(&look.replace("%L", &deep("[data-testid=glimpse-launcher]")))?;
        page.goto(&stack.url("/demo/hostile.html"))?;
        page.wait_visible("[data-testid=glimpse-launcher]")?;
        let hostile = page.eval(&look.replace("%L", &deep("[data-testid=glimpse-launcher]")))?;
        assert_eq!(plain, hostile);
        page.click("[data-testid=glimpse-launcher]")?;
        page.wait_visible("[data-testid=glimpse-tray]")?;
        page.screenshot("18-hostile-page")?;
    }

    // Two sites on one page: two independent instances, one bundle.
    {
        let site = json!({
            "id": "demo-tea", "name": "Fjord Tea", "origins": [stack.server.url()],
            "theme": {"accent": "#1f6f5c", "mode": "dark"}, "language": "nb",
            "channels": [{"kind": "email", "label": "E-post", "value": "hjelp@fjordtea.example"}]
        });
        assert_eq!(
            stack
                .admin("PUT", "/v1/admin/sites/demo-tea", &site.to_string())?
                .status,
            201
        );
        let now = now_ms();
        let story = json!({
            "id": "brew", "title": "Slik trekker du te", "topic": "tea",
            "slides": [{"text": "Kok vannet", "duration_ms": 5000}],
            "publish_at": now - 1000, "expires_at": now + 3_600_000
        });
        let res = stack.admin(
            "PUT",
            "/v1/admin/sites/demo-tea/stories/brew",
            &story.to_string(),
        )?;
        assert_eq!(res.status, 201, "{}", res.body);
        let mut browser = glimpse_e2e::cdp::Browser::launch(&stack.tools.chromium)?;
        let mut page = browser.new_page()?;
        page.set_viewport(1280, 800)?;
        page.goto(&stack.url("/demo/two-sites.html"))?;
        let tea = "document.querySelector('glimpse-widget[data-site=demo-tea]')?.shadowRoot";
        page.wait_for(
            &format!("{tea}?.querySelector('[data-testid=glimpse-launcher]')"),
            TIMEOUT,
        )?;
        page.wait_visible("[data-testid=glimpse-launcher]")?;
        assert_eq!(
            page.eval("document.querySelectorAll('glimpse-widget').length")?,
            json!(2)
        );
        let label = page.eval(&format!(
            "{tea}.querySelector('[data-testid=glimpse-launcher]').getAttribute('aria-label')"
        ))?;
        assert_eq!(label, json!("Åpne hjelpehistorier, 1 ny"));
        let left = page.eval(&format!(
            "{tea}.querySelector('[data-testid=glimpse-launcher]').getBoundingClientRect().left"
        ))?;
        assert!(
            left.as_f64().unwrap_or(9e9) < 100.0,
            "data-position=left: {left}"
        );
        page.eval(&format!(
            "{tea}.querySelector('[data-testid=glimpse-launcher]').click()"
        ))?;
        page.wait_for(&format!("{tea}.querySelector('[data-testid=glimpse-tray]')?.innerText.includes('Slik trekker du te')"), TIMEOUT)?;
        let demo_tray = page.eval("document.querySelector('glimpse-widget[data-site=demo]').shadowRoot.querySelector('[data-testid=glimpse-tray]')")?;
        assert_eq!(demo_tray, Value::Null, "the other instance is untouched");
        assert_eq!(
            page.eval("performance.getEntriesByType('resource').filter(r => r.name.endsWith('/glimpse.wasm')).length")?,
            json!(1),
            "one first chunk for both sites"
        );
        let chunks = page.eval(
            "performance.getEntriesByType('resource').map(r => r.name).filter(n => n.endsWith('.wasm'))",
        )?;
        let chunks: Vec<&str> = chunks
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut unique = chunks.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            chunks.len(),
            "each chunk fetched once for both: {chunks:?}"
        );
        page.screenshot("19-two-sites")?;
    }
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn live_help_hours_show_in_the_visitors_own_time_zone() -> Result {
    let stack = Stack::start_demo()?;
    // Make "orders" open 09:00–17:00 London time every day, so the answer exists at any hour.
    let mut site = serde_json::to_value(&stack.demo.site).map_err(|e| e.to_string())?;
    site["topics"][1]["hours"] = json!([{"days": ["mon","tue","wed","thu","fri","sat","sun"], "from": "09:00", "to": "17:00"}]);
    assert_eq!(
        stack
            .admin("PUT", "/v1/admin/sites/demo", &site.to_string())?
            .status,
        200
    );
    let (_, body) = stack.get("/v1/sites/demo/feed")?;
    let feed: Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    let orders = feed["availability"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["topic"] == "orders"))
        .cloned()
        .ok_or("no availability for orders")?;
    let instant = orders["until"]
        .as_i64()
        .or(orders["next_open"].as_i64())
        .ok_or("no instant")?;
    // Tokyo is UTC+9 all year: the expected wall clock, as en formats it ("04:00 PM").
    let secs = instant / 1000 + 9 * 3600;
    let (h, m) = (secs / 3600 % 24, secs / 60 % 60);
    let expected = format!(
        "{:02}:{m:02} {}",
        if h % 12 == 0 { 12 } else { h % 12 },
        if h < 12 { "AM" } else { "PM" }
    );

    let mut browser = glimpse_e2e::cdp::Browser::launch(&stack.tools.chromium)?;
    let mut page = browser.new_page()?;
    page.call(
        "Emulation.setTimezoneOverride",
        json!({ "timezoneId": "Asia/Tokyo" }),
    )?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    assert_eq!(
        page.eval("Intl.DateTimeFormat().resolvedOptions().timeZone")?,
        json!("Asia/Tokyo")
    );
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_visible("[data-testid=glimpse-live-help]")?;
    let text = page.text("[data-topic=orders]")?;
    let lead = if orders["open"] == json!(true) {
        "Live help open until"
    } else {
        "Next live help"
    };
    assert!(
        text.contains(lead) && text.contains(&expected),
        "{text:?} should say {lead} … {expected}"
    );
    page.screenshot("23-live-help-tokyo")?;
    Ok(())
}
