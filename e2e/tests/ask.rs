//! Ask a question end to end: a visitor asks with a photo, an operator answers through the
//! admin API, the visitor sees the reply in the widget; card numbers are stopped with the
//! right channels offered; topics handled elsewhere show their channels.

use std::io::Write;
use std::time::{Duration, Instant};

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, Page, deep};
use glimpse_e2e::stack::Stack;
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(20);

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A `width` × `height` RGB PNG with a gradient, big enough to need downscaling.
fn png(width: u32, height: u32) -> Result<Vec<u8>> {
    let mut raw = Vec::with_capacity((width * 3 + 1) as usize * height as usize);
    for y in 0..height {
        raw.push(0);
        for x in 0..width {
            raw.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&raw).map_err(|e| e.to_string())?;
    let idat = z.finish().map_err(|e| e.to_string())?;
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &idat);
    chunk(b"IEND", &[]);
    Ok(out)
}

/// Width and height from a JPEG's start-of-frame segment.
fn jpeg_size(bytes: &[u8]) -> Option<(u16, u16)> {
    let mut i = 2;
    while i + 9 < bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        if (0xC0..=0xC3).contains(&marker) {
            let h = u16::from_be_bytes([bytes[i + 5], bytes[i + 6]]);
            let w = u16::from_be_bytes([bytes[i + 7], bytes[i + 8]]);
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

fn open_tray<'b>(stack: &Stack, browser: &'b mut Browser) -> Result<Page<'b>> {
    let mut page = browser.new_page()?;
    page.set_viewport(1280, 900)?;
    page.goto(&stack.url("/"))?;
    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_visible("[data-testid=glimpse-ask]")?;
    Ok(page)
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_visitor_asks_with_a_photo_and_sees_the_teams_reply() -> Result {
    let stack = Stack::start_demo()?;
    let photo = xtask::at("target/e2e/photo-2400x1600.png");
    std::fs::write(&photo, png(2400, 1600)?).map_err(|e| e.to_string())?;

    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = open_tray(&stack, &mut browser)?;
    page.fill("[data-testid=glimpse-ask-topic]", "orders")?;
    page.fill(
        "[data-testid=glimpse-ask-message]",
        "The parcel arrived crushed, see the photo.",
    )?;
    let input = page.call(
        "Runtime.evaluate",
        json!({ "expression": deep("[data-testid=glimpse-ask-photo]") }),
    )?;
    let object_id = input["result"]["objectId"]
        .as_str()
        .ok_or("no file input")?
        .to_string();
    page.call(
        "DOM.setFileInputFiles",
        json!({ "files": [photo.to_string_lossy()], "objectId": object_id }),
    )?;
    page.screenshot("30-ask-form")?;
    page.click("[data-testid=glimpse-ask-send]")?;
    page.wait_visible("[data-testid=glimpse-thread]")?;

    // The operator sees it (once the queue has applied it, about a second), with the photo
    // downscaled to at most 1280 px and 1 MB.
    let deadline = Instant::now() + Duration::from_secs(20);
    let q = loop {
        let list = stack.admin("GET", "/v1/admin/sites/demo/questions", "")?;
        let v: Value = serde_json::from_str(&list.body).map_err(|e| e.to_string())?;
        let found = v["questions"].as_array().and_then(|a| {
            a.iter()
                .find(|q| q["preview"] == "The parcel arrived crushed, see the photo.")
                .cloned()
        });
        if let Some(q) = found {
            break q;
        }
        if Instant::now() > deadline {
            return Err(format!("question not listed: {}", list.body));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let id = q["id"].as_str().ok_or("no id")?.to_string();
    let deadline = std::time::Instant::now() + TIMEOUT;
    let photo = loop {
        let auth = format!("Bearer {}", stack.admin_token);
        let res = stack.request(
            "GET",
            &format!("/v1/sites/demo/questions/{id}/photo"),
            &[("authorization", &auth)],
            "",
        )?;
        if res.status == 200 {
            break res;
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("no photo arrived: {} {}", res.status, res.body));
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(photo.header("content-type"), Some("image/jpeg"));
    // The thread says it has a photo; its bytes are read through the browser (binary-safe).
    let thread = stack.admin("GET", &format!("/v1/sites/demo/questions/{id}"), "")?;
    assert!(thread.body.contains("\"photo\":true"), "{}", thread.body);
    let size = page.eval(&format!(
        "fetch('/v1/sites/demo/questions/{id}/photo', {{ headers: {{ authorization: 'Bearer {}' }} }}) \
         .then(r => r.arrayBuffer()).then(b => Array.from(new Uint8Array(b)))",
        stack.admin_token
    ))?;
    let bytes: Vec<u8> = serde_json::from_value(size).map_err(|e| e.to_string())?;
    assert!(bytes.len() <= 1024 * 1024, "{} bytes", bytes.len());
    let (w, h) = jpeg_size(&bytes).ok_or("not a JPEG")?;
    assert_eq!(
        (w, h),
        (1280, 853),
        "downscaled to 1280 px on the longer side"
    );

    // The operator replies; the visitor sees it in the open widget.
    let res = stack.admin(
        "POST",
        &format!("/v1/admin/sites/demo/questions/{id}/replies"),
        &json!({"text": "So sorry! A replacement is on its way."}).to_string(),
    )?;
    assert_eq!(res.status, 201, "{}", res.body);
    page.wait_for(
        &format!("(() => {{ const r = {}; return r && r.innerText.includes('replacement is on its way'); }})()", deep("[data-testid=glimpse-reply]")),
        TIMEOUT,
    )?;
    page.screenshot("31-ask-reply")?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn card_numbers_are_stopped_and_other_topics_show_their_channels() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = open_tray(&stack, &mut browser)?;
    page.fill("[data-testid=glimpse-ask-topic]", "orders")?;
    page.fill(
        "[data-testid=glimpse-ask-message]",
        "Refund to my card 4111 1111 1111 1111 please",
    )?;
    page.wait_visible("[data-testid=glimpse-ask-sensitive]")?;
    let warning = page.text("[data-testid=glimpse-ask-sensitive]")?;
    // Orders are served by email and phone in the demo site.
    assert!(
        warning.contains("Email support") && warning.contains("Call us"),
        "{warning}"
    );
    assert_eq!(
        page.eval(&format!(
            "{}.disabled",
            deep("[data-testid=glimpse-ask-send]")
        ))?,
        json!(true),
        "sending is blocked"
    );
    let href = page.eval(&format!(
        "{}.getAttribute('href')",
        deep("[data-testid=glimpse-ask-sensitive] [data-testid=glimpse-channel]")
    ))?;
    let href = href.as_str().unwrap_or_default().to_string();
    assert!(
        href.starts_with("mailto:help@northwind.example?subject="),
        "{href}"
    );
    assert!(
        !href.contains("4111"),
        "the card number never goes into a link: {href}"
    );
    page.screenshot("32-ask-sensitive")?;

    // Billing is handled elsewhere: no form, the billing channels instead.
    page.fill("[data-testid=glimpse-ask-topic]", "billing")?;
    page.wait_visible("[data-testid=glimpse-ask-elsewhere]")?;
    assert!(!page.exists("[data-testid=glimpse-ask-message]")?);
    let elsewhere = page.text("[data-testid=glimpse-ask-elsewhere]")?;
    assert!(elsewhere.contains("Call us"), "{elsewhere}");
    page.screenshot("33-ask-other-channel")?;
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn an_expired_story_is_found_in_search_and_on_the_kb_page() -> Result {
    let stack = Stack::start_demo()?;
    let now = glimpse_e2e::stack::now_ms();
    let story = json!({
        "id": "winter-hours", "title": "Winter delivery hours", "topic": "orders",
        "slides": [{"text": "Between December and February we deliver until 6 pm.", "duration_ms": 5000}],
        "publish_at": now - 3 * 86_400_000, "expires_at": now - 86_400_000
    });
    let res = stack.admin(
        "PUT",
        "/v1/admin/sites/demo/stories/winter-hours",
        &story.to_string(),
    )?;
    assert_eq!(res.status, 201, "{}", res.body);
    let (_, feed) = stack.get("/v1/sites/demo/feed")?;
    assert!(!feed.contains("winter-hours"), "expired: not in the feed");

    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = open_tray(&stack, &mut browser)?;
    page.fill("[data-testid=glimpse-kb-search]", "winter delivery")?;
    page.wait_visible("[data-testid=glimpse-kb-result]")?;
    assert_eq!(
        page.text("[data-testid=glimpse-kb-result]")?,
        "Winter delivery hours"
    );
    page.click("[data-testid=glimpse-kb-result]")?;
    page.wait_for(
        &format!(
            "(() => {{ const b = {}; return b && b.innerText.includes('deliver until 6 pm'); }})()",
            deep(".kb-body")
        ),
        TIMEOUT,
    )?;
    page.screenshot("34-kb-search")?;

    // The plain HTML page has it too, without JavaScript.
    let (status, html) = stack.get("/kb/demo?q=winter")?;
    assert_eq!(status, 200);
    assert!(
        html.contains("Winter delivery hours") && html.contains("deliver until 6 pm"),
        "{html}"
    );
    Ok(())
}
