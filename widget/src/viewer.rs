//! The story viewer: a modal dialog rendering [`Player::view`] and forwarding every browser
//! event (time, taps, swipes, holds, keys, media, visibility) to the pure player.

use std::time::Duration;

use glimpse_shared::i18n::Text;
use glimpse_shared::player::{Effect as Fx, Input, Phase, Player, PlayerView};
use glimpse_shared::validate::is_https_url;
use glimpse_shared::{EventKind, FeedSite, Media, Story};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{KeyboardEvent, PointerEvent};

use crate::app::{Channels, ctx};
use crate::browser;

/// Pixels a pointer must travel to count as a swipe.
const SWIPE_PX: f64 = 50.0;

/// Starts loading upcoming media so the next slides show at once.
fn preload(urls: &[String]) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    for url in urls {
        let video = url.ends_with(".mp4") || url.ends_with(".webm");
        if video {
            if let Ok(v) = document.create_element("video")
                && let Ok(v) = v.dyn_into::<web_sys::HtmlVideoElement>()
            {
                v.set_preload("auto");
                v.set_muted(true);
                v.set_src(url);
            }
        } else if let Ok(img) = web_sys::HtmlImageElement::new() {
            img.set_src(url);
        }
    }
}

/// Keeps Tab inside `dialog`: from the last focusable element to the first and back.
fn trap_focus(dialog: &web_sys::HtmlElement, ev: &KeyboardEvent) {
    let Ok(list) = dialog.query_selector_all("button, a[href], input, textarea, video[controls]")
    else {
        return;
    };
    let items: Vec<web_sys::HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .filter(|e| e.offset_parent().is_some() || e.get_client_rects().length() > 0)
        .collect();
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return;
    };
    let active = dialog
        .get_root_node()
        .dyn_into::<web_sys::ShadowRoot>()
        .ok()
        .and_then(|r| r.active_element());
    let at = |e: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a == e.unchecked_ref::<web_sys::Element>())
    };
    if ev.shift_key() && (at(first) || active.is_none()) {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && at(last) {
        ev.prevent_default();
        let _ = first.focus();
    }
}

/// Stories, one slide at a time, as a modal dialog.
#[component]
pub fn Viewer(
    /// The feed's live stories.
    stories: Vec<Story>,
    /// The story to open.
    start: usize,
    site: Memo<Option<FeedSite>>,
    /// Called when the viewer closes.
    on_close: Callback<()>,
    /// Called with a story id when the visitor has seen it.
    mark_seen: Callback<String>,
) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang;
    let Some((player, first_fx)) = Player::open(&stories, start, browser::prefers_reduced_motion())
    else {
        return ().into_any();
    };
    let stories = StoredValue::new(stories);
    let player = StoredValue::new(player);
    let (pv, set_pv) = signal::<PlayerView>(player.with_value(Player::view));
    let helped = RwSignal::new(None::<bool>);
    let ctx_fx = ctx.clone();
    let apply = Callback::new(move |fx: Vec<Fx>| {
        for f in fx {
            match f {
                Fx::StoryStarted { story } => {
                    helped.set(None);
                    if let Some(id) = stories.with_value(|s| s.get(story).map(|s| s.id.clone())) {
                        mark_seen.run(id.clone());
                        ctx_fx.track(EventKind::StoryView { story: id });
                    }
                }
                Fx::SlideStarted(c) => {
                    if let Some(id) = stories.with_value(|s| s.get(c.story).map(|s| s.id.clone())) {
                        ctx_fx.track(EventKind::SlideView {
                            story: id,
                            slide: u16::try_from(c.slide).unwrap_or(u16::MAX),
                        });
                    }
                }
                Fx::StoryCompleted { story } => {
                    if let Some(id) = stories.with_value(|s| s.get(story).map(|s| s.id.clone())) {
                        ctx_fx.track(EventKind::StoryComplete { story: id });
                    }
                }
                Fx::AllCompleted => browser::emit(
                    "all_completed",
                    &browser::object(&[("site", ctx_fx.config.site.as_str().into())]),
                    ctx_fx.config.datalayer,
                ),
                Fx::Preload(urls) => preload(&urls),
                Fx::Closed => on_close.run(()),
            }
        }
    });
    let send = Callback::new(move |input: Input| {
        let fx = player
            .try_update_value(|p| p.handle(input))
            .unwrap_or_default();
        set_pv.set(player.with_value(Player::view));
        apply.run(fx);
    });
    apply.run(first_fx);

    // Time: a 100 ms tick while open.
    let last = StoredValue::new(js_sys::Date::now());
    let tick = move || {
        let now = js_sys::Date::now();
        let dt = (now - last.get_value()).clamp(0.0, 1_000.0) as u32;
        last.set_value(now);
        send.run(Input::Tick { dt_ms: dt });
    };
    if let Ok(handle) = set_interval_with_handle(tick, Duration::from_millis(100)) {
        on_cleanup(move || handle.clear());
    }
    let visibility = window_event_listener(leptos::ev::visibilitychange, move |_| {
        send.run(Input::Visible(browser::page_visible()))
    });
    on_cleanup(move || visibility.remove());
    send.run(Input::Visible(browser::page_visible()));

    let dialog = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(el) = dialog.get() {
            let _ = el.focus();
        }
    });
    let on_key = move |ev: KeyboardEvent| match ev.key().as_str() {
        "ArrowRight" => send.run(Input::Next),
        "ArrowLeft" => send.run(Input::Prev),
        " " | "Spacebar" => {
            ev.prevent_default();
            send.run(Input::TogglePause);
        }
        "Escape" => {
            ev.stop_propagation();
            send.run(Input::Close);
        }
        "Tab" => {
            if let Some(d) = dialog.get_untracked() {
                trap_focus(&d, &ev);
            }
        }
        _ => {}
    };

    // Pointer: hold pauses; a horizontal swipe changes story; a swipe down closes.
    let start_pt = StoredValue::new(None::<(f64, f64)>);
    let swiped = StoredValue::new(false);
    let on_down = move |ev: PointerEvent| {
        start_pt.set_value(Some((f64::from(ev.client_x()), f64::from(ev.client_y()))));
        send.run(Input::HoldStart);
    };
    let on_up = move |ev: PointerEvent| {
        send.run(Input::HoldEnd);
        if let Some((x0, y0)) = start_pt.get_value() {
            start_pt.set_value(None);
            let (dx, dy) = (f64::from(ev.client_x()) - x0, f64::from(ev.client_y()) - y0);
            if dx.abs() > SWIPE_PX && dx.abs() > dy.abs() {
                swiped.set_value(true);
                send.run(if dx < 0.0 {
                    Input::NextStory
                } else {
                    Input::PrevStory
                });
            } else if dy > SWIPE_PX * 1.6 && dy > dx.abs() {
                swiped.set_value(true);
                send.run(Input::Close);
            }
        }
    };
    let on_cancel = move |_: PointerEvent| send.run(Input::HoldEnd);
    // A click that ends a swipe is not a tap.
    let tap = move |input: Input| {
        if swiped.get_value() {
            swiped.set_value(false);
        } else {
            send.run(input);
        }
    };

    let story = move || {
        let c = pv.get().cursor;
        stories.with_value(|s| s.get(c.story).cloned())
    };
    let slide = move || {
        let c = pv.get().cursor;
        stories.with_value(|s| {
            s.get(c.story)
                .and_then(|st| st.slides.get(c.slide).cloned())
        })
    };
    let title = move || story().map(|s| s.title).unwrap_or_default();
    let bars = move || {
        let v = pv.get();
        let count = stories.with_value(|s| s.get(v.cursor.story).map_or(0, |s| s.slides.len()));
        (0..count)
            .map(|i| {
                let fill = if i < v.cursor.slide || v.phase == Phase::EndCard {
                    1.0
                } else if i == v.cursor.slide {
                    v.progress
                } else {
                    0.0
                };
                view! {
                    <span class="bar">
                        <span class="fill" style:transform=format!("scaleX({fill:.3})")></span>
                    </span>
                }
            })
            .collect_view()
    };
    let media = move || {
        slide().and_then(|s| s.media).map(|m| match m {
            Media::Image { url, alt } => view! {
                <img
                    class="media"
                    src=url
                    alt=alt
                    on:load=move |_| send.run(Input::MediaReady)
                    on:error=move |_| send.run(Input::MediaReady)
                />
            }
            .into_any(),
            Media::Video { url, alt } => {
                let video = NodeRef::<leptos::html::Video>::new();
                let muted = RwSignal::new(true);
                // Keep the video's own playback in step with the player.
                Effect::new(move |_| {
                    let playing_now = pv.get().playing;
                    if let Some(v) = video.get() {
                        if playing_now {
                            let _ = v.play();
                        } else {
                            let _ = v.pause();
                        }
                    }
                });
                view! {
                    <video
                        class="media"
                        src=url
                        aria-label=alt
                        playsinline=true
                        autoplay=true
                        prop:muted=move || muted.get()
                        node_ref=video
                        on:canplay=move |_| send.run(Input::MediaReady)
                        on:playing=move |_| send.run(Input::MediaReady)
                        on:waiting=move |_| send.run(Input::MediaStalled)
                        on:loadedmetadata=move |ev| {
                            let secs = ev
                                .target()
                                .and_then(|t| t.dyn_into::<web_sys::HtmlMediaElement>().ok())
                                .map_or(0.0, |v| v.duration());
                            if secs.is_finite() && secs > 0.0 {
                                send.run(Input::MediaDuration { ms: (secs * 1000.0) as u32 });
                            }
                        }
                    ></video>
                    <button
                        class="pill unmute"
                        aria-pressed=move || (!muted.get()).to_string()
                        on:click=move |ev| {
                            ev.stop_propagation();
                            muted.update(|m| *m = !*m);
                        }
                    >
                        {move || if muted.get() { lang.t(Text::Unmute) } else { lang.t(Text::Mute) }}
                    </button>
                }
                .into_any()
            }
        })
    };
    let ctx_cta = ctx.clone();
    let cta = move || {
        let c = pv.get().cursor;
        let ctx = ctx_cta.clone();
        slide()
            .and_then(|s| s.cta)
            .filter(|cta| is_https_url(&cta.url))
            .map(|cta| {
                let story_id = stories
                    .with_value(|s| s.get(c.story).map(|s| s.id.clone()))
                    .unwrap_or_default();
                view! {
                    <a
                        class="cta"
                        href=cta.url
                        target="_blank"
                        rel="noopener noreferrer"
                        data-testid="glimpse-cta"
                        on:click=move |_| ctx.track(EventKind::CtaClick {
                            story: story_id.clone(),
                            slide: u16::try_from(c.slide).unwrap_or(u16::MAX),
                        })
                    >
                        {cta.label}
                    </a>
                }
            })
    };
    let ctx_help = ctx.clone();
    let end_card = move || {
        let story = story();
        let topic = story.as_ref().map(|s| s.topic.clone());
        let context = story.as_ref().map(|s| {
            format!(
                "Help story: {} ({}), watched to slide {} of {}. It did not solve my problem.",
                s.title,
                s.id,
                s.slides.len(),
                s.slides.len()
            )
        });
        let story_id = story.map(|s| s.id).unwrap_or_default();
        let ctx = ctx_help.clone();
        view! {
            <div class="end-card" data-testid="glimpse-end-card">
                <p class="question">{lang.t(Text::DidThisHelp)}</p>
                <Show when=move || helped.get().is_none()>
                    <div class="choices">
                        <button class="pill" data-testid="glimpse-helped-yes" on:click={
                            let ctx = ctx.clone();
                            let story_id = story_id.clone();
                            move |_| {
                                helped.set(Some(true));
                                ctx.track(EventKind::Helpful { story: story_id.clone() });
                            }
                        }>
                            {lang.t(Text::Yes)}
                        </button>
                        <button
                            class="pill"
                            data-testid="glimpse-helped-no"
                            on:click={
                                let ctx = ctx.clone();
                                let story_id = story_id.clone();
                                move |_| {
                                    helped.set(Some(false));
                                    ctx.track(EventKind::NotHelpful { story: story_id.clone() });
                                }
                            }
                        >
                            {lang.t(Text::No)}
                        </button>
                    </div>
                </Show>
                <Show when=move || helped.get() == Some(true)>
                    <p role="status">{lang.t(Text::Thanks)}</p>
                </Show>
                <Show when=move || helped.get() == Some(false)>
                    <p role="status">{lang.t(Text::SorryContact)}</p>
                    <Channels site=site topic=topic.clone() story=context.clone()/>
                </Show>
                <button class="pill next-story" data-testid="glimpse-end-next" on:click=move |_| send.run(Input::Next)>
                    {lang.t(Text::Next)} " →"
                </button>
            </div>
        }
    };
    let text = move || slide().map(|s| s.text).unwrap_or_default();
    let expires = move || {
        story()
            .map(|s| lang.expires_in(s.expires_at - browser::now_ms()))
            .unwrap_or_default()
    };
    let counter = move || {
        let v = pv.get();
        let count = stories.with_value(|s| s.get(v.cursor.story).map_or(0, |s| s.slides.len()));
        format!("{} / {count}", v.cursor.slide + 1)
    };
    view! {
        <div class="backdrop" on:click=move |ev| {
            if ev.target() == ev.current_target() {
                send.run(Input::Close);
            }
        }>
            <div
                class="viewer"
                role="dialog"
                aria-modal="true"
                aria-label=title
                tabindex="-1"
                data-testid="glimpse-viewer"
                node_ref=dialog
                on:keydown=on_key
            >
                <div class="progress" aria-hidden="true">{bars}</div>
                <div class="head">
                    <div class="titles">
                        <h2>{title}</h2>
                        <span class="sub">{counter} " · " {expires}</span>
                    </div>
                    <button
                        class="icon"
                        data-testid="glimpse-pause"
                        aria-label=move || if pv.get().pauses.user { lang.t(Text::Play) } else { lang.t(Text::Pause) }
                        aria-pressed=move || pv.get().pauses.user.to_string()
                        on:click=move |_| send.run(Input::TogglePause)
                    >
                        {move || if pv.get().pauses.user { "▶" } else { "❚❚" }}
                    </button>
                    <button
                        class="icon"
                        aria-label=lang.t(Text::Close)
                        data-testid="glimpse-close"
                        on:click=move |_| send.run(Input::Close)
                    >
                        "×"
                    </button>
                </div>
                <Show when=move || pv.get().phase != Phase::EndCard fallback=end_card>
                    <div
                        class="slide"
                        on:pointerdown=on_down
                        on:pointerup=on_up
                        on:pointercancel=on_cancel
                        on:pointerleave=on_cancel
                    >
                        {media}
                        <p class="text" data-testid="glimpse-slide-text" aria-live="polite">
                            {text}
                        </p>
                        <button
                            class="zone prev"
                            aria-label=lang.t(Text::Previous)
                            data-testid="glimpse-prev"
                            on:click=move |_| tap(Input::Prev)
                        ></button>
                        <button
                            class="zone next"
                            aria-label=lang.t(Text::Next)
                            data-testid="glimpse-next"
                            on:click=move |_| tap(Input::Next)
                        ></button>
                        {cta.clone()}
                    </div>
                </Show>
            </div>
        </div>
    }
    .into_any()
}
