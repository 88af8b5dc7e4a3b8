//! The widget's components. Authored content is only ever rendered as text nodes, and links
//! are only ever https (validated by the API, checked again here).

use glimpse_shared::i18n::{Lang, Text, is_rtl};
use glimpse_shared::site::Availability;
use glimpse_shared::site::text_on;
use glimpse_shared::validate::is_https_url;
use glimpse_shared::{Channel, ChannelKind, EventKind, Feed, FeedSite, Story, ThemeMode};
use leptos::prelude::*;
use web_sys::KeyboardEvent;

use crate::banner::Banners;
use crate::browser;
use crate::config::{Config, Side};
use crate::poll::PollCard;
use crate::telemetry::track;
use crate::viewer::Viewer;

/// Where the site's feed stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedState {
    Loading,
    Ready(Box<Feed>),
    /// The feed could not be loaded; the widget stays out of the way.
    Failed,
}

/// What every component of one widget instance needs.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub config: Config,
    pub lang: Lang,
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
    /// The story open in the viewer (index into the feed's stories).
    pub viewer: RwSignal<Option<usize>>,
    /// A story shown by `Glimpse('preview', {story})`, not from the feed.
    pub preview: RwSignal<Option<Story>>,
}

impl Ui {
    pub fn new() -> Self {
        Self {
            tray: RwSignal::new(false),
            viewer: RwSignal::new(None),
            preview: RwSignal::new(None),
        }
    }
}

impl Default for Ui {
    fn default() -> Self {
        Self::new()
    }
}

fn seen_key(site: &str) -> String {
    format!("glimpse:{site}:seen")
}

/// The whole widget: live-session banners, the launcher, the tray and the story viewer.
#[component]
pub fn App(
    /// This instance's configuration.
    config: Config,
    /// The site's feed as it loads.
    feed: ReadSignal<FeedState>,
    /// Open/closed state shared with the command API.
    ui: Ui,
) -> impl IntoView {
    let lang = Lang::pick(
        config
            .lang
            .iter()
            .map(String::as_str)
            .chain(browser::browser_languages().iter().map(String::as_str))
            .collect::<Vec<_>>(),
    );
    let ctx = Ctx {
        visitor: browser::visitor_id(),
        lang,
        config: config.clone(),
        preview: false,
    };
    provide_context(ctx.clone());
    let site = Memo::new(move |_| match feed.get() {
        FeedState::Ready(f) => Some(f.site),
        _ => None,
    });
    let stories = Memo::new(move |_| match feed.get() {
        FeedState::Ready(f) => f.stories,
        FeedState::Loading | FeedState::Failed => Vec::new(),
    });
    let sessions = Memo::new(move |_| match feed.get() {
        FeedState::Ready(f) => f.sessions,
        _ => Vec::new(),
    });
    let polls = Memo::new(move |_| match feed.get() {
        FeedState::Ready(f) => f.polls,
        _ => Vec::new(),
    });
    let availability = Memo::new(move |_| match feed.get() {
        FeedState::Ready(f) => f.availability,
        _ => Vec::new(),
    });
    let seen_key = seen_key(&config.site);
    let seen = RwSignal::new(browser::load_json::<Vec<String>>(&seen_key).unwrap_or_default());
    let mark_seen = Callback::new(move |id: String| {
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
    });
    let unseen = Memo::new(move |_| {
        let seen = seen.get();
        stories.with(|s| s.iter().filter(|st| !seen.contains(&st.id)).count())
    });
    let has_unseen = Signal::derive(move || unseen.get() > 0);
    let launcher = NodeRef::<leptos::html::Button>::new();
    let focus_launcher = move || {
        if let Some(b) = launcher.get_untracked() {
            let _ = b.focus();
        }
    };
    let close_viewer = Callback::new(move |()| {
        ui.viewer.set(None);
        crate::telemetry::flush(false);
        focus_launcher();
    });
    let theme = config.theme;
    let accent = config.accent.clone();
    let side = config.side;
    // Set through CSSOM (`style:`), never a `style` attribute, so a strict CSP allows it.
    let accent_colour = Memo::new(move |_| {
        accent
            .clone()
            .or_else(|| site.get().map(|s| s.theme.accent))
            .unwrap_or_else(|| "#5b4dff".into())
    });
    let mode = move || match theme.or_else(|| site.get().map(|s| s.theme.mode)) {
        Some(ThemeMode::Light) => "light",
        Some(ThemeMode::Dark) => "dark",
        _ => "auto",
    };
    let content_lang = move || {
        site.get()
            .map(|s| s.language)
            .unwrap_or_else(|| lang.tag().into())
    };
    let dir = move || {
        if is_rtl(&content_lang()) {
            "rtl"
        } else {
            "ltr"
        }
    };
    let preview_only = config.preview_only;
    let has_anything = move || {
        !preview_only
            && (stories.with(|s| !s.is_empty())
                || polls.with(|p| !p.is_empty())
                || site.with(|s| s.as_ref().is_some_and(|s| !s.channels.is_empty())))
    };
    let open_story = move || {
        ui.viewer.get().and_then(|i| {
            let all = stories.get();
            (i < all.len()).then(|| {
                view! { <Viewer stories=all start=i site=site on_close=close_viewer mark_seen=mark_seen/> }
            })
        })
    };
    let close_preview = Callback::new(move |()| ui.preview.set(None));
    let open_preview = move || {
        ui.preview.get().map(|story| {
            view! { <PreviewViewer story=story site=site on_close=close_preview/> }
        })
    };
    // An open story locks the host page's scroll; dropping the guard restores it.
    let scroll_lock = StoredValue::new_local(None::<crate::scroll_lock::Guard>);
    Effect::new(move |_| {
        let open = ui
            .viewer
            .with(|v| v.is_some_and(|i| stories.with(|s| i < s.len())))
            || ui.preview.with(Option::is_some);
        scroll_lock.update_value(|guard| match (open, guard.is_some()) {
            (true, false) => *guard = Some(crate::scroll_lock::lock()),
            (false, true) => *guard = None,
            _ => {}
        });
    });
    let ctx_label = ctx.clone();
    let launcher_label = move || {
        let n = unseen.get();
        let base = ctx_label.t(Text::OpenHelp);
        // The visible count must be part of the name (WCAG 2.5.3, label in name), and a
        // parenthetical does not count as part of it: "Open help stories, 1 new".
        if n > 0 {
            format!("{base}, {n} {}", ctx_label.t(Text::New))
        } else {
            base.to_string()
        }
    };
    view! {
        <div
            class="root"
            class:left=side == Side::Left
            data-theme=mode
            dir=dir
            lang=content_lang
            style:--accent=move || accent_colour.get()
            style:--on-accent=move || text_on(&accent_colour.get())
        >
            <Show when=move || !preview_only>
                <Banners sessions=sessions/>
            </Show>
            <Show when=has_anything>
                <button
                    class="launcher"
                    class:unseen=has_unseen
                    data-testid="glimpse-launcher"
                    node_ref=launcher
                    aria-label=launcher_label.clone()
                    aria-haspopup="dialog"
                    aria-expanded=move || ui.tray.get().to_string()
                    on:click=move |_| ui.tray.update(|t| *t = !*t)
                >
                    <svg viewBox="0 0 24 24" aria-hidden="true" width="26" height="26">
                        <path
                            fill="currentColor"
                            d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm0 15.5a1.25 1.25 0 1 1 0-2.5 1.25 1.25 0 0 1 0 2.5Zm1.6-6.1c-.7.5-.85.8-.85 1.6h-1.9c0-1.4.4-2.1 1.5-2.9.8-.6 1.1-.9 1.1-1.6 0-.8-.6-1.3-1.5-1.3s-1.6.5-1.7 1.5H8.4C8.5 6.9 10 5.6 12 5.6c2 0 3.4 1.2 3.4 2.9 0 1.3-.6 2-1.8 2.9Z"
                        ></path>
                    </svg>
                    <Show when=move || unseen.get() != 0>
                        <span class="count" aria-hidden="true">{move || unseen.get()}</span>
                    </Show>
                </button>
            </Show>
            <Show when=move || ui.tray.get()>
                <Tray
                    stories=stories
                    polls=polls
                    site=site
                    availability=availability
                    seen=seen
                    ui=ui
                    on_close=Callback::new(move |()| {
                        ui.tray.set(false);
                        focus_launcher();
                    })
                />
            </Show>
            {open_story}
            {open_preview}
        </div>
    }
}

/// The real story player showing an operator's draft: nothing is tracked or marked seen.
#[component]
fn PreviewViewer(
    story: Story,
    site: Memo<Option<FeedSite>>,
    on_close: Callback<()>,
) -> impl IntoView {
    provide_context(Ctx {
        preview: true,
        ..ctx()
    });
    let mark_seen = Callback::new(|_: String| {});
    view! { <Viewer stories=vec![story] start=0 site=site on_close=on_close mark_seen=mark_seen/> }
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
            .enumerate()
            .map(|(i, story)| {
                let is_seen = seen.with(|s| s.contains(&story.id));
                let expires = lang.expires_in(story.expires_at - browser::now_ms());
                let topic = topic_label(&story.topic);
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
                                ui.viewer.set(Some(i));
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
            <crate::ask::Ask site=site/>
            <Channels site=site topic=None story=None/>
        </section>
    }
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
            preview_only: false,
        }),
        lang: Lang::En,
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
