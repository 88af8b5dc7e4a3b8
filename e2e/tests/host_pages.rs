//! The widget on host pages built the way real sites are (pages in `demo/pages/`): the
//! snippet pasted several times and injected late by a tag manager, a shop whose old
//! libraries patch `JSON`, `Array`, `Object`, `fetch` and `Promise`, bodies laid out with
//! flex/grid gaps, transforms, clipped overflow and maximal z-indexes, and a long article
//! whose scroll must not move while a story is open.

use std::time::{Duration, Instant};

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, Page, deep, deep_with_text};
use glimpse_e2e::stack::Stack;
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(20);
const LAUNCHER: &str = "[data-testid=glimpse-launcher]";

/// Counts the `glimpse:<name>` events the host page hears, in `window.heard`.
const HEAR: &str = "window.heard = {}; \
    for (const n of ['story_view', 'slide_view', 'story_complete', 'ready']) \
      window.addEventListener('glimpse:' + n, () => { window.heard[n] = (window.heard[n] || 0) + 1; });";

/// How many launchers and widget hosts the page has, through every shadow root.
const COUNT_WIDGETS: &str = "(() => { let launchers = 0; \
    (function walk(r) { launchers += r.querySelectorAll('[data-testid=glimpse-launcher]').length; \
      for (const e of r.querySelectorAll('*')) if (e.shadowRoot) walk(e.shadowRoot); })(document); \
    return [document.querySelectorAll('glimpse-widget').length, launchers]; })()";

fn tab<'b>(browser: &'b mut Browser, script: &str) -> Result<Page<'b>> {
    let mut page = browser.new_page()?;
    page.call(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": script }),
    )?;
    page.call("Network.enable", json!({}))?;
    Ok(page)
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

/// Requests the page sent to URLs containing `part`, with their methods.
fn requests(page: &mut Page<'_>, part: &str) -> Vec<(String, String)> {
    page.events_of("Network.requestWillBeSent")
        .iter()
        .filter_map(|e| {
            let req = &e["params"]["request"];
            let url = req["url"].as_str()?;
            url.contains(part).then(|| {
                (
                    req["method"].as_str().unwrap_or("").to_string(),
                    url.to_string(),
                )
            })
        })
        .collect()
}

/// Statuses of the responses to URLs containing `part`.
fn statuses(page: &mut Page<'_>, part: &str) -> Vec<i64> {
    page.events_of("Network.responseReceived")
        .iter()
        .filter(|e| {
            e["params"]["response"]["url"]
                .as_str()
                .is_some_and(|u| u.contains(part))
        })
        .filter_map(|e| e["params"]["response"]["status"].as_i64())
        .collect()
}

/// Every event stored for this page's visitor, as `kind:story` strings, through the admin
/// export (what operators will count).
fn stored_events(stack: &Stack, page: &mut Page<'_>) -> Result<Vec<String>> {
    let visitor = page.eval("localStorage.getItem('glimpse:visitor')")?;
    let visitor = visitor.as_str().ok_or("no visitor id")?;
    let res = stack.admin(
        "GET",
        &format!("/v1/admin/sites/demo/visitors/{visitor}"),
        "",
    )?;
    let data: Value = serde_json::from_str(&res.body).map_err(|e| format!("{e}: {}", res.body))?;
    let mut out = Vec::new();
    for batch in data["event_batches"].as_array().into_iter().flatten() {
        for ev in batch["events"].as_array().into_iter().flatten() {
            out.push(format!(
                "{}:{}",
                ev["kind"].as_str().unwrap_or("?"),
                ev["story"].as_str().unwrap_or("")
            ));
        }
    }
    out.sort();
    Ok(out)
}

/// Waits until the visitor's stored events include `wanted`, then a little longer (so a
/// duplicate batch would have arrived too), and returns them all.
fn wait_stored(stack: &Stack, page: &mut Page<'_>, wanted: &str) -> Result<Vec<String>> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let events = stored_events(stack, page)?;
        if events.iter().any(|e| e == wanted) {
            sleep_ms(1_500);
            return stored_events(stack, page);
        }
        if Instant::now() > deadline {
            return Err(format!("{wanted} never stored; stored: {events:?}"));
        }
        sleep_ms(300);
    }
}

/// Opens the first story from the launcher, waits for its text, closes it with Escape.
fn view_first_story(page: &mut Page<'_>) -> Result {
    page.click(LAUNCHER)?;
    page.click("[data-testid=glimpse-story-item]")?;
    page.wait_visible("[data-testid=glimpse-slide-text]")?;
    page.press("Escape")?;
    page.wait_gone("[data-testid=glimpse-viewer]")
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn the_snippet_pasted_four_times_gives_one_widget_one_feed_and_each_event_once() -> Result {
    let stack = Stack::start_demo()?;
    let first = stack.demo.stories[0].id.clone();
    // Once as the browser runs it, once with `document.currentScript` unavailable (as in
    // some tag managers' wrappers), where the loader finds its tags itself.
    for no_current_script in [false, true] {
        let mut browser = Browser::launch(&stack.tools.chromium)?;
        let mut script = HEAR.to_string();
        if no_current_script {
            script.push_str(
                "Object.defineProperty(Document.prototype, 'currentScript', \
                 { get() { return null; }, configurable: true });",
            );
        }
        let mut page = tab(&mut browser, &script)?;
        page.goto(&stack.url("/demo/snippet-twice.html"))?;
        page.wait_for("window.tagManagerDone === true", TIMEOUT)?;
        page.wait_visible(LAUNCHER)?;
        sleep_ms(1_500);
        let case = format!("currentScript hidden: {no_current_script}");
        assert_eq!(page.eval(COUNT_WIDGETS)?, json!([1, 1]), "{case}");
        let feeds = requests(&mut page, "/v1/sites/demo/feed");
        assert_eq!(feeds.len(), 1, "{case}: {feeds:?}");
        assert_eq!(page.eval("window.heard.ready")?, json!(1), "{case}");
        // The first tag's options win: the head tag has no data-lang or data-position.
        assert_eq!(
            page.eval(&format!(
                "{}.getBoundingClientRect().left > innerWidth / 2",
                deep(LAUNCHER)
            ))?,
            json!(true),
            "{case}: the launcher is on the right, as the first tag asked"
        );

        view_first_story(&mut page)?;
        assert_eq!(page.eval("window.heard.story_view")?, json!(1), "{case}");
        let stored = wait_stored(&stack, &mut page, &format!("story_view:{first}"))?;
        assert_eq!(
            stored
                .iter()
                .filter(|e| **e == format!("story_view:{first}"))
                .count(),
            1,
            "{case}: {stored:?}"
        );
        let slides_heard = page.eval("window.heard.slide_view")?;
        assert_eq!(
            json!(
                stored
                    .iter()
                    .filter(|e| e.starts_with("slide_view:"))
                    .count()
            ),
            slides_heard,
            "{case}: each slide view stored once: {stored:?}"
        );
        assert_eq!(page.eval(COUNT_WIDGETS)?, json!([1, 1]), "{case}");
        assert_eq!(page.exceptions(), Vec::<String>::new(), "{case}");
        assert_eq!(page.glimpse_console(), Vec::<String>::new(), "{case}");
    }
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_shop_whose_old_libraries_patch_the_builtins_loses_no_data() -> Result {
    let stack = Stack::start_demo()?;
    let first = stack.demo.stories[0].id.clone();
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = tab(&mut browser, HEAR)?;
    page.goto(&stack.url("/demo/old-libraries.html"))?;
    // The patches are live: the page's JSON turns a list into a string, parses numbers
    // as strings, and Promise is the polyfill.
    assert_eq!(
        page.eval(
            "[JSON.stringify({ a: [1, 2] }), typeof JSON.parse('{\"n\": 1}').n, Promise.name]"
        )?,
        json!(["{\"a\":\"[1, 2]\"}", "string", "Polyfill"])
    );
    page.wait_visible(LAUNCHER)?;

    // Events are accepted, exactly once each.
    view_first_story(&mut page)?;
    let stored = wait_stored(&stack, &mut page, &format!("story_view:{first}"))?;
    assert_eq!(
        stored
            .iter()
            .filter(|e| **e == format!("story_view:{first}"))
            .count(),
        1,
        "{stored:?}"
    );
    let events = statuses(&mut page, "/v1/sites/demo/events");
    assert!(
        !events.is_empty() && events.iter().all(|s| (200..300).contains(s)),
        "event batches accepted: {events:?}"
    );
    // The widget called the browser's own fetch for the API, not the page's wrappers.
    assert_eq!(page.eval("window.fetchCalls")?, json!(0));

    // Seen-state is stored as a list and survives a reload.
    let seen = page.eval("localStorage.getItem('glimpse:demo:seen')")?;
    let seen: Value = serde_json::from_str(seen.as_str().unwrap_or("null"))
        .map_err(|e| format!("seen-state is not JSON: {e}: {seen}"))?;
    assert!(
        seen.as_array().is_some_and(|s| s.contains(&json!(first))),
        "seen-state is a list with the story: {seen}"
    );
    page.goto(&stack.url("/demo/old-libraries.html"))?;
    page.click(LAUNCHER)?;
    page.wait_visible("[data-testid=glimpse-story-item]")?;
    assert_eq!(
        page.eval(&format!(
            "{}.classList.contains('seen')",
            deep("[data-testid=glimpse-story-item]")
        ))?,
        json!(true),
        "the story is still seen after a reload"
    );

    // An answer given offline is stored in the outbox and sent once back online.
    page.offline(true)?;
    page.click("[data-poll=story-helpful] [data-testid=glimpse-poll-option]")?;
    let outbox = "localStorage.getItem('glimpse:outbox')";
    page.wait_for(
        &format!("({outbox} || '').includes('story-helpful')"),
        TIMEOUT,
    )?;
    let stored_outbox = page.eval(outbox)?;
    let stored_outbox: Value = serde_json::from_str(stored_outbox.as_str().unwrap_or(""))
        .map_err(|e| format!("outbox is not JSON: {e}: {stored_outbox}"))?;
    assert_eq!(
        stored_outbox["pending"].as_array().map(Vec::len),
        Some(1),
        "{stored_outbox}"
    );
    page.offline(false)?;
    let deadline = Instant::now() + Duration::from_secs(40);
    while stack.poll_results("demo", "story-helpful")?["total"] != json!(1) {
        if Instant::now() > deadline {
            return Err("the offline answer never arrived".into());
        }
        sleep_ms(500);
    }
    page.wait_for(
        &format!("!({outbox} || '').includes('story-helpful')"),
        TIMEOUT,
    )?;
    let polls = statuses(&mut page, "/responses");
    assert!(
        polls.iter().all(|s| (200..300).contains(s)),
        "poll answers accepted: {polls:?}"
    );
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

/// The host page's layout: the document's scroll size and the boxes of its own elements.
const LAYOUT: &str = "(() => { const d = document.documentElement, b = document.body; \
    const r = e => { if (!e) return null; const x = e.getBoundingClientRect(); return [x.left, x.top, x.width, x.height]; }; \
    return { scroll: [d.scrollWidth, d.scrollHeight, b.scrollWidth, b.scrollHeight], \
             body: r(b), main: r(document.querySelector('main')), footer: r(document.querySelector('footer')), \
             header: r(document.querySelector('header')) }; })()";

/// Whether the element's centre hits it first: the document's hit test lands on the
/// widget's host and the shadow root's on the element (or inside it).
fn on_top(page: &mut Page<'_>, selector: &str) -> Result<Value> {
    page.eval(&format!(
        "(() => {{ const el = {}; if (!el) return 'missing'; const r = el.getBoundingClientRect(); \
         const x = r.left + r.width / 2, y = r.top + r.height / 2; \
         const outer = document.elementFromPoint(x, y); \
         if (!outer || outer.localName !== 'glimpse-widget') return 'covered by ' + (outer ? outer.outerHTML.slice(0, 80) : 'nothing'); \
         const inner = outer.shadowRoot.elementFromPoint(x, y); \
         return inner === el || el.contains(inner) ? true : 'inside covered by ' + (inner && inner.className); }})()",
        deep(selector)
    ))
}

fn inside(rect: [f64; 4], view: [f64; 4]) -> bool {
    rect[0] >= view[0] - 0.5
        && rect[1] >= view[1] - 0.5
        && rect[0] + rect[2] <= view[0] + view[2] + 0.5
        && rect[1] + rect[3] <= view[1] + view[3] + 0.5
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn no_host_layout_moves_clips_or_covers_the_widget() -> Result {
    let stack = Stack::start_demo()?;
    stack.publish_session("top-layer", "Top layer Q&A", 600_000, 1_800_000)?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    for case in [
        "flex-gap",
        "grid-gap",
        "transform",
        "overflow-hidden",
        "z-max",
    ] {
        let mut page = tab(&mut browser, "")?;
        page.goto(&stack.url(&format!("/demo/layouts.html?case={case}")))?;
        let before = page.eval(LAYOUT)?;
        // Added as a tag manager would, after the page has loaded.
        page.eval(
            "(() => { const s = document.createElement('script'); s.src = '/widget.js'; \
             s.async = true; s.dataset.site = 'demo'; document.body.appendChild(s); return true; })()",
        )?;
        page.wait_visible(LAUNCHER)?;
        let banner = deep_with_text("[data-testid=glimpse-banner]", "Top layer Q&A");
        page.wait_for(&format!("!!{banner}"), TIMEOUT)?;
        sleep_ms(300);
        assert_eq!(
            page.eval(LAYOUT)?,
            before,
            "{case}: the host layout is unchanged"
        );

        // On the visible screen, in its corner, and above everything of the page.
        let view = page.visual_viewport()?;
        let launcher = page.rect(LAUNCHER)?;
        assert!(
            inside(launcher, view),
            "{case}: launcher {launcher:?} in {view:?}"
        );
        assert!(
            (view[0] + view[2] - (launcher[0] + launcher[2]) - 20.0).abs() < 1.0
                && (view[1] + view[3] - (launcher[1] + launcher[3]) - 20.0).abs() < 1.0,
            "{case}: launcher {launcher:?} 20 px from the corner of {view:?}"
        );
        assert_eq!(
            on_top(&mut page, LAUNCHER)?,
            json!(true),
            "{case}: launcher"
        );
        assert_eq!(
            on_top(&mut page, "[data-testid=glimpse-add-calendar]")?,
            json!(true),
            "{case}: banner"
        );
        page.click(LAUNCHER)?;
        page.wait_visible("[data-testid=glimpse-tray]")?;
        let tray = page.rect("[data-testid=glimpse-tray]")?;
        assert!(inside(tray, view), "{case}: tray {tray:?}");
        assert_eq!(
            on_top(&mut page, "[data-testid=glimpse-tray] h2")?,
            json!(true),
            "{case}: tray"
        );
        if case == "z-max" {
            page.screenshot("24-top-layer-over-z-max-header-and-cookie-bar")?;
        }
        page.click("[data-testid=glimpse-story-item]")?;
        page.wait_visible("[data-testid=glimpse-slide-text]")?;
        assert_eq!(
            on_top(&mut page, "[data-testid=glimpse-viewer]")?,
            json!(true),
            "{case}: viewer"
        );
        assert_eq!(
            on_top(&mut page, "[data-testid=glimpse-close]")?,
            json!(true),
            "{case}: close"
        );
        page.press("Escape")?;
        page.wait_gone("[data-testid=glimpse-viewer]")?;
        assert_eq!(page.eval(LAYOUT)?, before, "{case}: still unchanged");
        if case == "z-max" {
            // A single-page app re-renders its body: the widget comes back, on the top layer
            // again (above the cookie bar that covers its corner).
            page.eval(
                "document.body.innerHTML = '<header>Host header</header><main><h1>Next route</h1></main>' + \
                 '<div class=\"cookie-bar\">We use cookies.</div>'; true",
            )?;
            page.wait_for(
                "(() => { const w = document.querySelector('glimpse-widget');                  return !!w && w.isConnected && w.matches(':popover-open'); })()",
                TIMEOUT,
            )?;
            assert_eq!(
                on_top(&mut page, LAUNCHER)?,
                json!(true),
                "{case}: after re-render"
            );
        }
        assert_eq!(page.exceptions(), Vec::<String>::new(), "{case}");
    }
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn an_open_story_locks_the_page_scroll_and_gives_it_back_exactly() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = tab(&mut browser, "")?;
    page.goto(&stack.url("/demo/long-article.html"))?;
    page.wait_visible(LAUNCHER)?;
    let styles =
        "[document.documentElement.getAttribute('style'), document.body.getAttribute('style')]";
    let own_styles = page.eval(styles)?;
    assert_eq!(
        own_styles,
        json!([
            "scroll-behavior:smooth",
            "margin:0;  color: #222;background:#fafafa"
        ])
    );
    let to_600 = "window.scrollTo({ top: 600, behavior: 'instant' }); window.scrollY";
    let settled = "new Promise(r => { let last = -1, same = 0; const t = setInterval(() => { \
        if (scrollY === last) same++; else { same = 0; last = scrollY; } \
        if (same >= 5) { clearInterval(t); r(scrollY); } }, 50); })";

    // Each of these inputs scrolls the page while no story is open.
    let scrolled_by = |page: &mut Page<'_>, what: &str| -> Result<f64> {
        page.eval(to_600)?;
        match what {
            "wheel" => page.wheel(640.0, 400.0, 0.0, 300.0)?,
            "PageDown" => page.press_scroll_key("PageDown")?,
            "Space" => page.press_scroll_key(" ")?,
            "ArrowDown" => page.press_scroll_key("ArrowDown")?,
            _ => page.touch_drag(200.0, 600.0, 0.0, -300.0)?,
        }
        Ok(page.eval(settled)?.as_f64().unwrap_or(0.0))
    };
    // The keys go to the page, not to the launcher.
    page.eval("document.activeElement && document.activeElement.blur(); true")?;
    for what in ["wheel", "PageDown", "Space", "ArrowDown", "touch"] {
        let y = scrolled_by(&mut page, what)?;
        assert!(
            y > 600.0,
            "{what} scrolls the page when no story is open ({y})"
        );
    }

    page.eval(to_600)?;
    page.click(LAUNCHER)?;
    page.click("[data-testid=glimpse-story-item]")?;
    page.wait_visible("[data-testid=glimpse-slide-text]")?;
    assert_eq!(page.eval(settled)?, json!(600));
    // Wheel over the story and over the dimmed page beside it, keys on the story (and on
    // the page behind it), and a finger dragging on the dimmed page.
    page.wheel(640.0, 400.0, 0.0, 400.0)?;
    page.wheel(100.0, 400.0, 0.0, 400.0)?;
    page.press_scroll_key("PageDown")?;
    page.press_scroll_key("End")?;
    page.press_scroll_key("ArrowDown")?;
    page.touch_drag(100.0, 600.0, 0.0, -400.0)?;
    page.touch_drag(640.0, 600.0, 0.0, -400.0)?;
    assert_eq!(page.eval(settled)?, json!(600), "the page did not move");
    page.wait_visible("[data-testid=glimpse-viewer]")?;

    page.click("[data-testid=glimpse-close]")?;
    page.wait_gone("[data-testid=glimpse-viewer]")?;
    assert_eq!(page.eval(settled)?, json!(600));
    assert_eq!(
        page.eval(styles)?,
        own_styles,
        "html and body styles untouched"
    );
    // And the page scrolls again.
    let y = scrolled_by(&mut page, "wheel")?;
    assert!(y > 600.0, "the wheel scrolls the page again ({y})");
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn without_the_popover_api_the_widget_still_shows_and_stays_out_of_the_layout() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    // An older browser: no Popover API.
    let mut page = tab(
        &mut browser,
        "delete HTMLElement.prototype.showPopover; delete HTMLElement.prototype.hidePopover; \
         delete HTMLElement.prototype.togglePopover; delete HTMLElement.prototype.popover;",
    )?;
    page.goto(&stack.url("/demo/layouts.html?case=flex-gap"))?;
    let before = page.eval(LAYOUT)?;
    page.eval(
        "(() => { const s = document.createElement('script'); s.src = '/widget.js'; \
         s.async = true; s.dataset.site = 'demo'; document.body.appendChild(s); return true; })()",
    )?;
    page.wait_visible(LAUNCHER)?;
    sleep_ms(300);
    assert_eq!(
        page.eval("document.querySelector('glimpse-widget').hasAttribute('popover')")?,
        json!(false)
    );
    assert_eq!(page.eval(LAYOUT)?, before, "the host layout is unchanged");
    assert_eq!(on_top(&mut page, LAUNCHER)?, json!(true));
    page.click(LAUNCHER)?;
    page.click("[data-testid=glimpse-story-item]")?;
    page.wait_visible("[data-testid=glimpse-slide-text]")?;
    assert_eq!(
        on_top(&mut page, "[data-testid=glimpse-viewer]")?,
        json!(true)
    );
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}
