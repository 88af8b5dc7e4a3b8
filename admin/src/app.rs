//! The console's shell: sign-in, the site picker, navigation by URL hash (`#/stories`, …) and
//! the pages. The token lives in sessionStorage only and is dropped on any 401.

use glimpse_shared::team::{Actor, Area};
use glimpse_shared::{LiveSession, Poll, Site, Story};
use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::JsCast;

use crate::api::{self, Failure};
use crate::content::ContentPage;

/// The console's pages, one per URL hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Stories,
    Sessions,
    Polls,
    Questions,
    /// Live Q&A: the host view of a running session and its recap.
    Live,
    /// The knowledge base's entries.
    Kb,
    Media,
    Report,
    Privacy,
    /// Operators, API keys and the audit log (owners).
    Team,
    /// The site's webhooks and their delivery logs (owners).
    Webhooks,
}

impl Page {
    pub const ALL: [Page; 11] = [
        Page::Stories,
        Page::Sessions,
        Page::Polls,
        Page::Questions,
        Page::Live,
        Page::Kb,
        Page::Media,
        Page::Report,
        Page::Privacy,
        Page::Team,
        Page::Webhooks,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Page::Stories => "stories",
            Page::Sessions => "sessions",
            Page::Polls => "polls",
            Page::Questions => "questions",
            Page::Live => "live",
            Page::Kb => "kb",
            Page::Media => "media",
            Page::Report => "report",
            Page::Privacy => "privacy",
            Page::Team => "team",
            Page::Webhooks => "webhooks",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Page::Stories => "Stories",
            Page::Sessions => "Live sessions",
            Page::Polls => "Polls",
            Page::Questions => "Questions",
            Page::Live => "Live Q&A",
            Page::Kb => "Knowledge base",
            Page::Media => "Media",
            Page::Report => "Effectiveness",
            Page::Privacy => "Privacy",
            Page::Team => "Team",
            Page::Webhooks => "Webhooks",
        }
    }

    /// The part of the API the page works with: a role that may not read it does not see it.
    pub fn area(self) -> Area {
        match self {
            Page::Stories | Page::Sessions | Page::Polls | Page::Media => Area::Content,
            Page::Questions => Area::Inbox,
            Page::Live | Page::Kb => Area::Answers,
            Page::Report => Area::Reports,
            Page::Privacy | Page::Team | Page::Webhooks => Area::Owner,
        }
    }

    /// The page a hash like `#/report` names (stories by default).
    pub fn from_hash(hash: &str) -> Page {
        let slug = hash.trim_start_matches('#').trim_start_matches('/');
        Page::ALL
            .into_iter()
            .find(|p| p.slug() == slug)
            .unwrap_or(Page::Stories)
    }
}

/// A site as the picker lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SiteRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
struct Sites {
    sites: Vec<SiteRef>,
}

/// What every page shares.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    pub signed_in: RwSignal<bool>,
    pub notice: RwSignal<Option<String>>,
    pub sites: RwSignal<Vec<SiteRef>>,
    /// The chosen site's id.
    pub site: RwSignal<String>,
    /// The chosen site's stored configuration (topics, channels, retention).
    pub config: RwSignal<Option<Site>>,
    pub page: RwSignal<Page>,
    /// Who is signed in (`GET /v1/admin/me`): their role decides the pages shown.
    pub me: RwSignal<Option<Actor>>,
}

impl Console {
    fn new() -> Self {
        Self {
            signed_in: RwSignal::new(api::token().is_some()),
            notice: RwSignal::new(None),
            sites: RwSignal::new(Vec::new()),
            site: RwSignal::new(String::new()),
            config: RwSignal::new(None),
            page: RwSignal::new(Page::from_hash(&hash())),
            me: RwSignal::new(None),
        }
    }

    /// Whether the signed-in operator's role may read `page`.
    pub fn may_see(&self, page: Page) -> bool {
        self.me
            .with(|m| m.as_ref().is_some_and(|m| m.role.may(page.area(), true)))
    }

    /// Whether the signed-in operator's role may write in `area` (what to offer).
    pub fn may_write(&self, area: Area) -> bool {
        self.me
            .with(|m| m.as_ref().is_some_and(|m| m.role.may(area, false)))
    }

    /// Reports a failed call; a 401 signs the operator out.
    pub fn fail(&self, f: &Failure) -> String {
        if f.unauthorized() {
            api::clear_token();
            self.notice.set(Some(
                "The admin token was not accepted: sign in again.".into(),
            ));
            self.signed_in.set(false);
        }
        f.message.clone()
    }

    /// Like [`Console::fail`], with every problem the API named ([`Failure::detail`]).
    pub fn explain(&self, f: &Failure) -> String {
        let _ = self.fail(f);
        f.detail()
    }

    /// `/v1/admin/sites/{current site}{rest}`.
    pub fn path(&self, rest: &str) -> String {
        api::site_path(&self.site.get_untracked(), rest)
    }

    /// The chosen site's topics as (id, label).
    pub fn topics(&self) -> Vec<(String, String)> {
        self.config.with(|c| {
            c.as_ref()
                .map(|s| {
                    s.topics
                        .iter()
                        .map(|t| (t.id.clone(), t.label.clone()))
                        .collect()
                })
                .unwrap_or_default()
        })
    }
}

/// The chosen site's topics as `<option>`s (follows the site picker).
pub fn topic_options(c: Console) -> impl IntoView {
    move || {
        c.topics()
            .into_iter()
            .map(|(id, label)| view! { <option value=id.clone()>{label}</option> })
            .collect_view()
    }
}

/// The console from any component.
pub fn console() -> Console {
    use_context::<Console>().unwrap_or_else(Console::new)
}

fn hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

const SITE_KEY: &str = "glimpse-admin-site";

fn remembered_site() -> Option<String> {
    web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .and_then(|s| s.get_item(SITE_KEY).ok().flatten())
}

fn remember_site(site: &str) {
    if let Some(s) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        let _ = s.set_item(SITE_KEY, site);
    }
}

/// Loads the real widget for `site` once, so drafts can be previewed in its player.
fn load_widget(site: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let selector = format!("script[data-glimpse-preview=\"{site}\"]");
    if document.query_selector(&selector).ok().flatten().is_some() {
        return;
    }
    let Ok(script) = document.create_element("script") else {
        return;
    };
    let _ = script.set_attribute("src", "/widget.js");
    let _ = script.set_attribute("data-site", site);
    let _ = script.set_attribute("data-glimpse-preview", site);
    let _ = script.set_attribute("data-preview", "true");
    let _ = script.set_attribute("async", "");
    if let Some(body) = document.body() {
        let _ = body.append_child(&script);
    }
}

/// Shows `story` in the real widget player via `Glimpse('preview', …)`.
pub fn preview(site: &str, story: &glimpse_shared::Story) -> Result<(), String> {
    load_widget(site);
    let window = web_sys::window().ok_or("no window")?;
    let glimpse = js_sys::Reflect::get(&window, &"Glimpse".into())
        .ok()
        .and_then(|g| g.dyn_into::<js_sys::Function>().ok())
        .ok_or("the widget is still loading: try again in a moment")?;
    let arg = js_sys::Object::new();
    let json = serde_json::to_string(story).map_err(|e| e.to_string())?;
    let value = js_sys::JSON::parse(&json).map_err(|_| "story could not be encoded")?;
    let _ = js_sys::Reflect::set(&arg, &"story".into(), &value);
    let _ = js_sys::Reflect::set(&arg, &"site".into(), &site.into());
    glimpse
        .call2(&window, &"preview".into(), &arg)
        .map(|_| ())
        .map_err(|_| "the widget refused the preview".to_string())
}

/// The console.
#[component]
pub fn App() -> impl IntoView {
    let c = Console::new();
    provide_context(c);
    let _ = window_event_listener_untyped("hashchange", move |_| {
        c.page.set(Page::from_hash(&hash()));
    });
    // After sign-in: the sites, then the chosen site's configuration.
    Effect::new(move |_| {
        if !c.signed_in.get() {
            return;
        }
        leptos::task::spawn_local(async move {
            match api::get::<Actor>("/v1/admin/me").await {
                Ok(me) => c.me.set(Some(me)),
                Err(f) => {
                    let msg = c.fail(&f);
                    c.notice.set(Some(msg));
                }
            }
            match api::get::<Sites>("/v1/admin/sites").await {
                Ok(s) => {
                    let pick = remembered_site()
                        .filter(|r| s.sites.iter().any(|x| &x.id == r))
                        .or_else(|| s.sites.first().map(|x| x.id.clone()))
                        .unwrap_or_default();
                    c.sites.set(s.sites);
                    c.site.set(pick);
                }
                Err(f) => {
                    let msg = c.fail(&f);
                    c.notice.set(Some(msg));
                }
            }
        });
    });
    Effect::new(move |_| {
        let site = c.site.get();
        if site.is_empty() {
            return;
        }
        remember_site(&site);
        load_widget(&site);
        c.config.set(None);
        leptos::task::spawn_local(async move {
            match api::get::<Site>(&api::site_path(&site, "")).await {
                Ok(s) => c.config.set(Some(s)),
                Err(f) => {
                    let msg = c.fail(&f);
                    c.notice.set(Some(msg));
                }
            }
        });
    });
    view! {
        <Show when=move || c.signed_in.get() fallback=SignIn>
            <Shell/>
        </Show>
    }
}

#[component]
fn SignIn() -> impl IntoView {
    let c = console();
    let token = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = token.get_untracked().trim().to_string();
        if t.is_empty() {
            return;
        }
        busy.set(true);
        api::set_token(&t);
        leptos::task::spawn_local(async move {
            match api::get::<Sites>("/v1/admin/sites").await {
                Ok(_) => {
                    c.notice.set(None);
                    c.signed_in.set(true);
                }
                Err(f) => {
                    api::clear_token();
                    c.notice.set(Some(if f.unauthorized() {
                        "That token was not accepted.".into()
                    } else {
                        f.message
                    }));
                }
            }
            busy.set(false);
        });
    };
    view! {
        <main class="signin">
            <form on:submit=submit data-testid="signin">
                <h1>"Glimpse console"</h1>
                <p class="sub">"Sign in with your personal token (or the admin token). It stays in this tab only (sessionStorage) and is sent to the API as a Bearer token."</p>
                <label>
                    <span>"Token"</span>
                    <input
                        type="password"
                        autocomplete="current-password"
                        data-testid="token"
                        bind:value=token
                    />
                </label>
                <button type="submit" class="primary" disabled=move || busy.get()>"Sign in"</button>
                <Show when=move || c.notice.get().is_some()>
                    <p class="error" role="alert" data-testid="notice">{move || c.notice.get()}</p>
                </Show>
            </form>
        </main>
    }
}

#[component]
fn Shell() -> impl IntoView {
    let c = console();
    let sign_out = move |_| {
        api::clear_token();
        c.notice.set(Some("Signed out.".into()));
        c.signed_in.set(false);
    };
    let nav = Page::ALL
        .into_iter()
        .map(|p| {
            view! {
                <a
                    hidden=move || !c.may_see(p)
                    href=format!("#/{}", p.slug())
                    data-testid=format!("nav-{}", p.slug())
                    class:current=move || c.page.get() == p
                    aria-current=move || (c.page.get() == p).then_some("page")
                >
                    {p.label()}
                </a>
            }
        })
        .collect_view();
    let site_options = move || {
        c.sites
            .get()
            .into_iter()
            .map(|s| view! { <option value=s.id.clone()>{format!("{} ({})", s.name, s.id)}</option> })
            .collect_view()
    };
    // Which page shows, for which site: the page is made again only when this changes, never
    // because the site's settings or "who am I" were read again (that would drop what the
    // operator was typing).
    let shown = Memo::new(move |_| {
        let site = c.config.with(|s| s.as_ref().map(|s| s.id.clone()))?;
        if c.me.with(Option::is_none) {
            return None;
        }
        // A page the role may not read (an old link): the first one it may.
        let chosen = c.page.get();
        let page = if c.may_see(chosen) {
            chosen
        } else {
            Page::ALL
                .into_iter()
                .find(|p| c.may_see(*p))
                .unwrap_or(chosen)
        };
        Some((page, site))
    });
    let page = move || {
        let Some((shown, _)) = shown.get() else {
            return view! { <p class="sub">"Loading the site…"</p> }.into_any();
        };
        // The pages' own reads while they are made must not make this closure run again.
        untrack(move || match shown {
            Page::Stories => view! { <ContentPage<Story>/> }.into_any(),
            Page::Sessions => view! { <ContentPage<LiveSession>/> }.into_any(),
            Page::Polls => view! { <ContentPage<Poll>/> }.into_any(),
            Page::Questions => crate::inbox::QuestionsPage().into_any(),
            Page::Live => crate::live::LivePage().into_any(),
            Page::Kb => crate::kb::KbPage().into_any(),
            Page::Media => crate::media::MediaPage().into_any(),
            Page::Report => crate::report::ReportPage().into_any(),
            Page::Privacy => crate::privacy::PrivacyPage().into_any(),
            Page::Team => crate::team::TeamPage().into_any(),
            Page::Webhooks => crate::webhooks::WebhooksPage().into_any(),
        })
    };
    view! {
        <header class="top">
            <strong class="brand">"Glimpse"</strong>
            <nav>{nav}</nav>
            <label class="site">
                <span>"Site"</span>
                <select
                    data-testid="site"
                    prop:value=move || c.site.get()
                    on:change=move |ev| c.site.set(event_target_value(&ev))
                >
                    {site_options}
                </select>
            </label>
            <span class="sub" data-testid="me">{move || c.me.get().map(|m| format!("{} · {}", m.name, m.role.as_str()))}</span>
            <button class="link" on:click=sign_out data-testid="signout">"Sign out"</button>
        </header>
        <Show when=move || c.notice.get().is_some()>
            <p class="error" role="alert">{move || c.notice.get()}</p>
        </Show>
        <main class="page" data-page=move || c.page.get().slug()>{page}</main>
    }
}
