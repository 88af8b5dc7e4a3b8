//! Slide media: one `<img>` or `<video>` per URL for as long as the viewer is open. The element
//! is created once — by the preload of the slide before it, or when its slide starts — and the
//! slide mounts that same element, so each picture or video is requested once and its events
//! fire once. Retrying a failed URL replaces its element (the player allows one retry).
//!
//! Events are reported to the viewer as [`MediaEvent`]s with the element's URL; the viewer
//! forwards those of the current slide to the pure player.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Event, HtmlElement, HtmlImageElement, HtmlVideoElement};

/// What a media element reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEvent {
    /// It can be shown (image decoded, video can play).
    Ready,
    /// A video ran out of data while playing.
    Stalled,
    /// HTTP error, network error or undecodable bytes.
    Failed,
    /// A video's length, in ms.
    Duration(u32),
}

/// Whether a media element is usable now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Loading,
    Ready,
    Failed,
}

type Listener = Closure<dyn FnMut(Event)>;
/// Receives `(url, event)` from every element.
type Notify = std::rc::Rc<dyn Fn(&str, MediaEvent)>;
/// A DOM event name and what it means, if anything.
type Mapping = (&'static str, fn(&Event) -> Option<MediaEvent>);

struct Item {
    el: HtmlElement,
    listeners: Vec<(&'static str, Listener)>,
    /// What the element's own `load` / `canplay` / `error` events said last.
    status: Rc<Cell<Status>>,
}

impl Drop for Item {
    fn drop(&mut self) {
        for (name, l) in &self.listeners {
            let _ = self
                .el
                .remove_event_listener_with_callback(name, l.as_ref().unchecked_ref());
        }
        // Stop any download still running for this element.
        if let Some(v) = self.el.dyn_ref::<HtmlVideoElement>() {
            let _ = v.pause();
            let _ = v.remove_attribute("src");
            v.load();
        } else {
            let _ = self.el.remove_attribute("src");
        }
        self.el.remove();
    }
}

/// What a video slide adds to its element: a poster and a captions track (both already
/// checked URLs), with the captions' language tag and label.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VideoExtra {
    pub poster: Option<String>,
    pub captions: Option<String>,
    /// BCP 47 tag of the captions (the language the story is shown in).
    pub lang: String,
    /// The track's label in the browser's captions menu.
    pub label: String,
}

/// The viewer's media elements by URL.
pub struct MediaCache {
    items: RefCell<HashMap<String, Item>>,
    notify: Notify,
}

impl MediaCache {
    /// `notify(url, event)` receives every element's events; it is never called after
    /// [`MediaCache::clear`] or drop.
    pub fn new(notify: impl Fn(&str, MediaEvent) + 'static) -> Self {
        Self {
            items: RefCell::new(HashMap::new()),
            notify: std::rc::Rc::new(notify),
        }
    }

    /// The element for `url`, created (and so requested) only if it does not exist yet.
    /// `alt` is the image's alternative text or the video's label; a video's `extra` adds its
    /// poster and captions.
    pub fn element(
        &self,
        url: &str,
        video: bool,
        alt: &str,
        extra: &VideoExtra,
    ) -> Option<HtmlElement> {
        if let Some(item) = self.items.borrow().get(url) {
            return Some(item.el.clone());
        }
        let item = self.create(url, video, alt, extra)?;
        let el = item.el.clone();
        self.items.borrow_mut().insert(url.to_string(), item);
        Some(el)
    }

    /// Drops the element for `url` (its next [`MediaCache::element`] requests it again).
    pub fn forget(&self, url: &str) {
        // Take it out first: dropping an element must not happen under the borrow.
        let item = self.items.borrow_mut().remove(url);
        drop(item);
    }

    /// Keeps only the elements of `urls` (the slides around the current one), so media the
    /// visitor has left or skipped stops downloading.
    pub fn retain(&self, urls: &[String]) {
        let gone: Vec<Item> = {
            let mut items = self.items.borrow_mut();
            let drop: Vec<String> = items
                .keys()
                .filter(|k| !urls.contains(k))
                .cloned()
                .collect();
            drop.iter().filter_map(|k| items.remove(k)).collect()
        };
        drop(gone);
    }

    /// What `url`'s element has reported: ready, failed or still loading.
    pub fn status(&self, url: &str) -> Status {
        self.items
            .borrow()
            .get(url)
            .map_or(Status::Loading, |i| i.status.get())
    }

    /// Removes every element and listener (the viewer closed).
    pub fn clear(&self) {
        let items: Vec<Item> = self.items.borrow_mut().drain().map(|(_, i)| i).collect();
        drop(items);
    }

    fn create(&self, url: &str, video: bool, alt: &str, extra: &VideoExtra) -> Option<Item> {
        let document = web_sys::window()?.document()?;
        let el: HtmlElement = if video {
            let v: HtmlVideoElement = document.create_element("video").ok()?.dyn_into().ok()?;
            // Muted and inline so browsers let it start on its own; the viewer unmutes.
            v.set_muted(true);
            let _ = v.set_attribute("muted", "");
            let _ = v.set_attribute("playsinline", "");
            let _ = v.set_attribute("disablepictureinpicture", "");
            // No casting: spares the browser's remote-playback availability watching.
            let _ = v.set_attribute("disableremoteplayback", "");
            v.set_preload("auto");
            if !alt.is_empty() {
                let _ = v.set_attribute("aria-label", alt);
            }
            if let Some(poster) = &extra.poster {
                v.set_poster(poster);
            }
            if let Some(captions) = &extra.captions {
                // Captions from the Glimpse origin on a host page are cross-origin: the
                // track loads only in CORS mode (set before the source), which the media
                // library's answers allow.
                let _ = v.set_attribute("crossorigin", "anonymous");
                if let Ok(track) = document.create_element("track") {
                    let _ = track.set_attribute("kind", "captions");
                    let _ = track.set_attribute("src", captions);
                    let _ = track.set_attribute("srclang", &extra.lang);
                    let _ = track.set_attribute("label", &extra.label);
                    // Shown by default: stories play muted.
                    let _ = track.set_attribute("default", "");
                    let _ = v.append_child(&track);
                }
            }
            v.into()
        } else {
            let img: HtmlImageElement = document.create_element("img").ok()?.dyn_into().ok()?;
            img.set_alt(alt);
            img.set_decoding("async");
            img.set_draggable(false);
            img.into()
        };
        el.set_class_name("media");
        let mut item = Item {
            el,
            listeners: Vec::new(),
            status: Rc::new(Cell::new(Status::Loading)),
        };
        let events: &[Mapping] = if video {
            &[
                ("canplay", |_| Some(MediaEvent::Ready)),
                ("playing", |_| Some(MediaEvent::Ready)),
                ("waiting", |_| Some(MediaEvent::Stalled)),
                ("error", |_| Some(MediaEvent::Failed)),
                ("loadedmetadata", |ev| {
                    video_duration(ev.target()?.dyn_ref::<HtmlVideoElement>()?)
                        .map(MediaEvent::Duration)
                }),
            ]
        } else {
            &[
                ("load", |_| Some(MediaEvent::Ready)),
                ("error", |_| Some(MediaEvent::Failed)),
            ]
        };
        for (name, map) in events {
            let notify = self.notify.clone();
            let status = item.status.clone();
            let url = url.to_string();
            let map = *map;
            let listener: Listener = Closure::new(move |ev: Event| {
                if let Some(m) = map(&ev) {
                    match m {
                        MediaEvent::Ready => status.set(Status::Ready),
                        MediaEvent::Failed => status.set(Status::Failed),
                        MediaEvent::Stalled | MediaEvent::Duration(_) => {}
                    }
                    notify(&url, m);
                }
            });
            let _ = item
                .el
                .add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
            item.listeners.push((name, listener));
        }
        // Setting the source last: the listeners above see every event.
        if let Some(v) = item.el.dyn_ref::<HtmlVideoElement>() {
            v.set_src(url);
        } else if let Some(img) = item.el.dyn_ref::<HtmlImageElement>() {
            img.set_src(url);
        }
        Some(item)
    }
}

impl Drop for MediaCache {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A video's length in ms, once its metadata is known.
pub fn video_duration(v: &HtmlVideoElement) -> Option<u32> {
    let secs = v.duration();
    (secs.is_finite() && secs > 0.0).then(|| (secs * 1_000.0).min(f64::from(u32::MAX)) as u32)
}

/// Whether `el` (from [`MediaCache::element`]) can be shown now, failed, or is still
/// loading; `reported` is what its own events said ([`MediaCache::status`]). A video also
/// counts as ready or failed from its state (it may have got there before it was mounted).
pub fn status(el: &HtmlElement, reported: Status) -> Status {
    if reported != Status::Loading {
        return reported;
    }
    match el.dyn_ref::<HtmlVideoElement>() {
        Some(v) if v.error().is_some() => Status::Failed,
        // HAVE_FUTURE_DATA: it can play.
        Some(v) if v.ready_state() >= 3 => Status::Ready,
        _ => Status::Loading,
    }
}

thread_local! {
    /// Swallows a `play()` promise's rejection ("interrupted by a call to pause()", autoplay
    /// refused): the player already knows whether the video plays from its events, and a
    /// rejection must never reach the host page as an unhandled one.
    static IGNORE: Closure<dyn FnMut(wasm_bindgen::JsValue)> = Closure::new(|_| {});
}

/// Starts `v`, never leaving a rejected promise behind. When the browser refuses to play it
/// with sound (autoplay rules: sound needs a fresh tap), it plays muted and `on_muted` runs.
pub fn play(v: &HtmlVideoElement, on_muted: impl FnOnce() + 'static) {
    let Ok(p) = v.play() else {
        return;
    };
    if v.muted() {
        IGNORE.with(|f| {
            let _ = p.catch(f);
        });
        return;
    }
    let v = v.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = wasm_bindgen_futures::JsFuture::from(p).await {
            let refused = js_sys::Reflect::get(&e, &wasm_bindgen::JsValue::from_str("name"))
                .ok()
                .and_then(|n| n.as_string())
                .is_some_and(|n| n == "NotAllowedError");
            if refused && v.is_connected() {
                v.set_muted(true);
                on_muted();
                if let Ok(p) = v.play() {
                    IGNORE.with(|f| {
                        let _ = p.catch(f);
                    });
                }
            }
        }
    });
}
