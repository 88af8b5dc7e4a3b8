//! Keeping one element of the tray in view while the content around it is still arriving.
//!
//! The tray renders in pieces: the visitor's thread may show before the polls or the
//! live-help card above it (each waits on its own request), and each of those pushes the
//! thread down; the thread itself is rebuilt when a poll for replies answers. Scrolling once
//! is not enough, and the browser's own scroll anchoring does nothing while the box is still
//! at the top. [`KeepInView`] watches the box with a `MutationObserver` (its reports are
//! microtasks, so they come whether or not the page is rendering frames) and after each
//! change finds the element afresh and, if it is (partly) out of view, scrolls it back
//! (`scrollIntoView({block: "nearest"})`: the box only, never the host page when the box is
//! fixed). It lets go as soon as the visitor scrolls, taps, clicks or types in the box, after
//! [`KEEP_MS`], and when dropped.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;
use web_sys::{Element, Event, MutationObserver};

/// How long the keeping lasts at most, in ms: what arrives later than this (a poll's
/// results, a slow request) may move the element again.
pub const KEEP_MS: i32 = 15_000;

/// The visitor's own ways of moving the box: any of them ends the keeping.
const TAKE_OVER: [&str; 4] = ["wheel", "touchstart", "pointerdown", "keydown"];

/// An event listener with the name it was added under, for taking it off again.
type Listener = (&'static str, Closure<dyn FnMut(Event)>);

/// Keeps an element in view inside a scrolling box (see the module docs). Dropping it
/// disconnects the observer and removes its listeners.
pub struct KeepInView {
    observer: MutationObserver,
    root: Element,
    _on_change: Closure<dyn FnMut(js_sys::Array)>,
    listeners: Vec<Listener>,
}

impl KeepInView {
    /// Brings the element `find` returns (a descendant of `root`, the scrolling box) into
    /// view now, and again after every change inside `root` that leaves it out of view,
    /// until the visitor takes over or [`KEEP_MS`] have passed. `find` runs after each change, so the element may be
    /// rebuilt meanwhile; while it returns `None` nothing moves. `None` where the browser
    /// has no `MutationObserver` (then it is only scrolled into view once).
    pub fn start(root: &Element, find: impl Fn() -> Option<Element> + 'static) -> Option<Self> {
        let find: Rc<dyn Fn() -> Option<Element>> = Rc::new(find);
        let check = {
            let root = root.clone();
            let find = find.clone();
            move || {
                if let Some(el) = find()
                    && !shown(&el, &root)
                {
                    reveal(&el);
                }
            }
        };
        check();
        let on_change = {
            let check = check.clone();
            Closure::<dyn FnMut(js_sys::Array)>::new(move |_: js_sys::Array| check())
        };
        let observer = MutationObserver::new(on_change.as_ref().unchecked_ref()).ok()?;
        let options = web_sys::MutationObserverInit::new();
        options.set_child_list(true);
        options.set_subtree(true);
        options.set_character_data(true);
        options.set_attributes(true);
        observer.observe_with_options(root, &options).ok()?;
        let mut listeners: Vec<Listener> = Vec::new();
        let passive = web_sys::AddEventListenerOptions::new();
        passive.set_passive(true);
        for name in TAKE_OVER {
            let observer = observer.clone();
            let listener = Closure::<dyn FnMut(Event)>::new(move |_: Event| observer.disconnect());
            let _ = root.add_event_listener_with_callback_and_add_event_listener_options(
                name,
                listener.as_ref().unchecked_ref(),
                &passive,
            );
            listeners.push((name, listener));
        }
        if let Some(window) = web_sys::window() {
            let observer = observer.clone();
            let stop = Closure::once_into_js(move || observer.disconnect());
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                stop.unchecked_ref(),
                KEEP_MS,
            );
        }
        Some(Self {
            observer,
            root: root.clone(),
            _on_change: on_change,
            listeners,
        })
    }
}

impl Drop for KeepInView {
    fn drop(&mut self) {
        self.observer.disconnect();
        for (name, listener) in &self.listeners {
            let _ = self
                .root
                .remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
    }
}

/// Whether `el` is in view inside `root` as far as it can be: its top inside the box, and
/// its bottom too unless it is taller than the box (1 px of slack for fractional layout).
pub fn shown(el: &Element, root: &Element) -> bool {
    let (r, b) = (
        el.get_bounding_client_rect(),
        root.get_bounding_client_rect(),
    );
    let top = b.top() + f64::from(root.client_top());
    let bottom = top + f64::from(root.client_height());
    let top_in = r.top() >= top - 1.0 && r.top() <= bottom;
    let bottom_in = r.bottom() <= bottom + 1.0 || r.height() > bottom - top;
    top_in && bottom_in
}

/// Scrolls the box just enough to show `el` (`scrollIntoView({block: "nearest"})`). Older
/// browsers without the options argument are left as they are.
pub fn reveal(el: &Element) {
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"block".into(), &"nearest".into());
    if let Ok(f) = js_sys::Reflect::get(el, &JsValue::from_str("scrollIntoView"))
        && let Ok(f) = f.dyn_into::<js_sys::Function>()
    {
        let _ = f.call1(el, &options);
    }
}
