//! What a press, a swipe or a key on the story viewer means, in either reading direction.
//! The viewer measures (distance in CSS pixels, time in ms); these functions decide, so the
//! rules are tested natively: a press longer than a tap only pauses (releasing it resumes and
//! never navigates), and in right-to-left layouts every directional control is mirrored.

use crate::player::Input;

/// Pixels a pointer must travel to count as a swipe.
pub const SWIPE_PX: f64 = 50.0;

/// The longest press that is still a tap, in ms. Longer presses are holds: they pause while
/// held and do nothing on release (Instagram and WhatsApp use about the same threshold).
pub const TAP_MAX_MS: f64 = 250.0;

/// The longest a swipe may take, in ms: a hold that drifts sideways is still a hold.
pub const SWIPE_MAX_MS: f64 = 800.0;

/// The farthest a finger or pointer may move during a tap, in CSS pixels (browsers' own
/// touch slop is about the same): a longer drag that is no swipe does nothing.
pub const TAP_SLOP_PX: f64 = 10.0;

/// The share of the slide's width, from its inline start, that steps back; the rest steps on.
pub const PREV_ZONE: f64 = 0.3;

/// One finished press on a slide: how far it travelled (CSS pixels, +x right, +y down), how
/// long it lasted (ms) and where it started across the slide (0 = left edge, 1 = right edge).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Press {
    pub dx: f64,
    pub dy: f64,
    pub held_ms: f64,
    pub at_x: f64,
}

/// The player input a finished press gives (after its `HoldEnd`), if any. `rtl`: the viewer
/// is laid out right to left, so the previous zone is on the right and swiping right moves
/// on to the next story.
pub fn press(p: Press, rtl: bool) -> Option<Input> {
    let (ax, ay) = (p.dx.abs(), p.dy.abs());
    if p.held_ms > SWIPE_MAX_MS {
        // A hold, however far the thumb drifted: it paused while it lasted, and that is all.
        return None;
    }
    if ax > SWIPE_PX && ax > ay {
        let towards_start = if rtl { p.dx > 0.0 } else { p.dx < 0.0 };
        // A finger moving towards the inline start pulls the next story in.
        return Some(if towards_start {
            Input::NextStory
        } else {
            Input::PrevStory
        });
    }
    if p.dy > SWIPE_PX * 1.6 && p.dy > ax {
        return Some(Input::Close);
    }
    if ax > TAP_SLOP_PX || ay > TAP_SLOP_PX || p.held_ms > TAP_MAX_MS {
        // A drag that is no swipe, or a hold: it paused while it lasted, and that is all.
        return None;
    }
    let from_start = if rtl { 1.0 - p.at_x } else { p.at_x };
    Some(if from_start < PREV_ZONE {
        Input::Prev
    } else {
        Input::Next
    })
}

/// The player input for a key on the viewer (`KeyboardEvent.key`), if it has one. Arrow
/// keys follow the layout: in right-to-left, ← is forward.
pub fn key(key: &str, rtl: bool) -> Option<Input> {
    let forward = if rtl { "ArrowLeft" } else { "ArrowRight" };
    let back = if rtl { "ArrowRight" } else { "ArrowLeft" };
    match key {
        k if k == forward => Some(Input::Next),
        k if k == back => Some(Input::Prev),
        " " | "Spacebar" => Some(Input::TogglePause),
        "Escape" => Some(Input::Close),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tap(at_x: f64, held_ms: f64) -> Press {
        Press {
            dx: 0.0,
            dy: 0.0,
            held_ms,
            at_x,
        }
    }

    #[test]
    fn taps_step_by_zone_and_mirror_in_rtl() {
        assert_eq!(press(tap(0.1, 80.0), false), Some(Input::Prev));
        assert_eq!(press(tap(0.8, 80.0), false), Some(Input::Next));
        assert_eq!(press(tap(0.1, 80.0), true), Some(Input::Next));
        assert_eq!(press(tap(0.8, 80.0), true), Some(Input::Prev));
        assert_eq!(press(tap(0.9, 80.0), true), Some(Input::Prev));
    }

    #[test]
    fn releasing_a_hold_never_navigates() {
        // The case: a 1.5 s hold on the right half.
        assert_eq!(press(tap(0.75, 1_500.0), false), None);
        assert_eq!(press(tap(0.1, 300.0), true), None);
        assert_eq!(press(tap(0.75, TAP_MAX_MS), false), Some(Input::Next));
        // A long hold that drifts sideways or down is still a hold.
        let drift = Press {
            dx: -70.0,
            dy: 5.0,
            held_ms: 2_000.0,
            at_x: 0.6,
        };
        assert_eq!(press(drift, false), None);
        let down = Press {
            dx: 0.0,
            dy: 150.0,
            held_ms: 1_500.0,
            at_x: 0.6,
        };
        assert_eq!(press(down, false), None);
        // A small wobble during a hold is still a hold.
        let wobble = Press {
            dx: 12.0,
            dy: -8.0,
            held_ms: 900.0,
            at_x: 0.6,
        };
        assert_eq!(press(wobble, false), None);
    }

    #[test]
    fn swipes_change_story_or_close_and_mirror_in_rtl() {
        let swipe = |dx: f64, dy: f64| Press {
            dx,
            dy,
            held_ms: 400.0,
            at_x: 0.5,
        };
        assert_eq!(press(swipe(-120.0, 10.0), false), Some(Input::NextStory));
        assert_eq!(press(swipe(120.0, 10.0), false), Some(Input::PrevStory));
        assert_eq!(press(swipe(120.0, 10.0), true), Some(Input::NextStory));
        assert_eq!(press(swipe(-120.0, 10.0), true), Some(Input::PrevStory));
        assert_eq!(press(swipe(10.0, 120.0), true), Some(Input::Close));
        // Up is not close; a short drag is nothing, however quick.
        assert_eq!(press(swipe(0.0, -120.0), false), None);
        assert_eq!(press(swipe(30.0, 20.0), false), None);
        let quick_drag = Press {
            dx: 0.0,
            dy: 20.0,
            held_ms: 60.0,
            at_x: 0.8,
        };
        assert_eq!(press(quick_drag, false), None);
        // A tap may wobble a few pixels.
        let wobbly_tap = Press {
            dx: 4.0,
            dy: -3.0,
            held_ms: 90.0,
            at_x: 0.8,
        };
        assert_eq!(press(wobbly_tap, false), Some(Input::Next));
    }

    #[test]
    fn arrow_keys_follow_the_layout() {
        assert_eq!(key("ArrowRight", false), Some(Input::Next));
        assert_eq!(key("ArrowLeft", false), Some(Input::Prev));
        assert_eq!(key("ArrowLeft", true), Some(Input::Next));
        assert_eq!(key("ArrowRight", true), Some(Input::Prev));
        assert_eq!(key(" ", true), Some(Input::TogglePause));
        assert_eq!(key("Escape", false), Some(Input::Close));
        assert_eq!(key("a", false), None);
    }
}
