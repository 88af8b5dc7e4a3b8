//! The story player as one pure state machine: inputs in (time passing, taps, keys, swipes,
//! media and visibility changes), effects out (what to record, preload and show). The
//! widget only forwards browser events here and renders [`Player::view`], so every rule of
//! playback is tested natively.

use crate::Story;

/// Which slide of which story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub story: usize,
    pub slide: usize,
}

/// Why playback is paused. Each reason is set and cleared on its own: releasing a hold never
/// resumes a tab that is hidden, and so on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pauses {
    /// The visitor pressed and holds the slide.
    pub hold: bool,
    /// The visitor paused with the button or Space.
    pub user: bool,
    /// The page is hidden (another tab, minimised).
    pub hidden: bool,
    /// `prefers-reduced-motion: reduce`: nothing advances on its own.
    pub reduced_motion: bool,
    /// The slide's media is loading or stalled.
    pub buffering: bool,
}

impl Pauses {
    pub fn any(&self) -> bool {
        self.hold || self.user || self.hidden || self.reduced_motion || self.buffering
    }
}

/// What the player receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Time passed (from an animation frame or interval).
    Tick {
        dt_ms: u32,
    },
    /// Tap on the right part, →: next slide (or the end card, or the next story).
    Next,
    /// Tap on the left part, ←: previous slide (or the previous story's last slide).
    Prev,
    /// Swipe left: the next story (the current one is not counted as completed).
    NextStory,
    /// Swipe right: the previous story.
    PrevStory,
    HoldStart,
    HoldEnd,
    /// The pause/play button or Space.
    TogglePause,
    /// The current slide's media can play.
    MediaReady,
    /// The current slide's media stalled (buffering).
    MediaStalled,
    /// The current slide's media failed (HTTP error, network error, undecodable). The first
    /// failure asks for one retry ([`Effect::RetryMedia`]); the second gives up: the slide
    /// shows its text with a "couldn't load" note and its timer runs.
    MediaFailed,
    /// The current slide's video is this long: it sets the slide's duration (if its time has
    /// not started running yet).
    MediaDuration {
        ms: u32,
    },
    /// `visibilitychange`: whether the page is visible.
    Visible(bool),
    ReducedMotion(bool),
    /// Esc, the close button or a swipe down.
    Close,
}

/// What the widget must do in response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A story was opened (first slide shown): record a view, mark it seen.
    StoryStarted { story: usize },
    /// A slide is now showing.
    SlideStarted(Cursor),
    /// The last slide of a story was watched to the end or stepped past.
    StoryCompleted { story: usize },
    /// Every story was completed; fires at most once.
    AllCompleted,
    /// Start loading the media of these slides (the next slide's) ahead of time.
    Preload(Vec<Cursor>),
    /// Load the current slide's media again (after its first failure or time-out).
    RetryMedia(Cursor),
    /// The viewer closed.
    Closed,
}

/// Where in a story the viewer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Showing a slide.
    Slide,
    /// The "Did this help?" card after a story's last slide: nothing advances on its own.
    EndCard,
    Closed,
}

/// One slide as the player needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SlideInfo {
    duration_ms: u32,
    media: bool,
}

/// Everything the view renders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlayerView {
    pub cursor: Cursor,
    pub phase: Phase,
    /// Progress through the current slide, 0–1.
    pub progress: f32,
    pub pauses: Pauses,
    /// Whether time is running (no pause reason, showing a slide).
    pub playing: bool,
    /// The current slide's media could not be loaded (after one retry): show its text and a
    /// "couldn't load" note instead.
    pub media_failed: bool,
    /// Counts slide starts, so a slide started over (← on the first slide) is a new start
    /// even though the cursor stayed: its media is rewound and asked for again.
    pub starts: u32,
}

/// The player. Build it with [`Player::open`]; feed it [`Input`]s.
#[derive(Debug, Clone)]
pub struct Player {
    stories: Vec<Vec<SlideInfo>>,
    cursor: Cursor,
    phase: Phase,
    elapsed_ms: u32,
    starts: u32,
    duration_ms: u32,
    pauses: Pauses,
    completed: Vec<bool>,
    all_completed: bool,
    media: MediaState,
    /// Whether the current slide's media was already retried (at most once per slide).
    media_retried: bool,
    /// How long the current slide's media has kept the timer waiting, in ms.
    waited_ms: u32,
}

/// Where the current slide's media stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaState {
    /// No media on this slide.
    None,
    /// Loading (first time, or the single retry).
    Loading,
    /// Ready to show (it may stall later).
    Ready,
    Failed,
}

/// How many upcoming slides' media to preload: the next slide's only, so a visitor who stops
/// after one slide does not pay for the whole story.
const PRELOAD_AHEAD: usize = 1;

/// How long a slide's media may keep the timer waiting (loading or stalled) before it counts
/// as failed, in ms of visible time. A failure is retried once, so a slide gives up after at
/// most twice this.
pub const MEDIA_TIMEOUT_MS: u32 = 8_000;

impl Player {
    /// Opens the viewer on `story` (clamped into range). `None` if there is nothing to play.
    /// Returns the effects of showing the first slide.
    pub fn open(
        stories: &[Story],
        story: usize,
        reduced_motion: bool,
    ) -> Option<(Self, Vec<Effect>)> {
        let stories: Vec<Vec<SlideInfo>> = stories
            .iter()
            .map(|s| {
                s.slides
                    .iter()
                    .map(|sl| SlideInfo {
                        duration_ms: sl.duration_ms.max(1),
                        media: sl.media.is_some(),
                    })
                    .collect()
            })
            .collect();
        if stories.is_empty() || stories.iter().any(Vec::is_empty) {
            return None;
        }
        let story = story.min(stories.len() - 1);
        let mut player = Self {
            completed: vec![false; stories.len()],
            stories,
            cursor: Cursor { story, slide: 0 },
            phase: Phase::Slide,
            elapsed_ms: 0,
            duration_ms: 1,
            pauses: Pauses {
                reduced_motion,
                ..Pauses::default()
            },
            all_completed: false,
            media: MediaState::None,
            starts: 0,
            media_retried: false,
            waited_ms: 0,
        };
        let mut fx = vec![Effect::StoryStarted { story }];
        player.start_slide(&mut fx);
        Some((player, fx))
    }

    pub fn view(&self) -> PlayerView {
        PlayerView {
            cursor: self.cursor,
            phase: self.phase,
            progress: match self.phase {
                Phase::Slide => (self.elapsed_ms as f32 / self.duration_ms as f32).min(1.0),
                Phase::EndCard | Phase::Closed => 1.0,
            },
            pauses: self.pauses,
            playing: self.is_playing(),
            media_failed: self.phase == Phase::Slide && self.media == MediaState::Failed,
            starts: self.starts,
        }
    }

    fn is_playing(&self) -> bool {
        self.phase == Phase::Slide && !self.pauses.any()
    }

    fn slide(&self) -> &SlideInfo {
        // The cursor is kept in bounds by every transition.
        &self.stories[self.cursor.story][self.cursor.slide]
    }

    fn start_slide(&mut self, fx: &mut Vec<Effect>) {
        self.phase = Phase::Slide;
        self.elapsed_ms = 0;
        self.starts = self.starts.wrapping_add(1);
        let slide = self.slide().clone();
        self.duration_ms = slide.duration_ms;
        self.pauses.buffering = slide.media;
        self.media = if slide.media {
            MediaState::Loading
        } else {
            MediaState::None
        };
        self.media_retried = false;
        self.waited_ms = 0;
        fx.push(Effect::SlideStarted(self.cursor));
        let ahead: Vec<Cursor> = self
            .upcoming()
            .take(PRELOAD_AHEAD)
            .filter(|c| self.stories[c.story][c.slide].media)
            .collect();
        if !ahead.is_empty() {
            fx.push(Effect::Preload(ahead));
        }
    }

    /// The slides whose media is worth keeping loaded: the previous slide, the current one and
    /// the next (across stories), in that order, each once.
    pub fn around(&self) -> Vec<Cursor> {
        let Cursor { story, slide } = self.cursor;
        let prev = if slide > 0 {
            Some(Cursor {
                story,
                slide: slide - 1,
            })
        } else {
            story.checked_sub(1).map(|st| Cursor {
                story: st,
                slide: self.stories[st].len() - 1,
            })
        };
        prev.into_iter()
            .chain([self.cursor])
            .chain(self.upcoming().take(1))
            .collect()
    }

    /// The slides after the cursor, across stories.
    fn upcoming(&self) -> impl Iterator<Item = Cursor> + '_ {
        let Cursor { story, slide } = self.cursor;
        let rest = (slide + 1..self.stories[story].len()).map(move |s| Cursor { story, slide: s });
        let later = (story + 1..self.stories.len()).flat_map(move |st| {
            (0..self.stories[st].len()).map(move |s| Cursor {
                story: st,
                slide: s,
            })
        });
        rest.chain(later)
    }

    /// The current media failed or timed out: retry once, then show the slide without it.
    fn media_failed(&mut self, fx: &mut Vec<Effect>) {
        self.waited_ms = 0;
        match self.media {
            MediaState::Loading | MediaState::Ready if !self.media_retried => {
                self.media = MediaState::Loading;
                self.media_retried = true;
                self.pauses.buffering = true;
                fx.push(Effect::RetryMedia(self.cursor));
            }
            MediaState::Loading | MediaState::Ready => {
                self.media = MediaState::Failed;
                self.pauses.buffering = false;
            }
            MediaState::None | MediaState::Failed => {}
        }
    }

    fn complete_story(&mut self, fx: &mut Vec<Effect>) {
        let story = self.cursor.story;
        if !self.completed[story] {
            self.completed[story] = true;
            fx.push(Effect::StoryCompleted { story });
        }
    }

    fn goto_story(&mut self, story: usize, fx: &mut Vec<Effect>) {
        self.cursor = Cursor { story, slide: 0 };
        fx.push(Effect::StoryStarted { story });
        self.start_slide(fx);
    }

    fn close(&mut self, fx: &mut Vec<Effect>) {
        if self.phase != Phase::Closed {
            self.phase = Phase::Closed;
            fx.push(Effect::Closed);
        }
    }

    /// Leaves the end card forward: the next story, or done.
    fn after_end_card(&mut self, fx: &mut Vec<Effect>) {
        if self.cursor.story + 1 < self.stories.len() {
            self.goto_story(self.cursor.story + 1, fx);
        } else {
            if !self.all_completed && self.completed.iter().all(|c| *c) {
                self.all_completed = true;
                fx.push(Effect::AllCompleted);
            }
            self.close(fx);
        }
    }

    fn next(&mut self, fx: &mut Vec<Effect>) {
        match self.phase {
            Phase::Slide if self.cursor.slide + 1 < self.stories[self.cursor.story].len() => {
                self.cursor.slide += 1;
                self.start_slide(fx);
            }
            Phase::Slide => {
                self.complete_story(fx);
                self.phase = Phase::EndCard;
            }
            Phase::EndCard => self.after_end_card(fx),
            Phase::Closed => {}
        }
    }

    fn prev(&mut self, fx: &mut Vec<Effect>) {
        match self.phase {
            Phase::EndCard => {
                self.cursor.slide = self.stories[self.cursor.story].len() - 1;
                self.start_slide(fx);
            }
            Phase::Slide if self.cursor.slide > 0 => {
                self.cursor.slide -= 1;
                self.start_slide(fx);
            }
            Phase::Slide if self.cursor.story > 0 => {
                let story = self.cursor.story - 1;
                self.cursor = Cursor {
                    story,
                    slide: self.stories[story].len() - 1,
                };
                fx.push(Effect::StoryStarted { story });
                self.start_slide(fx);
            }
            // First slide of the first story: start it over.
            Phase::Slide => self.start_slide(fx),
            Phase::Closed => {}
        }
    }

    /// Applies one input; returns what the widget must do.
    pub fn handle(&mut self, input: Input) -> Vec<Effect> {
        let mut fx = Vec::new();
        if self.phase == Phase::Closed {
            return fx;
        }
        match input {
            Input::Tick { dt_ms } => {
                // Waiting for media counts only while the visitor could be watching.
                let only_buffering = self.pauses.buffering
                    && !(self.pauses.hidden || self.pauses.hold || self.pauses.user);
                if self.phase == Phase::Slide && only_buffering {
                    self.waited_ms = self.waited_ms.saturating_add(dt_ms);
                    if self.waited_ms >= MEDIA_TIMEOUT_MS {
                        self.media_failed(&mut fx);
                    }
                } else if self.is_playing() {
                    self.elapsed_ms = self.elapsed_ms.saturating_add(dt_ms).min(self.duration_ms);
                    if self.elapsed_ms >= self.duration_ms {
                        self.next(&mut fx);
                    }
                }
            }
            Input::Next => self.next(&mut fx),
            Input::Prev => self.prev(&mut fx),
            // Skipping ahead is not completing: drop-off stays measurable.
            Input::NextStory => self.after_end_card(&mut fx),
            Input::PrevStory => {
                if self.cursor.story > 0 {
                    self.goto_story(self.cursor.story - 1, &mut fx);
                } else {
                    self.cursor.slide = 0;
                    self.start_slide(&mut fx);
                }
            }
            Input::HoldStart => self.pauses.hold = true,
            Input::HoldEnd => self.pauses.hold = false,
            Input::TogglePause => self.pauses.user = !self.pauses.user,
            Input::MediaReady => {
                if matches!(self.media, MediaState::Loading | MediaState::Ready) {
                    self.media = MediaState::Ready;
                    self.pauses.buffering = false;
                    self.waited_ms = 0;
                }
            }
            Input::MediaStalled => {
                if self.media == MediaState::Ready {
                    self.pauses.buffering = true;
                }
            }
            Input::MediaFailed => self.media_failed(&mut fx),
            // Only before the slide's time starts running, so progress never jumps back.
            Input::MediaDuration { ms } => {
                if self.phase == Phase::Slide && ms > 0 && self.elapsed_ms == 0 {
                    self.duration_ms = ms;
                }
            }
            Input::Visible(v) => self.pauses.hidden = !v,
            Input::ReducedMotion(r) => self.pauses.reduced_motion = r,
            Input::Close => self.close(&mut fx),
        }
        fx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Media, Slide};

    fn story(id: &str, durations: &[u32], media: bool) -> Story {
        Story {
            translations: Default::default(),
            targeting: Default::default(),
            id: id.into(),
            title: id.into(),
            topic: "t".into(),
            slides: durations
                .iter()
                .enumerate()
                .map(|(i, d)| Slide {
                    text: format!("{id} {i}"),
                    media: media.then(|| Media::Image {
                        url: format!("https://cdn.example/{id}/{i}.png"),
                        alt: "x".into(),
                    }),
                    duration_ms: *d,
                    cta: None,
                })
                .collect(),
            publish_at: 0,
            expires_at: 1,
        }
    }

    fn open(stories: &[Story]) -> Player {
        Player::open(stories, 0, false)
            .map(|(p, _)| p)
            .unwrap_or_else(|| panic!("no player"))
    }

    #[test]
    fn auto_advances_through_slides_then_shows_the_end_card() {
        let stories = [
            story("a", &[1_000, 2_000], false),
            story("b", &[1_000], false),
        ];
        let (mut p, fx) = Player::open(&stories, 0, false).unwrap_or_else(|| panic!());
        assert_eq!(
            fx,
            [
                Effect::StoryStarted { story: 0 },
                Effect::SlideStarted(Cursor { story: 0, slide: 0 })
            ]
        );
        assert!(p.handle(Input::Tick { dt_ms: 500 }).is_empty());
        assert_eq!(p.view().progress, 0.5);
        let fx = p.handle(Input::Tick { dt_ms: 600 });
        assert_eq!(fx, [Effect::SlideStarted(Cursor { story: 0, slide: 1 })]);
        assert_eq!(p.view().progress, 0.0);
        let fx = p.handle(Input::Tick { dt_ms: 2_000 });
        assert_eq!(fx, [Effect::StoryCompleted { story: 0 }]);
        assert_eq!(p.view().phase, Phase::EndCard);
        // The end card waits for the visitor.
        assert!(p.handle(Input::Tick { dt_ms: 60_000 }).is_empty());
        let fx = p.handle(Input::Next);
        assert_eq!(
            fx,
            [
                Effect::StoryStarted { story: 1 },
                Effect::SlideStarted(Cursor { story: 1, slide: 0 })
            ]
        );
        p.handle(Input::Tick { dt_ms: 1_000 });
        let fx = p.handle(Input::Next);
        assert_eq!(fx, [Effect::AllCompleted, Effect::Closed]);
        assert!(p.handle(Input::Next).is_empty());
    }

    #[test]
    fn pause_reasons_are_independent() {
        let mut p = open(&[story("a", &[1_000], false)]);
        p.handle(Input::HoldStart);
        p.handle(Input::Visible(false));
        p.handle(Input::HoldEnd);
        p.handle(Input::Tick { dt_ms: 500 });
        assert_eq!(p.view().progress, 0.0, "still hidden");
        p.handle(Input::Visible(true));
        p.handle(Input::TogglePause);
        p.handle(Input::Tick { dt_ms: 500 });
        assert_eq!(p.view().progress, 0.0, "still paused by the visitor");
        assert!(!p.view().playing);
        p.handle(Input::TogglePause);
        p.handle(Input::Tick { dt_ms: 500 });
        assert_eq!(p.view().progress, 0.5);
        p.handle(Input::ReducedMotion(true));
        p.handle(Input::Tick { dt_ms: 500 });
        assert_eq!(p.view().progress, 0.5, "reduced motion never auto-advances");
        assert_eq!(p.handle(Input::Next), [Effect::StoryCompleted { story: 0 }]);
    }

    #[test]
    fn media_gates_the_timer_and_sets_video_length_and_is_preloaded() {
        let stories = [story("a", &[1_000, 1_000, 1_000], true)];
        let (mut p, fx) = Player::open(&stories, 0, false).unwrap_or_else(|| panic!());
        assert_eq!(
            fx.last(),
            Some(&Effect::Preload(vec![Cursor { story: 0, slide: 1 }])),
            "only the next slide's media is preloaded"
        );
        p.handle(Input::Tick { dt_ms: 900 });
        assert_eq!(p.view().progress, 0.0, "the timer waits for the media");
        assert!(p.view().pauses.buffering);
        p.handle(Input::MediaReady);
        p.handle(Input::MediaDuration { ms: 4_000 });
        p.handle(Input::Tick { dt_ms: 1_000 });
        assert_eq!(p.view().progress, 0.25);
        p.handle(Input::MediaStalled);
        p.handle(Input::Tick { dt_ms: 1_000 });
        assert_eq!(p.view().progress, 0.25);
    }

    #[test]
    fn the_slides_around_the_cursor_cross_stories() {
        let stories = [
            story("a", &[1_000, 1_000], true),
            story("b", &[1_000], true),
        ];
        let mut p = open(&stories);
        let c = |story, slide| Cursor { story, slide };
        assert_eq!(p.around(), [c(0, 0), c(0, 1)]);
        p.handle(Input::Next);
        assert_eq!(p.around(), [c(0, 0), c(0, 1), c(1, 0)]);
        p.handle(Input::NextStory);
        assert_eq!(p.around(), [c(0, 1), c(1, 0)]);
        // Started over, the same slide is a new start.
        let before = p.view().starts;
        p.handle(Input::PrevStory);
        p.handle(Input::Prev);
        assert!(p.view().starts > before + 1);
    }

    #[test]
    fn failed_media_is_retried_once_then_the_slide_plays_without_it() {
        let stories = [story("a", &[1_000, 1_000], true)];
        let mut p = open(&stories);
        assert_eq!(
            p.handle(Input::MediaFailed),
            [Effect::RetryMedia(Cursor { story: 0, slide: 0 })]
        );
        assert!(p.view().pauses.buffering, "the retry is waited for");
        assert!(!p.view().media_failed);
        assert!(p.handle(Input::MediaFailed).is_empty(), "no second retry");
        let v = p.view();
        assert!(v.media_failed && v.playing);
        p.handle(Input::Tick { dt_ms: 1_000 });
        assert_eq!(p.view().cursor.slide, 1, "the story moves on");
        assert!(!p.view().media_failed, "the next slide starts afresh");
        // A late ready event of the failed slide's media cannot confuse the next one.
        assert!(p.view().pauses.buffering);
    }

    #[test]
    fn media_slower_than_the_limit_counts_as_failed() {
        let stories = [story("a", &[1_000, 1_000], true)];
        let mut p = open(&stories);
        p.handle(Input::Tick {
            dt_ms: MEDIA_TIMEOUT_MS - 100,
        });
        assert!(p.handle(Input::Tick { dt_ms: 50 }).is_empty());
        // Time with the tab hidden or held does not count.
        p.handle(Input::Visible(false));
        p.handle(Input::Tick { dt_ms: 60_000 });
        p.handle(Input::Visible(true));
        assert_eq!(
            p.handle(Input::Tick { dt_ms: 100 }),
            [Effect::RetryMedia(Cursor { story: 0, slide: 0 })]
        );
        p.handle(Input::Tick {
            dt_ms: MEDIA_TIMEOUT_MS,
        });
        assert!(p.view().media_failed);
        assert_eq!(p.view().progress, 0.0);
        p.handle(Input::Tick { dt_ms: 500 });
        assert_eq!(p.view().progress, 0.5);
    }

    #[test]
    fn a_stall_after_playing_is_retried_once_too() {
        let stories = [story("a", &[10_000], true)];
        let mut p = open(&stories);
        p.handle(Input::MediaReady);
        p.handle(Input::Tick { dt_ms: 1_000 });
        p.handle(Input::MediaStalled);
        assert_eq!(
            p.handle(Input::Tick {
                dt_ms: MEDIA_TIMEOUT_MS
            }),
            [Effect::RetryMedia(Cursor { story: 0, slide: 0 })]
        );
        p.handle(Input::MediaReady);
        p.handle(Input::MediaStalled);
        assert!(
            p.handle(Input::Tick {
                dt_ms: MEDIA_TIMEOUT_MS
            })
            .is_empty(),
            "at most one retry per slide"
        );
        assert!(p.view().media_failed && p.view().playing);
        // A text slide ignores media inputs.
        let mut t = open(&[story("b", &[1_000], false)]);
        assert!(t.handle(Input::MediaFailed).is_empty());
        t.handle(Input::MediaStalled);
        assert!(t.view().playing && !t.view().media_failed);
    }

    #[test]
    fn navigation_by_taps_and_swipes() {
        let stories = [
            story("a", &[1_000, 1_000], false),
            story("b", &[1_000, 1_000], false),
        ];
        let mut p = open(&stories);
        p.handle(Input::Prev);
        assert_eq!(p.view().cursor, Cursor { story: 0, slide: 0 });
        p.handle(Input::Next);
        p.handle(Input::Next);
        assert_eq!(p.view().phase, Phase::EndCard);
        p.handle(Input::Prev);
        assert_eq!(
            (p.view().phase, p.view().cursor),
            (Phase::Slide, Cursor { story: 0, slide: 1 })
        );
        p.handle(Input::NextStory);
        assert_eq!(p.view().cursor, Cursor { story: 1, slide: 0 });
        p.handle(Input::Prev);
        assert_eq!(p.view().cursor, Cursor { story: 0, slide: 1 });
        p.handle(Input::NextStory);
        p.handle(Input::PrevStory);
        assert_eq!(p.view().cursor, Cursor { story: 0, slide: 0 });
        // Skipping is not completing; swiping past the last story closes.
        let mut fresh = open(&stories);
        let fx = fresh.handle(Input::NextStory);
        assert!(
            !fx.iter()
                .any(|f| matches!(f, Effect::StoryCompleted { .. }))
        );
        let fx = fresh.handle(Input::NextStory);
        assert_eq!(fx, [Effect::Closed], "not all stories were completed");
        assert_eq!(p.handle(Input::Close), [Effect::Closed]);
    }

    #[test]
    fn nothing_to_play() {
        assert!(Player::open(&[], 0, false).is_none());
        assert!(Player::open(&[story("a", &[], false)], 0, false).is_none());
        let p =
            Player::open(&[story("a", &[1_000], false)], 9, false).map(|(p, _)| p.view().cursor);
        assert_eq!(p, Some(Cursor { story: 0, slide: 0 }));
    }
}
