//! Media in the player, with real pictures and a real video (the demo media `cargo xtask
//! build` makes) and every way media fails in the field: each request is counted on the
//! wire (CDP `Network`), failures are made by the browser itself (a real 404 from the
//! worker; `Fetch.failRequest`; bytes that are not a video; a response held past the load
//! limit), and the page counts every error and unhandled rejection that reaches it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, HOST_GUARD, Page, deep};
use glimpse_e2e::stack::{Stack, now_ms};
use serde_json::{Value, json};

/// The player's load limit for one media file (`MEDIA_TIMEOUT_MS`, 8 s), plus one retry.
const MEDIA_LIMIT: Duration = Duration::from_secs(8);

/// Publishes a story on the demo site through the admin API.
fn publish(stack: &Stack, id: &str, title: &str, slides: Value) -> Result {
    let now = now_ms();
    let story = json!({
        "id": id, "title": title, "topic": "account", "slides": slides,
        "publish_at": now - 1_000, "expires_at": now + 3_600_000
    });
    let res = stack.admin(
        "PUT",
        &format!("/v1/admin/sites/demo/stories/{id}"),
        &story.to_string(),
    )?;
    if res.status != 201 {
        return Err(format!("publish {id}: {} {}", res.status, res.body));
    }
    Ok(())
}

/// A tab on the demo page with the guard installed, the network recorded and the widget
/// up; `load` events inside the widget's shadow root are counted per URL (capture phase).
fn host_page<'b>(stack: &Stack, browser: &'b mut Browser) -> Result<Page<'b>> {
    let mut page = browser.new_page()?;
    page.call(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": HOST_GUARD }),
    )?;
    page.call("Network.enable", json!({}))?;
    page.goto(&stack.url("/"))?;
    page.wait_visible("[data-testid=glimpse-launcher]")?;
    page.eval(
        "(() => { const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && \
         e.shadowRoot.querySelector('[data-testid=glimpse-launcher]')); window.__loads = {}; \
         host.shadowRoot.addEventListener('load', e => { const t = e.target; \
         const u = new URL(t.currentSrc || t.src || 'about:blank', location.href); \
         const k = u.pathname + u.search; __loads[k] = (__loads[k] || 0) + 1; }, true); \
         return true; })()",
    )?;
    Ok(page)
}

/// Opens one story by id, as `Glimpse('open', { story })` does for a host page's button.
fn open_story(page: &mut Page<'_>, id: &str) -> Result {
    page.eval(&format!(
        "Glimpse('open', {{ story: {} }}), true",
        json!(id)
    ))?;
    page.wait_visible("[data-testid=glimpse-slide-text]")
}

/// Requests the page sent so far, per URL path (with its query).
fn requests(page: &mut Page<'_>) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for e in page.events("Network.requestWillBeSent") {
        let url = e["params"]["request"]["url"].as_str().unwrap_or_default();
        if let Some(rest) = url.split_once("://").map(|(_, r)| r)
            && let Some(at) = rest.find('/')
        {
            *out.entry(rest[at..].to_string()).or_default() += 1;
        }
    }
    out
}

fn requests_for(page: &mut Page<'_>, path: &str) -> u32 {
    requests(page).get(path).copied().unwrap_or(0)
}

fn media_js(expr: &str) -> String {
    format!(
        "(() => {{ const m = {}; return m ? {expr} : null; }})()",
        deep("[data-testid=glimpse-viewer] video.media")
    )
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_picture_story_requests_and_loads_each_picture_once() -> Result {
    let stack = Stack::start_demo()?;
    // The demo's own illustrations, under URLs no other story uses.
    let pictures = [
        "/media/demo/order-1-shipped.webp?e2e=once",
        "/media/demo/order-2-my-orders.webp?e2e=once",
        "/media/demo/order-3-chat.webp?e2e=once",
    ];
    let slides: Vec<Value> = pictures
        .iter()
        .enumerate()
        .map(|(i, url)| {
            json!({ "text": format!("Picture step {}", i + 1), "duration_ms": 3000,
                    "media": { "kind": "image", "url": url, "alt": format!("Step {} of the order", i + 1) } })
        })
        .collect();
    publish(&stack, "pictures", "Pictures", json!(slides))?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = host_page(&stack, &mut browser)?;
    open_story(&mut page, "pictures")?;

    // Each step really shows its picture, decoded, with its pixels, as the story plays.
    for (i, url) in pictures.iter().enumerate() {
        page.wait_text(
            "[data-testid=glimpse-slide-text]",
            &format!("Picture step {}", i + 1),
        )?;
        page.wait_for(
            &format!(
                "(() => {{ const i = {}; return !!i && i.currentSrc.endsWith({}) && i.complete && \
                 i.naturalWidth >= 500 && i.getBoundingClientRect().width > 0; }})()",
                deep("[data-testid=glimpse-viewer] img.media"),
                json!(url)
            ),
            Duration::from_secs(10),
        )?;
    }
    // The whole story plays by itself to its end card.
    page.wait_for(
        &format!("{} !== null", deep("[data-testid=glimpse-end-card]")),
        Duration::from_secs(40),
    )?;
    let seen = requests(&mut page);
    let loads = page.eval("__loads")?;
    for url in pictures {
        assert_eq!(
            seen.get(url).copied(),
            Some(1),
            "{url}: requested once over the whole story (preload included); requests: {seen:?}"
        );
        // A picture preloaded before its slide loads outside the shadow root (0 here).
        let n = loads[url].as_u64().unwrap_or(0);
        assert!(
            n <= 2,
            "{url}: {n} load events in the widget (at most 2); all: {loads}"
        );
    }
    page.assert_host_page_clean()?;
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_webm_slide_plays_muted_for_as_long_as_the_video_and_every_pause_reason_pauses_it() -> Result {
    let stack = Stack::start_demo()?;
    let video = "/media/demo/reset-tap.webm?e2e=play";
    // The fallback duration (12 s) is not what the slide lasts: the video's length (4 s) is.
    publish(
        &stack,
        "video",
        "Video",
        json!([
            { "text": "Watch the tap", "duration_ms": 12000,
              "media": { "kind": "video", "url": video, "alt": "A finger taps Forgot password" } },
            { "text": "After the video", "duration_ms": 5000 }
        ]),
    )?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = host_page(&stack, &mut browser)?;
    open_story(&mut page, "video")?;

    // It plays: starts muted, time advances, the progress bar follows the video.
    page.wait_for(&media_js("m.currentTime > 0.3"), Duration::from_secs(15))?;
    let started = Instant::now() - Duration::from_millis(300);
    assert_eq!(
        page.eval(&media_js("m.muted"))?,
        json!(true),
        "starts muted"
    );
    let duration = page
        .eval(&media_js("m.duration"))?
        .as_f64()
        .ok_or("no video duration")?;
    assert!(
        (3.5..=4.5).contains(&duration),
        "the demo video is 4 s: {duration}"
    );
    let p1 = page.story_progress()?;
    sleep_ms(700);
    let p2 = page.story_progress()?;
    let at = page
        .eval(&media_js("m.currentTime"))?
        .as_f64()
        .unwrap_or(0.0);
    assert!(p2 > p1, "the progress bar moves: {p1} -> {p2}");
    assert!(
        (p2 - at / duration).abs() < 0.2,
        "progress {p2} follows the video ({at:.2}s of {duration:.2}s)"
    );

    // The slide lasts as long as the video, not its 12 s fallback.
    page.wait_text("[data-testid=glimpse-slide-text]", "After the video")?;
    let lasted = started.elapsed().as_secs_f64();
    assert!(
        (duration - 1.0..=duration + 2.5).contains(&lasted),
        "the video slide lasted {lasted:.1}s for a {duration:.1}s video"
    );

    // Back to the video for the controls and the pause reasons.
    page.press("ArrowLeft")?;
    page.wait_text("[data-testid=glimpse-slide-text]", "Watch the tap")?;
    page.wait_for(
        &media_js("!m.paused && m.currentTime > 0.2"),
        Duration::from_secs(10),
    )?;

    // Unmute toggles sound on and off.
    page.click("[data-testid=glimpse-viewer] .unmute")?;
    page.wait_for(&media_js("m.muted === false"), Duration::from_secs(5))?;
    page.click("[data-testid=glimpse-viewer] .unmute")?;
    page.wait_for(&media_js("m.muted === true"), Duration::from_secs(5))?;

    let paused_still = |page: &mut Page<'_>, why: &str| -> Result {
        page.wait_for(&media_js("m.paused"), Duration::from_secs(5))
            .map_err(|e| format!("{why} does not pause the video: {e}"))?;
        let t0 = page.eval(&media_js("m.currentTime"))?;
        sleep_ms(600);
        assert_eq!(
            page.eval(&media_js("m.currentTime"))?,
            t0,
            "{why}: the video stands still"
        );
        Ok(())
    };
    let resumes = |page: &mut Page<'_>, why: &str| -> Result {
        page.wait_for(&media_js("!m.paused"), Duration::from_secs(5))
            .map_err(|e| format!("after {why} the video does not play again: {e}"))
            .map(|_| ())
    };

    // The pause button.
    page.click("[data-testid=glimpse-pause]")?;
    paused_still(&mut page, "the pause button")?;
    page.click("[data-testid=glimpse-pause]")?;
    resumes(&mut page, "the pause button")?;

    // Press and hold on the slide (a real mouse held down), then release.
    let c = page.eval(&format!(
        "(() => {{ const r = {}.getBoundingClientRect(); return {{ x: r.left + r.width * 0.75, y: r.top + r.height * 0.4 }}; }})()",
        deep("[data-testid=glimpse-viewer] .slide")
    ))?;
    page.call(
        "Input.dispatchMouseEvent",
        json!({ "type": "mouseMoved", "x": c["x"], "y": c["y"] }),
    )?;
    page.call(
        "Input.dispatchMouseEvent",
        json!({ "type": "mousePressed", "x": c["x"], "y": c["y"], "button": "left", "clickCount": 1 }),
    )?;
    paused_still(&mut page, "holding")?;
    page.call(
        "Input.dispatchMouseEvent",
        json!({ "type": "mouseReleased", "x": c["x"], "y": c["y"], "button": "left", "clickCount": 1 }),
    )?;
    resumes(&mut page, "holding")?;
    assert_eq!(
        page.text("[data-testid=glimpse-slide-text]")?,
        "Watch the tap",
        "releasing a hold does not navigate"
    );

    // A hidden tab. Headless Chromium has no real tab switch, so the page's visibility is
    // overridden and announced exactly as the browser does it (a bubbling
    // `visibilitychange` on the document).
    let set_visible = |page: &mut Page<'_>, visible: bool| -> Result {
        page.eval(&format!(
            "(() => {{ const s = {v}; Object.defineProperty(document, 'visibilityState', {{ configurable: true, get: () => s ? 'visible' : 'hidden' }}); \
             Object.defineProperty(document, 'hidden', {{ configurable: true, get: () => !s }}); \
             document.dispatchEvent(new Event('visibilitychange', {{ bubbles: true }})); return true; }})()",
            v = visible
        ))
        .map(|_| ())
    };
    set_visible(&mut page, false)?;
    paused_still(&mut page, "a hidden tab")?;
    set_visible(&mut page, true)?;
    resumes(&mut page, "a visible tab")?;

    // One video element, fetched once for the whole visit (playing, going back, pausing).
    let n = requests_for(&mut page, video);
    assert!(
        n == 1,
        "{video}: requested {n} times; all requests: {:?}",
        requests(&mut page)
    );
    page.assert_host_page_clean()?;
    Ok(())
}

/// One way media fails, made real for the browser.
#[derive(Debug, Clone, Copy)]
enum Failure {
    /// The worker answers 404.
    NotFound,
    /// The connection fails (`Fetch.failRequest`).
    NetworkError,
    /// 200 with `video/webm` bytes that are not a video.
    Undecodable,
    /// The response never comes within the load limit (the request is held).
    TooSlow,
}

impl Failure {
    fn story(self) -> &'static str {
        match self {
            Self::NotFound => "fails-404",
            Self::NetworkError => "fails-network",
            Self::Undecodable => "fails-undecodable",
            Self::TooSlow => "fails-slow",
        }
    }

    fn url(self) -> &'static str {
        match self {
            // Not intercepted: the worker's own 404.
            Self::NotFound => "/media/missing/step-1.webp",
            Self::NetworkError => "/media/e2e/offline.webp",
            Self::Undecodable => "/media/e2e/not-a-video.webm",
            Self::TooSlow => "/media/e2e/slow.webp",
        }
    }

    fn media(self) -> Value {
        match self {
            Self::Undecodable => {
                json!({ "kind": "video", "url": self.url(), "alt": "A broken video" })
            }
            _ => {
                json!({ "kind": "image", "url": self.url(), "alt": "A picture that will not come" })
            }
        }
    }
}

/// Answers the requests paused by `Fetch` (only `/media/e2e/…`) the way each failure
/// needs; held requests are kept in `held`.
fn answer_paused(page: &mut Page<'_>, held: &mut Vec<String>) -> Result {
    use base64::Engine;
    for e in page.take_events("Fetch.requestPaused") {
        let id = e["params"]["requestId"].as_str().unwrap_or_default();
        let url = e["params"]["request"]["url"].as_str().unwrap_or_default();
        if url.contains(Failure::NetworkError.url()) {
            page.call(
                "Fetch.failRequest",
                json!({ "requestId": id, "errorReason": "ConnectionReset" }),
            )?;
        } else if url.contains(Failure::Undecodable.url()) {
            let junk = "This is a text file pretending to be a WebM video. ".repeat(64);
            page.call(
                "Fetch.fulfillRequest",
                json!({ "requestId": id, "responseCode": 200,
                        "responseHeaders": [{ "name": "Content-Type", "value": "video/webm" }],
                        "body": base64::engine::general_purpose::STANDARD.encode(junk) }),
            )?;
        } else if url.contains(Failure::TooSlow.url()) {
            held.push(id.to_string());
        } else {
            page.call("Fetch.continueRequest", json!({ "requestId": id }))?;
        }
    }
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn media_that_fails_or_stalls_shows_the_text_with_a_note_and_the_story_moves_on() -> Result {
    let stack = Stack::start_demo()?;
    let cases = [
        Failure::NotFound,
        Failure::NetworkError,
        Failure::Undecodable,
        Failure::TooSlow,
    ];
    for case in cases {
        publish(
            &stack,
            case.story(),
            &format!("Broken media: {case:?}"),
            json!([
                { "text": format!("Step with {case:?}"), "duration_ms": 4000, "media": case.media() },
                { "text": format!("After {case:?}"), "duration_ms": 5000 }
            ]),
        )?;
    }
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = host_page(&stack, &mut browser)?;
    page.call(
        "Fetch.enable",
        json!({ "patterns": [{ "urlPattern": "*/media/e2e/*", "requestStage": "Request" }] }),
    )?;
    let mut held = Vec::new();
    for case in cases {
        open_story(&mut page, case.story())?;
        let step = format!("Step with {case:?}");
        let after = format!("After {case:?}");
        // Watch, in the page, what the visitor sees every 50 ms.
        page.eval(&format!(
            "(() => {{ window.__seen = []; clearInterval(window.__watch); window.__watch = setInterval(() => {{ \
             const t = {}; const f = {}; \
             __seen.push({{ text: t ? t.innerText : null, failed: !!f && f.getBoundingClientRect().height > 0, \
             note: f ? f.innerText : '' }}); }}, 50); return true; }})()",
            deep("[data-testid=glimpse-slide-text]"),
            deep("[data-testid=glimpse-media-failed]")
        ))?;
        let limit = MEDIA_LIMIT * 2 + Duration::from_secs(20);
        let deadline = Instant::now() + limit;
        loop {
            answer_paused(&mut page, &mut held)?;
            let text = page
                .text("[data-testid=glimpse-slide-text]")
                .unwrap_or_default();
            if text.contains(&after) {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{case:?}: the story did not move on within {limit:?}; still showing {text:?}"
                ));
            }
            sleep_ms(50);
        }
        let seen = page.eval("clearInterval(__watch), __seen")?;
        let failed_with_text = seen.as_array().is_some_and(|all| {
            all.iter().any(|s| {
                s["failed"] == json!(true)
                    && s["text"].as_str().is_some_and(|t| t.contains(&step))
                    && !s["note"].as_str().unwrap_or_default().trim().is_empty()
            })
        });
        assert!(
            failed_with_text,
            "{case:?}: the slide showed its text with a visible \"couldn't load\" note"
        );
        // Stay a moment on the next slide: no request storm behind it.
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            answer_paused(&mut page, &mut held)?;
            sleep_ms(50);
        }
        let n = requests_for(&mut page, case.url());
        assert!(
            (1..=2).contains(&n),
            "{case:?}: {} requested {n} times (once, plus at most one retry)",
            case.url()
        );
        page.press("Escape")?;
        page.wait_gone("[data-testid=glimpse-viewer]")?;
    }
    for id in held {
        let _ = page.call(
            "Fetch.failRequest",
            json!({ "requestId": id, "errorReason": "TimedOut" }),
        );
    }
    page.assert_host_page_clean()?;
    Ok(())
}
