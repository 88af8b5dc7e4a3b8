//! Live-session banners: upcoming (countdown, add to calendar) → live (join: opens the live
//! Q&A panel) → ended (its answers, while the session keeps them) → gone, driven by a
//! one-second timer on the server-corrected clock. Announced politely to screen readers.
//! The panel itself is in its own chunk ([`crate::live`]), fetched on the first join.

use std::time::Duration;

use glimpse_shared::i18n::{Text, countdown};
use glimpse_shared::ics::session_ics;
use glimpse_shared::session::{BannerPhase, banner_changes};
use glimpse_shared::{Banner, EventKind, LiveSession};
use leptos::prelude::*;

use crate::app::ctx;
use crate::browser;
use crate::lazy::{lazy_view, prefetch};

/// The live panel: which session it shows (and whether opened from the "ended" banner), and
/// the button that opened it, which gets the focus back when it closes.
#[derive(Clone, Copy)]
struct Panel {
    open: RwSignal<Option<(String, bool)>>,
    opener: StoredValue<Option<web_sys::HtmlElement>, LocalStorage>,
}

impl Panel {
    fn show(self, session: &str, ended: bool, ev: &leptos::ev::MouseEvent) {
        use wasm_bindgen::JsCast;
        let opener = ev
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok());
        self.opener.set_value(opener);
        let want = (session.to_string(), ended);
        // Open already: a second click does not reconnect it.
        if self.open.with_untracked(|o| o.as_ref() != Some(&want)) {
            self.open.set(Some(want));
        }
    }

    fn close(self) {
        self.open.set(None);
        self.opener.with_value(|el| {
            if let Some(el) = el {
                let _ = el.focus();
            }
        });
    }
}

/// Every session's banner. A one-second clock updates the countdowns in place; each banner
/// element lives as long as its state (upcoming, live), and screen readers are told only
/// when a state changes (a separate polite live region), never every second.
#[component]
pub fn Banners(sessions: Memo<Vec<LiveSession>>) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang;
    let now = RwSignal::new(browser::now_ms());
    if let Ok(handle) =
        set_interval_with_handle(move || now.set(browser::now_ms()), Duration::from_secs(1))
    {
        on_cleanup(move || handle.clear());
    }
    // Changes only when a banner appears, changes state or goes.
    let shown = Memo::new(move |_| {
        let t = now.get();
        sessions.with(|all| {
            all.iter()
                .filter_map(|s| s.banner_at(t).phase().map(|p| (s.id.clone(), p)))
                .collect::<Vec<_>>()
        })
    });
    // A banner on screen counts as shown for its targeting's frequency cap.
    let site_id = ctx.config.site.clone();
    Effect::new(move |_| {
        for (id, _) in shown.get() {
            crate::shell::record_shown(&site_id, &id);
        }
    });
    let announcement = RwSignal::new(String::new());
    // The banners already there when the feed arrives are on screen to be found; only what
    // changes while the visitor is here is announced.
    Effect::new(move |state: Option<(bool, Vec<(String, BannerPhase)>)>| {
        let loaded = sessions.with(|s| !s.is_empty());
        let after = shown.get();
        let Some((true, before)) = state else {
            return (loaded, after);
        };
        let said: Vec<String> = banner_changes(&before, &after)
            .into_iter()
            .filter_map(|(id, phase)| {
                let session =
                    sessions.with_untracked(|all| all.iter().find(|s| s.id == id).cloned())?;
                Some(match phase {
                    Some(BannerPhase::Upcoming) => format!(
                        "{}: {} {}",
                        session.title,
                        lang.t(Text::StartsIn),
                        browser::local_time(session.starts_at, lang.tag())
                    ),
                    Some(BannerPhase::Live) => {
                        format!("{}: {}", session.title, lang.t(Text::LiveNow))
                    }
                    Some(BannerPhase::Ended) | None => {
                        format!("{}: {}", session.title, lang.t(Text::SessionOver))
                    }
                })
            })
            .collect();
        if !said.is_empty() {
            announcement.set(said.join(". "));
        }
        (true, after)
    });
    let panel = Panel {
        open: RwSignal::new(None),
        opener: StoredValue::new_local(None),
    };
    let close = Callback::new(move |()| panel.close());
    // The panel in its own chunk; outside the banners' box, whose transform would make it
    // the panel's containing block.
    let live_panel = move || {
        let (id, ended) = panel.open.get()?;
        let session = sessions.with_untracked(|all| all.iter().find(|s| s.id == id).cloned())?;
        Some(lazy_view(move || {
            crate::live::live_panel(session.clone(), ended, close)
        }))
    };
    view! {
        // A named region: a landmark screen-reader users can jump to, and not a live region
        // (the countdown would be read out every second).
        <div
            class="banners"
            role=move || (!shown.with(Vec::is_empty)).then_some("region")
            aria-label=move || (!shown.with(Vec::is_empty)).then(|| lang.t(Text::LiveSessions))
            data-testid="glimpse-banners"
        >
            <For
                each=move || shown.get()
                key=|(id, phase)| (id.clone(), *phase)
                children=move |(id, _)| {
                    sessions
                        .with_untracked(|all| all.iter().find(|s| s.id == id).cloned())
                        .map(|session| view! { <SessionBanner session=session now=now panel=panel/> })
                }
            />
        </div>
        {live_panel}
        <p class="sr-only" role="status" aria-live="polite" data-testid="glimpse-banner-announce">
            {move || announcement.get()}
        </p>
    }
}

/// One banner in one state; its countdown follows `now`.
#[component]
fn SessionBanner(session: LiveSession, now: RwSignal<i64>, panel: Panel) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang;
    let when = browser::local_time(session.starts_at, lang.tag());
    let banner = session.banner_at(now.get_untracked());
    let state = match banner {
        Banner::Live { .. } => "live",
        Banner::Ended => "ended",
        _ => "upcoming",
    };
    let countdown_of = session.clone();
    let status = move || match countdown_of.banner_at(now.get()) {
        Banner::Upcoming { starts_in_s } => {
            format!("{} {}", lang.t(Text::StartsIn), countdown(starts_in_s))
        }
        Banner::Ended => lang.t(Text::SessionOver).to_string(),
        _ => lang.t(Text::LiveNow).to_string(),
    };
    let site = ctx.config.site.clone();
    let ics_session = session.clone();
    let session_id = session.id.clone();
    // The join and answers buttons fetch the panel's chunk when a click is likely.
    let warm = move |_| prefetch(crate::live::preload_live);
    let expanded = {
        let id = session.id.clone();
        move || {
            panel
                .open
                .with(|o| o.as_ref().is_some_and(|(open, _)| *open == id))
                .to_string()
        }
    };
    let action = match banner {
        Banner::Live { .. } => view! {
            <button
                class="pill join"
                type="button"
                aria-haspopup="dialog"
                aria-expanded=expanded
                data-testid="glimpse-join"
                on:pointerenter=warm
                on:focus=move |_| prefetch(crate::live::preload_live)
                on:click=move |ev| {
                    ctx.track(EventKind::BannerJoin { session: session_id.clone() });
                    panel.show(&session_id, false, &ev);
                }
            >
                {lang.t(Text::Join)}
            </button>
        }
        .into_any(),
        Banner::Ended => view! {
            <button
                class="pill"
                type="button"
                aria-haspopup="dialog"
                aria-expanded=expanded
                data-testid="glimpse-live-answers"
                on:pointerenter=warm
                on:focus=move |_| prefetch(crate::live::preload_live)
                on:click=move |ev| panel.show(&session_id, true, &ev)
            >
                {lang.t(Text::SeeAnswers)}
            </button>
        }
        .into_any(),
        _ => view! {
            <button
                class="pill"
                data-testid="glimpse-add-calendar"
                on:click=move |_| {
                    let ics = session_ics(&site, &ics_session, browser::now_ms());
                    browser::download(&format!("{}.ics", ics_session.id), "text/calendar", &ics);
                }
            >
                {lang.t(Text::AddToCalendar)}
            </button>
        }
        .into_any(),
    };
    view! {
        <div class=format!("banner {state}") data-testid="glimpse-banner" data-state=state>
            <span class="dot" aria-hidden="true"></span>
            <span class="info">
                <strong>{session.title}</strong>
                <span class="sub">{session.host} " · " {when}</span>
            </span>
            <span class="status" data-testid="glimpse-banner-status">{status}</span>
            {action}
        </div>
    }
}
