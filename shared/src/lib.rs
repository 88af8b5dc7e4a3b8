//! Glimpse's domain: the types that travel between the worker and the widget, and the pure
//! decisions made about them. Nothing here does I/O or reads a clock: time is always an
//! argument (`now_ms`, unix milliseconds UTC), so every decision is testable natively.

pub mod error;
pub mod events;
pub mod feed;
pub mod gesture;
pub mod guard;
pub mod hash;
pub mod i18n;
pub mod ics;
pub mod ids;
pub mod kb;
pub mod keys;
pub mod live;
pub mod media;
pub mod outbox;
pub mod player;
pub mod poll;
pub mod question;
pub mod report;
pub mod rollup;
pub mod session;
pub mod site;
pub mod story;
pub mod targeting;
pub mod team;
pub mod text;
pub mod time;
pub mod translate;
pub mod validate;
pub mod webhook;

pub use error::{ApiError, ErrorBody};
pub use events::{Event, EventBatch, EventKind};
pub use feed::{Feed, FeedSite, SiteSnapshot};
pub use poll::{Answer, Poll, PollKind, PollResponse, PollResults, ResponseRecord, Vote};
pub use session::{Banner, LiveSession};
pub use site::{Channel, ChannelKind, Site, Theme, ThemeMode, Topic};
pub use story::{Cta, Media, Slide, Story};
pub use validate::Problem;

/// Unix time in milliseconds (UTC). Every instant in Glimpse's JSON uses this unit.
pub type Millis = i64;
