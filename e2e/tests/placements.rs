//! Stories outside the corner button: a link to a story (`#glimpse=<id>`, `?glimpse=<id>`)
//! opens it on arrival or when followed on the page, on the demo page and on a plain host
//! page, and a link that names no story (or no valid id) opens nothing and breaks nothing.

use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, Page, deep};
use glimpse_e2e::stack::Stack;

/// The first slide's text of the demo's story `id`.
fn first_slide(stack: &Stack, id: &str) -> Result<String> {
    stack
        .demo
        .stories
        .iter()
        .find(|s| s.id == id)
        .and_then(|s| s.slides.first())
        .map(|s| s.text.clone())
        .ok_or_else(|| format!("no demo story {id}"))
}

fn open_at<'b>(browser: &'b mut Browser, url: &str) -> Result<Page<'b>> {
    let mut page = browser.new_page()?;
    page.set_viewport(1280, 900)?;
    page.goto(url)?;
    Ok(page)
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_link_to_a_story_opens_it() -> Result {
    let stack = Stack::start_demo()?;
    stack.without_demo_session()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let track = first_slide(&stack, "track-order")?;
    let reset = first_slide(&stack, "reset-password")?;

    // On arrival, by fragment: the viewer opens at the story without a click (the bundle
    // loads at once instead of waiting for the page to be idle).
    {
        let mut page = open_at(&mut browser, &stack.url("/#glimpse=track-order"))?;
        page.wait_text("[data-testid=glimpse-slide-text]", &track)?;
        page.screenshot("95-deep-link")?;
        // Following a link on the page to another story opens that one.
        page.eval("location.hash = 'glimpse=reset-password', true")?;
        page.wait_text("[data-testid=glimpse-slide-text]", &reset)?;
        assert!(page.exceptions().is_empty(), "{:?}", page.exceptions());
    }
    // By query, beside the page's own parameters.
    {
        let mut page = open_at(
            &mut browser,
            &stack.url("/?utm_source=mail&glimpse=reset-password&x=1"),
        )?;
        page.wait_text("[data-testid=glimpse-slide-text]", &reset)?;
    }
    // No such story, or not an id at all: nothing opens, the launcher works, nothing throws.
    for url in [
        "/#glimpse=no-such-story",
        "/#glimpse=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/?glimpse=",
    ] {
        let mut page = open_at(&mut browser, &stack.url(url))?;
        page.wait_visible("[data-testid=glimpse-launcher]")?;
        // Give an open a chance to happen (the feed and the app chunk) before checking.
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(
            page.eval(&format!("!!{}", deep("[data-testid=glimpse-viewer]")))?,
            serde_json::json!(false),
            "{url}"
        );
        page.click("[data-testid=glimpse-launcher]")?;
        page.wait_visible("[data-testid=glimpse-tray]")?;
        assert!(
            page.exceptions().is_empty(),
            "{url}: {:?}",
            page.exceptions()
        );
    }
    Ok(())
}
