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
            let _ = style.set_property("--vv-x", &format!("{}px", fixed(f.x, 2)));
            let _ = style.set_property("--vv-y", &format!("{}px", fixed(f.y, 2)));
            let _ = style.set_property("--vv-w", &format!("{}px", fixed(f.width, 2)));
            let _ = style.set_property("--vv-h", &format!("{}px", fixed(f.height, 2)));
            let _ = style.set_property("--vv-k", &fixed(f.scale, 5));
        }
        None => {
            for name in ["--vv-x", "--vv-y", "--vv-w", "--vv-h", "--vv-k"] {
                let _ = style.remove_property(name);
            }
        }
    }
}

/// `value` with `places` decimals (at most 9), rounded half away from zero: `-0.5` at 0
/// places is `-1`. Written with integer formatting only, so this first chunk does not carry
/// the float formatting machinery (`{:.2}` links about 15 KB of `core::fmt` float code).
pub fn fixed(value: f64, places: u32) -> String {
    let scale = 10_i64.pow(places.min(9));
    let n = (value * scale as f64).round() as i64;
    let sign = if n < 0 { "-" } else { "" };
    let n = n.unsigned_abs();
    let scale = scale.unsigned_abs();
    if places == 0 {
        return format!("{sign}{n}");
    }
    format!(
        "{sign}{}.{:0width$}",
        n / scale,
        n % scale,
        width = places.min(9) as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_matches_the_standard_formatter() {
        for v in [
            0.0,
            1.0,
            -1.0,
            0.004,
            0.005,
            0.015,
            12.345_67,
            -12.345_67,
            360.0,
            1_234_567.891,
            -0.004,
            0.999_995,
            2.0 / 3.0,
            -2.0 / 3.0,
        ] {
            for places in [0_u32, 2, 5] {
                let ours = fixed(v, places);
                let std = format!("{v:.*}", places as usize);
                // Rust rounds half to even on the exact binary value; ours rounds the
                // scaled value half away from zero. They may differ only in the last place.
                let (a, b): (f64, f64) = (
                    ours.parse().unwrap_or(f64::NAN),
                    std.parse().unwrap_or(f64::NAN),
                );
                let ulp = 1.0 / 10_f64.powi(places as i32);
                assert!(
                    (a - b).abs() <= ulp * 1.000_001,
                    "{v} at {places}: {ours} vs {std}"
                );
                assert_eq!(
                    ours.split('.').nth(1).map_or(0, str::len),
                    places as usize,
                    "{ours}"
                );
            }
        }
        assert_eq!(fixed(12.345_67, 2), "12.35");
        assert_eq!(fixed(-0.004, 2), "0.00");
        assert_eq!(fixed(0.5, 5), "0.50000");
        assert_eq!(fixed(-3.25, 0), "-3");
    }

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
