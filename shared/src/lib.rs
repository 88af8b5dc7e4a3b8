//! Glimpse's domain: the types that travel between the worker and the widget, and the pure
//! decisions made about them. Nothing here does I/O or reads a clock: time is always an
//! argument (`now_ms`, unix milliseconds UTC), so every decision is testable natively.

pub mod content;
pub mod error;
pub mod feed;
pub mod ids;
pub mod keys;

pub use content::{Cta, Media, Site, Slide, Story};
pub use error::{ApiError, ErrorBody};
pub use feed::{Feed, FeedSite, SiteSnapshot};

/// Unix time in milliseconds (UTC). Every instant in Glimpse's JSON uses this unit.
pub type Millis = i64;
