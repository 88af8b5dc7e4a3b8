//! The pictures in the README: what a visitor sees (a live banner, the tray, a story step
//! with its illustration, a poll; each cropped to the widget) and what an operator sees (the console's
//! story editor previewing a story in the real player), taken from the real stack.
//! `cargo xtask screenshots` runs this test and copies the shots, optimised, into
//! `docs/screenshots/`.

use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, Page, deep, deep_with_text};
use glimpse_e2e::stack::Stack;

/// Saves a PNG of the region around the element matching `selector` (piercing shadow
/// roots), `margin` CSS pixels wider on each side and kept inside the viewport, to
/// `target/e2e/screenshots/{name}.png`.
fn shot_of(page: &mut Page<'_>, selector: &str, margin: f64, name: &str) -> Result {
    page.wait_visible(selector)?;
    let r = page.eval(&format!(
        "(() => {{ const r = {}.getBoundingClientRect(); const m = {margin}; \
         const x = Math.max(0, r.left - m), y = Math.max(0, r.top - m); \
         return {{ x, y, w: Math.min(innerWidth, r.right + m) - x, h: Math.min(innerHeight, r.bottom + m) - y }}; }})()",
        deep(selector)
    ))?;
    let n = |k: &str| {
        r[k].as_f64()
            .ok_or_else(|| format!("no {k} for {selector}"))
    };
    let png = page.capture((n("x")?, n("y")?, n("w")?, n("h")?))?;
    let path = xtask::at("target/e2e/screenshots").join(format!("{name}.png"));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("mkdir: {e}"))?;
    }
    std::fs::write(&path, png).map_err(|e| format!("write {}: {e}", path.display()))
}

/// Waits until the open slide's picture is decoded and painted.
fn wait_picture(page: &mut Page<'_>) -> Result {
    let img = deep("[data-testid=glimpse-viewer] img.media");
    page.wait_for(
        &format!(
            "(() => {{ const i = {img}; return i && i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0; }})()"
        ),
        Duration::from_secs(20),
    )?;
    page.eval(&format!(
        "{img}.decode().then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true)))))"
    ))?;
    std::thread::sleep(Duration::from_millis(300));
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask screenshots` / `test`"]
fn readme_screenshots_of_what_visitors_and_operators_see() -> Result {
    let stack = Stack::start_demo()?;
    // Live a moment after the page opens, for 45 minutes.
    stack.publish_session("readme-live", "Billing Q&A with Sam", 500, 45 * 60_000)?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = browser.new_page()?;
    page.set_viewport(1280, 800)?;
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
    shot_of(
        &mut page,
        "[data-testid=glimpse-banners]",
        24.0,
        "readme-1-banner",
    )?;

    // The tray, with stories, polls and channels.
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_visible("[data-testid=glimpse-tray]")?;
    page.wait_visible("[data-testid=glimpse-poll]")?;
    shot_of(
        &mut page,
        "[data-testid=glimpse-tray]",
        0.0,
        "readme-2-tray",
    )?;

    // A poll, answered, with its results.
    page.click("[data-poll=story-helpful] [data-testid=glimpse-poll-option]")?;
    page.wait_visible("[data-poll=story-helpful] [data-testid=glimpse-poll-results]")?;
    shot_of(
        &mut page,
        "[data-poll=story-helpful]",
        12.0,
        "readme-4-poll",
    )?;

    // A story step with its picture (the demo's generated illustration).
    page.eval("Glimpse('open', { story: 'track-order' }), true")?;
    page.wait_visible("[data-testid=glimpse-slide-text]")?;
    page.click("[data-testid=glimpse-pause]")?;
    wait_picture(&mut page)?;
    shot_of(
        &mut page,
        "[data-testid=glimpse-viewer]",
        0.0,
        "readme-3-story",
    )?;
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
