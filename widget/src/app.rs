//! The widget's components. Authored content is only ever rendered as text nodes.

use glimpse_shared::{Feed, Story};
use leptos::prelude::*;
use web_sys::KeyboardEvent;

/// Where the site's feed stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedState {
    Loading,
    Ready(Box<Feed>),
    /// The feed could not be loaded; the widget stays out of the way.
    Failed,
}

/// The whole widget: a launcher and, when a story is open, the viewer.
#[component]
pub fn App(
    /// The site's feed as it loads.
    feed: ReadSignal<FeedState>,
) -> impl IntoView {
    let stories = Memo::new(move |_| match feed.get() {
        FeedState::Ready(f) => f.stories,
        FeedState::Loading | FeedState::Failed => Vec::new(),
    });
    let (open, set_open) = signal(None::<usize>);
    let launcher = NodeRef::<leptos::html::Button>::new();
    let close = Callback::new(move |()| {
        set_open.set(None);
        if let Some(button) = launcher.get_untracked() {
            let _ = button.focus();
        }
    });
    let open_story = move || {
        open.get()
            .and_then(|i| stories.with(|s| s.get(i).cloned()))
            .map(|story| view! { <Viewer story=story on_close=close/> })
    };
    view! {
        <Show when=move || stories.with(|s| !s.is_empty())>
            <button
                class="launcher"
                data-testid="glimpse-launcher"
                node_ref=launcher
                aria-label=move || format!("Open help stories ({} new)", stories.with(Vec::len))
                aria-haspopup="dialog"
                on:click=move |_| set_open.set(Some(0))
            >
                "?"
                <span class="count" aria-hidden="true">
                    {move || stories.with(Vec::len)}
                </span>
            </button>
        </Show>
        {open_story}
    }
}

/// A story, one slide at a time, as a modal dialog.
#[component]
pub fn Viewer(
    /// The story to show.
    story: Story,
    /// Called when the visitor closes the viewer or finishes the story.
    on_close: Callback<()>,
) -> impl IntoView {
    let count = story.slides.len();
    let title = story.title.clone();
    let label = story.title;
    let slides = StoredValue::new(story.slides);
    let (index, set_index) = signal(0usize);
    let text = move || {
        slides.with_value(|s| {
            s.get(index.get())
                .map(|slide| slide.text.clone())
                .unwrap_or_default()
        })
    };
    let next = move || {
        if index.get_untracked() + 1 < count {
            set_index.update(|i| *i += 1);
        } else {
            on_close.run(());
        }
    };
    let prev = move || set_index.update(|i| *i = i.saturating_sub(1));
    let dialog = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(el) = dialog.get() {
            let _ = el.focus();
        }
    });
    let on_key = move |ev: KeyboardEvent| match ev.key().as_str() {
        "ArrowRight" => next(),
        "ArrowLeft" => prev(),
        "Escape" => on_close.run(()),
        _ => {}
    };
    view! {
        <div class="backdrop">
            <div
                class="viewer"
                role="dialog"
                aria-modal="true"
                aria-label=label
                tabindex="-1"
                data-testid="glimpse-viewer"
                node_ref=dialog
                on:keydown=on_key
            >
                <div class="progress" aria-hidden="true">
                    {(0..count)
                        .map(|i| view! { <span class:done=move || i <= index.get()></span> })
                        .collect_view()}
                </div>
                <div class="head">
                    <h2>{title}</h2>
                    <button
                        class="icon"
                        aria-label="Close"
                        data-testid="glimpse-close"
                        on:click=move |_| on_close.run(())
                    >
                        "×"
                    </button>
                </div>
                <div class="slide">
                    <p data-testid="glimpse-slide-text" aria-live="polite">
                        {text}
                    </p>
                    <button
                        class="zone prev"
                        aria-label="Previous slide"
                        on:click=move |_| prev()
                    ></button>
                    <button
                        class="zone next"
                        aria-label=move || format!("Next slide ({} of {count})", index.get() + 1)
                        data-testid="glimpse-next"
                        on:click=move |_| next()
                    ></button>
                </div>
            </div>
        </div>
    }
}
