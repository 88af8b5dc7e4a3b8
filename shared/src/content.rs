//! Authored content: sites and stories.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::ids::is_slug;

/// A company that embeds Glimpse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// Slug used in URLs, KV keys and the embed snippet's `data-site`.
    pub id: String,
    /// Display name shown to visitors.
    pub name: String,
    /// Exact origins (`https://shop.example`) allowed to call the public API from a browser.
    #[serde(default)]
    pub origins: Vec<String>,
}

/// A short, visual, temporary help story: each step of a fix is one slide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Story {
    pub id: String,
    pub title: String,
    /// Topic (category) the story belongs to; it files the story in the knowledge base.
    pub topic: String,
    pub slides: Vec<Slide>,
    /// Visible from this instant on.
    pub publish_at: Millis,
    /// Hidden from this instant on (exclusive).
    pub expires_at: Millis,
}

impl Story {
    /// Whether visitors see the story at `now_ms`: published and not yet expired.
    pub fn is_live(&self, now_ms: Millis) -> bool {
        self.publish_at <= now_ms && now_ms < self.expires_at
    }
}

/// One step of a story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slide {
    /// Short text, always rendered as text (never HTML).
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
    /// How long the slide shows before auto-advancing.
    #[serde(default = "Slide::default_duration_ms")]
    pub duration_ms: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cta: Option<Cta>,
}

impl Slide {
    pub const DEFAULT_DURATION_MS: u32 = 6_000;

    fn default_duration_ms() -> u32 {
        Self::DEFAULT_DURATION_MS
    }
}

/// An image or video shown behind a slide's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Media {
    Image { url: String, alt: String },
    Video { url: String },
}

/// A call to action: a labelled https link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cta {
    pub label: String,
    pub url: String,
}

/// One validation problem, with the path of the offending field (`slides[2].cta.url`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl Problem {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Links in authored content must be https: nothing else is ever rendered as a link.
pub fn is_https_url(url: &str) -> bool {
    url.strip_prefix("https://")
        .and_then(|rest| rest.split(['/', '?', '#']).next())
        .is_some_and(|host| !host.is_empty() && !host.contains(char::is_whitespace))
        && !url.contains(char::is_control)
}

impl Site {
    /// Every problem with this site, or none.
    pub fn validate(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if !is_slug(&self.id) {
            out.push(Problem::new("id", "must match [a-z0-9][a-z0-9-]{0,62}"));
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 80 {
            out.push(Problem::new("name", "must be 1-80 characters"));
        }
        for (i, o) in self.origins.iter().enumerate() {
            let scheme_ok = o.starts_with("https://") || o.starts_with("http://");
            let host = o.split_once("://").map(|(_, h)| h).unwrap_or("");
            if !scheme_ok || host.is_empty() || host.contains('/') || o.ends_with('/') {
                out.push(Problem::new(
                    format!("origins[{i}]"),
                    "must be an exact origin like https://shop.example (no path)",
                ));
            }
        }
        out
    }
}

impl Story {
    /// Longest slide text accepted at all (the authoring lint warns much earlier).
    pub const TEXT_MAX: usize = 1_000;
    /// Most slides accepted in one story (the lint warns above 10).
    pub const SLIDES_MAX: usize = 30;

    /// Every problem with this story, or none.
    pub fn validate(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if !is_slug(&self.id) {
            out.push(Problem::new("id", "must match [a-z0-9][a-z0-9-]{0,62}"));
        }
        if self.title.trim().is_empty() || self.title.chars().count() > 120 {
            out.push(Problem::new("title", "must be 1-120 characters"));
        }
        if !is_slug(&self.topic) {
            out.push(Problem::new("topic", "must match [a-z0-9][a-z0-9-]{0,62}"));
        }
        if self.slides.is_empty() || self.slides.len() > Self::SLIDES_MAX {
            out.push(Problem::new("slides", "must have 1-30 slides"));
        }
        if self.expires_at <= self.publish_at {
            out.push(Problem::new("expires_at", "must be after publish_at"));
        }
        for (i, s) in self.slides.iter().enumerate() {
            let at = |f: &str| format!("slides[{i}].{f}");
            if s.text.trim().is_empty() || s.text.chars().count() > Self::TEXT_MAX {
                out.push(Problem::new(at("text"), "must be 1-1000 characters"));
            }
            if !(1_000..=60_000).contains(&s.duration_ms) {
                out.push(Problem::new(at("duration_ms"), "must be 1000-60000 ms"));
            }
            match &s.media {
                Some(Media::Image { url, alt }) => {
                    if !is_https_url(url) {
                        out.push(Problem::new(at("media.url"), "must be an https URL"));
                    }
                    if alt.trim().is_empty() {
                        out.push(Problem::new(at("media.alt"), "images need alt text"));
                    }
                }
                Some(Media::Video { url }) if !is_https_url(url) => {
                    out.push(Problem::new(at("media.url"), "must be an https URL"));
                }
                _ => {}
            }
            if let Some(cta) = &s.cta {
                if cta.label.trim().is_empty() || cta.label.chars().count() > 40 {
                    out.push(Problem::new(at("cta.label"), "must be 1-40 characters"));
                }
                if !is_https_url(&cta.url) {
                    out.push(Problem::new(at("cta.url"), "must be an https URL"));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn story(id: &str, publish_at: Millis, expires_at: Millis) -> Story {
        Story {
            id: id.into(),
            title: format!("Story {id}"),
            topic: "billing".into(),
            slides: vec![Slide {
                text: "Open Settings".into(),
                media: None,
                duration_ms: 5_000,
                cta: None,
            }],
            publish_at,
            expires_at,
        }
    }

    #[test]
    fn live_window_is_half_open() {
        let s = story("a", 100, 200);
        assert!(!s.is_live(99));
        assert!(s.is_live(100));
        assert!(s.is_live(199));
        assert!(!s.is_live(200));
    }

    #[test]
    fn https_only_links() {
        assert!(is_https_url("https://help.example/x?y#z"));
        for bad in [
            "http://help.example",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "HTTPS://x",
            "https://a b",
            "https://x\n",
        ] {
            assert!(!is_https_url(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_good_story_has_no_problems() {
        assert_eq!(story("ok", 0, 1).validate(), vec![]);
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut s = story("Bad Id", 10, 10);
        s.slides.push(Slide {
            text: " ".into(),
            media: Some(Media::Image {
                url: "http://x".into(),
                alt: "".into(),
            }),
            duration_ms: 10,
            cta: Some(Cta {
                label: "Go".into(),
                url: "javascript:alert(1)".into(),
            }),
        });
        let fields: Vec<String> = s.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "id",
                "expires_at",
                "slides[1].text",
                "slides[1].duration_ms",
                "slides[1].media.url",
                "slides[1].media.alt",
                "slides[1].cta.url",
            ]
        );
    }

    #[test]
    fn site_origins_must_be_exact() {
        let site = Site {
            id: "demo".into(),
            name: "Demo".into(),
            origins: vec![
                "https://shop.example".into(),
                "http://127.0.0.1:8787".into(),
                "https://shop.example/".into(),
                "shop.example".into(),
            ],
        };
        let fields: Vec<String> = site.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["origins[2]", "origins[3]"]);
    }
}
