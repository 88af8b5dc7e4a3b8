//! Phones first: the widget at 360×740 and 390×844 with a touch screen and 2–3 device
//! pixels per CSS pixel, on a host page wider than the phone (`demo/pages/wide.html`) and on
//! the demo page. Everything the visitor needs stays on the visible screen (the visual
//! viewport), the story viewer goes edge to edge, the ask form stays usable with the
//! on-screen keyboard up, and every control is at least 44 × 44 CSS pixels.

use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, Page, deep, deep_with_text};
use glimpse_e2e::stack::Stack;
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(20);
const LAUNCHER: &str = "[data-testid=glimpse-launcher]";
const PHONES: [(u32, u32, f64); 2] = [(360, 740, 3.0), (390, 844, 2.0)];

/// The widget's visible controls smaller than 44 × 44 CSS pixels: `[name, width, height]`.
const SMALL_TARGETS: &str = "(() => { const out = []; const host = document.querySelector('glimpse-widget'); \
    for (const e of host.shadowRoot.querySelectorAll('button, a[href], input, select, textarea')) { \
      const r = e.getBoundingClientRect(), s = getComputedStyle(e); \
      if (!r.width || !r.height || s.visibility === 'hidden') continue; \
      if (r.width < 43.5 || r.height < 43.5) out.push([e.dataset.testid || e.className || e.localName, Math.round(r.width), Math.round(r.height)]); } \
    return out; })()";

fn inside(rect: [f64; 4], view: [f64; 4]) -> bool {
    rect[0] >= view[0] - 0.5
        && rect[1] >= view[1] - 0.5
        && rect[0] + rect[2] <= view[0] + view[2] + 0.5
        && rect[1] + rect[3] <= view[1] + view[3] + 0.5
}

fn assert_inside(page: &mut Page<'_>, selector: &str, case: &str) -> Result<[f64; 4]> {
    let view = page.visual_viewport()?;
    let rect = page.rect(selector)?;
    assert!(
        inside(rect, view),
        "{case}: {selector} at {rect:?} is not inside the visible {view:?}"
    );
    Ok(rect)
}

fn assert_targets(page: &mut Page<'_>, case: &str) -> Result {
    assert_eq!(
        page.eval(SMALL_TARGETS)?,
        json!([]),
        "{case}: controls under 44 px"
    );
    Ok(())
}

/// Brings an element of the (scrolling) tray into view, as the browser does for a field
/// that gets focus.
fn scroll_into_view(page: &mut Page<'_>, selector: &str) -> Result {
    page.eval(&format!(
        "{}.scrollIntoView({{ block: 'nearest', behavior: 'instant' }}); true",
        deep(selector)
    ))
    .map(|_| ())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn on_a_page_wider_than_the_phone_everything_stays_on_the_screen() -> Result {
    let stack = Stack::start_demo()?;
    stack.publish_session("phone-qa", "Phone Q&A", 600_000, 1_800_000)?;
    for (width, height, scale) in PHONES {
        let case = format!("{width}x{height}@{scale}");
        let mut browser = Browser::launch(&stack.tools.chromium)?;
        let mut page = browser.new_page()?;
        page.phone(width, height, scale)?;
        page.goto(&stack.url("/demo/wide.html"))?;
        page.wait_visible(LAUNCHER)?;
        // The page is wider than the phone, and the visitor sees the phone's screen.
        let page_width = page
            .eval("document.documentElement.scrollWidth")?
            .as_f64()
            .unwrap_or(0.0);
        assert!(
            page_width > f64::from(width),
            "{case}: the host page overflows ({page_width})"
        );
        let view = page.visual_viewport()?;
        assert_eq!(
            (view[2].round(), view[3].round()),
            (f64::from(width), f64::from(height)),
            "{case}: visible area {view:?}"
        );

        // Launcher and banner (with its button) on the screen, fingers can hit them.
        let launcher = assert_inside(&mut page, LAUNCHER, &case)?;
        assert!(
            launcher[0] + launcher[2] <= f64::from(width) - 16.0,
            "{case}: {launcher:?}"
        );
        let banner = deep_with_text("[data-testid=glimpse-banner]", "Phone Q&A");
        page.wait_for(&format!("!!{banner}"), TIMEOUT)?;
        let banner_rect = page.eval(&format!(
            "(() => {{ const r = {banner}.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }})()"
        ))?;
        let banner_rect: Vec<f64> = banner_rect
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        assert!(
            banner_rect.len() == 4
                && inside(
                    [
                        banner_rect[0],
                        banner_rect[1],
                        banner_rect[2],
                        banner_rect[3]
                    ],
                    view
                ),
            "{case}: banner {banner_rect:?} in {view:?}"
        );
        assert_inside(&mut page, "[data-testid=glimpse-add-calendar]", &case)?;
        assert_targets(&mut page, &format!("{case} closed"))?;
        page.screenshot(&format!("80-phone-{width}-launcher-banner"))?;

        // The tray.
        page.tap(LAUNCHER)?;
        page.wait_visible("[data-testid=glimpse-tray]")?;
        assert_inside(&mut page, "[data-testid=glimpse-tray]", &case)?;
        assert_targets(&mut page, &format!("{case} tray"))?;
        page.screenshot(&format!("81-phone-{width}-tray"))?;

        // A story, edge to edge.
        page.tap("[data-testid=glimpse-story-item]")?;
        page.wait_visible("[data-testid=glimpse-slide-text]")?;
        let viewer = page.rect("[data-testid=glimpse-viewer]")?;
        let view = page.visual_viewport()?;
        assert!(
            viewer
                .iter()
                .zip(view.iter())
                .all(|(a, b)| (a - b).abs() < 1.0),
            "{case}: the viewer {viewer:?} fills the screen {view:?}"
        );
        assert_inside(&mut page, "[data-testid=glimpse-close]", &case)?;
        assert_inside(&mut page, "[data-testid=glimpse-pause]", &case)?;
        assert_targets(&mut page, &format!("{case} story"))?;
        page.screenshot(&format!("82-phone-{width}-story"))?;
        page.tap("[data-testid=glimpse-close]")?;
        page.wait_gone("[data-testid=glimpse-viewer]")?;

        // The ask form with the on-screen keyboard up: the visible height shrinks.
        page.tap(LAUNCHER)?;
        page.wait_visible("[data-testid=glimpse-ask]")?;
        scroll_into_view(&mut page, "[data-testid=glimpse-ask-message]")?;
        page.tap("[data-testid=glimpse-ask-message]")?;
        let keyboard = height * 2 / 5;
        page.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height - keyboard, "deviceScaleFactor": scale,
                    "mobile": true, "screenWidth": width, "screenHeight": height }),
        )?;
        page.wait_for(
            &format!(
                "Math.round(visualViewport.height) === {}",
                height - keyboard
            ),
            TIMEOUT,
        )?;
        page.wait_for(
            &format!(
                "(() => {{ const r = {}.getBoundingClientRect(); return r.bottom <= visualViewport.height + 0.5; }})()",
                deep("[data-testid=glimpse-tray]")
            ),
            TIMEOUT,
        )?;
        assert_inside(&mut page, "[data-testid=glimpse-tray]", &case)?;
        page.fill("[data-testid=glimpse-ask-topic]", "orders")?;
        scroll_into_view(&mut page, "[data-testid=glimpse-ask-message]")?;
        assert_inside(&mut page, "[data-testid=glimpse-ask-message]", &case)?;
        page.fill(
            "[data-testid=glimpse-ask-message]",
            "Typed on a phone with the keyboard up.",
        )?;
        scroll_into_view(&mut page, "[data-testid=glimpse-ask-send]")?;
        assert_inside(&mut page, "[data-testid=glimpse-ask-send]", &case)?;
        page.screenshot(&format!("83-phone-{width}-ask-keyboard"))?;
        page.tap("[data-testid=glimpse-ask-send]")?;
        page.wait_visible("[data-testid=glimpse-thread]")?;
        assert_eq!(page.exceptions(), Vec::<String>::new(), "{case}");
    }
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn the_demo_page_fits_a_phone() -> Result {
    let stack = Stack::start_demo()?;
    for (width, height, scale) in PHONES {
        let case = format!("{width}x{height}@{scale}");
        let mut browser = Browser::launch(&stack.tools.chromium)?;
        let mut page = browser.new_page()?;
        page.phone(width, height, scale)?;
        page.goto(&stack.url("/"))?;
        page.wait_visible(LAUNCHER)?;
        assert_eq!(
            page.eval("document.documentElement.scrollWidth")?,
            json!(width),
            "{case}: no horizontal overflow"
        );
        assert_inside(&mut page, LAUNCHER, &case)?;
        assert_eq!(
            page.eval(
                "[...document.querySelectorAll('header a')].filter(a => a.getBoundingClientRect().height < 44).length"
            )?,
            json!(0),
            "{case}: the page's own links are tappable"
        );
        page.screenshot(&format!("84-phone-{width}-demo-page"))?;
    }
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn safe_areas_keep_the_controls_clear_of_notches_and_home_bars() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = browser.new_page()?;
    page.phone(390, 844, 3.0)?;
    // A notch at the top, a home bar at the bottom (as on recent iPhones).
    page.call(
        "Emulation.setSafeAreaInsetsOverride",
        json!({ "insets": { "top": 47, "bottom": 34, "left": 0, "right": 0 } }),
    )?;
    page.goto(&stack.url("/demo/wide.html"))?;
    page.wait_visible(LAUNCHER)?;
    let launcher = page.rect(LAUNCHER)?;
    assert!(
        launcher[1] + launcher[3] <= 844.0 - 34.0 - 20.0 + 0.5,
        "launcher {launcher:?} above the home bar"
    );
    page.tap(LAUNCHER)?;
    page.tap("[data-testid=glimpse-story-item]")?;
    page.wait_visible("[data-testid=glimpse-slide-text]")?;
    let close = page.rect("[data-testid=glimpse-close]")?;
    assert!(close[1] >= 47.0, "close {close:?} below the notch");
    page.screenshot("85-phone-safe-areas-story")?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}
