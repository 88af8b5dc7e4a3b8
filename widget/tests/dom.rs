//! DOM-level widget tests, in headless Chromium via wasm-bindgen-test-runner
//! (`cargo xtask test` runs them). They mount the real components into a real shadow root.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use glimpse_shared::{Channel, ChannelKind, Feed, FeedSite, Slide, Story, Theme};
use glimpse_widget::Config;
use glimpse_widget::host::create_shadow_container;
use glimpse_widget::shell::{self, Instance};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{HtmlElement, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

/// Lets Leptos's effects and the browser's event loop run.
async fn tick() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10);
    });
    JsFuture::from(promise).await.unwrap();
}

fn feed(slides: &[&str]) -> Feed {
    Feed {
        site: FeedSite {
            languages: Default::default(),
            id: "test".into(),
            name: "Test".into(),
            theme: Theme::default(),
            language: "en".into(),
            timezone: "UTC".into(),
            channels: vec![Channel {
                kind: ChannelKind::Email,
                label: "Email us".into(),
                value: "help@test.example".into(),
                topics: vec![],
            }],
            topics: vec![],
            reply_minutes: None,
        },
        now: 1_000,
        sessions: vec![],
        polls: vec![],
        availability: vec![],
        stories: vec![Story {
            translations: Default::default(),
            targeting: Default::default(),
            id: "s1".into(),
            title: "First story".into(),
            topic: "t".into(),
            slides: slides
                .iter()
                .map(|t| Slide {
                    text: (*t).into(),
                    media: None,
                    duration_ms: 5_000,
                    cta: None,
                })
                .collect(),
            publish_at: 0,
            expires_at: i64::MAX / 2,
        }],
    }
}

/// Delivers a feed to a mounted instance, as its fetch would.
struct Feeder(Rc<Instance>);

impl Feeder {
    fn ready(&self, feed: Feed) {
        shell::feed_arrived(&self.0, serde_json::to_string(&feed).unwrap(), None);
    }

    /// An answer that is not a feed.
    fn garbage(&self) {
        shell::feed_arrived(&self.0, "<html>502 Bad Gateway</html>".into(), None);
    }
}

/// Mounts the widget (its first chunk: root and launcher; the app starts on the first
/// click) into a fresh shadow root and returns that root and the feed deliverer.
fn mount(site: &str) -> (ShadowRoot, Feeder) {
    mount_lang(site, "en")
}

fn mount_lang(site: &str, lang: &str) -> (ShadowRoot, Feeder) {
    let (_host, container) = create_shadow_container(site, None).unwrap();
    let root = container
        .parent_node()
        .unwrap()
        .dyn_into::<ShadowRoot>()
        .unwrap();
    let config = Config::new(site, "http://127.0.0.1:9")
        .unwrap()
        .with_options(lang, "", "", "", "", None);
    let inst = shell::attach(config, &container).unwrap();
    (root, Feeder(inst))
}

fn key(root: &ShadowRoot, selector: &str, key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    find(root, selector).unwrap().dispatch_event(&ev).unwrap();
}

/// Opens the tray from the launcher, then the first story from the tray.
async fn open_first_story(root: &ShadowRoot) {
    find(root, "[data-testid=glimpse-launcher]")
        .expect("launcher")
        .click();
    tick().await;
    find(root, "[data-testid=glimpse-story-item]")
        .expect("story in the tray")
        .click();
    tick().await;
}

fn find(root: &ShadowRoot, selector: &str) -> Option<HtmlElement> {
    root.query_selector(selector)
        .unwrap()
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
}

fn text(root: &ShadowRoot, selector: &str) -> String {
    find(root, selector)
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

fn count(root: &ShadowRoot, selector: &str) -> u32 {
    root.query_selector_all(selector).unwrap().length()
}

#[wasm_bindgen_test]
async fn launcher_opens_the_tray_and_the_story_plays_to_its_end_card() {
    let (root, set_feed) = mount("dom-open");
    tick().await;
    assert!(
        find(&root, "[data-testid=glimpse-launcher]").is_none(),
        "no launcher before the feed has loaded"
    );

    set_feed.ready(feed(&["Step one", "Step two"]));
    tick().await;
    let launcher = find(&root, "[data-testid=glimpse-launcher]").expect("launcher");
    assert_eq!(
        launcher.get_attribute("aria-label").as_deref(),
        Some("Open help stories, 1 new")
    );
    assert!(launcher.class_list().contains("unseen"));

    launcher.click();
    tick().await;
    let tray = find(&root, "[data-testid=glimpse-tray]").expect("tray");
    assert!(
        tray.text_content()
            .unwrap_or_default()
            .contains("First story")
    );
    assert!(text(&root, "[data-testid=glimpse-story-item]").contains("new"));
    find(&root, "[data-testid=glimpse-story-item]")
        .unwrap()
        .click();
    tick().await;

    let dialog = find(&root, "[data-testid=glimpse-viewer]").expect("viewer dialog");
    assert_eq!(dialog.get_attribute("role").as_deref(), Some("dialog"));
    assert_eq!(dialog.get_attribute("aria-modal").as_deref(), Some("true"));
    assert_eq!(
        dialog.get_attribute("aria-label").as_deref(),
        Some("First story")
    );
    assert_eq!(text(&root, "[data-testid=glimpse-slide-text]"), "Step one");
    assert_eq!(count(&root, ".progress .bar"), 2);
    assert!(
        !find(&root, "[data-testid=glimpse-launcher]")
            .unwrap()
            .class_list()
            .contains("unseen"),
        "an opened story is seen"
    );

    find(&root, "[data-testid=glimpse-next]").unwrap().click();
    tick().await;
    assert_eq!(text(&root, "[data-testid=glimpse-slide-text]"), "Step two");

    // Past the last slide: "Did this help?"; "No" offers the site's channels.
    find(&root, "[data-testid=glimpse-next]").unwrap().click();
    tick().await;
    assert!(text(&root, "[data-testid=glimpse-end-card]").contains("Did this help?"));
    find(&root, "[data-testid=glimpse-helped-no]")
        .unwrap()
        .click();
    tick().await;
    let channel = find(&root, "[data-testid=glimpse-channel]").expect("a channel link");
    assert!(
        channel
            .get_attribute("href")
            .unwrap_or_default()
            .starts_with("mailto:help@test.example?")
    );
    find(&root, "[data-testid=glimpse-end-next]")
        .unwrap()
        .click();
    tick().await;
    assert!(find(&root, "[data-testid=glimpse-viewer]").is_none());
}

#[wasm_bindgen_test]
async fn space_pauses_and_escape_closes() {
    let (root, set_feed) = mount("dom-keys");
    set_feed.ready(feed(&["One", "Two"]));
    tick().await;
    open_first_story(&root).await;
    let pause = || find(&root, "[data-testid=glimpse-pause]").unwrap();
    assert_eq!(
        pause().get_attribute("aria-pressed").as_deref(),
        Some("false")
    );
    key(&root, "[data-testid=glimpse-viewer]", " ");
    tick().await;
    assert_eq!(
        pause().get_attribute("aria-pressed").as_deref(),
        Some("true")
    );
    assert_eq!(pause().get_attribute("aria-label").as_deref(), Some("Play"));
    key(&root, "[data-testid=glimpse-viewer]", "ArrowRight");
    tick().await;
    assert_eq!(text(&root, "[data-testid=glimpse-slide-text]"), "Two");
    key(&root, "[data-testid=glimpse-viewer]", "ArrowLeft");
    tick().await;
    assert_eq!(text(&root, "[data-testid=glimpse-slide-text]"), "One");
    key(&root, "[data-testid=glimpse-viewer]", "Escape");
    tick().await;
    assert!(find(&root, "[data-testid=glimpse-viewer]").is_none());
}

#[wasm_bindgen_test]
async fn authored_markup_is_shown_as_text_never_parsed() {
    let (root, set_feed) = mount("dom-xss");
    let hostile = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=1</script>";
    set_feed.ready(feed(&[hostile]));
    tick().await;
    open_first_story(&root).await;
    assert_eq!(text(&root, "[data-testid=glimpse-slide-text]"), hostile);
    assert_eq!(count(&root, "img"), 0);
    assert_eq!(count(&root, ".slide script"), 0);
    tick().await;
    let pwned = js_sys::Reflect::get(&web_sys::window().unwrap(), &"__pwned".into()).unwrap();
    assert!(pwned.is_undefined());
}

#[wasm_bindgen_test]
async fn a_failed_feed_shows_nothing() {
    let (root, set_feed) = mount("dom-failed");
    set_feed.garbage();
    tick().await;
    assert!(find(&root, "[data-testid=glimpse-launcher]").is_none());
    assert!(find(&root, "[role=dialog]").is_none());
}

#[wasm_bindgen_test]
async fn styles_live_in_the_shadow_root_only() {
    let (root, _set_feed) = mount("dom-style");
    let style = root.query_selector("style").unwrap().expect("scoped style");
    assert!(style.text_content().unwrap().contains(":host"));
    let document = web_sys::window().unwrap().document().unwrap();
    assert_eq!(
        document
            .head()
            .unwrap()
            .query_selector_all("style")
            .unwrap()
            .length(),
        0,
        "nothing added to the host page's head"
    );
}

#[wasm_bindgen_test]
async fn speaks_the_visitors_language_and_lays_out_right_to_left() {
    let (root, set_feed) = mount_lang("dom-lang", "es");
    let mut f = feed(&["Paso uno"]);
    f.site.language = "ar".into();
    set_feed.ready(f);
    tick().await;
    let launcher = find(&root, "[data-testid=glimpse-launcher]").expect("launcher");
    assert_eq!(
        launcher.get_attribute("aria-label").as_deref(),
        Some("Abrir historias de ayuda, 1 nuevo")
    );
    let widget_root = find(&root, ".root").expect("root");
    assert_eq!(widget_root.get_attribute("dir").as_deref(), Some("rtl"));
    assert_eq!(widget_root.get_attribute("lang").as_deref(), Some("ar"));
    open_first_story(&root).await;
    assert_eq!(
        find(&root, "[data-testid=glimpse-close]")
            .unwrap()
            .get_attribute("aria-label")
            .as_deref(),
        Some("Cerrar")
    );
}

/// The widget checks link hosts with the browser's URL parser instead of shipping the
/// `idna` tables: on every kind of host the API's check (`idna`) decides, the browser must
/// decide the same, or refuse. The one kind it accepts and `idna` refuses is a malformed
/// punycode label (`xn--a`), which names no registrable domain; links reach the widget only
/// after the API checked them at publish time (a preview is checked by the console too).
#[wasm_bindgen_test]
fn browser_domain_check_agrees_with_the_apis() {
    use glimpse_shared::validate::{DomainToAscii, Idna, ascii_host, ascii_host_with};
    use glimpse_widget::browser::BrowserDomains;
    let hosts = [
        "help.example",
        "HELP.Example",
        "help.example.",
        "café.example",
        "p\u{0430}ypal.example",
        "例え.jp",
        "ＡＢＣ.example",
        "straße.de",
        "xn--caf-dma.example",
        "xn--pypal-4ve.example",
        "a_b.example",
        "-a.example",
        "a-.example",
        "ab--c.example",
        "a..b",
        "[::1]",
        "a b.example",
        "a<b.example",
        "a^b.example",
        "a|b.example",
        "\u{200D}.example",
        "\u{FFFD}.example",
        "ﬀ.example",
        "ⓐ.example",
        "😀.example",
        "",
        ".",
        "a.",
        &"a".repeat(64),
        &format!("{}.example", "a".repeat(300)),
    ];
    // Addresses: the browser writes IPv4 in its canonical form (`0x7f.1` → `127.0.0.1`),
    // `idna` leaves them as they are; only whether they pass must agree.
    let ipv4 = [
        "127.0.0.1",
        "0x7f.1",
        "1.2.3.256",
        "1.2.3.4.5",
        "0x1g.example",
    ];
    for host in ipv4 {
        let api = Idna.domain_to_ascii(host);
        let browser = BrowserDomains.domain_to_ascii(host);
        assert!(
            browser.is_none() || api.is_some(),
            "{host:?}: browser {browser:?}, idna {api:?}"
        );
    }
    for host in hosts {
        let api = Idna.domain_to_ascii(host);
        let browser = BrowserDomains.domain_to_ascii(host);
        assert!(
            browser == api || browser.is_none(),
            "{host:?}: browser {browser:?}, idna {api:?}"
        );
        let url = format!("https://{host}/path?q#f");
        assert_eq!(
            glimpse_widget::browser::is_https_url(&url),
            browser.is_some() && glimpse_shared::validate::is_https_url(&url),
            "{url:?}"
        );
        assert!(
            ascii_host_with(&url, &BrowserDomains) == ascii_host(&url)
                || ascii_host_with(&url, &BrowserDomains).is_none(),
            "{url:?}"
        );
    }
    for lenient in ["xn--a.example", "xn--.example", "help.xn--zz"] {
        assert_eq!(Idna.domain_to_ascii(lenient), None);
        assert_eq!(
            BrowserDomains.domain_to_ascii(lenient).as_deref(),
            Some(lenient),
            "Chromium's URL parser changed: review BrowserDomains' docs"
        );
    }
    // The look-alike a visitor must never be shown as a link to the real site.
    assert_eq!(
        BrowserDomains
            .domain_to_ascii("p\u{0430}ypal.example")
            .as_deref(),
        Some("xn--pypal-4ve.example")
    );
    assert_eq!(
        BrowserDomains.domain_to_ascii("café.example").as_deref(),
        Some("xn--caf-dma.example")
    );
    assert!(!glimpse_widget::browser::is_https_url(
        "http://help.example/"
    ));
    assert!(!glimpse_widget::browser::is_https_url(
        "https://user@evil.example/"
    ));
}

/// The JavaScript runtime's Unicode support (`text::JsText`, which the worker uses at the
/// edge instead of uploading Rust's tables) agrees with Rust's (`text::StdText`) on every
/// code point: letters, letters-or-digits and lower case, and on words in running text
/// (final sigma, accents, scripts without case, digits of other scripts, joiners).
#[wasm_bindgen_test]
fn runtime_text_agrees_with_rusts_tables_on_every_code_point() {
    use glimpse_shared::text::{JsText, StdText, UnicodeText};
    let mut differ = Vec::new();
    let mut chunk = String::new();
    let flush = |chunk: &mut String, differ: &mut Vec<String>| {
        if JsText.lowercase(chunk) != StdText.lowercase(chunk) {
            // Find the code points that differ, one by one.
            for c in chunk.split(' ').filter(|s| !s.is_empty()) {
                if JsText.lowercase(c) != StdText.lowercase(c) {
                    differ.push(format!("lowercase {c:?}"));
                }
            }
        }
        chunk.clear();
    };
    for cp in 0..=0x10_FFFF_u32 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        if JsText.is_alphabetic(c) != StdText.is_alphabetic(c) {
            differ.push(format!("alphabetic U+{cp:04X}"));
        }
        if JsText.is_alphanumeric(c) != StdText.is_alphanumeric(c) {
            differ.push(format!("alphanumeric U+{cp:04X}"));
        }
        chunk.push(c);
        chunk.push(' ');
        if chunk.len() > 4_000 {
            flush(&mut chunk, &mut differ);
        }
    }
    flush(&mut chunk, &mut differ);
    for text in [
        "ÅPNE Bestilling #42, contraseña—Ünïcode  ΣΊΣΥΦΟΣ ΟΔΟΣ.",
        "注文の変更 ١٢٣ 四十二 x\u{200D}y İstanbul ǅemal ﬁnal",
        "PASSORD: hemmelig1! mi contraseña es Abc123",
    ] {
        if JsText.words(text) != StdText.words(text) {
            differ.push(format!(
                "words {text:?}: {:?} vs {:?}",
                JsText.words(text),
                StdText.words(text)
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{} differences: {:?}",
        differ.len(),
        &differ[..differ.len().min(40)]
    );
}

/// A session of `feed`'s site: live from 500 ms (the feed's clock starts at 1 000) for an
/// hour, or over since 500 ms with its answers kept.
fn session(id: &str, live: bool) -> glimpse_shared::LiveSession {
    let (starts_at, ends_at) = if live { (500, 3_600_000) } else { (0, 500) };
    glimpse_shared::LiveSession {
        id: id.into(),
        title: "Ask us".into(),
        topic: "t".into(),
        host: "Ann".into(),
        starts_at,
        ends_at,
        join_url: "https://join.example/live".into(),
        announce_from: 0,
        answers_until: Some(7_200_000),
        targeting: Default::default(),
        translations: Default::default(),
    }
}

/// Ticks until `selector` is in `root` (the app and its chunks start on their own).
async fn wait_for(root: &ShadowRoot, selector: &str) -> HtmlElement {
    for _ in 0..200 {
        if find(root, selector).is_some() {
            break;
        }
        tick().await;
    }
    find(root, selector).expect(selector)
}

fn window_get(name: &str) -> wasm_bindgen::JsValue {
    js_sys::Reflect::get(&web_sys::window().unwrap(), &name.into()).unwrap()
}

/// Calls a fake socket's handler (`onopen`, `onmessage`) with an event of `data`.
fn socket_event(socket: &wasm_bindgen::JsValue, handler: &str, data: &str) {
    let ev = js_sys::Object::new();
    js_sys::Reflect::set(&ev, &"data".into(), &data.into()).unwrap();
    let f: js_sys::Function = js_sys::Reflect::get(socket, &handler.into())
        .unwrap()
        .dyn_into()
        .unwrap();
    f.call1(socket, &ev).unwrap();
}

#[wasm_bindgen_test]
async fn the_live_panel_follows_the_room_over_a_websocket() {
    // A WebSocket the test drives (restored at the end).
    js_sys::eval(
        "window.__realWebSocket = window.WebSocket; window.__sockets = [];
         window.WebSocket = function (url) { this.url = url; this.sent = []; this.closed = false; window.__sockets.push(this); };
         window.WebSocket.prototype.send = function (d) { this.sent.push(d); };
         window.WebSocket.prototype.close = function () { this.closed = true; };",
    )
    .unwrap();
    web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .set_item("glimpse:dom-live:live:ask-us:mine", r#"["q2"]"#)
        .unwrap();
    let (root, set_feed) = mount("dom-live");
    let mut f = feed(&["One"]);
    f.site.id = "dom-live".into();
    f.sessions = vec![session("ask-us", true)];
    set_feed.ready(f);
    let join = wait_for(&root, "[data-testid=glimpse-join]").await;
    assert_eq!(join.tag_name(), "BUTTON", "joining happens in the widget");
    join.click();
    let panel = wait_for(&root, "[data-testid=glimpse-live-panel]").await;
    assert_eq!(panel.get_attribute("role").as_deref(), Some("dialog"));
    assert_eq!(panel.get_attribute("data-state").as_deref(), Some("live"));
    let sockets: js_sys::Array = window_get("__sockets").dyn_into().unwrap();
    for _ in 0..100 {
        if sockets.length() > 0 {
            break;
        }
        tick().await;
    }
    let socket = sockets.get(0);
    assert_eq!(
        js_sys::Reflect::get(&socket, &"url".into())
            .unwrap()
            .as_string()
            .as_deref(),
        Some("ws://127.0.0.1:9/v1/sites/dom-live/live/ask-us")
    );
    socket_event(&socket, "onopen", "");
    let question = |id: &str, votes: u32, state: &str, text: &str| {
        format!(r#"{{"id":"{id}","text":"{text}","asked_at":1,"votes":{votes},"state":"{state}"}}"#)
    };
    socket_event(
        &socket,
        "onmessage",
        &format!(
            r#"{{"type":"state","room":{{"session":"ask-us","version":2,"status":"On question 1","stream_url":"https://stream.example/live","questions":[{},{},{}],"watching":7}}}}"#,
            question("q1", 3, "waiting", "How do I reset?"),
            question("q2", 0, "hidden", ""),
            question("q3", 0, "hidden", ""),
        ),
    );
    socket_event(&socket, "onmessage", "pong");
    tick().await;
    assert_eq!(
        panel.get_attribute("data-transport").as_deref(),
        Some("websocket")
    );
    assert_eq!(
        text(&root, "[data-testid=glimpse-live-status]"),
        "On question 1"
    );
    assert_eq!(
        text(&root, "[data-testid=glimpse-live-watching]"),
        "7 watching"
    );
    assert_eq!(
        find(&root, "[data-testid=glimpse-live-stream]")
            .unwrap()
            .get_attribute("href")
            .as_deref(),
        Some("https://stream.example/live")
    );
    // The visitor's own hidden question stays, with its state; another's does not.
    assert_eq!(count(&root, "[data-testid=glimpse-live-question]"), 2);
    let mine = find(&root, "[data-testid=glimpse-live-question][data-id=q2]").unwrap();
    assert_eq!(mine.get_attribute("data-mine").as_deref(), Some("true"));
    assert_eq!(mine.get_attribute("data-state").as_deref(), Some("hidden"));
    let upvote = |id: &str| {
        find(
            &root,
            &format!("[data-id={id}] [data-testid=glimpse-live-upvote]"),
        )
        .map(|b| b.has_attribute("disabled"))
    };
    assert_eq!(upvote("q1"), Some(false));
    assert_eq!(upvote("q2"), Some(true), "never on one's own");
    assert_eq!(
        find(&root, "[data-testid=glimpse-live-ask-input]")
            .unwrap()
            .get_attribute("maxlength")
            .as_deref(),
        Some("280")
    );

    // An answered question with more votes goes first; its answer is text.
    socket_event(
        &socket,
        "onmessage",
        &format!(
            r#"{{"type":"question","version":3,"question":{}}}"#,
            question("q4", 5, "answered", "<b>Why?</b>").replace(
                r#""state":"answered""#,
                r#""state":"answered","answer":{"text":"<img src=x onerror=alert(1)>","at":9}"#
            )
        ),
    );
    tick().await;
    let first = find(&root, "[data-testid=glimpse-live-question]").unwrap();
    assert_eq!(first.get_attribute("data-id").as_deref(), Some("q4"));
    assert_eq!(
        text(&root, "[data-testid=glimpse-live-question-text]"),
        "<b>Why?</b>"
    );
    assert!(text(&root, "[data-testid=glimpse-live-answer]").contains("<img src=x"));
    assert_eq!(count(&root, ".live-panel b, .live-panel img"), 0);
    // A missed version is not applied (the whole room is read again).
    socket_event(
        &socket,
        "onmessage",
        &format!(
            r#"{{"type":"question","version":9,"question":{}}}"#,
            question("q9", 0, "waiting", "Late")
        ),
    );
    tick().await;
    assert!(find(&root, "[data-id=q9]").is_none());

    // The host ends it: answers only, no asking, no upvotes.
    socket_event(
        &socket,
        "onmessage",
        r#"{"type":"ended","version":4,"ended_at":2000}"#,
    );
    tick().await;
    assert_eq!(panel.get_attribute("data-state").as_deref(), Some("ended"));
    assert!(find(&root, "[data-testid=glimpse-live-ended]").is_some());
    assert!(find(&root, "[data-testid=glimpse-live-ask-input]").is_none());
    assert_eq!(count(&root, "[data-testid=glimpse-live-question]"), 1);
    assert_eq!(count(&root, "[data-testid=glimpse-live-upvote]"), 0);

    // Escape closes it, the socket with it, and the join button has the focus back.
    key(&root, "[data-testid=glimpse-live-panel]", "Escape");
    tick().await;
    assert!(find(&root, "[data-testid=glimpse-live-panel]").is_none());
    assert_eq!(
        js_sys::Reflect::get(&socket, &"closed".into()).unwrap(),
        wasm_bindgen::JsValue::TRUE
    );
    assert_eq!(
        root.active_element()
            .and_then(|e| e.get_attribute("data-testid"))
            .as_deref(),
        Some("glimpse-join")
    );
    js_sys::eval("window.WebSocket = window.__realWebSocket;").unwrap();
}

#[wasm_bindgen_test]
async fn without_websockets_an_ended_sessions_answers_are_polled() {
    js_sys::eval("window.__realWebSocket = window.WebSocket; window.WebSocket = undefined;")
        .unwrap();
    let (root, set_feed) = mount("dom-live-ended");
    let mut f = feed(&["One"]);
    f.site.id = "dom-live-ended".into();
    f.sessions = vec![session("ask-us", false)];
    set_feed.ready(f);
    let answers = wait_for(&root, "[data-testid=glimpse-live-answers]").await;
    assert_eq!(
        find(&root, "[data-testid=glimpse-banner]")
            .unwrap()
            .get_attribute("data-state")
            .as_deref(),
        Some("ended")
    );
    answers.click();
    let panel = wait_for(&root, "[data-testid=glimpse-live-panel]").await;
    for _ in 0..100 {
        if panel.get_attribute("data-transport").as_deref() == Some("polling") {
            break;
        }
        tick().await;
    }
    assert_eq!(
        panel.get_attribute("data-transport").as_deref(),
        Some("polling")
    );
    assert_eq!(panel.get_attribute("data-state").as_deref(), Some("ended"));
    assert!(find(&root, "[data-testid=glimpse-live-ended]").is_some());
    assert!(find(&root, "[data-testid=glimpse-live-ask-input]").is_none());
    find(&root, "[data-testid=glimpse-live-close]")
        .unwrap()
        .click();
    tick().await;
    assert!(find(&root, "[data-testid=glimpse-live-panel]").is_none());
    js_sys::eval("window.WebSocket = window.__realWebSocket;").unwrap();
}

#[wasm_bindgen_test]
async fn an_unread_reply_stays_in_view_while_the_tray_fills_in_above_it_until_the_visitor_scrolls()
{
    use glimpse_widget::in_view::{KeepInView, shown};
    let document = web_sys::window().unwrap().document().unwrap();
    let el = |style: &str| {
        let e: HtmlElement = document.create_element("div").unwrap().dyn_into().unwrap();
        e.set_attribute("style", style).unwrap();
        e
    };
    // A fixed, scrolling tray: stories (not loaded yet), the thread with its reply, the form
    // below it. (Without the browser's scroll anchoring, which would hide whether it lets go.)
    let tray = el(
        "position:fixed;top:0;left:0;width:300px;height:200px;overflow:auto;overflow-anchor:none",
    );
    let stories = el("height:300px");
    let thread = el("");
    let reply = el("height:60px");
    reply.set_class_name("reply");
    thread.append_child(&reply).unwrap();
    let below = el("height:400px");
    for part in [&stories, &thread, &below] {
        tray.append_child(part).unwrap();
    }
    document.body().unwrap().append_child(&tray).unwrap();
    let current = || tray.query_selector(".reply").unwrap().unwrap();
    assert!(!shown(&current(), &tray), "below the fold at first");
    let keep = {
        let tray = tray.clone();
        KeepInView::start(&tray.clone(), move || tray.query_selector(".reply").ok()?)
    };
    assert!(keep.is_some(), "Chromium has MutationObserver");
    assert!(shown(&current(), &tray), "brought into view when it starts");
    // Content arrives above it, twice in a row without a pause: brought back each time.
    let settle = || async {
        for _ in 0..3 {
            tick().await;
        }
    };
    stories.style().set_property("height", "700px").unwrap();
    stories.append_child(&el("height:500px")).unwrap();
    settle().await;
    assert!(shown(&current(), &tray), "kept in view as content arrives");
    // The thread is rebuilt (a poll answered): the new reply element is the one kept.
    let rebuilt = el("height:60px");
    rebuilt.set_class_name("reply");
    thread.replace_child(&rebuilt, &reply).unwrap();
    stories.style().set_property("height", "1500px").unwrap();
    settle().await;
    assert!(shown(&rebuilt, &tray), "the rebuilt reply is kept in view");
    // The visitor scrolls: from then on the tray is theirs.
    tray.dispatch_event(&web_sys::Event::new("wheel").unwrap())
        .unwrap();
    stories.style().set_property("height", "2500px").unwrap();
    settle().await;
    assert!(
        !shown(&rebuilt, &tray),
        "not pulled back once the visitor has scrolled"
    );
    drop(keep);
    tray.remove();
}
