//! The help centre as a visitor without JavaScript gets it from the real worker: an entry's
//! own page with its story's picture and alt text, "Did this help?" answered with the plain
//! form, the thanks on the page it returns to, and the answer counted through the ingestion
//! queue as the widget's would be.

use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::cdp::Browser;
use glimpse_e2e::stack::Stack;
use serde_json::{Value, json};

/// The demo's "Reset your password" story's first picture, as its slide describes it.
const FIRST_ALT: &str = "A phone shows a padlock and a “Reset password” button.";

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_visitor_without_javascript_reads_an_entry_with_its_pictures_and_says_it_helped() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = browser.new_page()?;
    // No script runs in this tab (the pages have none to run; this makes sure nothing
    // depends on one). DevTools can still read the page.
    page.call(
        "Emulation.setScriptExecutionDisabled",
        json!({ "value": true }),
    )?;
    page.call("Log.enable", json!({}))?;

    // The index links to the entry's own page.
    page.goto(&stack.url("/kb/demo"))?;
    page.wait_visible("h1")?;
    let href = page.eval(
        "document.querySelector('#topic-account a[href=\"/kb/demo/stories/reset-password\"]')?.textContent",
    )?;
    assert_eq!(href, json!("Reset your password"));
    page.click("#topic-account a[href=\"/kb/demo/stories/reset-password\"]")?;
    page.wait_for(
        "location.pathname === '/kb/demo/stories/reset-password' && document.readyState === 'complete'",
        Duration::from_secs(20),
    )?;
    page.wait_visible("[data-testid=kb-entry] h1")?;
    assert_eq!(
        page.text("[data-testid=kb-entry] h1")?,
        "Reset your password"
    );
    assert_eq!(
        page.eval("document.querySelector('link[rel=canonical]').href")?,
        json!(stack.url("/kb/demo/stories/reset-password"))
    );
    let ld =
        page.eval("document.querySelector('script[type=\"application/ld+json\"]').textContent")?;
    let ld: Value = serde_json::from_str(ld.as_str().unwrap_or_default())
        .map_err(|e| format!("JSON-LD: {e}: {ld}"))?;
    assert_eq!(ld["@type"], "Article");
    assert_eq!(ld["headline"], "Reset your password");

    // Its story's picture, with the alt text the story gave it, loaded from the worker.
    let picture = format!("[data-testid=kb-entry] img[alt=\"{FIRST_ALT}\"]");
    page.eval(&format!(
        "document.querySelector({}).scrollIntoView()",
        json!(picture)
    ))?;
    page.wait_for(
        &format!(
            "(() => {{ const i = document.querySelector({}); return i && i.complete && i.naturalWidth > 0; }})()",
            json!(picture)
        ),
        Duration::from_secs(20),
    )?;
    assert_eq!(
        page.eval(&format!(
            "document.querySelector({}).getAttribute('src')",
            json!(picture)
        ))?,
        json!("/media/demo/reset-1-forgot.webp")
    );
    assert_eq!(
        page.eval("document.querySelectorAll('[data-testid=kb-entry] img[loading=lazy]').length")?,
        json!(3),
        "the three pictures of its four slides (the video has none)"
    );
    // A way to ask, on the page.
    assert_eq!(
        page.eval("document.querySelector('[data-testid=kb-contact] a[href^=\"mailto:\"]')?.getAttribute('href')")?,
        json!("mailto:help@northwind.example")
    );

    // "Did this help?" — Yes, with the plain form: a POST, a redirect, the thanks.
    page.click("#feedback button[name=helped][value=yes]")?;
    page.wait_visible("[data-testid=kb-thanks]")?;
    assert_eq!(
        page.text("[data-testid=kb-thanks]")?,
        "Thanks for your answer!"
    );
    assert_eq!(
        page.eval("location.pathname + location.search + location.hash")?,
        json!("/kb/demo/stories/reset-password?voted=yes#feedback")
    );
    assert!(!page.exists("#feedback form")?, "asked only once");

    // The answer reaches the entry's popularity through the queue, as the widget's does.
    stack.eventually(
        "the entry's helped count",
        1,
        Duration::from_secs(20),
        || {
            let res = stack.admin("GET", "/v1/admin/sites/demo/kb/stories/reset-password", "")?;
            let v: Value = serde_json::from_str(&res.body).map_err(|e| e.to_string())?;
            Ok(v["helped"].as_u64().unwrap_or(0))
        },
    )?;

    // Nothing was refused by the pages' policy (no script, pictures from the origin).
    let refused: Vec<String> = page
        .events_of("Log.entryAdded")
        .iter()
        .map(|e| {
            e["params"]["entry"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .filter(|t| t.contains("Content Security Policy") || t.contains("Refused"))
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}
