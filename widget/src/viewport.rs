//! Keeps the widget on the part of the page the visitor actually sees: the visual viewport.
//!
//! `position: fixed` places elements against the layout viewport, which on phones can be
//! much larger than the screen: a host page wider than the screen makes Chrome size it to
//! the whole page at its minimum zoom (a 405 px page on a 360 px phone puts a
//! `bottom: 20px; right: 20px` launcher at x 325–385, y 753–813 of a 360×740 screen), and
//! pinch zoom or the on-screen keyboard shrink what is visible without moving it. So the
//! shadow root's container is a frame laid exactly over `window.visualViewport` (offset,
//! size, and the inverse of its zoom, so the widget keeps its size on screen); its CSS
//! `transform` makes it the containing block of every fixed element inside. Without
//! `visualViewport` the frame is the whole viewport.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::HtmlElement;

/// The frame's geometry in CSS pixels of the layout viewport.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Left edge of what is visible, from the layout viewport's left edge.
    pub x: f64,
    /// Top edge of what is visible, from the layout viewport's top edge.
    pub y: f64,
    /// The frame's own width before it is scaled, in CSS pixels.
    pub width: f64,
    /// The frame's own height before it is scaled, in CSS pixels.
    pub height: f64,
    /// The scale applied to the frame: `1 / pinch-zoom`.
    pub scale: f64,
}

impl Frame {
    /// The frame covering a visual viewport at `(x, y)` of `width × height` CSS pixels
    /// seen at pinch-zoom `zoom` (1 = not zoomed). Its unscaled size is the viewport's size
    /// on screen, so the widget inside keeps its on-screen size at any zoom. Nonsense
    /// values (zero or negative sizes or zoom) give `None`.
    pub fn of_visual_viewport(x: f64, y: f64, width: f64, height: f64, zoom: f64) -> Option<Self> {
        let finite = [x, y, width, height, zoom].iter().all(|v| v.is_finite());
        if !finite || width <= 0.0 || height <= 0.0 || zoom <= 0.0 {
            return None;
        }
        Some(Self {
            x,
            y,
            width: width * zoom,
            height: height * zoom,
            scale: 1.0 / zoom,
        })
    }
}

/// Lays `container` over the visual viewport now and whenever it moves or resizes.
pub fn follow(container: &HtmlElement) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(vv) = window.visual_viewport() else {
        return;
    };
    let update = {
        let container = container.clone();
        let vv = vv.clone();
        move || {
            let frame = Frame::of_visual_viewport(
                vv.offset_left(),
                vv.offset_top(),
                vv.width(),
                vv.height(),
                vv.scale(),
            );
            apply(&container, frame);
        }
    };
    update();
    let listener = Closure::<dyn Fn()>::new(update);
    for event in ["resize", "scroll"] {
        let _ = vv.add_event_listener_with_callback(event, listener.as_ref().unchecked_ref());
    }
    let _ = window.add_event_listener_with_callback("resize", listener.as_ref().unchecked_ref());
    // Lives as long as the page, like the widget.
    listener.forget();
}

fn apply(container: &HtmlElement, frame: Option<Frame>) {
    let style = container.style();
    match frame {
        Some(f) => {
            let _ = style.set_property("--vv-x", &format!("{:.2}px", f.x));
            let _ = style.set_property("--vv-y", &format!("{:.2}px", f.y));
            let _ = style.set_property("--vv-w", &format!("{:.2}px", f.width));
            let _ = style.set_property("--vv-h", &format!("{:.2}px", f.height));
            let _ = style.set_property("--vv-k", &format!("{:.5}", f.scale));
        }
        None => {
            for name in ["--vv-x", "--vv-y", "--vv-w", "--vv-h", "--vv-k"] {
                let _ = style.remove_property(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unzoomed_phone_frame_is_the_visible_screen() {
        // A 405 px wide page on a 360×740 phone: what is visible is 360×740 at (0, 0).
        let f = Frame::of_visual_viewport(0.0, 0.0, 360.0, 740.0, 1.0);
        assert_eq!(
            f,
            Some(Frame {
                x: 0.0,
                y: 0.0,
                width: 360.0,
                height: 740.0,
                scale: 1.0
            })
        );
    }

    #[test]
    fn a_pinch_zoomed_frame_keeps_the_on_screen_size() {
        // Zoomed ×2 and panned: 180×370 CSS px visible at (100, 50); the frame is 360×740
        // scaled by ½, so it covers exactly those 180×370 px.
        let f = Frame::of_visual_viewport(100.0, 50.0, 180.0, 370.0, 2.0);
        let f = f.unwrap_or_else(|| panic!("a frame"));
        assert_eq!((f.x, f.y, f.width, f.height), (100.0, 50.0, 360.0, 740.0));
        assert_eq!((f.width * f.scale, f.height * f.scale), (180.0, 370.0));
    }

    #[test]
    fn nonsense_gives_no_frame() {
        assert_eq!(Frame::of_visual_viewport(0.0, 0.0, 0.0, 740.0, 1.0), None);
        assert_eq!(Frame::of_visual_viewport(0.0, 0.0, 360.0, 740.0, 0.0), None);
        assert_eq!(
            Frame::of_visual_viewport(f64::NAN, 0.0, 360.0, 740.0, 1.0),
            None
        );
    }
}
