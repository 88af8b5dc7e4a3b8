//! The story player as visitors handle it, on the demo page against the real worker: a held
//! press pauses and never navigates (mouse and touch), right-to-left layouts mirror every
//! directional control, long unbroken titles keep pause and close on screen at 320 px and at
//! 200 % zoom, screen readers hear banner state changes (not a countdown every second), the
//! server clock survives HTTP caching of the feed, and photos are flattened on white with
//! their camera orientation.

use std::time::{Duration, Instant};

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, Page, deep};
use glimpse_e2e::stack::{Stack, now_ms};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(20);

fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

/// Publishes a text-only story on the demo site (slides of `ms` each).
fn publish_story(stack: &Stack, id: &str, title: &str, slides: &[&str], ms: u32) -> Result {
    let now = now_ms();
    let story = json!({
        "id": id, "title": title, "topic": "orders",
        "publish_at": now - 60_000, "expires_at": now + 86_400_000,
        "slides": slides.iter().map(|t| json!({"text": t, "duration_ms": ms})).collect::<Vec<_>>(),
    });
    let res = stack.admin(
        "PUT",
        &format!("/v1/admin/sites/demo/stories/{id}"),
        &story.to_string(),
    )?;
    if res.status != 201 && res.status != 200 {
        return Err(format!("publish {id}: {} {}", res.status, res.body));
    }
    Ok(())
}

/// Opens the demo page and the story `id` in the viewer.
fn open_story<'b>(stack: &Stack, browser: &'b mut Browser, id: &str) -> Result<Page<'b>> {
    let mut page = browser.new_page()?;
    page.set_viewport(1280, 800)?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    page.eval(&format!("Glimpse('open', {{ story: {} }})", json!(id)))?;
    page.wait_visible("[data-testid=glimpse-viewer]")?;
    Ok(page)
}

fn slide_text(page: &mut Page<'_>) -> Result<String> {
    page.text("[data-testid=glimpse-slide-text]")
}

/// The centre of the current slide's right (or left) half, in viewport pixels.
fn slide_point(page: &mut Page<'_>, right: bool) -> Result<(f64, f64)> {
    let at = page.eval(&format!(
        "(() => {{ const r = {}.getBoundingClientRect(); \
         return {{ x: r.left + r.width * ({}), y: r.top + r.height / 2 }}; }})()",
        deep(".slide"),
        if right { 0.75 } else { 0.15 }
    ))?;
    Ok((
        at["x"].as_f64().ok_or("no x")?,
        at["y"].as_f64().ok_or("no y")?,
    ))
}

/// Presses the mouse at `(x, y)` for `ms` and releases it there.
fn mouse_hold(page: &mut Page<'_>, (x, y): (f64, f64), ms: u64) -> Result {
    page.call(
        "Input.dispatchMouseEvent",
        json!({ "type": "mouseMoved", "x": x, "y": y }),
    )?;
    page.call(
        "Input.dispatchMouseEvent",
        json!({ "type": "mousePressed", "x": x, "y": y, "button": "left", "clickCount": 1 }),
    )?;
    sleep_ms(ms);
    page.call(
        "Input.dispatchMouseEvent",
        json!({ "type": "mouseReleased", "x": x, "y": y, "button": "left", "clickCount": 1 }),
    )?;
    Ok(())
}

/// Touches `(x, y)` for `ms` and lifts the finger.
fn touch_hold(page: &mut Page<'_>, (x, y): (f64, f64), ms: u64) -> Result {
    page.call(
        "Input.dispatchTouchEvent",
        json!({ "type": "touchStart", "touchPoints": [{ "x": x, "y": y, "id": 1 }] }),
    )?;
    sleep_ms(ms);
    page.call(
        "Input.dispatchTouchEvent",
        json!({ "type": "touchEnd", "touchPoints": [] }),
    )?;
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_held_press_pauses_and_releasing_it_never_navigates() -> Result {
    let stack = Stack::start_demo()?;
    publish_story(
        &stack,
        "hold",
        "Hold me",
        &["Step one", "Step two", "Step three"],
        8_000,
    )?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = open_story(&stack, &mut browser, "hold")?;
    page.wait_text("[data-testid=glimpse-slide-text]", "Step one")?;

    // The case: a 1.5 s hold on the right half, by mouse.
    let right = slide_point(&mut page, true)?;
    let before = page.story_progress()?;
    page.call(
        "Input.dispatchMouseEvent",
        json!({ "type": "mousePressed", "x": right.0, "y": right.1, "button": "left", "clickCount": 1 }),
    )?;
    sleep_ms(300);
    let held = page.story_progress()?;
    sleep_ms(1_200);
    assert!(
        (page.story_progress()? - held).abs() < 0.005,
        "time stands still while held"
    );
    page.call(
        "Input.dispatchMouseEvent",
        json!({ "type": "mouseReleased", "x": right.0, "y": right.1, "button": "left", "clickCount": 1 }),
    )?;
    sleep_ms(400);
    assert_eq!(slide_text(&mut page)?, "Step one", "a hold is not a tap");
    assert!(
        page.story_progress()? > held,
        "released: it plays on ({before} → {held})"
    );

    // The same by touch, on the left half (which would step back).
    let left = slide_point(&mut page, false)?;
    touch_hold(&mut page, left, 1_500)?;
    sleep_ms(400);
    assert_eq!(slide_text(&mut page)?, "Step one");
    // A short press is still a tap, by mouse and by touch.
    mouse_hold(&mut page, right, 60)?;
    page.wait_text("[data-testid=glimpse-slide-text]", "Step two")?;
    touch_hold(&mut page, right, 60)?;
    page.wait_text("[data-testid=glimpse-slide-text]", "Step three")?;
    touch_hold(&mut page, left, 60)?;
    page.wait_text("[data-testid=glimpse-slide-text]", "Step two")?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn right_to_left_mirrors_taps_keys_swipes_and_progress() -> Result {
    let stack = Stack::start_demo()?;
    // The demo site written in Hebrew: its content is laid out right to left.
    let site = stack.admin("GET", "/v1/admin/sites/demo", "")?;
    let mut site: Value = serde_json::from_str(&site.body).map_err(|e| e.to_string())?;
    site["language"] = json!("he");
    let res = stack.admin("PUT", "/v1/admin/sites/demo", &site.to_string())?;
    assert!(res.status < 300, "{} {}", res.status, res.body);
    publish_story(&stack, "rtl-a", "שלבים", &["אחד", "שתיים", "שלוש"], 8_000)?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = open_story(&stack, &mut browser, "rtl-a")?;
    page.wait_text("[data-testid=glimpse-slide-text]", "אחד")?;
    assert_eq!(
        page.eval(&format!("getComputedStyle({}).direction", deep(".slide")))?,
        "rtl"
    );

    // Taps: the left part is forward, the right part back.
    let (left, right) = (
        slide_point(&mut page, false)?,
        slide_point(&mut page, true)?,
    );
    mouse_hold(&mut page, left, 60)?;
    page.wait_text("[data-testid=glimpse-slide-text]", "שתיים")?;
    mouse_hold(&mut page, right, 60)?;
    page.wait_text("[data-testid=glimpse-slide-text]", "אחד")?;
    // Keys: ← is forward, → back.
    page.press("ArrowLeft")?;
    page.wait_text("[data-testid=glimpse-slide-text]", "שתיים")?;
    page.press("ArrowRight")?;
    page.wait_text("[data-testid=glimpse-slide-text]", "אחד")?;
    // Progress fills from the right: the first bar's fill grows from its right edge.
    sleep_ms(1_500);
    let fill = page.eval(&format!(
        "(() => {{ const f = {}.querySelector('.fill'); const b = f.parentElement.getBoundingClientRect(); \
         const r = f.getBoundingClientRect(); return {{ origin: getComputedStyle(f).transformOrigin, \
         right: Math.abs(r.right - b.right) < 1, left: Math.abs(r.left - b.left) < 1, w: r.width / b.width }}; }})()",
        deep("[data-testid=glimpse-viewer]")
    ))?;
    assert_eq!(fill["right"], true, "{fill}");
    assert_eq!(fill["left"], false, "{fill}");
    // Bars run right to left: the first bar is the rightmost.
    let order = page.eval(&format!(
        "(() => {{ const bars = [...{}.querySelectorAll('.bar')].map(b => b.getBoundingClientRect().left); \
         return bars[0] > bars[bars.length - 1]; }})()",
        deep("[data-testid=glimpse-viewer]")
    ))?;
    assert_eq!(order, true);
    // Swipes mirror too.
    let title = |page: &mut Page<'_>| {
        page.eval(&format!(
            "{}.getAttribute('aria-label')",
            deep("[data-testid=glimpse-viewer]")
        ))
    };
    assert_eq!(title(&mut page)?, "שלבים");
    let stories: Vec<String> = serde_json::from_value(page.eval(
        "fetch('/v1/sites/demo/feed').then(r => r.json()).then(f => f.stories.map(s => s.title))",
    )?)
    .map_err(|e| e.to_string())?;
    let at = stories
        .iter()
        .position(|t| t == "שלבים")
        .ok_or("story not in the feed")?;
    let prev = at
        .checked_sub(1)
        .and_then(|i| stories.get(i))
        .ok_or("no story before it")?
        .clone();
    // A finger moving left (towards the inline end) goes back a story…
    page.swipe(".slide", -160.0, 0.0)?;
    let deadline = Instant::now() + TIMEOUT;
    while title(&mut page)? != json!(prev) {
        if Instant::now() > deadline {
            return Err(format!("swiping left did not go back to {prev:?}"));
        }
        sleep_ms(100);
    }
    // …and moving right pulls the next one in.
    page.swipe(".slide", 160.0, 0.0)?;
    page.wait_text("[data-testid=glimpse-slide-text]", "אחד")?;
    assert_eq!(title(&mut page)?, "שלבים");
    page.screenshot("40-story-rtl")?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

/// Whether `selector` lies inside the viewer and the viewport, and is what a click at its
/// centre hits.
fn usable(page: &mut Page<'_>, selector: &str) -> Result<Value> {
    page.eval(&format!(
        "(() => {{ const el = {}; const v = {}; if (!el || !v) return 'missing'; \
         const r = el.getBoundingClientRect(), b = v.getBoundingClientRect(); \
         if (r.width < 24 || r.height < 24) return 'too small ' + r.width + 'x' + r.height; \
         if (r.left < b.left - 1 || r.right > b.right + 1 || r.top < b.top - 1 || r.bottom > b.bottom + 1) \
           return 'outside the viewer: ' + JSON.stringify([r.left, r.right, b.left, b.right]); \
         if (r.right > innerWidth || r.left < 0) return 'outside the viewport'; \
         const x = r.left + r.width / 2, y = r.top + r.height / 2; let hit = document.elementFromPoint(x, y); \
         while (hit && hit.shadowRoot) {{ const i = hit.shadowRoot.elementFromPoint(x, y); if (!i || i === hit) break; hit = i; }} \
         return hit === el || el.contains(hit) ? 'ok' : 'covered'; }})()",
        deep(selector),
        deep("[data-testid=glimpse-viewer]")
    ))
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn long_unbroken_text_wraps_and_keeps_pause_and_close_usable() -> Result {
    let stack = Stack::start_demo()?;
    let title = "https://northwind.example/account/settings/security/two-factor/recovery-codes";
    let long_title = format!("{title}{}", "x".repeat(90 - title.len()));
    let word = "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichenherstellungsbetrieb";
    publish_story(
        &stack,
        "long",
        &long_title,
        &[&format!("{word} {title}/{word}")],
        60_000,
    )?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = open_story(&stack, &mut browser, "long")?;
    // 320 CSS px wide (a small phone, or 1280 px at 400 %), and a 1280×800 window at 200 %
    // zoom: 640×400 CSS px at two device pixels each.
    for (width, height, zoom) in [(320, 740, 1.0), (640, 400, 2.0)] {
        page.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": zoom, "mobile": false }),
        )?;
        sleep_ms(300);
        for control in ["[data-testid=glimpse-pause]", "[data-testid=glimpse-close]"] {
            assert_eq!(
                usable(&mut page, control)?,
                "ok",
                "{control} at {width}px, zoom {zoom}"
            );
        }
        // Nothing in the viewer is wider than the viewer.
        let overflow = page.eval(&format!(
            "(() => {{ const v = {}; const b = v.getBoundingClientRect(); \
             return [...v.querySelectorAll('h2, p, .sub, .titles')].filter(e => e.getBoundingClientRect().right > b.right + 1 \
               || e.scrollWidth > e.clientWidth + 1).map(e => e.className || e.tagName); }})()",
            deep("[data-testid=glimpse-viewer]")
        ))?;
        assert_eq!(overflow, json!([]), "at {width}px, zoom {zoom}");
    }
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 320, "height": 740, "deviceScaleFactor": 2, "mobile": false }),
    )?;
    page.screenshot("41-story-long-title-320")?;
    // Pause and close still work.
    page.click("[data-testid=glimpse-pause]")?;
    assert_eq!(
        page.eval(&format!(
            "{}.getAttribute('aria-pressed')",
            deep("[data-testid=glimpse-pause]")
        ))?,
        "true"
    );
    page.click("[data-testid=glimpse-close]")?;
    page.wait_gone("[data-testid=glimpse-viewer]")?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn screen_readers_hear_banner_state_changes_not_a_countdown() -> Result {
    let stack = Stack::start_demo()?;
    stack.publish_session("soon", "Soon Q&A", 6_000, 60_000)?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = browser.new_page()?;
    page.set_viewport(1280, 800)?;
    page.goto(&stack.url("/"))?;
    page.wait_text("[data-testid=glimpse-banners]", "Soon Q&A")?;
    // Record every text change inside any live region of the widget.
    page.eval(&format!(
        "(() => {{ window.__said = []; const root = {}.getRootNode(); \
         const regions = [...root.querySelectorAll('[aria-live], [role=status], [role=alert], [role=log]')]; \
         window.__regions = regions.length; \
         new MutationObserver(() => {{ for (const r of regions) {{ const t = r.textContent; \
           if (window.__said[window.__said.length - 1] !== t) window.__said.push(t); }} }}) \
           .observe(root, {{ subtree: true, childList: true, characterData: true }}); }})()",
        deep("[data-testid=glimpse-banners]")
    ))?;
    // The countdown ticks on screen for a few seconds, then the session goes live.
    page.wait_text("[data-testid=glimpse-banners]", "Live now")?;
    sleep_ms(2_500);
    let said: Vec<String> =
        serde_json::from_value(page.eval("window.__said")?).map_err(|e| e.to_string())?;
    assert!(
        said.len() <= 2,
        "one announcement per state change, not one per second: {said:?}"
    );
    assert!(
        said.iter()
            .any(|s| s.contains("Soon Q&A") && s.contains("Live now")),
        "{said:?}"
    );
    // The banner itself is not a live region.
    assert_eq!(
        page.eval(&format!(
            "{}.closest('[aria-live]')",
            deep("[data-testid=glimpse-banner]")
        ))?,
        Value::Null
    );
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

/// The countdown a banner shows, in seconds ("Starts in 9:58" → 598).
fn shown_countdown(page: &mut Page<'_>) -> Result<i64> {
    let text = page.text("[data-testid=glimpse-banner-status]")?;
    let clock = text
        .split_whitespace()
        .last()
        .ok_or(format!("no countdown in {text:?}"))?;
    let parts: Vec<i64> = clock
        .split(':')
        .map(|p| p.parse::<i64>().map_err(|e| format!("{text:?}: {e}")))
        .collect::<Result<_>>()?;
    Ok(parts.iter().fold(0, |acc, p| acc * 60 + p))
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn the_server_clock_survives_a_cached_feed() -> Result {
    let stack = Stack::start_demo()?;
    let starts_in = 15 * 60_000;
    let starts_at = now_ms() + starts_in;
    stack.publish_session("later", "Later Q&A", starts_in, starts_in + 600_000)?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = browser.new_page()?;
    page.set_viewport(1280, 800)?;
    page.goto(&stack.url("/"))?;
    page.wait_text("[data-testid=glimpse-banners]", "Later Q&A")?;
    // Past the feed's max-age the browser revalidates: the answer is a 304 and the cached
    // body (with its old `now`) is reused. Reload well after that.
    sleep_ms(16_000);
    page.goto(&stack.url("/"))?;
    page.wait_text("[data-testid=glimpse-banners]", "Later Q&A")?;
    sleep_ms(1_200);
    let expected = (starts_at - now_ms()) / 1_000;
    let shown = shown_countdown(&mut page)?;
    assert!(
        (shown - expected).abs() <= 3,
        "the countdown shows {shown}s, the server's clock says {expected}s"
    );
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

/// Asks a question with the photo the page script `make` builds (a `Promise<File>`), and
/// returns the stored photo's `[width, height, r, g, b]` at pixel (1, 1), decoded by the
/// browser.
fn ask_with_photo(stack: &Stack, page: &mut Page<'_>, message: &str, make: &str) -> Result<Value> {
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_visible("[data-testid=glimpse-ask]")?;
    page.fill("[data-testid=glimpse-ask-topic]", "orders")?;
    page.fill("[data-testid=glimpse-ask-message]", message)?;
    page.eval(&format!(
        "({make}).then(file => {{ const input = {}; const dt = new DataTransfer(); dt.items.add(file); \
         input.files = dt.files; input.dispatchEvent(new Event('change', {{ bubbles: true }})); return true; }})",
        deep("[data-testid=glimpse-ask-photo]")
    ))?;
    sleep_ms(300);
    page.click("[data-testid=glimpse-ask-send]")?;
    page.wait_visible("[data-testid=glimpse-thread]")?;
    let deadline = Instant::now() + TIMEOUT;
    let id = loop {
        let list = stack.admin("GET", "/v1/admin/sites/demo/questions", "")?;
        let v: Value = serde_json::from_str(&list.body).map_err(|e| e.to_string())?;
        let found = v["questions"].as_array().and_then(|a| {
            a.iter()
                .find(|q| q["preview"] == message)
                .and_then(|q| q["id"].as_str().map(String::from))
        });
        if let Some(id) = found {
            break id;
        }
        if Instant::now() > deadline {
            return Err(format!("question not listed: {}", list.body));
        }
        sleep_ms(300);
    };
    page.wait_for(
        &format!(
            "fetch('/v1/sites/demo/questions/{id}/photo', {{ headers: {{ authorization: 'Bearer {}' }} }}) \
             .then(r => r.ok ? r.blob() : null).then(b => b && createImageBitmap(b)).then(bm => {{ if (!bm) return null; \
             const c = new OffscreenCanvas(bm.width, bm.height); const x = c.getContext('2d'); x.drawImage(bm, 0, 0); \
             const p = x.getImageData(1, 1, 1, 1).data; return [bm.width, bm.height, p[0], p[1], p[2]]; }})",
            stack.admin_token
        ),
        TIMEOUT,
    )
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn photos_are_flattened_on_white_and_keep_their_orientation() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = browser.new_page()?;
    page.set_viewport(1280, 900)?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;

    // A transparent PNG (a logo cut-out): transparent pixels arrive white, not black.
    let png = "new Promise(r => { const c = document.createElement('canvas'); c.width = 64; c.height = 48; \
        const x = c.getContext('2d'); x.fillStyle = '#d00'; x.fillRect(24, 16, 16, 16); \
        c.toBlob(b => r(new File([b], 'logo.png', { type: 'image/png' })), 'image/png'); })";
    let pixel = ask_with_photo(&stack, &mut page, "Transparent logo photo", png)?;
    let rgb: Vec<i64> = serde_json::from_value(pixel.clone()).map_err(|e| e.to_string())?;
    assert_eq!(&rgb[..2], &[64, 48], "{pixel}");
    assert!(
        rgb[2..].iter().all(|c| *c >= 245),
        "transparent becomes white: {pixel}"
    );

    // A camera JPEG stored 64×48 with EXIF orientation 6 (rotate 90° clockwise) is a
    // portrait photo: it arrives 48×64.
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    page.eval("localStorage.clear()")?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    let jpeg = "new Promise(r => { const c = document.createElement('canvas'); c.width = 64; c.height = 48; \
        const x = c.getContext('2d'); x.fillStyle = '#2a6'; x.fillRect(0, 0, 64, 48); \
        c.toBlob(b => b.arrayBuffer().then(buf => { const jpg = new Uint8Array(buf); \
          const exif = [0xFF,0xE1,0x00,0x22, 0x45,0x78,0x69,0x66,0x00,0x00, 0x4D,0x4D,0x00,0x2A,0x00,0x00,0x00,0x08, \
            0x00,0x01, 0x01,0x12,0x00,0x03,0x00,0x00,0x00,0x01,0x00,0x06,0x00,0x00, 0x00,0x00,0x00,0x00]; \
          const out = new Uint8Array(jpg.length + exif.length); out.set(jpg.subarray(0, 2)); out.set(exif, 2); \
          out.set(jpg.subarray(2), 2 + exif.length); r(new File([out], 'camera.jpg', { type: 'image/jpeg' })); }), \
          'image/jpeg', 0.9); })";
    let pixel = ask_with_photo(&stack, &mut page, "Portrait camera photo", jpeg)?;
    let size: Vec<i64> = serde_json::from_value(pixel.clone()).map_err(|e| e.to_string())?;
    assert_eq!(&size[..2], &[48, 64], "kept upright: {pixel}");
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

/// Every element inside `container` (found with `deep`) that sticks out of it or scrolls
/// sideways: `[]` when long text wraps or truncates everywhere.
fn sticking_out(page: &mut Page<'_>, container: &str) -> Result<Value> {
    page.eval(&format!(
        "(() => {{ const c = {}; if (!c) return ['missing']; const b = c.getBoundingClientRect(); \
         return [...c.querySelectorAll('*')].filter(e => {{ const r = e.getBoundingClientRect(); \
           if (r.width === 0 && r.height === 0) return false; \
           return r.right > Math.min(b.right, innerWidth) + 1 || r.left < Math.max(b.left, 0) - 1 \
             || (getComputedStyle(e).overflowX !== 'hidden' && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0); }}) \
           .map(e => {{ const r = e.getBoundingClientRect(); return (e.className || e.localName) + ' ' + \
             JSON.stringify([Math.round(r.left), Math.round(r.right), Math.round(b.left), Math.round(b.right), e.scrollWidth, e.clientWidth, innerWidth]); }}); }})()",
        deep(container)
    ))
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn long_unbroken_text_wraps_in_tray_rows_polls_and_banners() -> Result {
    let stack = Stack::start_demo()?;
    let long = |n: usize| "Ünbrokenwordwithoutanyspaces".repeat(n / 28 + 1)[..n].to_string();
    publish_story(&stack, "long-row", &long(90), &["One step"], 5_000)?;
    let now = now_ms();
    let poll = json!({
        "id": "long-poll", "question": long(90), "publish_at": now - 60_000,
        "expires_at": now + 86_400_000, "show_results": true,
        "kind": { "type": "choice", "options": [long(40), "https://northwind.example/a/very/long/path/without/spaces"] },
    });
    let res = stack.admin(
        "PUT",
        "/v1/admin/sites/demo/polls/long-poll",
        &poll.to_string(),
    )?;
    assert!(res.status < 300, "{} {}", res.status, res.body);
    stack.publish_session("long-session", &long(80), 3_600_000, 7_200_000)?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = browser.new_page()?;
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 320, "height": 640, "deviceScaleFactor": 2, "mobile": true }),
    )?;
    page.goto(&stack.url("/"))?;
    page.wait_text("[data-testid=glimpse-banners]", &long(80)[..20])?;
    assert_eq!(
        sticking_out(&mut page, "[data-testid=glimpse-banners]")?,
        json!([])
    );
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_text("[data-testid=glimpse-tray]", &long(90)[..20])?;
    assert_eq!(
        sticking_out(&mut page, "[data-testid=glimpse-tray]")?,
        json!([])
    );
    page.screenshot("42-tray-long-text-320")?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}
