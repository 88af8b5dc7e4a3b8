//! Live-session banners: upcoming (countdown, add to calendar) → live (join) → gone, driven
//! by a one-second timer on the server-corrected clock. Announced politely to screen readers.

use std::time::Duration;

use glimpse_shared::i18n::{Text, countdown};
use glimpse_shared::ics::session_ics;
use glimpse_shared::validate::is_https_url;
use glimpse_shared::{Banner, EventKind, LiveSession};
use leptos::prelude::*;

use crate::app::ctx;
use crate::browser;

/// Every session's banner, re-evaluated each second.
#[component]
pub fn Banners(sessions: Memo<Vec<LiveSession>>) -> impl IntoView {
    let now = RwSignal::new(browser::now_ms());
    if let Ok(handle) =
        set_interval_with_handle(move || now.set(browser::now_ms()), Duration::from_secs(1))
    {
        on_cleanup(move || handle.clear());
    }
    let visible = move || {
        let t = now.get();
        sessions
            .get()
            .into_iter()
            .filter_map(|s| match s.banner_at(t) {
                Banner::Hidden | Banner::Gone => None,
                b => Some((s, b)),
            })
            .collect::<Vec<_>>()
    };
    let items = move || {
        visible()
            .into_iter()
            .map(|(session, banner)| view! { <SessionBanner session=session banner=banner/> })
            .collect_view()
    };
    view! {
        <div class="banners" aria-live="polite" data-testid="glimpse-banners">
            {items}
        </div>
    }
}

#[component]
fn SessionBanner(session: LiveSession, banner: Banner) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang;
    let when = browser::local_time(session.starts_at, lang.tag());
    let state = match banner {
        Banner::Live { .. } => "live",
        _ => "upcoming",
    };
    let status = match banner {
        Banner::Upcoming { starts_in_s } => {
            format!("{} {}", lang.t(Text::StartsIn), countdown(starts_in_s))
        }
        _ => lang.t(Text::LiveNow).to_string(),
    };
    let site = ctx.config.site.clone();
    let ics_session = session.clone();
    let join = is_https_url(&session.join_url).then(|| session.join_url.clone());
    let session_id = session.id.clone();
    let action = match banner {
        Banner::Live { .. } => join
            .map(|url| {
                view! {
                    <a
                        class="pill join"
                        href=url
                        target="_blank"
                        rel="noopener noreferrer"
                        data-testid="glimpse-join"
                        on:click=move |_| ctx.track(EventKind::BannerJoin { session: session_id.clone() })
                    >
                        {lang.t(Text::Join)}
                    </a>
                }
            })
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
