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

/// `document.getElementById(host)`'s strip: the story ids of its buttons, in order.
fn strip_ids(page: &mut Page<'_>, host: &str) -> Result<Vec<String>> {
    let v = page.eval(&format!(
        "(() => {{ const r = document.getElementById({}).shadowRoot; if (!r) return []; \
         return [...r.querySelectorAll('button[data-story]')].map(b => b.dataset.story); }})()",
        serde_json::json!(host)
    ))?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn stories_show_inline_in_the_page_and_play_in_the_same_player() -> Result {
    let stack = Stack::start_demo()?;
    stack.without_demo_session()?;
    let expected: Vec<String> = stack
        .demo_stories_on("/demo/help")
        .iter()
        .map(|s| s.id.clone())
        .collect();
    assert!(expected.len() >= 2, "{expected:?}");
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = open_at(&mut browser, &stack.url("/demo/help"))?;
    page.call(
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({ "source": glimpse_e2e::cdp::HOST_GUARD }),
    )?;
    page.goto(&stack.url("/demo/help"))?;
    // Both strips — the page's `[data-glimpse-stories]` and the one a script mounted — list
    // the stories this page shows, in the feed's order, without any click.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (a, b) = (
            strip_ids(&mut page, "stories")?,
            strip_ids(&mut page, "later")?,
        );
        if a == expected && b == expected {
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("strips {a:?} / {b:?}, expected {expected:?}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Each shows its cover picture (the first slide's), loaded.
    page.wait_for(
        "(() => { const imgs = [...document.getElementById('stories').shadowRoot.querySelectorAll('img')]; \
         return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); })()",
        Duration::from_secs(20),
    )?;
    page.screenshot("96-inline-strip")?;
    // The host page's CSS (dashed red borders on every button and image) does not reach it.
    let border = page.eval(
        "getComputedStyle(document.getElementById('stories').shadowRoot.querySelector('button')).borderTopStyle",
    )?;
    assert_eq!(border, serde_json::json!("none"));
    // Titles are the stories' own, as text.
    let first = &expected[0];
    let title = stack
        .demo
        .stories
        .iter()
        .find(|s| &s.id == first)
        .map(|s| s.title.clone())
        .unwrap_or_default();
    let shown = page.eval(&format!(
        "document.getElementById('stories').shadowRoot.querySelector('[data-story={first}] .title').textContent"
    ))?;
    assert_eq!(shown, serde_json::json!(title));
    // A tap opens it in the player; once watched, its ring shows it as seen.
    page.eval(&format!(
        "document.getElementById('stories').shadowRoot.querySelector('[data-story={first}]').click(), true"
    ))?;
    page.wait_text(
        "[data-testid=glimpse-slide-text]",
        &first_slide(&stack, first)?,
    )?;
    page.press("Escape")?;
    page.wait_gone("[data-testid=glimpse-viewer]")?;
    page.wait_for(
        &format!(
            "document.getElementById('stories').shadowRoot.querySelector('[data-story={first}]').classList.contains('seen')"
        ),
        Duration::from_secs(10),
    )?;
    page.assert_host_page_clean()?;
    Ok(())
}
