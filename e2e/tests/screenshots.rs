//! The pictures in the README: what a visitor sees on a phone (a live banner, the tray, a
//! story step with its illustration, a poll) and what an operator sees (the console's
//! story editor previewing a story in the real player), taken from the real stack.
//! `cargo xtask screenshots` runs this test and copies the shots, optimised, into
//! `docs/screenshots/`.

use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, Page, deep, deep_with_text};
use glimpse_e2e::stack::Stack;
use serde_json::json;

/// A common phone screen, in CSS pixels.
const PHONE: (u32, u32) = (390, 844);

fn phone(page: &mut Page<'_>) -> Result {
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": PHONE.0, "height": PHONE.1, "deviceScaleFactor": 1, "mobile": true }),
    )?;
    page.call(
        "Emulation.setTouchEmulationEnabled",
        json!({ "enabled": true, "maxTouchPoints": 5 }),
    )
    .map(|_| ())
}

/// Waits until the open slide's picture is decoded and on screen.
fn wait_picture(page: &mut Page<'_>) -> Result {
    page.wait_for(
        &format!(
            "(() => {{ const i = {}; return i && i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0; }})()",
            deep("[data-testid=glimpse-viewer] img.media")
        ),
        Duration::from_secs(20),
    )
    .map(|_| ())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask screenshots` / `test`"]
fn readme_screenshots_of_what_visitors_and_operators_see() -> Result {
    let stack = Stack::start_demo()?;
    stack.publish_session("readme-live", "Billing Q&A with Sam", -60_000, 45 * 60_000)?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = browser.new_page()?;
    phone(&mut page)?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;

    // A live session's banner on the host page.
    page.wait_for(
        &format!(
            "(() => {{ const b = {}; return b && b.dataset.state === 'live'; }})()",
            deep_with_text("[data-testid=glimpse-banner]", "Billing Q&A with Sam")
        ),
        Duration::from_secs(20),
    )?;
    page.screenshot("readme-1-banner")?;

    // The tray, with stories, polls and channels.
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_visible("[data-testid=glimpse-tray]")?;
    page.wait_visible("[data-testid=glimpse-poll]")?;
    page.screenshot("readme-2-tray")?;

    // A poll, answered, with its results.
    page.eval(&format!(
        "{}.scrollIntoView({{ block: 'center' }}), true",
        deep("[data-testid=glimpse-poll]")
    ))?;
    page.click("[data-testid=glimpse-poll] [data-testid=glimpse-poll-option]")?;
    page.wait_visible("[data-testid=glimpse-poll-results]")?;
    page.screenshot("readme-4-poll")?;

    // A story step with its picture (the demo's generated illustration).
    page.eval("Glimpse('open', { story: 'track-order' }), true")?;
    page.wait_visible("[data-testid=glimpse-slide-text]")?;
    page.click("[data-testid=glimpse-pause]")?;
    wait_picture(&mut page)?;
    page.screenshot("readme-3-story")?;
    page.press("Escape")?;
    page.wait_gone("[data-testid=glimpse-viewer]")?;

    // The console: a story in the editor, previewed in the real player.
    let mut page = browser.new_page()?;
    page.set_viewport(1280, 800)?;
    page.goto(&stack.url("/admin/"))?;
    page.wait_visible("[data-testid=signin]")?;
    page.fill("[data-testid=token]", &stack.admin_token)?;
    page.click("[data-testid=signin] button[type=submit]")?;
    page.wait_visible("[data-testid=story-reset-password]")?;
    page.click("[data-testid=story-reset-password] button.link")?;
    page.wait_visible("[data-testid=story-editor]")?;
    page.click("[data-testid=preview]")?;
    page.wait_visible("[data-testid=glimpse-slide-text]")?;
    page.click("[data-testid=glimpse-pause]")?;
    wait_picture(&mut page)?;
    page.screenshot("readme-5-console")?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}
