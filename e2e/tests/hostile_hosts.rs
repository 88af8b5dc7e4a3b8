//! The widget as a guest on pages that make life hard: offline when it loads, a visitor's
//! clock an hour off, a page that rewrites `Array.prototype` and pollutes
//! `Object.prototype`, a single-page app that swaps its body on navigation, and the worker
//! going away and coming back while answers wait in the visitor's outbox.

use std::time::{Duration, Instant};

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, Page, deep_with_text};
use glimpse_e2e::stack::Stack;
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(20);

/// A fresh browser tab with `script` run before any of the page's own scripts.
fn tab_with<'b>(browser: &'b mut Browser, script: &str) -> Result<Page<'b>> {
    let mut page = browser.new_page()?;
    if !script.is_empty() {
        page.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": script }),
        )?;
    }
    Ok(page)
}

/// The host page's own look: computed styles of its body and headline, and its stylesheets.
const HOST_LOOK: &str = "(() => { const b = getComputedStyle(document.body); \
    const h = document.querySelector('h1'); const hs = h ? getComputedStyle(h) : {}; \
    return [b.margin, b.fontFamily, b.color, b.backgroundColor, hs.fontSize, hs.color, \
            document.styleSheets.length, document.adoptedStyleSheets.length]; })()";

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn offline_at_load_the_widget_waits_and_comes_up_when_the_network_returns() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = tab_with(&mut browser, "")?;
    // The page itself is there (from cache, say) but nothing reaches the API.
    page.call("Network.enable", json!({}))?;
    page.call(
        "Network.setBlockedURLs",
        json!({ "urls": ["*/v1/sites/*"] }),
    )?;
    page.goto(&stack.url("/"))?;
    page.wait_for("new Promise(r => setTimeout(() => r(true), 2000))", TIMEOUT)?;
    assert!(!page.exists("[data-testid=glimpse-launcher]")?);
    assert_eq!(page.exceptions(), Vec::<String>::new());
    assert_eq!(
        page.glimpse_console().len(),
        1,
        "{:?}",
        page.glimpse_console()
    );

    // The network comes back: the browser says so, and the widget loads without a reload.
    page.offline(true)?;
    page.call("Network.setBlockedURLs", json!({ "urls": [] }))?;
    page.offline(false)?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_text("[data-testid=glimpse-tray]", &stack.demo.stories[0].title)?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_visitor_clock_an_hour_ahead_still_sees_the_right_countdown() -> Result {
    let stack = Stack::start_demo()?;
    stack.publish_session("skewed", "Skewed clock Q&A", 600_000, 1_800_000)?;
    // Every Date on the page runs an hour fast, as on a badly set laptop.
    let skew = "(() => { const Real = Date, realNow = Real.now.bind(Real), skew = 3600000; \
        class Skewed extends Real { constructor(...a) { if (a.length === 0) super(realNow() + skew); else super(...a); } \
        static now() { return realNow() + skew; } } window.Date = Skewed; })();";
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = tab_with(&mut browser, skew)?;
    page.goto(&stack.url("/"))?;
    assert!(
        page.eval("Date.now() - performance.timeOrigin - performance.now()")?
            .as_f64()
            .unwrap_or(0.0)
            > 3_500_000.0,
        "the page's clock is an hour ahead"
    );
    let banner = deep_with_text("[data-testid=glimpse-banner]", "Skewed clock Q&A");
    let text = page.wait_for(
        &format!("(() => {{ const b = {banner}; return b && b.dataset.state === 'upcoming' && b.innerText; }})()"),
        TIMEOUT,
    )?;
    let text = text.as_str().unwrap_or_default();
    // Ten minutes on the server's clock: "9:5x" (or "10:00"), never "Live now".
    assert!(
        text.contains("Starts in 9:5") || text.contains("Starts in 10:00"),
        "countdown from the server's clock: {text}"
    );
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_page_that_rewrites_builtins_gets_no_errors_and_keeps_its_styles() -> Result {
    let stack = Stack::start_demo()?;
    // What old libraries and careless pages do: enumerable junk on the prototypes and
    // array methods replaced by ones that break.
    let hostile = "(() => { \
        Object.defineProperty(Object.prototype, 'polluted', { value: 'host', enumerable: true, writable: true, configurable: true }); \
        Array.prototype.hostileExtra = function () { return 'host'; }; \
        for (const m of ['map', 'forEach', 'filter', 'reduce', 'find', 'includes', 'flat']) \
          Array.prototype[m] = function () { throw new Error('host page broke Array.prototype.' + m); }; \
        JSON.stringify = ((s) => function (v, r, i) { return s.call(JSON, v, r, i); })(JSON.stringify); \
      })();";
    let mut browser = Browser::launch(&stack.tools.chromium)?;

    // The host page's look without the widget, then with it.
    let without = {
        let mut page = tab_with(&mut browser, hostile)?;
        page.call("Network.enable", json!({}))?;
        page.call("Network.setBlockedURLs", json!({ "urls": ["*/widget.js"] }))?;
        page.goto(&stack.url("/"))?;
        page.eval(HOST_LOOK)?
    };
    let mut page = tab_with(&mut browser, hostile)?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    assert_eq!(page.eval(HOST_LOOK)?, without, "host styles unchanged");

    // The widget works regardless: the tray, a story, a vote.
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_text("[data-testid=glimpse-tray]", &stack.demo.stories[0].title)?;
    page.click("[data-testid=glimpse-story-item]")?;
    page.wait_visible("[data-testid=glimpse-slide-text]")?;
    page.press("Escape")?;
    page.wait_gone("[data-testid=glimpse-viewer]")?;
    page.click("[data-testid=glimpse-launcher]")?;
    page.click("[data-poll=story-helpful] [data-testid=glimpse-poll-option]")?;
    page.wait_visible("[data-poll=story-helpful] [data-testid=glimpse-poll-results]")?;
    assert_eq!(
        stack.poll_results_when("demo", "story-helpful", 1)?["total"],
        json!(1)
    );
    assert_eq!(page.exceptions(), Vec::<String>::new());
    assert_eq!(page.glimpse_console(), Vec::<String>::new(), "no warnings");
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_single_page_app_navigating_keeps_one_working_widget() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = tab_with(&mut browser, "")?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    for route in ["/account", "/orders/42", "/"] {
        // What a router does: a new URL and a freshly rendered body.
        page.eval(&format!(
            "history.pushState({{}}, '', {route}); \
             document.body.innerHTML = '<main><h1>Route ' + {route} + '</h1><p>New content</p></main>'; true",
            route = json!(route)
        ))?;
        page.wait_visible("[data-testid=glimpse-launcher]")?;
        assert_eq!(
            page.eval("document.querySelectorAll('glimpse-widget').length")?,
            json!(1),
            "one instance after navigating to {route}"
        );
    }
    page.eval("history.back(); true")?;
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_text("[data-testid=glimpse-tray]", &stack.demo.stories[0].title)?;
    page.click("[data-testid=glimpse-story-item]")?;
    page.wait_visible("[data-testid=glimpse-slide-text]")?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn answers_queued_while_the_worker_is_down_arrive_after_it_restarts() -> Result {
    let mut stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = tab_with(&mut browser, "")?;
    page.goto(&stack.url("/"))?;
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_visible("[data-poll=csat] [data-testid=glimpse-poll-rating]")?;

    stack.stop_worker();
    page.click("[data-poll=story-helpful] [data-testid=glimpse-poll-option]")?;
    page.click("[data-poll=csat] [data-testid=glimpse-poll-rating]")?;
    let pending =
        "JSON.parse(localStorage.getItem('glimpse:outbox') || '{\"pending\":[]}').pending.length";
    page.wait_for(&format!("{pending} === 2"), TIMEOUT)?;
    // Still queued after a while of failed retries.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(page.eval(pending)?, json!(2));

    stack.restart_worker()?;
    let deadline = Instant::now() + Duration::from_secs(40);
    let totals = |stack: &Stack| -> Result<(Value, Value)> {
        Ok((
            stack.poll_results("demo", "story-helpful")?["total"].clone(),
            stack.poll_results("demo", "csat")?["total"].clone(),
        ))
    };
    while totals(&stack)? != (json!(1), json!(1)) {
        if Instant::now() > deadline {
            return Err(format!("queued answers lost: {:?}", totals(&stack)?));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    page.wait_for(&format!("{pending} === 0"), TIMEOUT)?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}
