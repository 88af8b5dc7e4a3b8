//! The widget's first chunk: what every visitor downloads before touching anything. It
//! mounts the shadow root, fetches the feed, shows the launcher (plain DOM, no Leptos), and
//! takes the command API. The Leptos app ([`crate::app`]: tray, story viewer, banners, polls,
//! ask, search) is a lazy chunk, fetched on the launcher's hover, focus or touch and started
//! on the first click or command; banners start it at once when the feed has a session.
//!
//! Until the app runs, commands wait here in order. When its chunk cannot be fetched (after
//! retries), a click shows a calm message with "Try again" next to the launcher.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use glimpse_shared::feed::{FeedSummary, LauncherState, SummarySite, Targeted, Visible};
use glimpse_shared::i18n::{FirstText, Lang, is_rtl};
use glimpse_shared::outbox::{Outcome, backoff_ms};
use glimpse_shared::site::text_on;
use glimpse_shared::targeting::Targeting;
use glimpse_shared::{Theme, ThemeMode};
use js_sys::Reflect;
use serde::de::IgnoredAny;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlElement};

use crate::browser;
use crate::config::{Config, Side};
use crate::lazy::{ChunkError, prefetch, with_retries};

/// A command for one instance's app, from the launcher or from `Glimpse(…)`.
#[derive(Debug, Clone)]
pub enum Command {
    /// The launcher was clicked: open or close the tray.
    Toggle,
    /// `Glimpse('open')` (the tray) or `Glimpse('open', {story})`.
    Open(Option<String>),
    /// `Glimpse('close')`.
    Close,
    /// `Glimpse('preview', {story: {…}})`: the raw argument, validated by the app.
    Preview(JsValue),
    /// The page view changed what shows (an SPA route change, new labels, a delay's end):
    /// the app reads [`visible`] again.
    Retarget,
}

/// Runs commands in a started app.
pub type Handler = Rc<dyn Fn(Command)>;

enum AppState {
    Absent,
    Loading,
    Ready(Handler),
}

/// One mounted widget (one per site on the page).
pub struct Instance {
    pub id: usize,
    pub config: Config,
    /// The language of the widget's own words: the content's if built in, else the
    /// visitor's first built-in one ([`Lang::pick`]).
    pub lang: Cell<Lang>,
    /// The language content is shown in ([`glimpse_shared::translate::content_language`]),
    /// once the feed has loaded.
    content_lang: RefCell<Option<String>>,
    /// The `.root` element inside the shadow root: the launcher and the app render here.
    pub root: HtmlElement,
    /// The launcher button (in the DOM only while there is something to open).
    pub launcher: HtmlElement,
    count: HtmlElement,
    /// The launcher's badge of threads with replies the visitor has not read.
    replies: HtmlElement,
    unseen: Cell<usize>,
    /// (thread id, replies) of the visitor's threads, from `POST …/threads`.
    statuses: RefCell<Vec<(String, u32)>>,
    /// The feed's JSON once it has loaded.
    feed: RefCell<Option<Rc<str>>>,
    summary: RefCell<Option<FeedSummary>>,
    app: RefCell<AppState>,
    pending: RefCell<Vec<Command>>,
    notice: RefCell<Option<Element>>,
    /// The page view content is decided for (targeting).
    page: RefCell<PageView>,
    /// What this page view shows of the feed, once it has loaded.
    visible: RefCell<Option<Visible>>,
    /// Bumped at each decision, so a delay's timer or a chunk's answer from an older one
    /// does nothing.
    decision: Cell<u32>,
    /// Whether the feed has targeting rules (then the `targeting` chunk decides).
    targeted: Cell<bool>,
    /// What the feed shows on every page view: the items without targeting rules.
    everywhere: RefCell<Visible>,
}

/// One page view: since the page loaded or since the last SPA route change.
#[derive(Debug, Clone)]
struct PageView {
    /// `location.href` without its fragment.
    url: String,
    labels: Vec<String>,
    /// When it began, on the visitor's own clock ([`browser::local_ms`]).
    since_local: i64,
}

thread_local! {
    static INSTANCES: RefCell<Vec<Rc<Instance>>> = const { RefCell::new(Vec::new()) };
}

/// The instance `id`.
pub fn get(id: usize) -> Option<Rc<Instance>> {
    INSTANCES.with(|i| i.borrow().get(id).cloned())
}

/// Every mounted instance.
pub fn all() -> Vec<Rc<Instance>> {
    INSTANCES.with(|i| i.borrow().clone())
}

const ICON: &str = "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm0 15.5a1.25 1.25 0 1 1 0-2.5 1.25 1.25 0 0 1 0 2.5Zm1.6-6.1c-.7.5-.85.8-.85 1.6h-1.9c0-1.4.4-2.1 1.5-2.9.8-.6 1.1-.9 1.1-1.6 0-.8-.6-1.3-1.5-1.3s-1.6.5-1.7 1.5H8.4C8.5 6.9 10 5.6 12 5.6c2 0 3.4 1.2 3.4 2.9 0 1.3-.6 2-1.8 2.9Z";
const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// Builds the instance's root and launcher inside `container` (the shadow root's frame)
/// and registers it. The launcher appears once the feed says there is something to open.
pub fn attach(config: Config, container: &HtmlElement) -> Result<Rc<Instance>, JsValue> {
    let document = container
        .owner_document()
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let lang = Lang::pick(
        config
            .lang
            .iter()
            .map(String::as_str)
            .chain(browser::browser_languages().iter().map(String::as_str))
            .collect::<Vec<_>>(),
    );
    let root: HtmlElement = document.create_element("div")?.dyn_into()?;
    container.append_child(&root)?;
    let launcher: HtmlElement = document.create_element("button")?.dyn_into()?;
    launcher.set_class_name("launcher");
    launcher.set_attribute("data-testid", "glimpse-launcher")?;
    launcher.set_attribute("aria-haspopup", "dialog")?;
    launcher.set_attribute("aria-expanded", "false")?;
    let svg = document.create_element_ns(Some(SVG_NS), "svg")?;
    for (k, v) in [
        ("viewBox", "0 0 24 24"),
        ("aria-hidden", "true"),
        ("width", "26"),
        ("height", "26"),
    ] {
        svg.set_attribute(k, v)?;
    }
    let path = document.create_element_ns(Some(SVG_NS), "path")?;
    path.set_attribute("fill", "currentColor")?;
    path.set_attribute("d", ICON)?;
    svg.append_child(&path)?;
    launcher.append_child(&svg)?;
    let count: HtmlElement = document.create_element("span")?.dyn_into()?;
    count.set_class_name("count");
    count.set_attribute("aria-hidden", "true")?;
    let replies: HtmlElement = document.create_element("span")?.dyn_into()?;
    replies.set_class_name("replies");
    replies.set_attribute("aria-hidden", "true")?;
    replies.set_attribute("data-testid", "glimpse-unread")?;
    let id = INSTANCES.with(|i| i.borrow().len());
    let config_labels = config.labels.clone();
    watch_route();
    let inst = Rc::new(Instance {
        id,
        config,
        lang: Cell::new(lang),
        content_lang: RefCell::new(None),
        root,
        launcher,
        count,
        replies,
        unseen: Cell::new(0),
        statuses: RefCell::new(Vec::new()),
        feed: RefCell::new(None),
        summary: RefCell::new(None),
        app: RefCell::new(AppState::Absent),
        pending: RefCell::new(Vec::new()),
        notice: RefCell::new(None),
        page: RefCell::new(PageView {
            url: current_url(),
            labels: config_labels,
            since_local: browser::local_ms(),
        }),
        visible: RefCell::new(None),
        decision: Cell::new(0),
        targeted: Cell::new(false),
        everywhere: RefCell::new(Visible::default()),
    });
    INSTANCES.with(|i| i.borrow_mut().push(inst.clone()));
    apply_theme(&inst);
    listen(&inst.launcher, "click", move || run(id, Command::Toggle));
    for event in ["pointerenter", "focus", "touchstart"] {
        listen(&inst.launcher, event, prefetch_app);
    }
    Ok(inst)
}

/// Fetches the app's chunk (with the tray and the story viewer) ahead of a click: a hover,
/// focus or touch predicts one.
pub fn prefetch_app() {
    prefetch(crate::app::preload_app);
}

fn listen(target: &HtmlElement, event: &str, f: impl Fn() + 'static) {
    let f = Closure::<dyn Fn()>::new(f);
    let _ = target.add_event_listener_with_callback(event, f.as_ref().unchecked_ref());
    f.forget();
}

/// Loads the site's feed into `inst`. Offline or on 429/5xx it tries again with backoff and
/// at once when the browser is back online; until then the widget stays out of sight.
/// Other 4xx answers (an unknown site) are final.
pub async fn load_feed(inst: Rc<Instance>) {
    let url = inst.config.feed_url();
    let mut attempts = 0;
    loop {
        match crate::api::fetch_feed_text(&url).await {
            Ok((text, server_now)) => {
                feed_arrived(&inst, text, server_now);
                return;
            }
            Err((outcome, e)) => {
                if attempts == 0 {
                    crate::warn(&e);
                }
                if outcome != Outcome::Retry {
                    return;
                }
                attempts += 1;
                browser::sleep_or_online(backoff_ms(attempts)).await;
            }
        }
    }
}

/// The feed's JSON arrived (`server_now`: the server's clock corrected for the round trip,
/// when it sent one): shows the launcher, starts the app for banners, pending commands or
/// undelivered poll answers.
pub fn feed_arrived(inst: &Rc<Instance>, text: String, server_now: Option<i64>) {
    // The browser's own JSON parser reads the few facts the launcher needs; the app's
    // chunk decodes the whole feed with serde when it starts.
    let parsed = crate::pristine::json_parse(&text);
    let Some((summary, json)) = parsed.and_then(|v| Some((summary_of(&v)?, v))) else {
        crate::warn(&format!("{}: unexpected answer", inst.config.feed_url()));
        return;
    };
    browser::sync_clock(server_now.unwrap_or(summary.now));
    // The visitor's language among the site's, else the site's own; the widget's words
    // follow it when it is built in.
    let content = glimpse_shared::translate::content_language(
        inst.config
            .lang
            .iter()
            .map(String::as_str)
            .chain(browser::browser_languages().iter().map(String::as_str)),
        &summary.site.language,
        &summary.site.languages,
    );
    if let Some(lang) = Lang::builtin(&content) {
        inst.lang.set(lang);
    }
    *inst.content_lang.borrow_mut() = Some(content);
    let everywhere = everywhere_of(&summary, &json);
    inst.targeted.set(
        everywhere.stories.len() + everywhere.polls.len() + everywhere.sessions.len()
            < summary.stories.len() + summary.polls.len() + summary.sessions.len(),
    );
    *inst.everywhere.borrow_mut() = everywhere;
    *inst.summary.borrow_mut() = Some(summary);
    *inst.feed.borrow_mut() = Some(text.into());
    apply_theme(inst);
    decide(inst);
    if !inst.config.preview_only {
        wasm_bindgen_futures::spawn_local(check_replies(inst.clone()));
    }
    browser::emit(
        "ready",
        &browser::object(&[("site", inst.config.site.as_str().into())]),
        inst.config.datalayer,
    );
    // Commands that waited for the feed, and undelivered poll answers
    // (`{"pending": [...]}`), start the app now; banners start it once they show ([`apply`]).
    let outbox = browser::load(crate::poll::OUTBOX_KEY)
        .and_then(|t| crate::pristine::json_parse(&t))
        .and_then(|o| field(&o, "pending"))
        .is_some_and(|p| length(&p) > 0);
    if !inst.pending.borrow().is_empty() {
        ensure_app(inst, true);
    } else if outbox {
        ensure_app(inst, false);
    }
}

/// `object[key]` unless it is missing, `undefined` or `null`.
pub(crate) fn field(object: &JsValue, key: &str) -> Option<JsValue> {
    if !object.is_object() {
        return None;
    }
    Reflect::get(object, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// An array's length (0 for anything else).
pub(crate) fn length(array: &JsValue) -> usize {
    field(array, "length")
        .and_then(|l| l.as_f64())
        .filter(|_| js_sys::Array::is_array(array))
        .map_or(0, |l| l as usize)
}

/// The strings of an array (`key`: of its objects' field `key`).
pub(crate) fn strings<'a>(
    array: &'a JsValue,
    key: Option<&'a str>,
) -> impl Iterator<Item = String> + 'a {
    (0..length(array) as u32).filter_map(move |i| {
        let item = Reflect::get_u32(array, i).ok()?;
        match key {
            Some(k) => field(&item, k)?.as_string(),
            None => item.as_string(),
        }
    })
}

/// A parsed feed's [`FeedSummary`], read field by field (`None` if it is not a feed).
fn summary_of(feed: &JsValue) -> Option<FeedSummary> {
    let site = field(feed, "site")?;
    let theme = field(&site, "theme")?;
    let ignored =
        |key: &str, of: &JsValue| vec![IgnoredAny; field(of, key).map_or(0, |a| length(&a))];
    let stories = field(feed, "stories")?;
    Some(FeedSummary {
        site: SummarySite {
            theme: Theme {
                accent: field(&theme, "accent")?.as_string()?,
                mode: match field(&theme, "mode").and_then(|m| m.as_string()).as_deref() {
                    Some("light") => ThemeMode::Light,
                    Some("dark") => ThemeMode::Dark,
                    _ => ThemeMode::Auto,
                },
            },
            language: field(&site, "language")?.as_string()?,
            languages: field(&site, "languages")
                .map_or_else(Vec::new, |a| strings(&a, None).collect()),
            channels: ignored("channels", &site),
        },
        now: field(feed, "now")?.as_f64()? as i64,
        stories: targeted(&stories),
        sessions: field(feed, "sessions").map_or_else(Vec::new, |a| targeted(&a)),
        polls: field(feed, "polls").map_or_else(Vec::new, |a| targeted(&a)),
    })
}

/// The ids of a feed's stories, polls or sessions (an array), without their targeting:
/// the `targeting` chunk reads that ([`crate::targeting`]), only when the feed has some.
fn targeted(array: &JsValue) -> Vec<Targeted> {
    strings(array, Some("id"))
        .map(|id| Targeted {
            id,
            targeting: Targeting::default(),
        })
        .collect()
}

/// The stories, polls and sessions of a parsed feed without targeting rules: they show on
/// every page view. When that is all of them, no targeting is decided at all.
fn everywhere_of(summary: &FeedSummary, feed: &JsValue) -> Visible {
    let untargeted = |list: &str, items: &[Targeted]| -> Vec<String> {
        let array = field(feed, list);
        items
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                array
                    .as_ref()
                    .and_then(|a| Reflect::get_u32(a, *i as u32).ok())
                    .and_then(|item| field(&item, "targeting"))
                    .is_none()
            })
            .map(|(_, t)| t.id.clone())
            .collect()
    };
    Visible {
        stories: untargeted("stories", &summary.stories),
        polls: untargeted("polls", &summary.polls),
        sessions: untargeted("sessions", &summary.sessions),
        next_change: None,
    }
}

/// Decides what this page view shows of the loaded feed (nothing before it has loaded):
/// everything when the feed has no targeting rules; else the `targeting` chunk decides
/// ([`crate::targeting`], fetched the first time), and the launcher waits for it. Then
/// [`apply`].
fn decide(inst: &Rc<Instance>) {
    let decision = inst.decision.get().wrapping_add(1);
    inst.decision.set(decision);
    if inst.summary.borrow().is_none() {
        return;
    }
    if !inst.targeted.get() {
        let visible = inst.everywhere.borrow().clone();
        apply(inst, visible, decision);
        return;
    }
    watch_route();
    let inst = inst.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let id = inst.id;
        let decided = with_retries(|| crate::targeting::run(crate::targeting::Job::Decide(id)))
            .await
            .ok()
            .flatten()
            // Without the chunk (offline after retries): what shows everywhere.
            .unwrap_or_else(|| inst.everywhere.borrow().clone());
        // A later decision (a route change meanwhile) wins.
        if inst.decision.get() == decision {
            apply(&inst, decided, decision);
        }
    });
}

/// Takes what this page view shows: shows or hides the launcher to match, tells a running
/// app, starts the app for banners that now show, and sets a timer for the next delay's end.
fn apply(inst: &Rc<Instance>, visible: Visible, decision: u32) {
    let Some(state) = inst
        .summary
        .borrow()
        .as_ref()
        .map(|s| s.launcher(&visible, &seen_ids(&inst.config.site)))
    else {
        return;
    };
    if let Some(at) = visible.next_change {
        let inst = inst.clone();
        let wait = at - browser::now_ms();
        wasm_bindgen_futures::spawn_local(async move {
            browser::sleep(wait).await;
            if inst.decision.get() == decision {
                decide(&inst);
            }
        });
    }
    *inst.visible.borrow_mut() = Some(visible);
    show_launcher(inst, state);
    refresh_strips(inst);
    let handler = match &*inst.app.borrow() {
        AppState::Ready(h) => Some(h.clone()),
        _ => None,
    };
    match handler {
        Some(h) => h(Command::Retarget),
        None => {
            if state.banners && !inst.config.preview_only {
                ensure_app(inst, false);
            }
        }
    }
}

/// Fills the page's story strips ([`crate::strip`], its own chunk, fetched only when the
/// page has one) with what this page view shows, once the feed has loaded.
pub fn refresh_strips(inst: &Rc<Instance>) {
    if inst.visible.borrow().is_none() || !crate::strip::wanted() {
        return;
    }
    let id = inst.id;
    wasm_bindgen_futures::spawn_local(async move {
        if with_retries(|| crate::strip::render(id)).await.is_err() {
            crate::warn("the story strip could not load");
        }
    });
}

/// The page view's labels and when it began (unix ms, server-corrected clock).
pub fn page_view(inst: &Instance) -> (Vec<String>, i64) {
    let page = inst.page.borrow();
    let since = browser::now_ms() - (browser::local_ms() - page.since_local);
    (page.labels.clone(), since)
}

/// Records that item `id` (a story, poll or session) was shown on `site`'s widget, for
/// targeting's frequency caps: the `targeting` chunk keeps it ([`crate::targeting`]) when
/// the feed has targeting at all.
pub fn record_shown(site: &str, id: &str) {
    if !all()
        .iter()
        .any(|i| i.config.site == site && i.targeted.get())
    {
        return;
    }
    let job = crate::targeting::Job::Record {
        site: site.to_string(),
        id: id.to_string(),
    };
    wasm_bindgen_futures::spawn_local(async move {
        let _ = crate::targeting::run(job).await;
    });
}

/// `location.href` without its fragment (a hash change is not a new page view).
fn current_url() -> String {
    let href = web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default();
    match href.split_once('#') {
        Some((url, _)) => url.to_string(),
        None => href,
    }
}

/// The feed's summary (without targeting rules), once the feed has loaded.
pub fn summary(inst: &Instance) -> Option<FeedSummary> {
    inst.summary.borrow().clone()
}

/// The language content is shown in, once the feed has loaded (else the site's own).
pub fn content_language(inst: &Instance) -> Option<String> {
    inst.content_lang.borrow().clone()
}

/// What this page view shows of the feed (ids), once the feed has loaded.
pub fn visible(inst: &Instance) -> Option<Visible> {
    inst.visible.borrow().clone()
}

/// A new page view for every instance (of `site` only, if given): the route changed, or the
/// page said so with `Glimpse('page', {labels})` (`labels`: the page's labels from now on).
/// Targeting is decided again; delays count from now.
pub fn new_page_view(site: Option<&str>, labels: Option<Vec<String>>) {
    for inst in all()
        .iter()
        .filter(|i| site.is_none_or(|s| s == i.config.site))
    {
        {
            let mut page = inst.page.borrow_mut();
            page.url = current_url();
            page.since_local = browser::local_ms();
            if let Some(labels) = &labels {
                page.labels = labels.clone();
            }
        }
        decide(inst);
    }
}

/// Follows single-page apps' route changes (`history.pushState`, back and forward): the
/// Navigation API's `currententrychange` where the browser has it, `popstate`, and a check
/// every second for the rest. Nothing of the host page is patched.
fn watch_route() {
    thread_local! {
        static WATCHING: Cell<bool> = const { Cell::new(false) };
    }
    if WATCHING.with(|w| w.replace(true)) {
        return;
    }
    let check = || {
        let url = current_url();
        if all().iter().any(|i| i.page.borrow().url != url) {
            new_page_view(None, None);
        }
    };
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_change = Closure::<dyn Fn()>::new(check);
    let navigation = Reflect::get(&window, &JsValue::from_str("navigation")).ok();
    if let Some(nav) = navigation.filter(|n| n.is_object())
        && let Ok(add) = Reflect::get(&nav, &JsValue::from_str("addEventListener"))
        && let Ok(add) = add.dyn_into::<js_sys::Function>()
    {
        let _ = add.call2(
            &nav,
            &JsValue::from_str("currententrychange"),
            on_change.as_ref(),
        );
    }
    let _ = window.add_event_listener_with_callback("popstate", on_change.as_ref().unchecked_ref());
    on_change.forget();
    browser::every(1_000, check);
}

/// The story ids this visitor has seen on `site` (a JSON array in localStorage).
pub(crate) fn seen_ids(site: &str) -> Vec<String> {
    browser::load(&seen_key(site))
        .and_then(|t| crate::pristine::json_parse(&t))
        .map(|a| strings(&a, None).collect())
        .unwrap_or_default()
}

/// The localStorage key of the story ids this visitor has seen on `site`.
pub fn seen_key(site: &str) -> String {
    format!("glimpse:{site}:seen")
}

/// The feed's JSON, once loaded.
pub fn feed_text(inst: &Instance) -> Option<Rc<str>> {
    inst.feed.borrow().clone()
}

/// The root's look: side, light/dark, accent, language and direction, from the embed's
/// attributes or else the site's theme.
fn apply_theme(inst: &Instance) {
    let summary = inst.summary.borrow();
    let site = summary.as_ref().map(|s| &s.site);
    let config = &inst.config;
    let mode = match config.theme.or_else(|| site.map(|s| s.theme.mode)) {
        Some(ThemeMode::Light) => "light",
        Some(ThemeMode::Dark) => "dark",
        _ => "auto",
    };
    let accent = config
        .accent
        .clone()
        .or_else(|| site.map(|s| s.theme.accent.clone()))
        .unwrap_or_else(|| "#5b4dff".into());
    let lang = inst
        .content_lang
        .borrow()
        .clone()
        .or_else(|| site.map(|s| s.language.clone()))
        .unwrap_or_else(|| inst.lang.get().tag().into());
    let root = &inst.root;
    root.set_class_name(if config.side == Side::Left {
        "root left"
    } else {
        "root"
    });
    let _ = root.set_attribute("data-theme", mode);
    let _ = root.set_attribute("dir", if is_rtl(&lang) { "rtl" } else { "ltr" });
    let _ = root.set_attribute("lang", &lang);
    // Through CSSOM, never a `style` attribute, so a strict CSP allows it.
    let style = root.style();
    let _ = style.set_property("--accent", &accent);
    let _ = style.set_property("--on-accent", text_on(&accent));
}

fn show_launcher(inst: &Instance, state: LauncherState) {
    if !state.visible || inst.config.preview_only {
        inst.launcher.remove();
        return;
    }
    set_unseen(inst, state.unseen);
    if !inst.launcher.is_connected() {
        let _ = inst
            .root
            .insert_before(&inst.launcher, inst.root.first_child().as_ref());
    }
}

/// Shows `n` unseen stories on the launcher (its badge and its accessible name).
pub fn set_unseen(inst: &Instance, n: usize) {
    inst.unseen.set(n);
    let lang = inst.lang.get();
    let base = lang.first(FirstText::OpenHelp);
    let unread = unread(inst);
    // The visible counts must be part of the name (WCAG 2.5.3, label in name), and a
    // parenthetical does not count as part of it: "Open help stories, 1 new, 1 new reply".
    let mut label = base.to_string();
    if n > 0 {
        label.push_str(&format!(", {n} {}", lang.first(FirstText::New)));
    }
    if unread > 0 {
        label.push_str(&format!(", {unread} {}", lang.first(FirstText::NewReply)));
        inst.replies.set_text_content(Some(&unread.to_string()));
        if !inst.replies.is_connected() {
            let _ = inst.launcher.append_child(&inst.replies);
        }
    } else {
        inst.replies.remove();
    }
    let _ = inst.launcher.set_attribute("aria-label", &label);
    let _ = inst
        .launcher
        .class_list()
        .toggle_with_force("unseen", n > 0);
    if n > 0 {
        inst.count.set_text_content(Some(&n.to_string()));
        if !inst.count.is_connected() {
            let _ = inst.launcher.append_child(&inst.count);
        }
    } else {
        inst.count.remove();
    }
}

/// Reflects whether the tray is open on the launcher (`aria-expanded`).
pub fn set_expanded(inst: &Instance, open: bool) {
    let _ = inst
        .launcher
        .set_attribute("aria-expanded", if open { "true" } else { "false" });
}

/// Runs `command` on instance `id`: at once when its app runs, else after the app has
/// started (which this begins once the feed is there).
pub fn run(id: usize, command: Command) {
    let Some(inst) = get(id) else { return };
    let handler = match &*inst.app.borrow() {
        AppState::Ready(h) => Some(h.clone()),
        _ => None,
    };
    match handler {
        Some(h) => h(command),
        None => {
            // The app's chunk holds the tray and the viewer: one round trip, started now
            // even if the feed is still on its way.
            prefetch(crate::app::preload_app);
            inst.pending.borrow_mut().push(command);
            if inst.feed.borrow().is_some() {
                ensure_app(&inst, true);
            }
        }
    }
}

/// Called by the app once it runs: takes its commands from now on, and the waiting ones.
pub fn register(id: usize, handler: Handler) {
    let Some(inst) = get(id) else { return };
    *inst.app.borrow_mut() = AppState::Ready(handler.clone());
    let waiting: Vec<Command> = inst.pending.borrow_mut().drain(..).collect();
    for c in waiting {
        handler(c);
    }
}

/// Starts the app's chunk unless it runs or is loading. `asked`: a visitor or the page asked
/// for it, so a failure shows the calm message; background starts fail silently.
fn ensure_app(inst: &Rc<Instance>, asked: bool) {
    if !matches!(*inst.app.borrow(), AppState::Absent) {
        return;
    }
    *inst.app.borrow_mut() = AppState::Loading;
    clear_notice(inst);
    let id = inst.id;
    wasm_bindgen_futures::spawn_local(async move {
        let started = with_retries(|| crate::app::start_app(id)).await;
        let Some(inst) = get(id) else { return };
        if let Ok(false) = started {
            // The chunk ran but the feed could not be decoded (warned there): nothing to
            // show, and no command may wait forever for an app that will not come.
            *inst.app.borrow_mut() = AppState::Absent;
            inst.pending.borrow_mut().clear();
        } else if let Err(ChunkError) = started {
            *inst.app.borrow_mut() = AppState::Absent;
            if asked || !inst.pending.borrow().is_empty() {
                inst.pending.borrow_mut().clear();
                show_notice(&inst);
            }
        }
    });
}

/// "This part of help couldn't load. Check your connection. [Try again]" above the launcher.
fn show_notice(inst: &Rc<Instance>) {
    let Some(document) = inst.root.owner_document() else {
        return;
    };
    let make = || -> Result<Element, JsValue> {
        let p = document.create_element("p")?;
        p.set_class_name("part-failed notice");
        p.set_attribute("role", "status")?;
        p.set_attribute("data-testid", "glimpse-part-failed")?;
        p.append_child(&document.create_text_node(inst.lang.get().first(FirstText::PartFailed)))?;
        p.append_child(&document.create_text_node(" "))?;
        let again: HtmlElement = document.create_element("button")?.dyn_into()?;
        again.set_class_name("link");
        again.set_text_content(Some(inst.lang.get().first(FirstText::TryAgain)));
        let id = inst.id;
        listen(&again, "click", move || run(id, Command::Open(None)));
        p.append_child(&again)?;
        inst.root.append_child(&p)?;
        Ok(p)
    };
    if let Ok(p) = make() {
        *inst.notice.borrow_mut() = Some(p);
    }
}

fn clear_notice(inst: &Instance) {
    if let Some(p) = inst.notice.borrow_mut().take() {
        p.remove();
    }
}

/// Threads of this instance's visitor with replies they have not read.
fn unread(inst: &Instance) -> usize {
    let read = browser::load(&glimpse_shared::question::read_key(&inst.config.site))
        .and_then(|t| crate::pristine::json_parse(&t));
    glimpse_shared::question::unread_threads(&inst.statuses.borrow(), |id| {
        read.as_ref()
            .and_then(|r| field(r, id))
            .and_then(|n| n.as_f64())
            .map_or(0, |n| n as u32)
    })
}

/// Asks whether the team replied in the visitor's threads on this site (one small
/// `POST …/threads` with the ids and tokens this browser keeps; none kept: no request) and
/// shows the threads with unread replies on the launcher. Failures leave the badge off.
pub async fn check_replies(inst: Rc<Instance>) {
    use glimpse_shared::question::is_plain_token;
    let Some(stored) = browser::load(&format!("glimpse:{}:threads", inst.config.site))
        .and_then(|t| crate::pristine::json_parse(&t))
    else {
        return;
    };
    let now = browser::now_ms();
    let mut refs: Vec<String> = Vec::new();
    for i in (0..length(&stored)).rev() {
        let Some(c) = Reflect::get(&stored, &JsValue::from_f64(i as f64)).ok() else {
            continue;
        };
        let text = |k: &str| field(&c, k).and_then(|v| v.as_string());
        let expires = field(&c, "expires_at").and_then(|v| v.as_f64());
        if let (Some(id), Some(token)) = (text("id"), text("token"))
            && is_plain_token(&id)
            && is_plain_token(&token)
            && expires.is_none_or(|e| e > now as f64)
            && refs.len() < 10
        {
            refs.push(format!(r#"{{"id":"{id}","token":"{token}"}}"#));
        }
    }
    if refs.is_empty() {
        return;
    }
    let body = format!(r#"{{"threads":[{}]}}"#, refs.join(","));
    let url = inst.config.site_url("threads");
    let Ok((200, text)) = crate::api::post_text(&url, body).await else {
        return;
    };
    let Some(answer) = crate::pristine::json_parse(&text) else {
        return;
    };
    let Some(threads) = field(&answer, "threads") else {
        return;
    };
    let statuses: Vec<(String, u32)> = (0..length(&threads))
        .filter_map(|i| Reflect::get(&threads, &JsValue::from_f64(i as f64)).ok())
        .filter_map(|t| {
            Some((
                field(&t, "id")?.as_string()?,
                field(&t, "replies")?.as_f64()? as u32,
            ))
        })
        .collect();
    *inst.statuses.borrow_mut() = statuses;
    set_unseen(&inst, inst.unseen.get());
}

/// The visitor read `replies` replies of thread `id` on `site` (the open thread shows
/// them): remembered, and every launcher of the site updated.
pub fn mark_read(site: &str, id: &str, replies: u32) {
    let key = glimpse_shared::question::read_key(site);
    let read = browser::load(&key)
        .and_then(|t| crate::pristine::json_parse(&t))
        .filter(JsValue::is_object)
        .unwrap_or_else(|| js_sys::Object::new().into());
    let before = field(&read, id).and_then(|n| n.as_f64()).unwrap_or(0.0);
    if before >= f64::from(replies) {
        return;
    }
    let _ = Reflect::set(&read, &JsValue::from_str(id), &JsValue::from(replies));
    if let Ok(text) = js_sys::JSON::stringify(&read)
        && let Some(text) = text.as_string()
    {
        browser::save(&key, &text);
    }
    for inst in all().iter().filter(|i| i.config.site == site) {
        set_unseen(inst, inst.unseen.get());
    }
}
