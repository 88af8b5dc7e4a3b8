//! Slide media: one `<img>` or `<video>` per URL for as long as the viewer is open. The element
//! is created once — by the preload of the slide before it, or when its slide starts — and the
//! slide mounts that same element, so each picture or video is requested once and its events
//! fire once. Retrying a failed URL replaces its element (the player allows one retry).
//!
//! Events are reported to the viewer as [`MediaEvent`]s with the element's URL; the viewer
//! forwards those of the current slide to the pure player.

use std::cell::RefCell;
use std::collections::HashMap;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
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
        }
        self.el.remove();
    }
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
    /// `alt` is the image's alternative text or the video's label.
    pub fn element(&self, url: &str, video: bool, alt: &str) -> Option<HtmlElement> {
        if let Some(item) = self.items.borrow().get(url) {
            return Some(item.el.clone());
        }
        let item = self.create(url, video, alt)?;
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

    /// Removes every element and listener (the viewer closed).
    pub fn clear(&self) {
        let items: Vec<Item> = self.items.borrow_mut().drain().map(|(_, i)| i).collect();
        drop(items);
    }

    fn create(&self, url: &str, video: bool, alt: &str) -> Option<Item> {
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
            let url = url.to_string();
            let map = *map;
            let listener: Listener = Closure::new(move |ev: Event| {
                if let Some(m) = map(&ev) {
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

/// Whether `el` (from [`MediaCache::element`]) can be shown now, failed, or is still loading.
pub fn status(el: &HtmlElement) -> Status {
    if let Some(v) = el.dyn_ref::<HtmlVideoElement>() {
        if v.error().is_some() {
            Status::Failed
        } else if v.ready_state() >= 3 {
            // HAVE_FUTURE_DATA: it can play.
            Status::Ready
        } else {
            Status::Loading
        }
    } else if let Some(img) = el.dyn_ref::<HtmlImageElement>() {
        match (img.complete(), img.natural_width() > 0) {
            (true, true) => Status::Ready,
            (true, false) => Status::Failed,
            (false, _) => Status::Loading,
        }
    } else {
        Status::Loading
    }
}

thread_local! {
    /// Swallows a `play()` promise's rejection ("interrupted by a call to pause()", autoplay
    /// refused): the player already knows whether the video plays from its events, and a
    /// rejection must never reach the host page as an unhandled one.
    static IGNORE: Closure<dyn FnMut(wasm_bindgen::JsValue)> = Closure::new(|_| {});
}

/// Starts `v`, never leaving a rejected promise behind.
pub fn play(v: &HtmlVideoElement) {
    if let Ok(p) = v.play() {
        IGNORE.with(|f| {
            let _ = p.catch(f);
        });
    }
}
