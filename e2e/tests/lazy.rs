//! The split widget as visitors get it (the release build `cargo xtask build` makes): what
//! the browser fetches before anyone touches the widget, read from the network log; the
//! lazy chunks fetched on hover and click; a chunk that fails once, and one that keeps
//! failing, with the page's error and rejection counters watching.

#![allow(clippy::panic)]

use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, HOST_GUARD, Page, deep};
use glimpse_e2e::stack::Stack;
use serde_json::{Value, json};

/// `cargo xtask size`'s budget for the first download (brotli).
const FIRST_BUDGET: usize = xtask::size::FIRST_BROTLI_MAX;

/// Whether `url` is one of the widget's files (loader or build directory).
fn is_widget_file(url: &str) -> bool {
    url.contains("/widget.js") || url.contains("/glimpse/")
}

fn is_chunk(url: &str) -> bool {
    url.contains("/glimpse/") && url.ends_with(".wasm") && !url.ends_with("/glimpse.wasm")
}

/// `(request id, url, priority, wall time)` of every request the page sent so far.
fn sent(page: &mut Page<'_>) -> Vec<(String, String, String, f64)> {
    page.events("Network.requestWillBeSent")
        .iter()
        .map(|e| {
            let p = &e["params"];
            (
                p["requestId"].as_str().unwrap_or_default().to_string(),
                p["request"]["url"].as_str().unwrap_or_default().to_string(),
                p["request"]["initialPriority"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                p["wallTime"].as_f64().unwrap_or(0.0),
            )
        })
        .collect()
}

fn new_page<'b>(browser: &'b mut Browser) -> Result<Page<'b>> {
    let mut page = browser.new_page()?;
    page.call(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": HOST_GUARD }),
    )?;
    page.call("Network.enable", json!({}))?;
    page.call("Page.enable", json!({}))?;
    Ok(page)
}

/// Leaves the demo site's feed without targeting rules: the targeted story and poll are
/// deleted and the others are put back without rules (through the admin API).
fn untarget_demo(stack: &Stack) -> Result {
    for (kind, items) in [
        (
            "stories",
            &stack
                .demo
                .stories
                .iter()
                .map(|s| (s.id.clone(), serde_json::to_value(s)))
                .collect::<Vec<_>>(),
        ),
        (
            "polls",
            &stack
                .demo
                .polls
                .iter()
                .map(|p| (p.id.clone(), serde_json::to_value(p)))
                .collect(),
        ),
        (
            "sessions",
            &stack
                .demo
                .sessions
                .iter()
                .map(|p| (p.id.clone(), serde_json::to_value(p)))
                .collect(),
        ),
    ] {
        for (id, item) in items {
            let mut item = item.as_ref().map_err(|e| e.to_string())?.clone();
            let Some(rules) = item.as_object_mut().and_then(|o| o.remove("targeting")) else {
                continue;
            };
            let path = format!("/v1/admin/sites/demo/{kind}/{id}");
            let excludes_only = rules
                .as_object()
                .is_some_and(|r| r.keys().all(|k| k.starts_with("exclude")));
            let res = if excludes_only {
                stack.admin("PUT", &path, &item.to_string())?
            } else {
                stack.admin("DELETE", &path, "")?
            };
            if res.status >= 300 {
                return Err(format!("{path}: {} {}", res.status, res.body));
            }
        }
    }
    Ok(())
}

/// Moves the mouse onto the element (a hover, no click).
fn hover(page: &mut Page<'_>, selector: &str) -> Result {
    let at = page.eval(&format!(
        "(() => {{ const r = {}.getBoundingClientRect(); \
         return {{ x: r.left + r.width / 2, y: r.top + r.height / 2 }}; }})()",
        deep(selector)
    ))?;
    page.call(
        "Input.dispatchMouseEvent",
        json!({ "type": "mouseMoved", "x": at["x"], "y": at["y"] }),
    )
    .map(|_| ())
}

#[test]
#[ignore = "needs the release build, wrangler and Chromium: cargo xtask test"]
fn before_any_interaction_only_the_first_chunk_loads_after_the_page() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;

    // The demo site announces a live session: its banner's chunk (with the app's) loads
    // without a click; nothing opens.
    let mut page = new_page(&mut browser)?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-banners]")?;
    std::thread::sleep(Duration::from_millis(1_000));
    let loaded: Vec<String> = sent(&mut page).into_iter().map(|r| r.1).collect();
    assert!(
        loaded.iter().any(|u| u.ends_with("/split_banners.wasm"))
            && loaded.iter().any(|u| u.ends_with("/split_app.wasm")),
        "{loaded:?}"
    );
    assert!(!page.exists("[data-testid=glimpse-tray]")?);
    page.assert_host_page_clean()?;
    drop(page);
    drop(browser);

    // Without a session, with targeting rules in the feed (the demo's stories and poll have
    // some): the first chunk and the targeting chunk (with what it shares), nothing of the
    // app or the banners.
    stack.without_demo_session()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = new_page(&mut browser)?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    std::thread::sleep(Duration::from_millis(1_500));
    let chunks: Vec<String> = sent(&mut page)
        .into_iter()
        .map(|r| r.1)
        .filter(|u| is_chunk(u))
        .collect();
    assert!(
        chunks.iter().any(|u| u.ends_with("/split_targeting.wasm"))
            && !chunks
                .iter()
                .any(|u| u.ends_with("/split_app.wasm") || u.ends_with("/split_banners.wasm")),
        "a feed with targeting fetches the targeting chunk and no other split: {chunks:?}"
    );
    drop(page);
    drop(browser);

    // Without targeting rules in the feed: only the first chunk.
    untarget_demo(&stack)?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = new_page(&mut browser)?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    // Time for anything else the widget would fetch on its own.
    std::thread::sleep(Duration::from_millis(1_500));

    let before = sent(&mut page);
    let widget: Vec<_> = before.iter().filter(|r| is_widget_file(&r.1)).collect();
    let names: Vec<&str> = widget
        .iter()
        .map(|r| r.1.rsplit('/').next().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        ["widget.js", "glimpse.js", "__wasm_split.js", "glimpse.wasm"],
        "before any interaction the visitor fetches the loader, the glue, the split loader \
         and the first wasm chunk, nothing else: {widget:?}"
    );

    // What those bytes weigh as the edge serves them (brotli), read from the bodies the
    // browser received.
    let mut first = 0;
    for (id, url, _, _) in &widget {
        let body = page.call("Network.getResponseBody", json!({ "requestId": id }))?;
        let bytes = if body["base64Encoded"] == Value::Bool(true) {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(body["body"].as_str().unwrap_or_default())
                .map_err(|e| format!("{url}: {e}"))?
        } else {
            body["body"]
                .as_str()
                .unwrap_or_default()
                .as_bytes()
                .to_vec()
        };
        assert!(!bytes.is_empty(), "{url} had a body");
        first += xtask::size::brotli(&bytes)?;
    }
    println!("first download: {first} B brotli (budget {FIRST_BUDGET} B)");
    assert!(
        first <= FIRST_BUDGET,
        "the first download is {first} B brotli, over {FIRST_BUDGET} B"
    );

    // The first chunk waits for the host page's `load` event and asks for low priority.
    let load = page
        .events("Page.loadEventFired")
        .first()
        .and_then(|e| e["params"]["timestamp"].as_f64())
        .ok_or("no load event")?;
    let monotonic: Vec<(String, f64)> = page
        .events("Network.requestWillBeSent")
        .iter()
        .map(|e| {
            (
                e["params"]["request"]["url"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                e["params"]["timestamp"].as_f64().unwrap_or(0.0),
            )
        })
        .collect();
    for (url, at) in monotonic.iter().filter(|(u, _)| u.contains("/glimpse/")) {
        assert!(
            *at >= load,
            "{url} was requested {:.0} ms before the page's load event",
            (load - at) * 1000.0
        );
    }
    let wasm = widget
        .iter()
        .find(|r| r.1.ends_with("/glimpse.wasm"))
        .ok_or("no first chunk")?;
    assert!(
        matches!(wasm.2.as_str(), "Low" | "VeryLow"),
        "the first chunk is fetched at low priority, not {}",
        wasm.2
    );

    // A hover predicts a click: the app's chunk (tray and viewer in it) is fetched then,
    // before any click.
    hover(&mut page, "[data-testid=glimpse-launcher]")?;
    page.wait_for(
        "performance.getEntriesByType('resource').some(e => e.name.includes('/split_app'))",
        Duration::from_secs(10),
    )?;
    assert!(
        !page.exists("[data-testid=glimpse-tray]")?,
        "a hover does not open anything"
    );
    std::thread::sleep(Duration::from_millis(500));
    let after_hover: Vec<String> = sent(&mut page)
        .into_iter()
        .filter(|r| is_chunk(&r.1))
        .map(|r| r.1)
        .collect();
    assert!(
        after_hover.iter().any(|u| u.ends_with("/split_app.wasm"))
            && !after_hover
                .iter()
                .any(|u| u.ends_with("/split_banners.wasm")),
        "the hover fetched the app's chunk, not the banners': {after_hover:?}"
    );
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_visible("[data-testid=glimpse-tray]")?;
    page.click("[data-testid=glimpse-story-item]")?;
    page.wait_visible("[data-testid=glimpse-slide-text]")?;
    let chunks: Vec<String> = sent(&mut page)
        .into_iter()
        .filter(|r| is_chunk(&r.1))
        .map(|r| r.1)
        .collect();
    assert_eq!(
        chunks, after_hover,
        "the tray and the story needed nothing the hover had not fetched"
    );
    let mut unique = chunks.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        chunks.len(),
        "each chunk is fetched once: {chunks:?}"
    );
    page.assert_host_page_clean()
}

/// Fails the app chunk's requests: the first `fail_first` of them, or all while
/// `window.__failChunks` is true in the test's own bookkeeping (`failing`).
fn answer_chunk_requests(
    page: &mut Page<'_>,
    failed: &mut u32,
    fail_first: u32,
    failing: bool,
) -> Result {
    for e in page.take_events("Fetch.requestPaused") {
        let id = e["params"]["requestId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if failing || *failed < fail_first {
            *failed += 1;
            page.call(
                "Fetch.failRequest",
                json!({ "requestId": id, "errorReason": "InternetDisconnected" }),
            )?;
        } else {
            page.call("Fetch.continueRequest", json!({ "requestId": id }))?;
        }
    }
    Ok(())
}

/// Keeps answering paused chunk requests until `done` (a page expression) is truthy.
fn serve_until(
    page: &mut Page<'_>,
    failed: &mut u32,
    fail_first: u32,
    failing: bool,
    done: &str,
    timeout: Duration,
) -> Result {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        answer_chunk_requests(page, failed, fail_first, failing)?;
        if page.eval(done)?.as_bool() == Some(true) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "waited {timeout:?} for {done}; failed {failed} chunk requests"
    ))
}

fn present(selector: &str) -> String {
    format!("!!{}", deep(selector))
}

#[test]
#[ignore = "needs the release build, wrangler and Chromium: cargo xtask test"]
fn a_chunk_that_fails_is_retried_then_explained_and_the_widget_recovers() -> Result {
    let stack = Stack::start_demo()?;
    stack.without_demo_session()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = new_page(&mut browser)?;
    page.call(
        "Fetch.enable",
        json!({ "patterns": [{ "urlPattern": "*/split_app.wasm", "requestStage": "Request" }] }),
    )?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;

    // Fails once: the retry gets it, the visitor sees only the tray.
    let mut failed = 0;
    page.click("[data-testid=glimpse-launcher]")?;
    serve_until(
        &mut page,
        &mut failed,
        1,
        false,
        &present("[data-testid=glimpse-tray]"),
        Duration::from_secs(20),
    )?;
    assert_eq!(failed, 1, "the first request failed");
    assert!(!page.exists("[data-testid=glimpse-part-failed]")?);
    page.assert_host_page_clean()?;

    // Keeps failing (a fresh page: nothing cached): a calm message with "Try again".
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    let mut failed = 0;
    page.click("[data-testid=glimpse-launcher]")?;
    serve_until(
        &mut page,
        &mut failed,
        0,
        true,
        &present("[data-testid=glimpse-part-failed]"),
        Duration::from_secs(20),
    )?;
    assert!(failed >= 3, "tried {failed} times before giving up");
    let message = page.text("[data-testid=glimpse-part-failed]")?;
    assert!(
        message.contains("couldn't load") && message.contains("Try again"),
        "{message}"
    );
    assert!(!page.exists("[data-testid=glimpse-tray]")?);
    // Back online: "Try again" opens the tray.
    page.click("[data-testid=glimpse-part-failed] button")?;
    serve_until(
        &mut page,
        &mut failed,
        0,
        false,
        &present("[data-testid=glimpse-tray]"),
        Duration::from_secs(20),
    )?;
    assert!(!page.exists("[data-testid=glimpse-part-failed]")?);
    page.assert_host_page_clean()
}

#[test]
#[ignore = "needs the release build, wrangler and Chromium: cargo xtask test"]
fn a_banner_whose_chunk_cannot_load_says_so_and_the_rest_works() -> Result {
    // The demo site announces a live session: its banner's chunk loads right after the feed.
    let stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = new_page(&mut browser)?;
    page.call(
        "Fetch.enable",
        json!({ "patterns": [{ "urlPattern": "*/split_banners.wasm", "requestStage": "Request" }] }),
    )?;
    page.goto(&stack.url("/"))?;
    let mut failed = 0;
    serve_until(
        &mut page,
        &mut failed,
        0,
        true,
        &present("[data-testid=glimpse-part-failed]"),
        Duration::from_secs(20),
    )?;
    assert!(failed >= 3, "tried {failed} times");
    assert!(!page.exists("[data-testid=glimpse-banners]")?);
    let message = page.text("[data-testid=glimpse-part-failed]")?;
    assert!(
        message.contains("couldn't load") && message.contains("Try again"),
        "{message}"
    );
    // The rest of the widget does not depend on it: a story opens.
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_visible("[data-testid=glimpse-story-item]")?;
    page.click("[data-testid=glimpse-story-item]")?;
    page.wait_visible("[data-testid=glimpse-slide-text]")?;
    page.press("Escape")?;
    page.wait_gone("[data-testid=glimpse-slide-text]")?;
    // Back online: "Try again" shows the banner.
    page.click("[data-testid=glimpse-part-failed] button")?;
    serve_until(
        &mut page,
        &mut failed,
        0,
        false,
        &present("[data-testid=glimpse-banners]"),
        Duration::from_secs(20),
    )?;
    assert!(!page.exists("[data-testid=glimpse-part-failed]")?);
    page.assert_host_page_clean()
}

#[test]
#[ignore = "needs the release build, wrangler and Chromium: cargo xtask test"]
fn a_command_given_before_anything_loaded_still_opens_the_widget() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = new_page(&mut browser)?;
    // The page queues a command before the loader has even run (the documented stub).
    page.call(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": "window.Glimpse = function () { (Glimpse.q = Glimpse.q || []).push(arguments); }; Glimpse('open');" }),
    )?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-tray]")?;
    page.assert_host_page_clean()
}

#[test]
#[ignore = "needs the release build, wrangler and Chromium: cargo xtask test"]
fn a_deploy_from_a_fresh_checkout_keeps_the_live_builds() -> Result {
    let stack = Stack::start_demo()?;
    let glimpse = xtask::at(&format!(
        "target/e2e/keep-live-{}/glimpse",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&glimpse);
    std::fs::create_dir_all(&glimpse).map_err(|e| e.to_string())?;
    // What `cargo xtask keep-live URL` does before a build, against the running deployment.
    let copied = xtask::keep::fetch_live(&stack.url(""), &glimpse)?;
    let current = xtask::size::current_bundle_dir()?;
    let current = current.trim_start_matches("glimpse/");
    assert!(
        copied.iter().any(|id| id == current),
        "the live build {current} is copied: {copied:?}"
    );
    // Byte for byte what the deployment serves, every file its files.json lists.
    let served = xtask::build::assets_dir().join("glimpse").join(current);
    let files: Vec<String> = serde_json::from_slice(
        &std::fs::read(served.join(xtask::keep::FILES_FILE)).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    assert!(
        files.iter().any(|f| f == "glimpse.wasm") && files.len() > 4,
        "{files:?}"
    );
    for file in &files {
        assert_eq!(
            std::fs::read(glimpse.join(current).join(file)).map_err(|e| e.to_string())?,
            std::fs::read(served.join(file)).map_err(|e| e.to_string())?,
            "{file}"
        );
    }
    // A second run copies nothing: the builds are there.
    assert_eq!(
        xtask::keep::fetch_live(&stack.url(""), &glimpse)?,
        Vec::<String>::new()
    );
    let _ = std::fs::remove_dir_all(glimpse.parent().unwrap_or(&glimpse));
    Ok(())
}
