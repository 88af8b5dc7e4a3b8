//! The widget's components. Authored content is only ever rendered as text nodes, and links
//! are only ever https (validated by the API, checked again here).

use std::rc::Rc;

use crate::browser::is_https_url;
use glimpse_shared::feed::{Visible, unseen};
use glimpse_shared::i18n::{Lang, Text};
use glimpse_shared::site::Availability;
use glimpse_shared::{Channel, ChannelKind, EventKind, Feed, FeedSite, Story};
use leptos::prelude::*;
use web_sys::KeyboardEvent;

use crate::banner::Banners;
use crate::browser;
use crate::config::{Config, Side};
use crate::lazy::lazy_view;
use crate::poll::PollCard;
use crate::shell::{self, Command};
use crate::telemetry::track;
use crate::viewer::Viewer;

/// What every component of one widget instance needs.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub config: Config,
    pub lang: Lang,
    /// The language content is shown in (a tag among the site's), for the knowledge base's
    /// search and page; empty: the site's own.
    pub content: String,
    pub visitor: String,
    /// An operator's preview: nothing is tracked or remembered.
    pub preview: bool,
}

impl Ctx {
    pub fn t(&self, text: Text) -> &'static str {
        self.lang.t(text)
    }

    pub fn track(&self, kind: EventKind) {
        if self.preview {
            return;
        }
        track(&self.config, &self.visitor, kind);
    }
}

/// The instance's open/closed state, driven by clicks and by `Glimpse('open' | 'close')`.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub tray: RwSignal<bool>,
    /// The story open in the viewer (its id).
    pub viewer: RwSignal<Option<String>>,
    /// A story shown by `Glimpse('preview', {story})`, not from the feed.
    pub preview: RwSignal<Option<Story>>,
    /// What this page view shows of the feed ([`shell::visible`]); `None` until decided.
    pub visible: RwSignal<Option<Visible>>,
}

impl Ui {
    pub fn new() -> Self {
        Self {
            tray: RwSignal::new(false),
            viewer: RwSignal::new(None),
            preview: RwSignal::new(None),
            visible: RwSignal::new(None),
        }
    }
}

impl Default for Ui {
    fn default() -> Self {
        Self::new()
    }
}

crate::chunk! {
    /// Starts instance `id`'s app (the `app` chunk): decodes the whole feed, mounts the
    /// Leptos app into the instance's root next to the launcher, and takes its commands.
    /// `false` when there is no app to start (no instance, no feed, a feed it cannot decode).
    pub fn start_app(id: usize) -> bool;
        chunk app, preload preload_app, body start_app_body;
    {
        start(id)
    }
}

fn start(id: usize) -> bool {
    let Some(inst) = shell::get(id) else {
        return false;
    };
    let Some(text) = shell::feed_text(&inst) else {
        return false;
    };
    let feed = match crate::api::decode_feed(&inst.config.feed_url(), &text) {
        // In the visitor's language, where the content is translated.
        Ok(feed) => match shell::content_language(&inst) {
            Some(lang) => feed.localized(&lang),
            None => feed,
        },
        Err(e) => {
            crate::warn(&e);
            return false;
        }
    };
    if let Err(e) = crate::host::add_app_styles(&inst.root, inst.config.nonce.as_deref()) {
        crate::warn(&format!("no styles: {e:?}"));
    }
    start_once(&inst.config);
    let ui = Ui::new();
    ui.visible.set(shell::visible(&inst));
    let ids: Vec<String> = feed.stories.iter().map(|s| s.id.clone()).collect();
    let config = inst.config.clone();
    leptos::mount::mount_to(
        inst.root.clone(),
        move || view! { <App shell=id config=config feed=feed ui=ui/> },
    )
    .forget();
    shell::register(
        id,
        Rc::new(move |command| match command {
            Command::Toggle => ui.tray.update(|t| *t = !*t),
            Command::Open(None) => ui.tray.set(true),
            // Any live story, even one this page's targeting leaves out: the page asked.
            Command::Open(Some(story)) => {
                if ids.contains(&story) {
                    ui.tray.set(false);
                    ui.viewer.set(Some(story));
                }
            }
            Command::Close => {
                ui.viewer.set(None);
                ui.tray.set(false);
                ui.preview.set(None);
            }
            Command::Preview(arg) => match preview_story(&arg) {
                Ok(story) => {
                    ui.tray.set(false);
                    ui.viewer.set(None);
                    ui.preview.set(Some(story));
                }
                Err(e) => crate::warn(&format!("cannot preview: {e}")),
            },
            Command::Retarget => {
                if let Some(inst) = shell::get(id) {
                    ui.visible.set(shell::visible(&inst));
                }
            }
        }),
    );
    true
}

/// Page-wide duties, started by the first app: the offline outbox and event batching.
fn start_once(config: &Config) {
    thread_local! {
        static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if STARTED.with(|s| s.replace(true)) {
        return;
    }
    crate::poll::start_outbox(config);
    let _ = set_interval_with_handle(
        || crate::telemetry::flush(false),
        std::time::Duration::from_secs(10),
    );
    let pagehide = window_event_listener_untyped("pagehide", |_| crate::telemetry::flush(true));
    std::mem::forget(pagehide);
}

/// The story of a preview command, if it would be accepted by the API.
fn preview_story(arg: &wasm_bindgen::JsValue) -> Result<Story, String> {
    let value = js_sys::Reflect::get(arg, &wasm_bindgen::JsValue::from_str("story"))
        .map_err(|_| "no story".to_string())?;
    // The console's own page: its `JSON` is the browser's.
    let text = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| "no story".to_string())?;
    let story: Story = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    match story.validate_with(&crate::browser::BrowserDomains).first() {
        Some(p) => Err(format!("{}: {}", p.field, p.message)),
        None => Ok(story),
    }
}

/// The widget's app for one instance: live-session banners, the tray and the story viewer.
/// It renders into the instance's root after the launcher, which the first chunk owns
/// ([`crate::shell`]); the app keeps the launcher's badge and `aria-expanded` current.
#[component]
pub fn App(
    /// The instance in [`crate::shell`].
    shell: usize,
    /// This instance's configuration.
    config: Config,
    /// The site's feed.
    feed: Feed,
    /// Open/closed state shared with the command API.
    ui: Ui,
) -> impl IntoView {
    let inst = shell::get(shell);
    let lang = inst.as_ref().map_or(Lang::En, |i| i.lang.get());
    let ctx = Ctx {
        visitor: browser::visitor_id(),
        lang,
        content: inst
            .as_ref()
            .and_then(|i| shell::content_language(i))
            .unwrap_or_default(),
        config: config.clone(),
        preview: false,
    };
    provide_context(ctx.clone());
    let feed = StoredValue::new(feed);
    let site = Memo::new(move |_| Some(feed.with_value(|f| f.site.clone())));
    // What this page view shows: targeting decided by the first chunk ([`shell::visible`]).
    let stories = Memo::new(move |_| {
        ui.visible.with(|v| {
            feed.with_value(|f| only(&f.stories, v.as_ref().map(|v| &v.stories), |s| &s.id))
        })
    });
    let sessions = Memo::new(move |_| {
        ui.visible.with(|v| {
            feed.with_value(|f| only(&f.sessions, v.as_ref().map(|v| &v.sessions), |s| &s.id))
        })
    });
    let polls = Memo::new(move |_| {
        ui.visible
            .with(|v| feed.with_value(|f| only(&f.polls, v.as_ref().map(|v| &v.polls), |p| &p.id)))
    });
    let availability = Memo::new(move |_| feed.with_value(|f| f.availability.clone()));
    let seen_key = shell::seen_key(&config.site);
    let seen = RwSignal::new(browser::load_json::<Vec<String>>(&seen_key).unwrap_or_default());
    let site_id = config.site.clone();
    let mark_seen = Callback::new(move |id: String| {
        shell::record_shown(&site_id, &id);
        seen.update(|s| {
            if !s.contains(&id) {
                s.push(id);
                let len = s.len();
                if len > 200 {
                    s.drain(..len - 200);
                }
            }
        });
        browser::save_json(&seen_key, &seen.get_untracked());
        // The page's story strips show it as seen.
        if let Some(inst) = shell::get(shell) {
            shell::refresh_strips(&inst);
        }
    });
    let unseen = Memo::new(move |_| {
        seen.with(|seen| stories.with(|s| unseen(s.iter().map(|st| st.id.as_str()), seen)))
    });
    Effect::new(move |_| {
        let n = unseen.get();
        if let Some(inst) = shell::get(shell) {
            shell::set_unseen(&inst, n);
        }
    });
    Effect::new(move |_| {
        let open = ui.tray.get();
        if let Some(inst) = shell::get(shell) {
            shell::set_expanded(&inst, open);
        }
    });
    let focus_launcher = move || {
        if let Some(inst) = shell::get(shell) {
            let _ = inst.launcher.focus();
        }
    };
    let close_viewer = Callback::new(move |()| {
        ui.viewer.set(None);
        crate::telemetry::flush(false);
        focus_launcher();
    });
    let preview_only = config.preview_only;
    // The stories this page view shows, from the one opened; a story opened by
    // `Glimpse('open', {story})` that it does not show plays alone. A route change while a
    // story plays does not restart it (the list is read untracked).
    let open_story = move || {
        ui.viewer.get().and_then(|id| {
            let shown = stories.get_untracked();
            let (list, i) = match shown.iter().position(|s| s.id == id) {
                Some(i) => (shown, i),
                None => (
                    vec![feed.with_value(|f| f.stories.iter().find(|s| s.id == id).cloned())?],
                    0,
                ),
            };
            let parts = ViewerParts {
                site,
                on_close: close_viewer,
                mark_seen,
            };
            Some(viewer(list, i, parts))
        })
    };
    let close_preview = Callback::new(move |()| ui.preview.set(None));
    let open_preview = move || {
        ui.preview
            .get()
            .map(|story| preview_viewer(story, site, close_preview))
    };
    // An open story locks the host page's scroll; dropping the guard restores it.
    let scroll_lock = StoredValue::new_local(None::<crate::scroll_lock::Guard>);
    Effect::new(move |_| {
        let open = ui.viewer.with(Option::is_some) || ui.preview.with(Option::is_some);
        scroll_lock.update_value(|guard| match (open, guard.is_some()) {
            (true, false) => *guard = Some(crate::scroll_lock::lock()),
            (false, true) => *guard = None,
            _ => {}
        });
    });
    view! {
        // Live-session banners load only when the feed has a session.
        <Show when=move || !preview_only && sessions.with(|s| !s.is_empty())>
            {lazy_view(move || banners(sessions))}
        </Show>
        <Show when=move || ui.tray.get()>
            {
                let parts = TrayParts {
                    stories,
                    polls,
                    site,
                    availability,
                    seen,
                    ui,
                    on_close: Callback::new(move |()| {
                        ui.tray.set(false);
                        focus_launcher();
                    }),
                };
                tray(parts)
            }
        </Show>
        {open_story}
        {open_preview}
    }
}

/// What the story viewer needs from [`App`].
#[derive(Clone, Copy)]
pub struct ViewerParts {
    pub site: Memo<Option<FeedSite>>,
    pub on_close: Callback<()>,
    pub mark_seen: Callback<String>,
}

/// The story viewer (in the app's chunk: a visitor who opens the widget opens a story).
fn viewer(stories: Vec<Story>, start: usize, parts: ViewerParts) -> AnyView {
    view! {
        <Viewer
            stories=stories
            start=start
            site=parts.site
            on_close=parts.on_close
            mark_seen=parts.mark_seen
        />
    }
    .into_any()
}

/// The real story player showing an operator's draft: nothing is tracked or marked seen.
fn preview_viewer(story: Story, site: Memo<Option<FeedSite>>, on_close: Callback<()>) -> AnyView {
    provide_context(Ctx {
        preview: true,
        ..ctx()
    });
    let mark_seen = Callback::new(|_: String| {});
    view! { <Viewer stories=vec![story] start=0 site=site on_close=on_close mark_seen=mark_seen/> }
        .into_any()
}

crate::chunk! {
    /// Live-session banners (their own chunk, fetched when the feed has a session).
    pub fn banners(sessions: Memo<Vec<glimpse_shared::LiveSession>>) -> AnyView;
        chunk banners, preload preload_banners, body banners_body;
    {
        view! { <Banners sessions=sessions/> }.into_any()
    }
}

/// What the tray needs from [`App`].
#[derive(Clone, Copy)]
pub struct TrayParts {
    pub stories: Memo<Vec<Story>>,
    pub polls: Memo<Vec<glimpse_shared::Poll>>,
    pub site: Memo<Option<FeedSite>>,
    pub availability: Memo<Vec<Availability>>,
    pub seen: RwSignal<Vec<String>>,
    pub ui: Ui,
    pub on_close: Callback<()>,
}

/// The tray (in the app's chunk, fetched on the launcher's hover, focus or touch, and on
/// click).
fn tray(parts: TrayParts) -> AnyView {
    view! {
        <Tray
            stories=parts.stories
            polls=parts.polls
            site=parts.site
            availability=parts.availability
            seen=parts.seen
            ui=parts.ui
            on_close=parts.on_close
        />
    }
    .into_any()
}

/// The panel the launcher opens: stories (newest first), open polls, and the traditional
/// channels, always one tap away.
#[component]
fn Tray(
    stories: Memo<Vec<Story>>,
    polls: Memo<Vec<glimpse_shared::Poll>>,
    site: Memo<Option<FeedSite>>,
    availability: Memo<Vec<Availability>>,
    seen: RwSignal<Vec<String>>,
    ui: Ui,
    on_close: Callback<()>,
) -> impl IntoView {
    let ctx = expect_context_or_default();
    let lang = ctx.lang;
    let panel = NodeRef::<leptos::html::Section>::new();
    // The open tray shows its polls: a poll shown "once" counts from here.
    let site_id = ctx.config.site.clone();
    Effect::new(move |_| {
        polls.with(|all| {
            for p in all {
                shell::record_shown(&site_id, &p.id);
            }
        });
    });
    Effect::new(move |_| {
        if let Some(el) = panel.get() {
            let _ = el.focus();
        }
    });
    let on_key = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.stop_propagation();
            on_close.run(());
        }
    };
    let topic_label = move |topic: &str| {
        site.with(|s| {
            s.as_ref()
                .and_then(|s| {
                    s.topics
                        .iter()
                        .find(|t| t.id == topic)
                        .map(|t| t.label.clone())
                })
                .unwrap_or_else(|| topic.to_string())
        })
    };
    let items = move || {
        stories
            .get()
            .into_iter()
            .map(|story| {
                let is_seen = seen.with(|s| s.contains(&story.id));
                let expires = lang.expires_in(story.expires_at - browser::now_ms());
                let topic = topic_label(&story.topic);
                let id = story.id.clone();
                let mark = if is_seen {
                    lang.t(Text::Seen)
                } else {
                    lang.t(Text::New)
                };
                view! {
                    <li>
                        <button
                            class="story-item"
                            class:seen=is_seen
                            data-testid="glimpse-story-item"
                            on:click=move |_| {
                                ui.tray.set(false);
                                ui.viewer.set(Some(id.clone()));
                            }
                        >
                            <span class="ring" aria-hidden="true"></span>
                            <span class="meta">
                                <span class="title">{story.title}</span>
                                <span class="sub">{topic} " · " {expires}</span>
                            </span>
                            <span class="mark">{mark}</span>
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    let title = ctx.t(Text::HelpStories);
    view! {
        <section
            class="tray"
            class:rtl-aware=true
            role="dialog"
            aria-label=title
            tabindex="-1"
            data-testid="glimpse-tray"
            node_ref=panel
            on:keydown=on_key
        >
            // Not a <header>: inside a dialog it would still be a `banner` landmark, a second
            // one on the host page (axe: landmark-no-duplicate-banner).
            <div class="tray-head">
                <h2>{title}</h2>
                <button class="icon" aria-label=ctx.t(Text::Close) on:click=move |_| on_close.run(())>
                    "×"
                </button>
            </div>
            <ul class="stories">{items}</ul>
            <crate::search::Search/>
            <For each=move || polls.get() key=|p| p.id.clone() let:poll>
                <PollCard poll=poll/>
            </For>
            <LiveHelp site=site availability=availability/>
            <crate::ask::Ask site=site availability=availability/>
            <Channels site=site topic=None story=None/>
        </section>
    }
}

/// The items whose ids are in `ids`, in their order; none while targeting has not decided
/// yet (`ids` is `None`).
fn only<T: Clone>(items: &[T], ids: Option<&Vec<String>>, id: impl Fn(&T) -> &String) -> Vec<T> {
    items
        .iter()
        .filter(|item| ids.is_some_and(|ids| ids.contains(id(item))))
        .cloned()
        .collect()
}

fn expect_context_or_default() -> Ctx {
    use_context::<Ctx>().unwrap_or_else(|| Ctx {
        config: Config::new("unknown", "https://invalid").unwrap_or_else(|_| Config {
            site: String::new(),
            api: String::new(),
            lang: None,
            side: Side::Right,
            accent: None,
            theme: None,
            nonce: None,
            datalayer: false,
            labels: Vec::new(),
            preview_only: false,
        }),
        lang: Lang::En,
        content: String::new(),
        visitor: String::new(),
        preview: false,
    })
}

/// The component context, which [`App`] always provides.
pub fn ctx() -> Ctx {
    expect_context_or_default()
}

/// A traditional channel as a link: `mailto:` (with the story and slide as context),
/// `tel:`, or the https ticket form.
pub fn channel_href(channel: &Channel, context: Option<&str>) -> Option<String> {
    let encode = |s: &str| String::from(js_sys::encode_uri_component(s));
    match channel.kind {
        ChannelKind::Email => Some(match context {
            Some(c) => format!(
                "mailto:{}?subject={}&body={}",
                channel.value,
                encode("Help request"),
                encode(c)
            ),
            None => format!("mailto:{}", channel.value),
        }),
        ChannelKind::Phone => Some(format!(
            "tel:{}",
            channel
                .value
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect::<String>()
        )),
        ChannelKind::Ticket => is_https_url(&channel.value).then(|| match context {
            Some(c) => {
                let sep = if channel.value.contains('?') {
                    '&'
                } else {
                    '?'
                };
                format!("{}{sep}context={}", channel.value, encode(c))
            }
            None => channel.value.clone(),
        }),
    }
}

/// The site's channels that serve `topic` (all when `None`), as links.
#[component]
pub fn Channels(
    site: Memo<Option<FeedSite>>,
    /// Only channels serving this topic.
    topic: Option<String>,
    /// "story title — slide n", sent along as context.
    story: Option<String>,
) -> impl IntoView {
    let ctx = ctx();
    let label = ctx.t(Text::ContactUs);
    let links = move || {
        let ctx = ctx.clone();
        site.get()
            .map(|s| {
                let channels: Vec<Channel> = match &topic {
                    Some(t) => s.channels_for(t).cloned().collect(),
                    None => s.channels.clone(),
                };
                channels
                    .into_iter()
                    .filter_map(|c| {
                        let href = channel_href(&c, story.as_deref())?;
                        let kind = c.kind;
                        let topic = topic.clone();
                        let ctx = ctx.clone();
                        let external = kind == ChannelKind::Ticket;
                        Some(view! {
                            <li>
                                <a
                                    class="channel"
                                    href=href
                                    target=external.then_some("_blank")
                                    rel=external.then_some("noopener noreferrer")
                                    data-testid="glimpse-channel"
                                    on:click=move |_| ctx.track(EventKind::Escalation { channel: kind, topic: topic.clone() })
                                >
                                    {c.label}
                                </a>
                            </li>
                        })
                    })
                    .collect_view()
            })
    };
    view! {
        <nav class="channels" aria-label=label>
            <h3>{label}</h3>
            <ul>{links}</ul>
        </nav>
    }
}

/// When live help is on, per topic: "Live help open until 17:00" or "Next live help Mon
/// 09:00", in the visitor's own time zone and language.
#[component]
fn LiveHelp(site: Memo<Option<FeedSite>>, availability: Memo<Vec<Availability>>) -> impl IntoView {
    let lang = ctx().lang;
    let rows = move || {
        availability
            .get()
            .into_iter()
            .filter_map(|a| {
                let label = site.with(|s| {
                    s.as_ref()
                        .and_then(|s| s.topics.iter().find(|t| t.id == a.topic).map(|t| t.label.clone()))
                })?;
                let text = match (a.open, a.until, a.next_open) {
                    (true, Some(until), _) => format!(
                        "{} {}",
                        lang.t(Text::LiveHelpOpenUntil),
                        browser::local_clock(until, lang.tag())
                    ),
                    (false, _, Some(next)) => format!(
                        "{} {}",
                        lang.t(Text::NextLiveHelp),
                        browser::local_weekday_clock(next, lang.tag())
                    ),
                    _ => return None,
                };
                Some(view! {
                    <li class:open=a.open data-testid="glimpse-live-help" data-topic=a.topic.clone()>
                        <span class="dot" aria-hidden="true"></span>
                        <span><strong>{label}</strong> " · " {text}</span>
                    </li>
                })
            })
            .collect_view()
    };
    view! { <ul class="live-help">{rows}</ul> }
}
