//! Scheduled live Q&A sessions and the banner that announces them.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::validate::{Problem, Problems};

/// A scheduled live session (a Q&A, a walkthrough) visitors can join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSession {
    pub id: String,
    pub title: String,
    pub topic: String,
    /// Who hosts it, as shown on the banner.
    pub host: String,
    pub starts_at: Millis,
    pub ends_at: Millis,
    /// Where visitors join (https).
    pub join_url: String,
    /// The banner appears from this instant on, counting down to `starts_at`.
    pub announce_from: Millis,
    /// After the end, the live panel's answered questions stay in the widget until this
    /// instant (unix ms; from `ends_at` to 30 days after it). Absent: they go with the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers_until: Option<Millis>,
    /// Where, for whom and when it shows ([`crate::targeting`]); everywhere when left out.
    #[serde(
        default,
        skip_serializing_if = "crate::targeting::Targeting::is_everyone"
    )]
    pub targeting: crate::targeting::Targeting,
    /// The session's words in the site's other languages ([`crate::translate`]).
    #[serde(
        default,
        skip_serializing_if = "crate::translate::Translations::is_empty"
    )]
    pub translations: crate::translate::Translations<crate::translate::SessionText>,
}

/// What a session's banner shows at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Banner {
    /// Not announced yet.
    Hidden,
    /// Announced; starts in `starts_in_s` seconds (rounded up, so never 0 before it starts).
    Upcoming { starts_in_s: i64 },
    /// Running; ends in `ends_in_s` seconds (rounded up).
    Live { ends_in_s: i64 },
    /// Over, and its answers are still shown ([`LiveSession::answers_until`]).
    Ended,
    /// Over: the banner disappears.
    Gone,
}

/// A shown banner's state without its countdown: what screen readers are told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BannerPhase {
    Upcoming,
    Live,
    Ended,
}

impl Banner {
    /// The state of a banner that is on screen; `None` when it is not shown.
    pub fn phase(&self) -> Option<BannerPhase> {
        match self {
            Banner::Upcoming { .. } => Some(BannerPhase::Upcoming),
            Banner::Live { .. } => Some(BannerPhase::Live),
            Banner::Ended => Some(BannerPhase::Ended),
            Banner::Hidden | Banner::Gone => None,
        }
    }
}

/// What to announce when the shown banners go from `before` to `after` (each a list of
/// `(session id, phase)`): every session that appeared or changed state with its new phase,
/// then every session that disappeared with `None`. A countdown ticking is no change, so a
/// live region fed from this speaks on state changes only, never every second.
pub fn banner_changes(
    before: &[(String, BannerPhase)],
    after: &[(String, BannerPhase)],
) -> Vec<(String, Option<BannerPhase>)> {
    let changed = after
        .iter()
        .filter(|b| !before.contains(b))
        .map(|(id, phase)| (id.clone(), Some(*phase)));
    let gone = before
        .iter()
        .filter(|(id, _)| !after.iter().any(|(a, _)| a == id))
        .map(|(id, _)| (id.clone(), None));
    changed.chain(gone).collect()
}

impl LiveSession {
    /// Longest session accepted.
    pub const DURATION_MAX_MS: Millis = 24 * 3_600_000;
    /// Earliest announcement accepted before the start.
    pub const ANNOUNCE_MAX_MS: Millis = 60 * 86_400_000;

    /// Longest time answers stay after the end.
    pub const ANSWERS_MAX_MS: Millis = 30 * 86_400_000;

    /// When visitors stop seeing it at all: [`LiveSession::answers_until`], else `ends_at`.
    pub fn over_at(&self) -> Millis {
        self.answers_until.unwrap_or(self.ends_at).max(self.ends_at)
    }

    /// The banner at `now_ms`: hidden → upcoming → live → (ended, while its answers are
    /// shown) → gone.
    pub fn banner_at(&self, now_ms: Millis) -> Banner {
        let ceil_s = |ms: Millis| (ms + 999) / 1000;
        if now_ms >= self.over_at() {
            Banner::Gone
        } else if now_ms >= self.ends_at {
            Banner::Ended
        } else if now_ms >= self.starts_at {
            Banner::Live {
                ends_in_s: ceil_s(self.ends_at - now_ms),
            }
        } else if now_ms >= self.announce_from {
            Banner::Upcoming {
                starts_in_s: ceil_s(self.starts_at - now_ms),
            }
        } else {
            Banner::Hidden
        }
    }

    /// Whether the session belongs in the feed at `now_ms` (announced, and not over or its
    /// answers still shown).
    pub fn is_listed(&self, now_ms: Millis) -> bool {
        self.announce_from <= now_ms && now_ms < self.over_at()
    }

    /// Every problem with this session, or none.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.slug("id", &self.id);
        p.text("title", &self.title, 120);
        p.slug("topic", &self.topic);
        p.text("host", &self.host, 80);
        p.https("join_url", &self.join_url);
        if self.ends_at <= self.starts_at {
            p.push("ends_at", "must be after starts_at");
        } else if self.ends_at.saturating_sub(self.starts_at) > Self::DURATION_MAX_MS {
            p.push("ends_at", "a session lasts at most 24 hours");
        }
        p.expiry("ends_at", self.ends_at);
        if let Some(until) = self.answers_until {
            if until < self.ends_at {
                p.push("answers_until", "must not be before ends_at");
            } else if until - self.ends_at > Self::ANSWERS_MAX_MS {
                p.push(
                    "answers_until",
                    "answers stay at most 30 days after the end",
                );
            }
            p.expiry("answers_until", until);
        }
        self.targeting.check("targeting", &mut p);
        crate::translate::check_map(&mut p, &self.translations, |p, at, t| {
            p.optional_text(format!("{at}.title"), &t.title, 120);
        });
        if self.announce_from > self.starts_at {
            p.push("announce_from", "must not be after starts_at");
        } else if self.starts_at - self.announce_from > Self::ANNOUNCE_MAX_MS {
            p.push("announce_from", "announce at most 60 days ahead");
        }
        p.into_vec()
    }

    /// Authoring advice that does not block publishing.
    pub fn lint(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        out.extend(crate::validate::lookalike_warning(
            "join_url",
            &self.join_url,
        ));
        if self.starts_at.saturating_sub(self.announce_from) < 15 * 60_000 {
            out.push(Problem::new(
                "announce_from",
                "announced less than 15 minutes ahead: few visitors will see the countdown",
            ));
        }
        if self.title.chars().count() > 60 {
            out.push(Problem::new(
                "title",
                "banner titles over 60 characters are cut",
            ));
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn only_state_changes_are_announced() {
        let up = |id: &str| (id.to_string(), BannerPhase::Upcoming);
        let live = |id: &str| (id.to_string(), BannerPhase::Live);
        assert_eq!(
            banner_changes(&[], &[up("a")]),
            [("a".to_string(), Some(BannerPhase::Upcoming))]
        );
        // The countdown ticking leaves the phases as they were: nothing to say.
        assert!(banner_changes(&[up("a"), live("b")], &[up("a"), live("b")]).is_empty());
        assert_eq!(
            banner_changes(&[up("a"), live("b")], &[live("a")]),
            [
                ("a".to_string(), Some(BannerPhase::Live)),
                ("b".to_string(), None)
            ]
        );
        assert_eq!(
            Banner::Upcoming { starts_in_s: 5 }.phase(),
            Some(BannerPhase::Upcoming)
        );
        assert_eq!(Banner::Gone.phase(), None);
    }

    pub(crate) fn session(
        id: &str,
        announce_from: Millis,
        starts_at: Millis,
        ends_at: Millis,
    ) -> LiveSession {
        LiveSession {
            translations: Default::default(),
            targeting: Default::default(),
            id: id.into(),
            title: "Ask us about billing".into(),
            topic: "billing".into(),
            host: "Ana from Support".into(),
            starts_at,
            ends_at,
            join_url: "https://meet.example/q-and-a".into(),
            announce_from,
            answers_until: None,
        }
    }

    #[test]
    fn banner_goes_hidden_upcoming_live_gone() {
        let s = session("qa", 10_000, 70_000, 130_000);
        assert_eq!(s.banner_at(9_999), Banner::Hidden);
        assert_eq!(s.banner_at(10_000), Banner::Upcoming { starts_in_s: 60 });
        assert_eq!(s.banner_at(69_001), Banner::Upcoming { starts_in_s: 1 });
        assert_eq!(s.banner_at(69_999), Banner::Upcoming { starts_in_s: 1 });
        assert_eq!(s.banner_at(70_000), Banner::Live { ends_in_s: 60 });
        assert_eq!(s.banner_at(129_999), Banner::Live { ends_in_s: 1 });
        assert_eq!(s.banner_at(130_000), Banner::Gone);
        assert!(!s.is_listed(9_999));
        assert!(s.is_listed(10_000));
        assert!(s.is_listed(129_999));
        assert!(!s.is_listed(130_000));
        // With answers kept after the end, the banner says it is over until then.
        let kept = LiveSession {
            answers_until: Some(190_000),
            ..s
        };
        assert_eq!(kept.banner_at(129_999), Banner::Live { ends_in_s: 1 });
        assert_eq!(kept.banner_at(130_000), Banner::Ended);
        assert_eq!(kept.banner_at(130_000).phase(), Some(BannerPhase::Ended));
        assert!(kept.is_listed(189_999));
        assert_eq!(kept.banner_at(190_000), Banner::Gone);
        assert!(!kept.is_listed(190_000));
        assert_eq!(kept.over_at(), 190_000);
    }

    #[test]
    fn banner_json_shape() {
        let json = serde_json::to_string(&Banner::Upcoming { starts_in_s: 5 }).unwrap_or_default();
        assert_eq!(json, r#"{"state":"upcoming","starts_in_s":5}"#);
    }

    #[test]
    fn validation() {
        let ok = session("qa", 0, 3_600_000, 7_200_000);
        assert_eq!(ok.validate(), vec![]);
        assert_eq!(ok.lint(), vec![]);
        let mut bad = session("qa", 10, 5, 5);
        bad.join_url = "http://meet.example".into();
        bad.host = String::new();
        let fields: Vec<_> = bad.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["host", "join_url", "ends_at", "announce_from"]);
        let long = session("qa", 0, 1_000, 1_000 + 25 * 3_600_000);
        assert_eq!(long.validate()[0].field, "ends_at");
        assert_eq!(long.lint()[0].field, "announce_from");
        let early = LiveSession {
            answers_until: Some(ok.ends_at - 1),
            ..ok.clone()
        };
        assert_eq!(early.validate()[0].field, "answers_until");
        let late = LiveSession {
            answers_until: Some(ok.ends_at + LiveSession::ANSWERS_MAX_MS + 1),
            ..ok.clone()
        };
        assert_eq!(late.validate()[0].field, "answers_until");
        let month = LiveSession {
            answers_until: Some(ok.ends_at + LiveSession::ANSWERS_MAX_MS),
            ..ok
        };
        assert_eq!(month.validate(), vec![]);
    }
}
