//! The story viewer: a modal dialog rendering [`Player::view`] and forwarding every browser
//! event (time, taps, swipes, holds, keys, media, visibility) to the pure player.

use std::time::Duration;

use crate::browser::{is_https_url, media_url};
use glimpse_shared::gesture;
use glimpse_shared::i18n::{Text, is_rtl};
use glimpse_shared::player::{Cursor, Effect as Fx, Input, Phase, Player, PlayerView};
use glimpse_shared::{EventKind, FeedSite, Media, Story};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{KeyboardEvent, PointerEvent};

use crate::app::{Channels, ctx};
use crate::browser;
use crate::media::{self, MediaCache, MediaEvent, VideoExtra};

/// A slide's media as the viewer loads it.
#[derive(Clone)]
struct Parts {
    /// `None` when it is neither https nor a safe path on the Glimpse origin (the slide then
    /// shows as media that failed).
    url: Option<String>,
    video: bool,
    alt: String,
    /// A video's poster and captions (each dropped if its URL is not one the widget loads).
    extra: VideoExtra,
}

/// The [`Parts`] of `media`; its captions are marked as `lang` (the language shown).
fn media_parts(api: &str, media: &Media, lang: glimpse_shared::i18n::Lang) -> Parts {
    match media {
        Media::Image { url, alt } => Parts {
            url: media_url(api, url),
            video: false,
            alt: alt.clone(),
            extra: VideoExtra::default(),
        },
        Media::Video {
            url,
            alt,
            poster,
            captions,
        } => Parts {
            url: media_url(api, url),
            video: true,
            alt: alt.clone().unwrap_or_default(),
            extra: VideoExtra {
                poster: poster.as_deref().and_then(|u| media_url(api, u)),
                captions: captions.as_deref().and_then(|u| media_url(api, u)),
                lang: lang.tag().to_string(),
                label: lang.t(Text::Captions).to_string(),
            },
        },
    }
}

/// The address an `<img>` or `<video>` was given.
fn url_of(el: &web_sys::HtmlElement) -> Option<String> {
    el.get_attribute("src")
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
    let api = ctx.config.api.clone();
    let Some((player, first_fx)) = Player::open(&stories, start, browser::prefers_reduced_motion())
    else {
        return ().into_any();
    };
    // Right-to-left content mirrors every directional control (taps, keys, swipes, bars).
    let rtl =
        site.with_untracked(|s| is_rtl(s.as_ref().map_or(lang.tag(), |s| s.language.as_str())));
    let stories = StoredValue::new(stories);
    let player = StoredValue::new(player);
    let (pv, set_pv) = signal::<PlayerView>(player.with_value(Player::view));
    // What the markup depends on, each changing only when it changes (not on every tick).
    let cursor = Memo::new(move |_| pv.get().cursor);
    let phase = Memo::new(move |_| pv.get().phase);
    let starts = Memo::new(move |_| pv.get().starts);
    // A video plays whenever nothing but its own loading holds the slide: calling `play()`
    // is also what makes some browsers (iOS Safari) start fetching it.
    let video_on = Memo::new(move |_| {
        let v = pv.get();
        let p = v.pauses;
        v.phase == Phase::Slide && !(p.hold || p.user || p.hidden || p.reduced_motion)
    });
    let user_paused = Memo::new(move |_| pv.get().pauses.user);
    let media_failed = Memo::new(move |_| pv.get().media_failed);
    let helped = RwSignal::new(None::<bool>);
    let muted = RwSignal::new(true);
    // Bumped when the current slide's media element is replaced (a retry).
    let media_gen = RwSignal::new(0u32);

    let slide_media = {
        let api = api.clone();
        move |c: Cursor| {
            stories.with_value(|s| {
                s.get(c.story)
                    .and_then(|st| st.slides.get(c.slide))
                    .and_then(|sl| sl.media.as_ref())
                    .map(|m| media_parts(&api, m, lang))
            })
        }
    };

    // `send` is defined below; media events reach it through this slot, so the cache (which
    // the effects need first) can be built before it.
    let sink = StoredValue::new(None::<Callback<Input>>);
    let current_url = {
        let slide_media = slide_media.clone();
        move || {
            player
                .try_with_value(|p| p.view())
                .filter(|v| v.phase == Phase::Slide)
                .and_then(|v| slide_media(v.cursor))
                .and_then(|p| p.url)
        }
    };
    let cache = StoredValue::new_local(MediaCache::new(move |url, event| {
        // Only the current slide's media drives the player.
        if current_url().as_deref() != Some(url) {
            return;
        }
        let input = match event {
            MediaEvent::Ready => Input::MediaReady,
            MediaEvent::Stalled => Input::MediaStalled,
            MediaEvent::Failed => Input::MediaFailed,
            MediaEvent::Duration(ms) => Input::MediaDuration { ms },
        };
        if let Some(send) = sink.try_get_value().flatten() {
            send.run(input);
        }
    }));
    on_cleanup(move || {
        sink.try_set_value(None);
        cache.try_with_value(MediaCache::clear);
    });

    let ctx_fx = ctx.clone();
    let fx_media = slide_media.clone();
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
                Fx::Preload(cursors) => {
                    for p in cursors.into_iter().filter_map(&fx_media) {
                        if let Some(url) = &p.url {
                            let _ = cache.with_value(|c| c.element(url, p.video, &p.alt, &p.extra));
                        }
                    }
                }
                Fx::RetryMedia(c) => {
                    if let Some(p) = fx_media(c) {
                        if let Some(url) = p.url {
                            cache.with_value(|c| c.forget(&url));
                        }
                        media_gen.update(|g| *g += 1);
                    }
                }
                Fx::Closed => on_close.run(()),
            }
        }
    });
    let send = Callback::new(move |input: Input| {
        let fx = player
            .try_update_value(|p| p.handle(input))
            .unwrap_or_default();
        // Only a changed view wakes what renders it (a repeated `playing`, a release without
        // a hold and the like change nothing).
        if let Some(v) = player.try_with_value(Player::view)
            && pv.with_untracked(|old| *old != v)
        {
            set_pv.set(v);
        }
        apply.run(fx);
    });
    sink.set_value(Some(send));
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

    // The current slide's media: the cached element is mounted (never re-created), told its
    // state, and kept in step with the player (play/pause, muted).
    let media_box = NodeRef::<leptos::html::Div>::new();
    let mounted = StoredValue::new(None::<u32>);
    let mount_media = slide_media.clone();
    Effect::new(move |_| {
        let (c, ph, _, start) = (cursor.get(), phase.get(), media_gen.get(), starts.get());
        let Some(bx) = media_box.get() else {
            return;
        };
        let bx: &web_sys::HtmlElement = &bx;
        // A new start of a slide (not a retry's new element) plays its video from the top.
        let fresh = mounted.get_value() != Some(start);
        // Media the visitor has left behind or skipped stops loading.
        let keep: Vec<String> = player
            .try_with_value(Player::around)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| mount_media(c).and_then(|p| p.url))
            .collect();
        cache.with_value(|cache| cache.retain(&keep));
        if let Some(old) = bx
            .first_element_child()
            .and_then(|e| e.dyn_into::<web_sys::HtmlVideoElement>().ok())
        {
            let _ = old.pause();
        }
        bx.replace_children_with_node_0();
        mounted.set_value(None);
        if ph != Phase::Slide {
            return;
        }
        let Some(Parts {
            url,
            video,
            alt,
            extra,
        }) = mount_media(c)
        else {
            return;
        };
        let Some(el) =
            url.and_then(|url| cache.with_value(|c| c.element(&url, video, &alt, &extra)))
        else {
            // Not a URL the widget loads: it fails like a broken file would.
            send.run(Input::MediaFailed);
            return;
        };
        let _ = bx.append_child(&el);
        mounted.set_value(Some(start));
        if let Some(v) = el.dyn_ref::<web_sys::HtmlVideoElement>() {
            v.set_muted(muted.get_untracked());
            if fresh {
                v.set_current_time(0.0);
            }
            if let Some(ms) = media::video_duration(v) {
                send.run(Input::MediaDuration { ms });
            }
        }
        let reported = url_of(&el).map_or(media::Status::Loading, |u| {
            cache.with_value(|cache| cache.status(&u))
        });
        match media::status(&el, reported) {
            media::Status::Ready => send.run(Input::MediaReady),
            media::Status::Failed => send.run(Input::MediaFailed),
            media::Status::Loading => {}
        }
    });
    let current_video = move || {
        media_box
            .get_untracked()
            .and_then(|b| b.first_element_child())
            .and_then(|e| e.dyn_into::<web_sys::HtmlVideoElement>().ok())
    };
    Effect::new(move |_| {
        let (on, _, _, _) = (video_on.get(), cursor.get(), media_gen.get(), starts.get());
        if let Some(v) = current_video() {
            if on {
                media::play(&v, move || muted.set(true));
            } else {
                let _ = v.pause();
            }
        }
    });
    Effect::new(move |_| {
        let m = muted.get();
        if let Some(v) = current_video() {
            v.set_muted(m);
        }
    });
    let is_video = {
        let slide_media = slide_media.clone();
        move || slide_media(cursor.get()).is_some_and(|p| p.video)
    };

    let dialog = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(el) = dialog.get() {
            let _ = el.focus();
        }
    });
    // A slide or card change can remove the focused button (Next on the last slide, "Next"
    // on the end card): focus then goes back to the dialog, never to the host page.
    Effect::new(move |_| {
        let _ = cursor.get();
        // Closing hands focus to the launcher; never take it back.
        if phase.get() == Phase::Closed {
            return;
        }
        if let Some(el) = dialog.get_untracked() {
            let el: &web_sys::HtmlElement = &el;
            let inside = el
                .get_root_node()
                .dyn_into::<web_sys::ShadowRoot>()
                .ok()
                .and_then(|r| r.active_element())
                .is_some_and(|a| el.contains(Some(&a)));
            if !inside {
                let _ = el.focus();
            }
        }
    });
    let on_key = move |ev: KeyboardEvent| {
        if ev.key() == "Tab" {
            if let Some(d) = dialog.get_untracked() {
                trap_focus(&d, &ev);
            }
            return;
        }
        let Some(input) = gesture::key(&ev.key(), rtl) else {
            return;
        };
        match input {
            Input::TogglePause => ev.prevent_default(),
            Input::Close => ev.stop_propagation(),
            _ => {}
        }
        send.run(input);
    };

    // Pointer: a press pauses while it lasts; on release it is a tap (by where it started:
    // the inline-start 30 % steps back), a swipe, or — when longer than a tap — nothing.
    let press = StoredValue::new(None::<(f64, f64, f64, f64)>);
    let on_control = |ev: &PointerEvent| {
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("a, input, button:not(.zone)").ok().flatten())
            .is_some()
    };
    let on_down = move |ev: PointerEvent| {
        // One finger at a time: a second one neither restarts nor ends the press.
        if on_control(&ev) || ev.button() > 0 || !ev.is_primary() {
            return;
        }
        let at_x = ev
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|e| e.get_bounding_client_rect())
            .map_or(0.5, |r| {
                (f64::from(ev.client_x()) - r.left()) / r.width().max(1.0)
            });
        press.set_value(Some((
            f64::from(ev.client_x()),
            f64::from(ev.client_y()),
            js_sys::Date::now(),
            at_x,
        )));
        send.run(Input::HoldStart);
    };
    let on_up = move |ev: PointerEvent| {
        if !ev.is_primary() {
            return;
        }
        let Some((x0, y0, t0, at_x)) = press.get_value() else {
            return;
        };
        press.set_value(None);
        send.run(Input::HoldEnd);
        let p = gesture::Press {
            dx: f64::from(ev.client_x()) - x0,
            dy: f64::from(ev.client_y()) - y0,
            held_ms: js_sys::Date::now() - t0,
            at_x,
        };
        if let Some(input) = gesture::press(p, rtl) {
            send.run(input);
        }
    };
    let on_cancel = move |_: PointerEvent| {
        if press.get_value().is_some() {
            press.set_value(None);
            send.run(Input::HoldEnd);
        }
    };
    // The tap zones are buttons for keyboards and screen readers (a click with `detail` 0);
    // pointer taps are decided on release above, so a hold never turns into a click.
    let key_tap = move |ev: leptos::ev::MouseEvent, input: Input| {
        if ev.detail() == 0 {
            send.run(input);
        }
    };

    let story = move || {
        let c = cursor.get();
        stories.with_value(|s| s.get(c.story).cloned())
    };
    let slide = move || {
        let c = cursor.get();
        stories.with_value(|s| {
            s.get(c.story)
                .and_then(|st| st.slides.get(c.slide).cloned())
        })
    };
    let title = move || story().map(|s| s.title).unwrap_or_default();
    let bar_count = Memo::new(move |_| {
        let c = cursor.get();
        stories.with_value(|s| s.get(c.story).map_or(0, |s| s.slides.len()))
    });
    // One element per bar; only the fills' transforms follow the ticks.
    let bars = move || {
        (0..bar_count.get())
            .map(|i| {
                let fill = move || {
                    let v = pv.get();
                    let f = if i < v.cursor.slide || v.phase == Phase::EndCard {
                        1.0
                    } else if i == v.cursor.slide {
                        v.progress
                    } else {
                        0.0
                    };
                    format!("scaleX({})", crate::viewport::fixed(f64::from(f), 3))
                };
                view! {
                    <span class="bar">
                        <span class="fill" style:transform=fill></span>
                    </span>
                }
            })
            .collect_view()
    };
    let unmute = move || {
        is_video().then(|| {
            view! {
                <button
                    class="pill unmute"
                    data-testid="glimpse-unmute"
                    aria-pressed=move || (!muted.get()).to_string()
                    on:click=move |ev| {
                        ev.stop_propagation();
                        muted.update(|m| *m = !*m);
                    }
                >
                    {move || if muted.get() { lang.t(Text::Unmute) } else { lang.t(Text::Mute) }}
                </button>
            }
        })
    };
    let ctx_cta = ctx.clone();
    let cta = move || {
        let c = cursor.get();
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
    let slide_has_media = move || slide().is_some_and(|s| s.media.is_some());
    let expires = move || {
        story()
            .map(|s| lang.expires_in(s.expires_at - browser::now_ms()))
            .unwrap_or_default()
    };
    let counter = move || format!("{} / {}", cursor.get().slide + 1, bar_count.get());
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
                        aria-label=move || if user_paused.get() { lang.t(Text::Play) } else { lang.t(Text::Pause) }
                        aria-pressed=move || user_paused.get().to_string()
                        on:click=move |_| send.run(Input::TogglePause)
                    >
                        {move || if user_paused.get() { "▶" } else { "❚❚" }}
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
                <Show when=move || phase.get() != Phase::EndCard fallback=end_card>
                    <div
                        class="slide"
                        class:has-media=slide_has_media
                        on:pointerdown=on_down
                        on:pointerup=on_up
                        on:pointercancel=on_cancel
                        on:pointerleave=on_cancel
                        on:contextmenu=|ev| ev.prevent_default()
                    >
                        <div class="media-box" node_ref=media_box></div>
                        <Show when=move || media_failed.get()>
                            <p class="media-failed" role="status" data-testid="glimpse-media-failed">
                                {lang.t(Text::MediaFailed)}
                            </p>
                        </Show>
                        <p class="text" data-testid="glimpse-slide-text" aria-live="polite">
                            {text}
                        </p>
                        <button
                            class="zone prev"
                            aria-label=lang.t(Text::Previous)
                            data-testid="glimpse-prev"
                            on:click=move |ev| key_tap(ev, Input::Prev)
                        ></button>
                        <button
                            class="zone next"
                            aria-label=lang.t(Text::Next)
                            data-testid="glimpse-next"
                            on:click=move |ev| key_tap(ev, Input::Next)
                        ></button>
                        {unmute.clone()}
                        {cta.clone()}
                    </div>
                </Show>
            </div>
        </div>
    }
    .into_any()
}
