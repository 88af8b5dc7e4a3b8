//! Targeting in the real widget on real host pages (`demo/pages/shop.html`, a single-page
//! app, and `demo/pages/pricing.html`): two pages show different stories from the same
//! cached feed, an SPA route change swaps them without a reload, page labels bring in a poll,
//! and a frequency cap ("at most 3 page views a day") holds across page loads.

use std::time::Duration;

use glimpse_e2e::Result;
use glimpse_e2e::cdp::{Browser, Page, deep};
use glimpse_e2e::stack::Stack;
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(20);
const LAUNCHER: &str = "[data-testid=glimpse-launcher]";
const TRAY: &str = "[data-testid=glimpse-tray]";

/// The demo's titles (demo/content).
const TRACK_ORDER: &str = "Where is my order?";
const RESET: &str = "Reset your password";
const PLANS: &str = "Pause or skip a delivery";
const CHECKOUT_POLL: &str = "How easy was checkout today?";

/// Waits until the open tray lists every one of `shown` and none of `hidden`.
fn tray_lists(page: &mut Page<'_>, shown: &[&str], hidden: &[&str]) -> Result {
    let js = format!(
        "(() => {{ const t = {}; if (!t) return false; const text = t.innerText; \
         return {}.every(s => text.includes(s)) && !{}.some(s => text.includes(s)); }})()",
        deep(TRAY),
        json!(shown),
        json!(hidden)
    );
    if page.wait_for(&js, TIMEOUT).is_ok() {
        return Ok(());
    }
    let listed = page.text(TRAY).unwrap_or_default();
    let url = page.eval("location.href")?;
    Err(format!(
        "on {url} the tray should list {shown:?} and not {hidden:?}; it lists:\n{listed}"
    ))
}

/// Opens the tray unless it is open.
fn open_tray(page: &mut Page<'_>) -> Result {
    if !page.exists(TRAY)? {
        page.click(LAUNCHER)?;
    }
    page.wait_visible(TRAY)
}

fn launcher_label(page: &mut Page<'_>) -> Result<String> {
    let v = page.eval(&format!("{}.getAttribute('aria-label')", deep(LAUNCHER)))?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

fn visit<'b>(browser: &'b mut Browser, url: &str) -> Result<Page<'b>> {
    let mut page = browser.new_page()?;
    page.set_viewport(1280, 800)?;
    page.goto(url)?;
    page.wait_visible(LAUNCHER)?;
    Ok(page)
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn two_pages_show_different_stories_and_an_spa_route_change_swaps_them() -> Result {
    let stack = Stack::start_demo()?;
    // The demo's live-session banner sits over the shop's navigation; not what this tests.
    stack.without_demo_session()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;

    // The shop: the order story, not the subscription one (targeted at /demo/pricing).
    let mut page = visit(&mut browser, &stack.url("/demo/shop"))?;
    assert_eq!(launcher_label(&mut page)?, "Open help stories, 2 new");
    open_tray(&mut page)?;
    tray_lists(&mut page, &[TRACK_ORDER, RESET], &[PLANS, CHECKOUT_POLL])?;
    page.press("Escape")?;
    page.wait_gone(TRAY)?;

    // A route change in the app (history.pushState, no reload): the stories swap.
    page.eval("window.__same_document = true")?;
    page.click("[data-testid=nav-pricing]")?;
    page.wait_for("location.pathname === '/demo/pricing'", TIMEOUT)?;
    open_tray(&mut page)?;
    tray_lists(&mut page, &[PLANS, RESET], &[TRACK_ORDER, CHECKOUT_POLL])?;
    assert_eq!(launcher_label(&mut page)?, "Open help stories, 2 new");
    page.press("Escape")?;
    page.wait_gone(TRAY)?;

    // The checkout step labels the page `checkout` (Glimpse('page', {labels})): its poll
    // shows, with the shop's stories again.
    page.click("[data-testid=nav-checkout]")?;
    page.wait_for("location.search === '?step=checkout'", TIMEOUT)?;
    open_tray(&mut page)?;
    tray_lists(&mut page, &[TRACK_ORDER, RESET, CHECKOUT_POLL], &[PLANS])?;
    page.press("Escape")?;
    page.wait_gone(TRAY)?;

    // Back to the subscriptions route (popstate): its story again, and no checkout poll.
    page.eval("history.back()")?;
    page.wait_for("location.pathname === '/demo/pricing'", TIMEOUT)?;
    open_tray(&mut page)?;
    tray_lists(&mut page, &[PLANS, RESET], &[TRACK_ORDER, CHECKOUT_POLL])?;
    assert_eq!(
        page.eval("window.__same_document === true")?,
        json!(true),
        "every route change stayed in the same document"
    );
    assert_eq!(page.exceptions(), Vec::<String>::new());
    drop(page);

    // The subscriptions page loaded on its own shows the same as the route did.
    let mut page = visit(&mut browser, &stack.url("/demo/pricing"))?;
    open_tray(&mut page)?;
    tray_lists(&mut page, &[PLANS, RESET], &[TRACK_ORDER, CHECKOUT_POLL])?;
    // Opening a story this page leaves out still works when the page asks for it.
    page.press("Escape")?;
    page.eval("Glimpse('open', {story: 'track-order'})")?;
    page.wait_for(
        &format!(
            "(() => {{ const v = {}; return v && v.getAttribute('aria-label') === {}; }})()",
            deep("[data-testid=glimpse-viewer]"),
            json!(TRACK_ORDER)
        ),
        TIMEOUT,
    )?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn a_frequency_cap_holds_across_page_loads() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    // The checkout poll shows on at most 3 page views a day (demo/content/polls).
    let checkout = stack.url("/demo/shop?step=checkout");
    for view in 1..=3 {
        let mut page = visit(&mut browser, &checkout)?;
        open_tray(&mut page)?;
        tray_lists(&mut page, &[CHECKOUT_POLL], &[])
            .map_err(|e| format!("page view {view}: {e}"))?;
        // Shown once per page view, however often the tray opens.
        page.press("Escape")?;
        page.wait_gone(TRAY)?;
        open_tray(&mut page)?;
        tray_lists(&mut page, &[CHECKOUT_POLL], &[])?;
    }
    let mut page = visit(&mut browser, &checkout)?;
    open_tray(&mut page)?;
    tray_lists(&mut page, &[TRACK_ORDER], &[CHECKOUT_POLL])
        .map_err(|e| format!("the fourth page view: {e}"))?;
    let log = page.eval("localStorage.getItem('glimpse:demo:shown')")?;
    let times = log
        .as_str()
        .and_then(|l| l.strip_prefix("checkout-ease="))
        .map_or(0, |t| t.split(',').count());
    assert_eq!(times, 3, "what the browser keeps: {log}");
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

/// The console at /admin/, signed in with the stack's admin token.
#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn operators_edit_rules_with_a_tester_and_visitors_get_what_it_said() -> Result {
    let stack = Stack::start_demo()?;
    stack.without_demo_session()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = stack.console(&mut browser)?;
    page.wait_visible("[data-testid=story-subscription-plans]")?;
    page.click("[data-testid=story-subscription-plans] button.link")?;
    page.wait_visible("[data-testid=story-targeting]")?;
    // The stored rules, one pattern per line.
    assert_eq!(
        page.eval(&format!("{}.value", deep("[data-testid=story-pages]")))?,
        json!("/demo/pricing\n/subscriptions/*")
    );

    // The tester answers as the widget decides, and says which rule keeps it off.
    let verdict = |page: &mut Page<'_>, says: &str| -> Result {
        page.wait_text("[data-testid=story-test-verdict]", says)
    };
    page.fill(
        "[data-testid=story-test-url]",
        &stack.url("/demo/pricing?from=ad"),
    )?;
    verdict(&mut page, "Shows on this page.")?;
    page.fill("[data-testid=story-test-url]", &stack.url("/demo/shop"))?;
    verdict(
        &mut page,
        "Does not show: the URL matches none of the pages it shows on.",
    )?;
    page.fill("[data-testid=story-test-url]", "pricing")?;
    verdict(&mut page, "Type a page URL (https://…) or a path (/…).")?;

    // New rules: also on the shop, never on pages labelled `checkout`, twice a day at most.
    page.fill(
        "[data-testid=story-pages]",
        "/demo/pricing\n/subscriptions/*\n/demo/shop",
    )?;
    page.fill("[data-testid=story-exclude-labels]", "checkout")?;
    page.fill("[data-testid=story-times]", "2")?;
    page.fill("[data-testid=story-per-hours]", "24")?;
    page.fill("[data-testid=story-test-url]", &stack.url("/demo/shop"))?;
    verdict(
        &mut page,
        "Shows on this page, on at most 2 page views per 24 h per visitor.",
    )?;
    page.fill("[data-testid=story-test-labels]", "checkout")?;
    verdict(
        &mut page,
        "Does not show: the page carries a label it never shows on.",
    )?;
    // A malformed pattern is a problem beside the form and blocks publishing.
    page.fill("[data-testid=story-exclude-pages]", "demo/internal")?;
    page.wait_visible("[data-testid=lint-problem][data-field='targeting.exclude_pages[0]']")?;
    assert_eq!(
        page.eval(&format!("{}.disabled", deep("[data-testid=publish]")))?,
        json!(true)
    );
    page.fill("[data-testid=story-exclude-pages]", "/demo/internal/*")?;
    page.wait_gone("[data-testid=lint-problem]")?;
    page.screenshot_full("66-console-targeting")?;
    page.click("[data-testid=publish]")?;
    page.wait_text("[data-testid=published]", "subscription-plans")?;
    Stack::await_visitors();
    let stored = stack.admin("GET", "/v1/admin/sites/demo/stories/subscription-plans", "")?;
    let stored: serde_json::Value =
        serde_json::from_str(&stored.body).map_err(|e| format!("{e}: {}", stored.body))?;
    assert_eq!(
        stored["targeting"],
        json!({
            "pages": ["/demo/pricing", "/subscriptions/*", "/demo/shop"],
            "exclude_pages": ["/demo/internal/*"],
            "exclude_labels": ["checkout"],
            "frequency": {"times": 2, "per_hours": 24}
        })
    );
    drop(page);

    // A visitor on the shop now gets it; at checkout (labelled) not.
    let mut visitor = visit(&mut browser, &stack.url("/demo/shop"))?;
    open_tray(&mut visitor)?;
    tray_lists(&mut visitor, &[PLANS, TRACK_ORDER], &[])?;
    visitor.press("Escape")?;
    visitor.wait_gone(TRAY)?;
    visitor.click("[data-testid=nav-checkout]")?;
    open_tray(&mut visitor)?;
    tray_lists(&mut visitor, &[TRACK_ORDER, CHECKOUT_POLL], &[PLANS])?;
    assert_eq!(visitor.exceptions(), Vec::<String>::new());
    Ok(())
}

/// A page on the demo worker with the snippet added as a tag manager would, with `lang`
/// as its `data-lang` (`None`: the browser's languages decide).
fn visit_with_lang<'b>(
    browser: &'b mut Browser,
    stack: &Stack,
    lang: Option<&str>,
) -> Result<Page<'b>> {
    let mut page = browser.new_page()?;
    page.set_viewport(1280, 800)?;
    page.goto(&stack.url("/demo/layouts.html?case=flex-gap"))?;
    page.eval(&format!(
        "(() => {{ const s = document.createElement('script'); s.src = '/widget.js'; \
         s.dataset.site = 'demo'; {} document.body.appendChild(s); return true; }})()",
        lang.map(|l| format!("s.dataset.lang = {};", json!(l)))
            .unwrap_or_default()
    ))?;
    page.wait_visible(LAUNCHER)?;
    Ok(page)
}

/// What a visitor reading `lang` finds: the tray's heading and listed titles, a topic label,
/// a poll with its options, and the first slide's text and picture description of the
/// password story.
fn reads(
    page: &mut Page<'_>,
    heading: &str,
    titles: &[&str],
    others: &[&str],
    slide: &str,
    alt: &str,
) -> Result {
    open_tray(page)?;
    let mut shown = vec![heading];
    shown.extend_from_slice(titles);
    tray_lists(page, &shown, others)?;
    // The password story: its first slide and picture in the same language.
    page.eval(&format!(
        "(() => {{ const items = []; (function walk(r) {{ for (const e of r.querySelectorAll('[data-testid=glimpse-story-item]')) items.push(e); \
           for (const e of r.querySelectorAll('*')) if (e.shadowRoot) walk(e.shadowRoot); }})(document); \
           const it = items.find(e => e.innerText.includes({})); if (it) it.click(); return !!it; }})()",
        json!(titles[0])
    ))?;
    page.wait_text("[data-testid=glimpse-slide-text]", slide)?;
    page.wait_for(
        &format!(
            "(() => {{ const v = {}; return !!v && [...v.querySelectorAll('img')].some(i => i.alt === {}); }})()",
            deep("[data-testid=glimpse-viewer]"),
            json!(alt)
        ),
        TIMEOUT,
    )?;
    page.press("Escape")?;
    page.wait_gone("[data-testid=glimpse-viewer]")?;
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn visitors_read_english_spanish_and_bokmal_with_english_for_the_rest() -> Result {
    let stack = Stack::start_demo()?;
    stack.without_demo_session()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;

    // English, the site's own language (headless Chromium's is en-US).
    let mut page = visit_with_lang(&mut browser, &stack, None)?;
    reads(
        &mut page,
        "Help stories",
        &[
            "Reset your password",
            "Where is my order?",
            "Orders & delivery",
        ],
        &["Restablece", "Tilbakestill"],
        "Forgot your password? It takes under a minute to set a new one.",
        "A phone shows a padlock and a “Reset password” button.",
    )?;
    drop(page);

    // Spanish for a visitor whose language is Spain's Spanish (`es-ES`; the site offers `es`).
    let mut page = visit_with_lang(&mut browser, &stack, Some("es-ES"))?;
    reads(
        &mut page,
        "Historias de ayuda",
        &[
            "Restablece tu contraseña",
            "¿Dónde está mi pedido?",
            "Pedidos y entregas",
        ],
        &["Reset your password", "Where is my order?"],
        "¿Olvidaste tu contraseña? Crear una nueva lleva menos de un minuto.",
        "Un teléfono muestra un candado y un botón «Restablecer contraseña».",
    )?;
    open_tray(&mut page)?;
    tray_lists(
        &mut page,
        &[
            "¿Las historias de ayuda de hoy respondieron a tu pregunta?",
            "En parte",
        ],
        &["Partly"],
    )?;
    assert_eq!(
        page.eval(&format!("{}.getAttribute('lang')", deep(".root")))?,
        json!("es")
    );
    // The knowledge base answers in Spanish too: a Spanish word finds the story, and its
    // article reads in Spanish; "All help articles" opens the Spanish page.
    page.fill("[data-testid=glimpse-kb-search]", "contraseña")?;
    page.wait_text(
        "[data-testid=glimpse-kb-result]",
        "Restablece tu contraseña",
    )?;
    let all = page.eval(&format!(
        "{}.getAttribute('href')",
        deep("a.sub[target=_blank]")
    ))?;
    assert!(
        all.as_str()
            .is_some_and(|h| h.ends_with("/kb/demo?lang=es")),
        "{all}"
    );
    drop(page);

    // Norwegian from `no` (Bokmål is what the site offers).
    let mut page = visit_with_lang(&mut browser, &stack, Some("no"))?;
    reads(
        &mut page,
        "Hjelpehistorier",
        &[
            "Tilbakestill passordet ditt",
            "Hvor er bestillingen min?",
            "Bestillinger og levering",
        ],
        &["Reset your password", "Restablece"],
        "Glemt passordet? Det tar under ett minutt å lage et nytt.",
        "En telefon viser en hengelås og en «Tilbakestill passord»-knapp.",
    )?;
    open_tray(&mut page)?;
    tray_lists(
        &mut page,
        &[
            "Svarte dagens hjelpehistorier på spørsmålet ditt?",
            "Delvis",
        ],
        &["Partly"],
    )?;
    drop(page);

    // The plain page, without JavaScript, in Bokmål: titles, topics, a search in Norwegian.
    let (status, html) = stack.get("/kb/demo?lang=nb&q=passordet")?;
    assert_eq!(status, 200);
    for expected in [
        "<html lang=\"nb\">",
        "?lang=nb\">Tilbakestill passordet ditt</a></h3>",
        "<h2>Kontoen din</h2>",
        "Glemt passordet?",
        "Søk i hjelp",
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }

    // German is not offered: the site's English, and English buttons around it.
    let mut page = visit_with_lang(&mut browser, &stack, Some("de"))?;
    open_tray(&mut page)?;
    tray_lists(
        &mut page,
        &["Help stories", "Reset your password"],
        &["Restablece"],
    )?;
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}

#[test]
#[ignore = "needs the built worker and Chromium: run by `cargo xtask test`"]
fn operators_translate_a_knowledge_base_entry_side_by_side() -> Result {
    let stack = Stack::start_demo()?;
    let mut browser = Browser::launch(&stack.tools.chromium)?;
    let mut page = stack.console(&mut browser)?;
    page.click("[data-testid=nav-kb]")?;
    page.click("[data-testid=kb-story-track-order] [data-testid=kb-edit]")?;
    // The story's own translations come with its entry, beside the English.
    page.wait_visible("[data-testid=kb-tr-es]")?;
    assert_eq!(
        page.eval(&format!("{}.value", deep("[data-testid=kb-tr-es-title]")))?,
        json!("¿Dónde está mi pedido?")
    );
    page.fill("[data-testid=kb-title]", "Tracking your order")?;
    page.fill("[data-testid=kb-tr-es-title]", "Seguir tu pedido")?;
    page.fill("[data-testid=kb-tr-nb-title]", "Spor bestillingen din")?;
    page.click("[data-testid=kb-save]")?;
    page.wait_gone("[data-testid=kb-editor]")?;
    // Visitors read the operator's words in each language, without JavaScript.
    for (lang, title) in [
        ("en", "Tracking your order"),
        ("es", "Seguir tu pedido"),
        ("nb", "Spor bestillingen din"),
    ] {
        let (status, html) = stack.get(&format!("/kb/demo?lang={lang}"))?;
        assert_eq!(status, 200);
        assert!(
            html.contains(&format!(">{title}</a></h3>")),
            "{lang}: {html}"
        );
    }
    assert_eq!(page.exceptions(), Vec::<String>::new());
    Ok(())
}
