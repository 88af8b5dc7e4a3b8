//! A visitor on the demo page opens a story from the launcher, in real headless Chromium
//! against the real worker in wrangler dev.

use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::cdp::Browser;
use glimpse_e2e::stack::Stack;
use glimpse_shared::{ApiError, ErrorBody, Feed};

fn feed(stack: &Stack) -> Result<Feed> {
    let (status, body) = stack.get("/v1/sites/demo/feed")?;
    if status != 200 {
        return Err(format!("feed answered {status}: {body}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("feed JSON: {e}: {body}"))
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn the_worker_serves_the_seeded_feed_from_kv() -> Result {
    let stack = Stack::start_demo()?;
    let before = glimpse_e2e::stack::now_ms();
    let feed = feed(&stack)?;
    assert_eq!(feed.site.id, "demo");
    assert_eq!(feed.site.name, stack.demo.site.name);
    assert!(
        feed.now >= before - 5_000 && feed.now <= glimpse_e2e::stack::now_ms() + 5_000,
        "feed.now {} is the server's clock",
        feed.now
    );
    let mut served: Vec<_> = feed.stories.iter().map(|s| s.id.clone()).collect();
    let mut seeded: Vec<_> = stack.demo.stories.iter().map(|s| s.id.clone()).collect();
    served.sort();
    seeded.sort();
    assert_eq!(served, seeded);

    let (status, body) = stack.get("/v1/sites/no-such-site/feed")?;
    assert_eq!(status, 404);
    let err: ErrorBody = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    assert_eq!(
        err.error,
        ApiError {
            status: 0,
            ..ApiError::not_found("site")
        }
    );

    let (status, body) = stack.get("/health")?;
    assert_eq!(status, 200, "{body}");
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_visitor_opens_a_story_from_the_launcher_and_reads_its_slides() -> Result {
    let stack = Stack::start_demo()?;
    let feed = feed(&stack)?;
    let story = feed.stories.first().ok_or("the demo feed has no story")?;

    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = browser.new_page()?;
    page.goto(&stack.url("/"))?;

    // The demo page embeds the widget with exactly one script tag, from this origin.
    let tags = page.eval("[...document.scripts].map(s => s.outerHTML)")?;
    assert_eq!(
        tags,
        serde_json::json!([format!(
            r#"<script src="{}/widget.js" data-site="demo" async=""></script>"#,
            stack.server.url()
        )])
    );
    assert_eq!(
        page.eval("Object.keys(window).filter(k => k.toLowerCase().includes('glimpse'))")?,
        serde_json::json!(["Glimpse"]),
        "the only global is window.Glimpse"
    );

    page.wait_visible("[data-testid=glimpse-launcher]")?;
    let label = page.eval(&format!(
        "{}.getAttribute('aria-label')",
        glimpse_e2e::cdp::deep("[data-testid=glimpse-launcher]")
    ))?;
    assert_eq!(
        label,
        serde_json::json!(format!(
            "Open help stories, {} new",
            stack.demo_stories_on("/").len()
        ))
    );
    page.screenshot("01-demo-page-with-launcher")?;

    page.click("[data-testid=glimpse-launcher]")?;
    page.wait_visible("[data-testid=glimpse-tray]")?;
    page.click("[data-testid=glimpse-story-item]")?;
    page.wait_visible("[data-testid=glimpse-viewer]")?;
    let viewer_label = page.eval(&format!(
        "{}.getAttribute('aria-label')",
        glimpse_e2e::cdp::deep("[role=dialog][aria-modal=true]")
    ))?;
    assert_eq!(viewer_label, serde_json::json!(story.title));
    for (i, slide) in story.slides.iter().enumerate() {
        page.wait_for(
            &format!(
                "{}.innerText === {}",
                glimpse_e2e::cdp::deep("[data-testid=glimpse-slide-text]"),
                serde_json::json!(slide.text)
            ),
            Duration::from_secs(5),
        )?;
        if i == 0 {
            page.screenshot("02-story-first-slide")?;
        }
        if i + 1 < story.slides.len() {
            page.click("[data-testid=glimpse-next]")?;
        }
    }

    // Escape closes the story and gives focus back to the launcher.
    page.press("Escape")?;
    page.wait_for(
        &format!(
            "{} === null",
            glimpse_e2e::cdp::deep("[data-testid=glimpse-viewer]")
        ),
        Duration::from_secs(5),
    )?;
    page.wait_for(
        "document.activeElement && document.activeElement.localName === 'glimpse-widget' && \
         document.activeElement.shadowRoot.activeElement.dataset.testid === 'glimpse-launcher'",
        Duration::from_secs(5),
    )?;

    assert_eq!(
        page.exceptions(),
        Vec::<String>::new(),
        "no uncaught errors"
    );
    Ok(())
}
