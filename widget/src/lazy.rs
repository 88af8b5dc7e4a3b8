//! Code splitting: parts of the widget a visitor may never use are compiled into separate
//! wasm chunks that load on first use: the app (the Leptos runtime, the full feed decoder,
//! the tray and the story viewer, which a visitor who opens the widget always needs
//! together) and the live-session banners. Code both use is in a shared chunk the splitter
//! makes. One chunk for the app and its views is one round trip on a click, and smaller in
//! all than a chunk per view (code in one module compresses and optimises together).
//!
//! [`chunk!`] declares a split point with Leptos's `wasm_split` support
//! (`leptos::wasm_split`, the `wasm_split_helpers` crate). With the `split` feature (the
//! release bundle, split by `cargo xtask build`) the function's code moves into its own
//! wasm file, fetched the first time it is called; without it (unit and DOM tests) the same
//! function is called directly. Either way the caller sees an `async fn` that returns
//! `Err(ChunkError)` when the chunk could not be fetched, never a panic: a failed load is not
//! cached, so calling again retries from scratch. [`lazy_view`] renders such a function
//! with retries and, when they are spent, a calm message with a "Try again" button.

use std::future::Future;

use glimpse_shared::i18n::Text;
use leptos::prelude::*;

/// A chunk could not be fetched or instantiated (offline, 5xx, blocked by the network).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkError;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ChunkError
    }
}

/// Declares a function whose code lives in the wasm chunk `$chunk`:
///
/// ```ignore
/// chunk! {
///     /// Docs.
///     pub fn banners(a: A) -> AnyView;
///         chunk banners, preload preload_banners, body banners_body;
///         { … }
/// }
/// ```
///
/// expands to `pub async fn banners(a: A) -> Result<AnyView, ChunkError>` (loads the chunk,
/// then runs the body in it) and `pub async fn preload_banners() -> Result<(), SplitLoaderError>`
/// (only fetches it). Arguments are moved across as plain Rust values: the chunks share the
/// main module's memory.
#[macro_export]
macro_rules! chunk {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty;
            chunk $chunk:ident, preload $preload:ident, body $body_fn:ident;
            $body:block
    ) => {
        #[cfg_attr(
            feature = "split",
            ::leptos::wasm_split::wasm_split(
                $chunk,
                wasm_split_path = ::leptos::wasm_split,
                fallible,
                preload($preload)
            )
        )]
        $vis fn $body_fn($($arg: $ty),*) -> ::core::result::Result<$ret, $crate::lazy::ChunkError> {
            ::core::result::Result::Ok($body)
        }

        /// Fetches this function's chunk without running it (on hover, focus or touch).
        #[cfg(not(feature = "split"))]
        $vis async fn $preload() -> ::core::result::Result<(), ::leptos::wasm_split::SplitLoaderError> {
            ::core::result::Result::Ok(())
        }

        $(#[$meta])*
        $vis async fn $name($($arg: $ty),*) -> ::core::result::Result<$ret, $crate::lazy::ChunkError> {
            #[cfg(feature = "split")]
            {
                $body_fn($($arg),*).await
            }
            #[cfg(not(feature = "split"))]
            {
                $body_fn($($arg),*)
            }
        }
    };
}

/// Delays before each attempt to fetch a chunk, in milliseconds (a failed fetch waits less
/// when the browser comes back online).
pub const ATTEMPT_DELAYS_MS: [i64; 3] = [0, 700, 2_500];

/// Tries `load` up to [`ATTEMPT_DELAYS_MS`]`.len()` times.
pub async fn with_retries<T, F, Fut>(load: F) -> Result<T, ChunkError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, ChunkError>>,
{
    let mut last = Err(ChunkError);
    for delay in ATTEMPT_DELAYS_MS {
        if delay > 0 {
            crate::browser::sleep_or_online(delay).await;
        }
        last = load().await;
        if last.is_ok() {
            break;
        }
    }
    last
}

/// Renders the view a chunk function builds: nothing while it loads, then the view. When
/// every attempt failed it shows "This part of help couldn't load…" and a "Try again"
/// button that starts over.
pub fn lazy_view<F, Fut>(load: F) -> impl IntoView
where
    F: Fn() -> Fut + Clone + 'static,
    Fut: Future<Output = Result<AnyView, ChunkError>> + 'static,
{
    let lang = crate::app::ctx().lang;
    let round = RwSignal::new(0u32);
    // Views must be `Send`; the widget is single-threaded, so this never leaves its thread.
    let load = send_wrapper::SendWrapper::new(load);
    move || {
        round.track();
        let load = (*load).clone();
        Suspend::new(send_wrapper::SendWrapper::new(async move {
            match with_retries(load).await {
                Ok(view) => view,
                Err(ChunkError) => view! {
                    <p class="part-failed notice" role="status" data-testid="glimpse-part-failed">
                        {lang.t(Text::PartFailed)}
                        " "
                        <button class="link" on:click=move |_| round.update(|r| *r += 1)>
                            {lang.t(Text::TryAgain)}
                        </button>
                    </p>
                }
                .into_any(),
            }
        }))
    }
}

/// Starts fetching a chunk in the background (a hover or focus predicts a click); errors
/// are ignored here, the click retries.
pub fn prefetch<Fut, E>(preload: fn() -> Fut)
where
    Fut: Future<Output = Result<(), E>> + 'static,
{
    // wasm-bindgen's executor, not Leptos's: this runs in the first chunk, before Leptos
    // (and its executor) exists.
    wasm_bindgen_futures::spawn_local(async move {
        let _ = preload().await;
    });
}
