//! What a visitor's widget receives, and how it is derived from what is stored.

use serde::{Deserialize, Serialize};

use crate::{Millis, Site, Story};

/// Everything a site's feed is computed from, stored under one KV key
/// ([`crate::keys::snapshot`]) so a feed request costs exactly one KV read.
/// It holds all unexpired content; [`SiteSnapshot::feed_at`] filters by the server's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSnapshot {
    pub site: Site,
    #[serde(default)]
    pub stories: Vec<Story>,
}

/// The public part of a site's configuration that the widget needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedSite {
    pub id: String,
    pub name: String,
}

/// `GET /v1/sites/{site}/feed`: what is live for visitors at the server's `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feed {
    pub site: FeedSite,
    /// The server's clock when the feed was computed; the widget corrects its own clock by it.
    pub now: Millis,
    /// Live stories, newest first.
    pub stories: Vec<Story>,
}

impl SiteSnapshot {
    /// Builds a snapshot from a site and its stories, dropping those already expired at
    /// `now_ms` (they can never be shown again, so they need not be stored here).
    pub fn new(site: Site, mut stories: Vec<Story>, now_ms: Millis) -> Self {
        stories.retain(|s| s.expires_at > now_ms);
        stories.sort_by(|a, b| {
            b.publish_at
                .cmp(&a.publish_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        Self { site, stories }
    }

    /// The feed at `now_ms`: only stories published and not yet expired.
    pub fn feed_at(&self, now_ms: Millis) -> Feed {
        Feed {
            site: FeedSite {
                id: self.site.id.clone(),
                name: self.site.name.clone(),
            },
            now: now_ms,
            stories: self
                .stories
                .iter()
                .filter(|s| s.is_live(now_ms))
                .cloned()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Slide;

    fn story(id: &str, publish_at: Millis, expires_at: Millis) -> Story {
        Story {
            id: id.into(),
            title: id.into(),
            topic: "t".into(),
            slides: vec![Slide {
                text: "x".into(),
                media: None,
                duration_ms: 5_000,
                cta: None,
            }],
            publish_at,
            expires_at,
        }
    }

    fn site() -> Site {
        Site {
            id: "demo".into(),
            name: "Demo".into(),
            origins: vec![],
        }
    }

    fn ids(feed: &Feed) -> Vec<&str> {
        feed.stories.iter().map(|s| s.id.as_str()).collect()
    }

    #[test]
    fn feed_shows_only_what_is_live_newest_first() {
        let snap = SiteSnapshot::new(
            site(),
            vec![
                story("old", 0, 1_000),
                story("first", 100, 5_000),
                story("second", 200, 5_000),
                story("scheduled", 3_000, 5_000),
            ],
            500,
        );
        assert_eq!(snap.stories.len(), 4);
        let feed = snap.feed_at(500);
        assert_eq!(feed.now, 500);
        assert_eq!(ids(&feed), ["second", "first", "old"]);
        assert_eq!(ids(&snap.feed_at(1_000)), ["second", "first"]);
        assert_eq!(ids(&snap.feed_at(3_000)), ["scheduled", "second", "first"]);
        assert_eq!(ids(&snap.feed_at(5_000)), Vec::<&str>::new());
    }

    #[test]
    fn snapshot_drops_expired_stories() {
        let snap = SiteSnapshot::new(site(), vec![story("gone", 0, 10), story("kept", 0, 11)], 10);
        assert_eq!(snap.stories.len(), 1);
        assert_eq!(snap.stories[0].id, "kept");
    }

    #[test]
    fn feed_json_shape() {
        let feed = SiteSnapshot::new(site(), vec![story("a", 0, 10)], 0).feed_at(5);
        let json = serde_json::to_value(&feed).unwrap_or_default();
        assert_eq!(json["site"]["id"], "demo");
        assert_eq!(json["now"], 5);
        assert_eq!(json["stories"][0]["slides"][0]["duration_ms"], 5_000);
        assert!(json["stories"][0]["slides"][0].get("media").is_none());
        let back: Feed = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, feed);
    }
}
