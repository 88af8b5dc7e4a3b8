//! The media library end to end: an operator uploads a large photo, a video and its captions
//! in the console (the photo scaled to 1600 px WebP in the browser), builds a video slide by
//! choosing them from the library, publishes, and a visitor's widget plays the video with its
//! poster and the captions showing; the file in use cannot be deleted; Range requests work.

use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, Page, deep};
use glimpse_e2e::stack::Stack;
use serde_json::{Value, json};

const CUE: &str = "Tap Forgot password";

/// Gives the file input `selector` the files at `paths`, as choosing them would.
fn choose_files(page: &mut Page<'_>, selector: &str, paths: &[&std::path::Path]) -> Result {
    let input = page.call("Runtime.evaluate", json!({ "expression": deep(selector) }))?;
    let object_id = input["result"]["objectId"]
        .as_str()
        .ok_or_else(|| format!("no file input {selector}"))?
        .to_string();
    let files: Vec<String> = paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    page.call(
        "DOM.setFileInputFiles",
        json!({ "files": files, "objectId": object_id }),
    )?;
    Ok(())
}

fn library(stack: &Stack) -> Result<Vec<Value>> {
    let res = stack.admin("GET", "/v1/admin/sites/demo/media", "")?;
    let v: Value = serde_json::from_str(&res.body).map_err(|e| e.to_string())?;
    Ok(v["items"].as_array().cloned().unwrap_or_default())
}

fn of_kind<'a>(items: &'a [Value], kind: &str) -> Result<&'a Value> {
    items
        .iter()
        .find(|i| i["kind"] == kind)
        .ok_or_else(|| format!("no {kind} in {items:?}"))
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn uploaded_video_with_poster_and_captions_plays_in_the_widget() -> Result {
    let stack = Stack::start_demo()?;
    stack.without_demo_session()?;
    // A camera-sized photo (ImageMagick), the demo's real video, and captions for it.
    let dir = xtask::at("target/e2e/media-upload");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let photo = dir.join("counter-photo.png");
    let made = std::process::Command::new("convert")
        .args(["-size", "3000x2000", "plasma:orange-purple"])
        .arg(&photo)
        .status()
        .map_err(|e| format!("convert: {e}"))?;
    assert!(made.success(), "convert failed");
    let photo_bytes = std::fs::metadata(&photo).map_err(|e| e.to_string())?.len();
    let video = xtask::at("worker/assets/media/demo/reset-tap.webm");
    let captions = dir.join("reset-tap.vtt");
    std::fs::write(
        &captions,
        format!("WEBVTT\n\n00:00.000 --> 00:30.000\n{CUE}\n"),
    )
    .map_err(|e| e.to_string())?;

    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = stack.console(&mut browser)?;
    page.click("[data-testid=nav-media]")?;
    page.wait_visible("[data-testid=media-upload]")?;
    choose_files(
        &mut page,
        "[data-testid=media-upload]",
        &[&photo, &video, &captions],
    )?;
    page.wait_for(
        "document.querySelectorAll('.media-library .media-item').length === 3",
        Duration::from_secs(60),
    )?;
    page.screenshot("90-media-library")?;
    let items = library(&stack)?;
    // The photo was scaled and re-encoded in the browser before it was sent.
    let picture = of_kind(&items, "image")?.clone();
    assert_eq!(picture["content_type"], "image/webp");
    assert_eq!(picture["name"], "counter-photo.webp");
    assert!(
        picture["bytes"].as_u64().unwrap_or(u64::MAX) < photo_bytes,
        "{picture} vs {photo_bytes} bytes"
    );
    let clip = of_kind(&items, "video")?.clone();
    assert_eq!(clip["content_type"], "video/webm");
    let cc = of_kind(&items, "captions")?.clone();
    let url = |v: &Value| v["url"].as_str().unwrap_or_default().to_string();
    let id = |v: &Value| v["id"].as_str().unwrap_or_default().to_string();
    let size = page.eval(&format!(
        "new Promise(r => {{ const i = new Image(); i.onload = () => r([i.naturalWidth, i.naturalHeight]); i.onerror = () => r(null); i.src = {}; }})",
        json!(url(&picture))
    ))?;
    assert_eq!(
        size,
        json!([1600, 1067]),
        "scaled to 1600 px on its longer edge"
    );

    // A new story whose slide is the video, with the photo as poster and the captions, all
    // chosen from the library.
    page.click("[data-testid=nav-stories]")?;
    page.click("[data-testid=new-story]")?;
    page.wait_visible("[data-testid=story-editor]")?;
    page.fill("[data-testid=story-title]", "Reset from the app")?;
    page.fill("[data-testid=story-topic]", "account")?;
    page.fill(
        "[data-testid=slide-0-text]",
        "Tap Forgot password on the sign-in screen.",
    )?;
    page.fill("[data-testid=slide-0-media-kind]", "video")?;
    page.click("[data-testid=slide-0-choose-media]")?;
    page.click(&format!(
        "[data-testid=slide-0-choose-media-use-{}]",
        id(&clip)
    ))?;
    page.wait_for(
        &format!(
            "{}.value === {}",
            deep("[data-testid=slide-0-media-url]"),
            json!(url(&clip))
        ),
        Duration::from_secs(10),
    )?;
    page.click("[data-testid=slide-0-choose-poster]")?;
    page.click(&format!(
        "[data-testid=slide-0-choose-poster-use-{}]",
        id(&picture)
    ))?;
    page.click("[data-testid=slide-0-choose-captions]")?;
    page.click(&format!(
        "[data-testid=slide-0-choose-captions-use-{}]",
        id(&cc)
    ))?;
    page.fill(
        "[data-testid=slide-0-media-alt]",
        "A finger taps Forgot password",
    )?;
    page.wait_for(
        &format!(
            "{}.value === {}",
            deep("[data-testid=slide-0-media-captions]"),
            json!(url(&cc))
        ),
        Duration::from_secs(10),
    )?;
    page.screenshot("91-media-slide")?;
    page.click("[data-testid=publish]")?;
    page.wait_text("[data-testid=published]", "reset-from-the-app")?;

    // In use: the library refuses to delete the video and says by what.
    page.click("[data-testid=nav-media]")?;
    page.click(&format!("[data-testid=media-delete-{}]", id(&clip)))?;
    page.wait_text("[data-testid=media-error]", "reset-from-the-app")?;
    assert_eq!(library(&stack)?.len(), 3);

    // A video element's requests: one range at a time.
    let ranged = stack.request("GET", &url(&clip), &[("range", "bytes=0-99")], "")?;
    assert_eq!(ranged.status, 206);
    assert_eq!(
        ranged
            .headers
            .get("content-length")
            .and_then(|v| v.to_str().ok()),
        Some("100")
    );
    let total = std::fs::metadata(&video).map_err(|e| e.to_string())?.len();
    assert_eq!(
        ranged
            .headers
            .get("content-range")
            .and_then(|v| v.to_str().ok()),
        Some(format!("bytes 0-99/{total}").as_str())
    );
    assert_eq!(
        ranged
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("public, max-age=31536000, immutable")
    );

    // A visitor opens the story: the video plays, its poster and captions are the library's,
    // and the captions show by default.
    Stack::await_visitors();
    let mut visitor = browser.new_page()?;
    visitor.set_viewport(1280, 900)?;
    visitor.goto(&stack.url("/"))?;
    visitor.wait_visible("[data-testid=glimpse-launcher]")?;
    visitor.eval("Glimpse('open', { story: 'reset-from-the-app' }), true")?;
    let video_el = deep("[data-testid=glimpse-viewer] video");
    visitor.wait_for(&format!("!!{video_el}"), Duration::from_secs(20))?;
    let poster = visitor.eval(&format!("{video_el}.poster"))?;
    assert_eq!(poster, json!(stack.url(&url(&picture))));
    let cue = visitor.wait_for(
        &format!(
            "(() => {{ const t = {video_el}.textTracks[0]; \
             return t && t.mode === 'showing' && t.cues && t.cues.length ? t.cues[0].text : ''; }})()"
        ),
        Duration::from_secs(20),
    )?;
    assert_eq!(cue, json!(CUE));
    visitor.wait_for(
        &format!("{video_el}.currentTime > 0"),
        Duration::from_secs(20),
    )?;
    visitor.screenshot("92-media-captions")?;
    assert!(
        visitor.exceptions().is_empty(),
        "{:?}",
        visitor.exceptions()
    );
    Ok(())
}
