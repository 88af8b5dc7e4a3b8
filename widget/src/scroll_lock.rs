//! While a story is open the host page must not scroll under it: [`lock`] returns a
//! [`Guard`], and the page scrolls again when the last guard is dropped.
//!
//! The lock never touches the host's styles (no `overflow: hidden` or `position: fixed` on
//! `<html>`/`<body>`, which would shift layouts, fire the page's resize observers and need
//! a byte-exact restore of attributes a strict CSP may not let us write back). It cancels
//! the inputs that scroll: `wheel` and `touchmove` (non-passive listeners on `window`, capture
//! phase) unless they land on a scrollable part of the widget itself, and the scrolling keys
//! (Space, Page Up/Down, Home, End, arrows) unless typed into a field or, for Space, pressed
//! on a button or link. Anything else that scrolled the page meanwhile (a dragged scrollbar,
//! a page script) is undone on unlock: the page is put back at the exact position it had.

use std::cell::RefCell;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Element, Event, KeyboardEvent};

/// Keeps the host page's scroll locked while alive. Locks nest: the page scrolls again when
/// the last one is dropped.
#[derive(Debug)]
#[must_use = "the page scrolls again as soon as the guard is dropped"]
pub struct Guard {
    _private: (),
}

/// A listener on `window` by event name, kept to be removed on unlock.
type Listener = (&'static str, Closure<dyn FnMut(Event)>);

struct Active {
    count: u32,
    /// `(scrollX, scrollY)` when the first lock was taken.
    at: (f64, f64),
    listeners: Vec<Listener>,
}

thread_local! {
    static ACTIVE: RefCell<Option<Active>> = const { RefCell::new(None) };
}

/// Locks the host page's scroll until the returned guard is dropped.
pub fn lock() -> Guard {
    ACTIVE.with(|a| {
        let mut slot = a.borrow_mut();
        if let Some(active) = slot.as_mut() {
            active.count += 1;
        } else {
            *slot = install();
        }
    });
    Guard { _private: () }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let last = ACTIVE.with(|a| {
            let mut slot = a.borrow_mut();
            match slot.as_mut() {
                Some(active) if active.count > 1 => {
                    active.count -= 1;
                    None
                }
                _ => slot.take(),
            }
        });
        if let Some(active) = last {
            uninstall(active);
        }
    }
}

fn install() -> Option<Active> {
    let window = web_sys::window()?;
    let at = (window.scroll_x().ok()?, window.scroll_y().ok()?);
    let mut listeners: Vec<Listener> = Vec::new();
    for name in ["wheel", "touchmove"] {
        listeners.push((
            name,
            Closure::new(|ev: Event| {
                if !scrolls_inside_widget(&ev) {
                    ev.prevent_default();
                }
            }),
        ));
    }
    listeners.push((
        "keydown",
        Closure::new(|ev: Event| {
            if let Some(key) = ev.dyn_ref::<KeyboardEvent>()
                && scrolls_page(key)
            {
                ev.prevent_default();
            }
        }),
    ));
    let options = web_sys::AddEventListenerOptions::new();
    options.set_capture(true);
    options.set_passive(false);
    for (name, f) in &listeners {
        let _ = window.add_event_listener_with_callback_and_add_event_listener_options(
            name,
            f.as_ref().unchecked_ref(),
            &options,
        );
    }
    Some(Active {
        count: 1,
        at,
        listeners,
    })
}

fn uninstall(active: Active) {
    let Some(window) = web_sys::window() else {
        return;
    };
    for (name, f) in &active.listeners {
        let _ = window.remove_event_listener_with_callback_and_bool(
            name,
            f.as_ref().unchecked_ref(),
            true,
        );
    }
    let now = (
        window.scroll_x().unwrap_or(active.at.0),
        window.scroll_y().unwrap_or(active.at.1),
    );
    if now != active.at {
        let options = web_sys::ScrollToOptions::new();
        options.set_left(active.at.0);
        options.set_top(active.at.1);
        // Instant, whatever `scroll-behavior` the host's CSS sets.
        options.set_behavior(web_sys::ScrollBehavior::Instant);
        window.scroll_to_with_scroll_to_options(&options);
    }
}

/// The elements an event passes through, innermost first, up to (not including) the
/// first `<glimpse-widget>` host; empty when the event did not start inside the widget.
fn widget_path(ev: &Event) -> Vec<Element> {
    let mut inside = Vec::new();
    for target in ev.composed_path().iter() {
        let Some(el) = target.dyn_ref::<Element>() else {
            continue;
        };
        if el.local_name() == "glimpse-widget" {
            return inside;
        }
        inside.push(el.clone());
    }
    Vec::new()
}

/// Whether a wheel or touch gesture is over a part of the widget that scrolls itself (the
/// tray's list, say), which keeps the gesture (`overscroll-behavior: contain` stops it
/// there).
fn scrolls_inside_widget(ev: &Event) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    widget_path(ev).iter().any(|el| {
        let overflows = el.scroll_height() > el.client_height() + 1;
        overflows
            && window
                .get_computed_style(el)
                .ok()
                .flatten()
                .and_then(|s| s.get_property_value("overflow-y").ok())
                .is_some_and(|o| o == "auto" || o == "scroll")
    })
}

/// Whether the browser's default action for this key scrolls the page.
fn scrolls_page(ev: &KeyboardEvent) -> bool {
    let key = ev.key();
    let scroll_key = matches!(
        key.as_str(),
        " " | "PageUp"
            | "PageDown"
            | "Home"
            | "End"
            | "ArrowUp"
            | "ArrowDown"
            | "ArrowLeft"
            | "ArrowRight"
    );
    if !scroll_key || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
        return false;
    }
    let target = ev
        .composed_path()
        .get(0)
        .dyn_into::<Element>()
        .ok()
        .or_else(|| ev.target().and_then(|t| t.dyn_into::<Element>().ok()));
    let Some(target) = target else {
        return true;
    };
    let tag = target.local_name();
    let editable = matches!(tag.as_str(), "input" | "textarea" | "select")
        || target
            .dyn_ref::<web_sys::HtmlElement>()
            .is_some_and(|h| h.is_content_editable());
    // Space activates buttons and links instead of scrolling.
    let activates = key == " " && matches!(tag.as_str(), "button" | "a" | "summary");
    !(editable || activates)
}
