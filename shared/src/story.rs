//! Stories: short, visual, temporary help, each step of a fix one slide.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::validate::{Problem, Problems};

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
    /// Where, for whom and when it shows ([`crate::targeting`]); everywhere when left out.
    #[serde(
        default,
        skip_serializing_if = "crate::targeting::Targeting::is_everyone"
    )]
    pub targeting: crate::targeting::Targeting,
    /// The story's words in the site's other languages ([`crate::translate`]).
    #[serde(
        default,
        skip_serializing_if = "crate::translate::Translations::is_empty"
    )]
    pub translations: crate::translate::Translations<crate::translate::StoryText>,
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

/// An image or video shown with a slide's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Media {
    /// `alt` is required: it is what screen-reader users get instead of the picture.
    Image { url: String, alt: String },
    Video {
        url: String,
        /// What the video shows, for screen readers and muted autoplay.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alt: Option<String>,
        /// A picture shown until the video plays (its `poster`): same rules as `url`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        poster: Option<String>,
        /// A WebVTT captions file (`text/vtt`), shown by default: same rules as `url`. Served
        /// from another origin than the host page, it needs CORS (the media library's do).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        captions: Option<String>,
    },
}

/// A call to action: a labelled https link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cta {
    pub label: String,
    pub url: String,
}

impl Story {
    /// Longest slide text accepted at all (the authoring lint warns above [`Self::TEXT_LINT`]).
    pub const TEXT_MAX: usize = 1_000;
    /// Slide text longer than this is hard to read in a few seconds.
    pub const TEXT_LINT: usize = 160;
    /// Most slides accepted in one story.
    pub const SLIDES_MAX: usize = 30;
    /// Stories longer than this lose viewers.
    pub const SLIDES_LINT: usize = 10;
    /// Slide durations the lint considers comfortable.
    pub const DURATION_LINT_MS: std::ops::RangeInclusive<u32> = 3_000..=15_000;

    /// Whether visitors see the story at `now_ms`: published and not yet expired.
    pub fn is_live(&self, now_ms: Millis) -> bool {
        self.publish_at <= now_ms && now_ms < self.expires_at
    }

    /// Every problem with this story, or none.
    pub fn validate(&self) -> Vec<Problem> {
        self.validate_with(&crate::validate::Idna)
    }

    /// [`Story::validate`] with link and media hosts checked by `domains` (the widget's
    /// preview passes the browser's URL parser).
    pub fn validate_with(&self, domains: &impl crate::validate::DomainToAscii) -> Vec<Problem> {
        let mut p = Problems::default();
        p.slug("id", &self.id);
        p.text("title", &self.title, 120);
        p.slug("topic", &self.topic);
        if self.slides.is_empty() || self.slides.len() > Self::SLIDES_MAX {
            p.push("slides", "must have 1-30 slides");
        }
        if self.expires_at <= self.publish_at {
            p.push("expires_at", "must be after publish_at");
        }
        p.expiry("expires_at", self.expires_at);
        self.targeting.check("targeting", &mut p);
        crate::translate::check_map(&mut p, &self.translations, |p, at, t| {
            p.optional_text(format!("{at}.title"), &t.title, 120);
            if t.slides.len() > self.slides.len() {
                p.push(format!("{at}.slides"), "more slides than the story has");
            }
            for (i, s) in t.slides.iter().enumerate() {
                p.optional_text(format!("{at}.slides[{i}].text"), &s.text, Self::TEXT_MAX);
                p.optional_text(format!("{at}.slides[{i}].alt"), &s.alt, 300);
                p.optional_text(format!("{at}.slides[{i}].cta_label"), &s.cta_label, 40);
                p.no_bidi(format!("{at}.slides[{i}].cta_label"), &s.cta_label);
            }
        });
        for (i, s) in self.slides.iter().enumerate() {
            let at = |f: &str| format!("slides[{i}].{f}");
            p.text(at("text"), &s.text, Self::TEXT_MAX);
            if !(1_000..=60_000).contains(&s.duration_ms) {
                p.push(at("duration_ms"), "must be 1000-60000 ms");
            }
            match &s.media {
                Some(Media::Image { url, alt }) => {
                    p.media_with(at("media.url"), url, domains);
                    if alt.trim().is_empty() {
                        p.push(at("media.alt"), "images need alt text");
                    } else {
                        p.text(at("media.alt"), alt, 300);
                    }
                }
                Some(Media::Video {
                    url,
                    alt,
                    poster,
                    captions,
                }) => {
                    p.media_with(at("media.url"), url, domains);
                    if let Some(alt) = alt {
                        p.text(at("media.alt"), alt, 300);
                    }
                    if let Some(poster) = poster {
                        p.media_with(at("media.poster"), poster, domains);
                    }
                    if let Some(captions) = captions {
                        p.media_with(at("media.captions"), captions, domains);
                    }
                }
                None => {}
            }
            if let Some(cta) = &s.cta {
                p.text(at("cta.label"), &cta.label, 40);
                p.no_bidi(at("cta.label"), &cta.label);
                p.https_with(at("cta.url"), &cta.url, domains);
            }
        }
        p.into_vec()
    }

    /// Authoring advice that does not block publishing.
    pub fn lint(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.slides.len() > Self::SLIDES_LINT {
            out.push(Problem::new(
                "slides",
                format!(
                    "{} slides: stories over {} slides lose viewers; split it",
                    self.slides.len(),
                    Self::SLIDES_LINT
                ),
            ));
        }
        for (i, s) in self.slides.iter().enumerate() {
            let chars = s.text.chars().count();
            if chars > Self::TEXT_LINT {
                out.push(Problem::new(
                    format!("slides[{i}].text"),
                    format!(
                        "{chars} characters: keep slide text under {} so it reads in a few seconds",
                        Self::TEXT_LINT
                    ),
                ));
            }
            if !Self::DURATION_LINT_MS.contains(&s.duration_ms) {
                out.push(Problem::new(
                    format!("slides[{i}].duration_ms"),
                    "slides are comfortable between 3 and 15 seconds",
                ));
            }
            if let Some(w) = s.cta.as_ref().and_then(|c| {
                crate::validate::lookalike_warning(format!("slides[{i}].cta.url"), &c.url)
            }) {
                out.push(w);
            }
            if let Some(Media::Video { alt: None, .. }) = &s.media {
                out.push(Problem::new(
                    format!("slides[{i}].media.alt"),
                    "describe the video for people who cannot watch it",
                ));
            }
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn story(id: &str, publish_at: Millis, expires_at: Millis) -> Story {
        Story {
            translations: Default::default(),
            targeting: Default::default(),
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

    fn fields(problems: Vec<Problem>) -> Vec<String> {
        problems.into_iter().map(|p| p.field).collect()
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
    fn a_good_story_has_no_problems_or_warnings() {
        assert_eq!(story("ok", 0, 1).validate(), vec![]);
        assert_eq!(story("ok", 0, 1).lint(), vec![]);
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
        assert_eq!(
            fields(s.validate()),
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
    fn media_may_live_on_the_glimpse_origin_but_links_stay_https() {
        let mut s = story("local", 0, 1);
        s.slides[0].media = Some(Media::Image {
            url: "/media/demo/step-1.webp".into(),
            alt: "The sign-in screen".into(),
        });
        s.slides.push(story("v", 0, 1).slides[0].clone());
        s.slides[1].media = Some(Media::Video {
            url: "/media/demo/tap.webm".into(),
            alt: Some("A finger taps Forgot password".into()),
            poster: Some("/v1/sites/demo/media/0123456789abcdef0123456789abcdef".into()),
            captions: Some("https://cdn.example/tap.vtt".into()),
        });
        assert_eq!(s.validate(), vec![]);
        if let Some(Media::Video { captions, .. }) = &mut s.slides[1].media {
            *captions = Some("http://cdn.example/tap.vtt".into());
        }
        assert_eq!(fields(s.validate()), ["slides[1].media.captions"]);
        if let Some(Media::Video { captions, .. }) = &mut s.slides[1].media {
            *captions = None;
        }
        s.slides[1].cta = Some(Cta {
            label: "Sign in".into(),
            url: "/signin".into(),
        });
        s.slides[0].media = Some(Media::Image {
            url: "//evil.example/x.webp".into(),
            alt: "x".into(),
        });
        assert_eq!(
            fields(s.validate()),
            ["slides[0].media.url", "slides[1].cta.url"]
        );
    }

    #[test]
    fn lint_warns_without_blocking() {
        let mut s = story("long", 0, 1);
        s.slides[0].text = "x".repeat(200);
        s.slides[0].duration_ms = 2_000;
        s.slides[0].media = Some(Media::Video {
            url: "https://cdn.example/v.mp4".into(),
            alt: None,
            poster: None,
            captions: None,
        });
        for _ in 0..10 {
            s.slides.push(story("x", 0, 1).slides[0].clone());
        }
        assert_eq!(s.validate(), vec![]);
        assert_eq!(
            fields(s.lint()),
            [
                "slides",
                "slides[0].text",
                "slides[0].duration_ms",
                "slides[0].media.alt"
            ]
        );
    }
}
