//! What a visitor's widget receives, and how it is derived from what is stored.

use serde::{Deserialize, Serialize};

use crate::targeting::{Decision, Page, Targeting};
use crate::{Channel, LiveSession, Millis, Poll, Site, Story, Theme, Topic};

/// Everything a site's public answers are computed from, stored under one KV key
/// ([`crate::keys::snapshot`]) so a feed request costs exactly one KV read.
/// It holds all content not yet over; [`SiteSnapshot::feed_at`] filters by the server's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSnapshot {
    pub site: Site,
    #[serde(default)]
    pub stories: Vec<Story>,
    #[serde(default)]
    pub sessions: Vec<LiveSession>,
    #[serde(default)]
    pub polls: Vec<Poll>,
    /// The expected reply time to questions: the last 7 days' median first reply, a bucket
    /// bound in minutes ([`crate::question::median_reply_minutes`]); `None` with too few.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_minutes: Option<u32>,
}

/// The public part of a site's configuration: what the widget needs to look right and to
/// offer the traditional channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedSite {
    pub id: String,
    pub name: String,
    pub theme: Theme,
    pub language: String,
    /// [`Site::languages`]: the other languages content is translated into.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    pub timezone: String,
    pub channels: Vec<Channel>,
    pub topics: Vec<Topic>,
    /// [`SiteSnapshot::reply_minutes`]: the widget says "Usually replies within 2 h" while
    /// the topic's help is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_minutes: Option<u32>,
}

/// `GET /v1/sites/{site}/feed`: what is live for visitors at the server's `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feed {
    pub site: FeedSite,
    /// The server's clock when the feed was computed; the widget corrects its own clock by it.
    pub now: Millis,
    /// Live stories, newest first.
    pub stories: Vec<Story>,
    /// Announced sessions that have not ended, soonest first.
    #[serde(default)]
    pub sessions: Vec<LiveSession>,
    /// Open polls, newest first.
    #[serde(default)]
    pub polls: Vec<Poll>,
    /// Live help per topic with opening hours or sessions, computed by the worker at `now`.
    #[serde(default)]
    pub availability: Vec<crate::site::Availability>,
}

impl FeedSite {
    /// The channels that serve `topic`.
    pub fn channels_for<'a>(&'a self, topic: &'a str) -> impl Iterator<Item = &'a Channel> + 'a {
        crate::site::channels_for(&self.channels, topic)
    }
}

impl SiteSnapshot {
    /// Builds a snapshot, dropping content already over at `now_ms` (it can never be shown
    /// again, so it need not be read on every request) and ordering what is left.
    pub fn new(
        site: Site,
        mut stories: Vec<Story>,
        mut sessions: Vec<LiveSession>,
        mut polls: Vec<Poll>,
        now_ms: Millis,
    ) -> Self {
        stories.retain(|s| s.expires_at > now_ms);
        stories.sort_by(|a, b| {
            b.publish_at
                .cmp(&a.publish_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        sessions.retain(|s| s.over_at() > now_ms);
        sessions.sort_by(|a, b| a.starts_at.cmp(&b.starts_at).then_with(|| a.id.cmp(&b.id)));
        polls.retain(|p| p.expires_at > now_ms);
        polls.sort_by(|a, b| {
            b.publish_at
                .cmp(&a.publish_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        Self {
            site,
            stories,
            sessions,
            polls,
            reply_minutes: None,
        }
    }

    /// The feed at `now_ms`: only what visitors may see then.
    pub fn feed_at(&self, now_ms: Millis) -> Feed {
        let site = &self.site;
        Feed {
            site: FeedSite {
                id: site.id.clone(),
                name: site.name.clone(),
                theme: site.theme.clone(),
                language: site.language.clone(),
                languages: site.languages.clone(),
                timezone: site.timezone.clone(),
                channels: site.channels.clone(),
                topics: site.topics.clone(),
                reply_minutes: self.reply_minutes,
            },
            now: now_ms,
            stories: self
                .stories
                .iter()
                .filter(|s| s.is_live(now_ms))
                .cloned()
                .collect(),
            sessions: self
                .sessions
                .iter()
                .filter(|s| s.is_listed(now_ms))
                .cloned()
                .collect(),
            polls: self
                .polls
                .iter()
                .filter(|p| p.is_open(now_ms))
                .cloned()
                .collect(),
            availability: Vec::new(),
        }
    }

    /// The first instant after `now_ms` at which [`SiteSnapshot::feed_at`] lists different
    /// content (a story, poll or session starts or stops being listed), or `None` if nothing
    /// listed ever changes again. Between `now_ms` and it, `feed_at` differs only in `now`:
    /// the edge reuses one serialised feed until then.
    pub fn feed_changes_after(&self, now_ms: Millis) -> Option<Millis> {
        let stories = self
            .stories
            .iter()
            .flat_map(|s| [s.publish_at, s.expires_at]);
        let sessions = self
            .sessions
            .iter()
            .flat_map(|s| [s.announce_from, s.ends_at, s.over_at()]);
        let polls = self.polls.iter().flat_map(|p| [p.publish_at, p.expires_at]);
        stories
            .chain(sessions)
            .chain(polls)
            .filter(|&t| t > now_ms)
            .min()
    }

    /// The poll with this id, if the snapshot still holds it.
    pub fn poll(&self, id: &str) -> Option<&Poll> {
        self.polls.iter().find(|p| p.id == id)
    }

    /// Whether a browser page on `origin` may call this site's public API.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.site.origins.iter().any(|o| o == origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poll::tests::{choice, poll};
    use crate::session::tests::session;
    use crate::site::tests::site;
    use crate::story::tests::story;

    fn ids(feed: &Feed) -> Vec<&str> {
        feed.stories.iter().map(|s| s.id.as_str()).collect()
    }

    #[test]
    fn the_feed_stays_the_same_until_its_next_change() {
        let snap = SiteSnapshot::new(
            site(),
            vec![story("a", 100, 500), story("b", 300, 900)],
            vec![session("s", 200, 250, 400)],
            vec![Poll {
                publish_at: 50,
                expires_at: 700,
                ..poll("p", choice())
            }],
            0,
        );
        let listed = |t: Millis| {
            let mut f = snap.feed_at(t);
            f.now = 0;
            serde_json::to_string(&f).unwrap_or_default()
        };
        let mut now = 0;
        let mut changes = Vec::new();
        while let Some(next) = snap.feed_changes_after(now) {
            // Every instant before the change lists the same content as `now`.
            for t in [now, now + 1, (now + next) / 2, next - 1] {
                assert_eq!(listed(t), listed(now), "at {t} (change at {next})");
            }
            assert_ne!(listed(next), listed(next - 1), "{next} changes nothing");
            changes.push(next);
            now = next;
        }
        assert_eq!(changes, vec![50, 100, 200, 300, 400, 500, 700, 900]);
        assert_eq!(listed(10_000), listed(now));
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
            vec![],
            vec![],
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
    fn sessions_are_listed_from_announcement_until_they_end() {
        let snap = SiteSnapshot::new(
            site(),
            vec![],
            vec![
                session("late", 0, 900, 1_000),
                session("soon", 100, 200, 300),
            ],
            vec![],
            0,
        );
        let at = |t| {
            snap.feed_at(t)
                .sessions
                .iter()
                .map(|s| s.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(at(50), ["late"]);
        assert_eq!(at(100), ["soon", "late"]);
        assert_eq!(at(299), ["soon", "late"]);
        assert_eq!(at(300), ["late"]);
        assert!(at(1_000).is_empty());
    }

    #[test]
    fn polls_are_listed_while_open() {
        let mut later = poll("later", choice());
        later.publish_at = 500;
        let snap = SiteSnapshot::new(site(), vec![], vec![], vec![poll("p", choice()), later], 0);
        let at = |t| {
            snap.feed_at(t)
                .polls
                .iter()
                .map(|p| p.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(at(0), ["p"]);
        assert_eq!(at(500), ["later", "p"]);
        assert!(at(1_000).is_empty());
        assert!(snap.poll("later").is_some());
    }

    #[test]
    fn snapshot_drops_what_is_over() {
        let snap = SiteSnapshot::new(
            site(),
            vec![story("gone", 0, 10), story("kept", 0, 11)],
            vec![session("ended", 0, 5, 10)],
            vec![poll("closed", choice())],
            1_000,
        );
        assert_eq!(snap.stories.len(), 0);
        assert!(snap.sessions.is_empty());
        assert!(snap.polls.is_empty());
    }

    #[test]
    fn feed_exposes_only_public_site_settings() {
        let feed = SiteSnapshot::new(site(), vec![story("a", 0, 10)], vec![], vec![], 0).feed_at(5);
        let json = serde_json::to_value(&feed).unwrap_or_default();
        assert_eq!(json["site"]["id"], "demo");
        assert_eq!(json["site"]["channels"][0]["kind"], "email");
        assert!(json["site"].get("origins").is_none());
        assert!(json["site"].get("retention_days").is_none());
        assert_eq!(json["now"], 5);
        assert_eq!(json["stories"][0]["slides"][0]["duration_ms"], 5_000);
        assert!(json["stories"][0]["slides"][0].get("media").is_none());
        let back: Feed = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, feed);
    }

    #[test]
    fn origins_are_matched_exactly() {
        let snap = SiteSnapshot::new(site(), vec![], vec![], vec![], 0);
        assert!(snap.allows_origin("https://shop.example"));
        assert!(!snap.allows_origin("https://shop.example.evil"));
        assert!(!snap.allows_origin("http://shop.example"));
    }
}

/// The few facts of a [`Feed`] the launcher needs, decoded from the same JSON without the
/// rest (slides, questions and options are skipped, not built), so the widget's first wasm
/// chunk can show the launcher before the code that decodes a whole feed is fetched.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FeedSummary {
    pub site: SummarySite,
    /// [`Feed::now`].
    pub now: Millis,
    /// The live stories, each with its targeting.
    pub stories: Vec<Targeted>,
    #[serde(default)]
    pub sessions: Vec<Targeted>,
    #[serde(default)]
    pub polls: Vec<Targeted>,
}

/// [`FeedSite`]'s look and whether it has channels.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SummarySite {
    pub theme: Theme,
    pub language: String,
    #[serde(default)]
    pub languages: Vec<String>,
    pub channels: Vec<serde::de::IgnoredAny>,
}

/// A story's, poll's or session's id and targeting (the rest of it is skipped).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Targeted {
    pub id: String,
    #[serde(default)]
    pub targeting: Targeting,
}

/// What one page view shows of a feed ([`FeedSummary::visible`]): ids, in feed order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visible {
    pub stories: Vec<String>,
    pub polls: Vec<String>,
    pub sessions: Vec<String>,
    /// The next instant (unix ms) a delay ends and something more shows; decide again then.
    pub next_change: Option<Millis>,
}

/// What the launcher shows for a feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LauncherState {
    /// Whether there is anything to open: stories, polls or channels.
    pub visible: bool,
    /// Live stories the visitor has not seen.
    pub unseen: usize,
    /// Whether live-session banners are due (they load without a click).
    pub banners: bool,
}

impl FeedSummary {
    /// What shows on `page` at `now_ms` ([`Targeting::decide`] for each item); `shown(id)`
    /// gives the instants this visitor was shown that item before.
    pub fn visible(
        &self,
        page: &Page<'_>,
        shown: impl Fn(&str) -> Vec<Millis>,
        now_ms: Millis,
    ) -> Visible {
        let mut next_change: Option<Millis> = None;
        let mut pick = |items: &[Targeted]| -> Vec<String> {
            items
                .iter()
                .filter(|item| {
                    let decision = item.targeting.decide(page, &shown(&item.id));
                    if let Decision::From(at) = decision
                        && at > now_ms
                    {
                        next_change = Some(next_change.map_or(at, |n| n.min(at)));
                    }
                    decision.shows_at(now_ms)
                })
                .map(|item| item.id.clone())
                .collect()
        };
        let stories = pick(&self.stories);
        let polls = pick(&self.polls);
        let sessions = pick(&self.sessions);
        Visible {
            stories,
            polls,
            sessions,
            next_change,
        }
    }

    /// The item with this id (a story, poll or session), for its targeting.
    pub fn item(&self, id: &str) -> Option<&Targeted> {
        self.stories
            .iter()
            .chain(&self.polls)
            .chain(&self.sessions)
            .find(|t| t.id == id)
    }

    /// The launcher for a page view showing `visible`, to a visitor who has seen the
    /// stories `seen` (ids).
    pub fn launcher(&self, visible: &Visible, seen: &[String]) -> LauncherState {
        LauncherState {
            visible: !visible.stories.is_empty()
                || !visible.polls.is_empty()
                || !self.site.channels.is_empty(),
            unseen: unseen(visible.stories.iter().map(String::as_str), seen),
            banners: !visible.sessions.is_empty(),
        }
    }
}

/// How many of `stories` (ids) are not in `seen`.
pub fn unseen<'a>(stories: impl IntoIterator<Item = &'a str>, seen: &[String]) -> usize {
    stories
        .into_iter()
        .filter(|id| !seen.iter().any(|s| s == id))
        .count()
}

#[cfg(test)]
mod summary_tests {
    use super::*;

    fn feed_json(stories: &[&str], sessions: usize, polls: bool, channels: bool) -> String {
        let story = |id: &str| {
            serde_json::json!({
                "id": id, "title": "T", "topic": "billing",
                "slides": [{"text": "a \"quoted\" {brace} [bracket]"}],
                "publish_at": 0, "expires_at": 10
            })
        };
        serde_json::json!({
            "site": {
                "id": "demo", "name": "Demo", "theme": {"accent": "#112233", "mode": "dark"},
                "language": "nb", "timezone": "Europe/Oslo",
                "channels": if channels { serde_json::json!([{"kind": "email", "label": "Mail", "value": "a@b.no"}]) } else { serde_json::json!([]) },
                "topics": []
            },
            "now": 1_700_000_000_000_i64,
            "stories": stories.iter().map(|s| story(s)).collect::<Vec<_>>(),
            "sessions": (0..sessions).map(|i| serde_json::json!({"id": format!("s{i}"), "nested": {"deep": [1, 2, {"x": null}]}})).collect::<Vec<_>>(),
            "polls": if polls { serde_json::json!([{"id": "p"}]) } else { serde_json::json!([]) },
        })
        .to_string()
    }

    fn summary(json: &str) -> FeedSummary {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"))
    }

    fn home(since: Millis) -> Page<'static> {
        Page {
            origin: "https://shop.example",
            path: "/",
            query: "",
            labels: &[],
            device: crate::targeting::Device::Desktop,
            since,
        }
    }

    /// The launcher on the home page, with nothing shown before.
    fn launcher(s: &FeedSummary, seen: &[String]) -> LauncherState {
        s.launcher(&s.visible(&home(0), |_| Vec::new(), 0), seen)
    }

    #[test]
    fn reads_what_the_launcher_needs_and_skips_the_rest() {
        let s = summary(&feed_json(&["a", "b", "c"], 2, false, true));
        assert_eq!(s.now, 1_700_000_000_000);
        assert_eq!(s.site.theme.accent, "#112233");
        assert_eq!(s.site.theme.mode, crate::ThemeMode::Dark);
        assert_eq!(s.site.language, "nb");
        let seen = vec!["b".to_string(), "gone".to_string()];
        assert_eq!(
            launcher(&s, &seen),
            LauncherState {
                visible: true,
                unseen: 2,
                banners: true
            }
        );
    }

    #[test]
    fn an_empty_feed_hides_the_launcher() {
        let s = summary(&feed_json(&[], 0, false, false));
        assert!(!launcher(&s, &[]).visible);
        assert!(!launcher(&s, &[]).banners);
        assert!(launcher(&summary(&feed_json(&[], 0, true, false)), &[]).visible);
        assert!(launcher(&summary(&feed_json(&[], 0, false, true)), &[]).visible);
    }

    #[test]
    fn targeting_decides_what_a_page_view_shows_and_when() {
        let json = serde_json::json!({
            "site": {"theme": {"accent": "#112233", "mode": "auto"}, "language": "en", "channels": []},
            "now": 0,
            "stories": [
                {"id": "everywhere"},
                {"id": "pricing", "targeting": {"pages": ["/pricing"]}},
                {"id": "later", "targeting": {"delay_seconds": 5}},
                {"id": "once", "targeting": {"frequency": {"times": 1}}},
            ],
            "polls": [{"id": "checkout-poll", "targeting": {"labels": ["checkout"]}}],
            "sessions": [{"id": "phones", "targeting": {"devices": ["mobile"]}}],
        })
        .to_string();
        let s = summary(&json);
        let never = |_: &str| Vec::new();
        let since = 1_000_000;
        let page = home(since);
        let v = s.visible(&page, never, since);
        assert_eq!(v.stories, ["everywhere", "once"]);
        assert!(v.polls.is_empty() && v.sessions.is_empty());
        assert_eq!(v.next_change, Some(since + 5_000));
        assert_eq!(s.launcher(&v, &[]).unseen, 2);
        assert!(!s.launcher(&v, &[]).banners);
        let v = s.visible(&page, never, since + 5_000);
        assert_eq!(v.stories, ["everywhere", "later", "once"]);
        assert_eq!(v.next_change, None);
        let shown_once = |id: &str| if id == "once" { vec![10] } else { Vec::new() };
        assert_eq!(s.visible(&page, shown_once, since).stories, ["everywhere"]);
        let labels = ["checkout".to_string()];
        let pricing = Page {
            path: "/pricing/",
            labels: &labels,
            device: crate::targeting::Device::Mobile,
            ..page
        };
        let v = s.visible(&pricing, never, since);
        assert_eq!(v.stories, ["everywhere", "pricing", "once"]);
        assert_eq!(v.polls, ["checkout-poll"]);
        assert_eq!(v.sessions, ["phones"]);
        assert!(s.launcher(&v, &[]).banners);
        assert_eq!(
            s.item("checkout-poll").map(|t| t.targeting.labels.clone()),
            Some(vec!["checkout".to_string()])
        );
    }

    #[test]
    fn a_real_feed_decodes_as_a_summary() {
        let snapshot = SiteSnapshot::new(
            crate::site::tests::site(),
            vec![
                crate::story::tests::story("one", 0, 1_000),
                crate::story::tests::story("two", 0, 1_000),
            ],
            vec![crate::session::tests::session("s", 0, 500, 900)],
            vec![crate::poll::tests::poll("p", crate::poll::tests::choice())],
            0,
        );
        let feed = snapshot.feed_at(100);
        assert_eq!(feed.stories.len(), 2, "{feed:?}");
        let json = serde_json::to_string(&feed).unwrap_or_else(|e| panic!("{e}"));
        let s = summary(&json);
        assert_eq!(s.site.theme, feed.site.theme);
        assert_eq!(s.site.language, feed.site.language);
        assert_eq!(s.now, feed.now);
        let ids: Vec<&str> = s.stories.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(
            ids,
            feed.stories
                .iter()
                .map(|x| x.id.as_str())
                .collect::<Vec<_>>()
        );
        assert_eq!(
            launcher(&s, &["one".to_string()]),
            LauncherState {
                visible: true,
                unseen: 1,
                banners: feed.sessions.len() == 1
            }
        );
        assert_eq!(s.polls.len(), feed.polls.len());
    }
}
