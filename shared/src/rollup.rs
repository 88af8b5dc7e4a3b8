//! Per-day effectiveness summaries, rolled up from the stored facts of one UTC day: event
//! batches (views, completion, drop-off per slide, CTA clicks, "helped"/"didn't help",
//! escalations, session joins), rating-poll votes (CSAT) and questions (time to first reply,
//! resolution time). Pure and deterministic: re-running a day yields the same summary, so the
//! roll-up is idempotent and safe to repeat.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::events::{EventKind, StoredBatch};
use crate::question::{Question, Reply, Resolution};
use crate::{Answer, Millis, Vote};

/// One story's day. Visitors are counted once per story (and per slide).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryDay {
    pub views: u32,
    pub completions: u32,
    /// Distinct visitors who reached each slide: the drop-off funnel.
    pub slide_views: Vec<u32>,
    pub cta_clicks: u32,
    pub helped: u32,
    pub not_helpful: u32,
}

/// Percentiles of durations in ms (nearest rank).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durations {
    pub count: u32,
    pub median_ms: Option<Millis>,
    pub p90_ms: Option<Millis>,
}

impl Durations {
    pub fn of(mut values: Vec<Millis>) -> Self {
        values.sort_unstable();
        let rank = |p: f64| -> Option<Millis> {
            if values.is_empty() {
                return None;
            }
            let i = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1;
            values.get(i).copied()
        };
        Self {
            count: u32::try_from(values.len()).unwrap_or(u32::MAX),
            median_ms: rank(0.5),
            p90_ms: rank(0.9),
        }
    }
}

/// One question's timings, without anything that identifies the question or its visitor,
/// so periods and topics can be summarised exactly from daily roll-ups.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QuestionTimes {
    pub topic: String,
    pub first_reply_ms: Option<Millis>,
    pub resolution_ms: Option<Millis>,
}

/// The key an answer is counted under in [`DayStats::polls`]: the option index for choices,
/// the stars for ratings, `text` for free text.
pub fn answer_key(answer: &Answer) -> String {
    match answer {
        Answer::Choice(i) => i.to_string(),
        Answer::Rating(r) => r.to_string(),
        Answer::Text(_) => "text".into(),
    }
}

/// One UTC day of one site.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DayStats {
    pub day: String,
    pub stories: BTreeMap<String, StoryDay>,
    /// Escalations to traditional channels, per channel kind.
    pub escalations: BTreeMap<String, u32>,
    /// Distinct visitors who joined each live session.
    pub session_joins: BTreeMap<String, u32>,
    /// Rating answers given this day: count per star (1–5), mean and share of 4–5.
    pub csat_counts: [u32; 5],
    pub csat_mean: Option<f64>,
    pub csat_satisfied: Option<f64>,
    pub questions_asked: u32,
    pub first_reply: Durations,
    pub resolution: Durations,
    /// Distinct visitors who sent any event this day.
    #[serde(default)]
    pub visitors: u32,
    /// Escalations per topic (`""` for escalations without one).
    #[serde(default)]
    pub escalations_by_topic: BTreeMap<String, u32>,
    /// Answers recorded this day, per poll and [`answer_key`].
    #[serde(default)]
    pub polls: BTreeMap<String, BTreeMap<String, u32>>,
    /// Every question asked this day, sorted, for exact medians over periods and topics
    /// (empty when read from counters: then the medians are measured in SQL).
    #[serde(default)]
    pub question_times: Vec<QuestionTimes>,
    /// Questions asked this day per topic.
    #[serde(default)]
    pub questions_by_topic: BTreeMap<String, u32>,
}

/// From answers per star (1–5): how many, their mean, and the share of 4s and 5s (CSAT).
pub fn csat(counts: &[u32; 5]) -> (u32, Option<f64>, Option<f64>) {
    let n: u32 = counts.iter().sum();
    if n == 0 {
        return (0, None, None);
    }
    let sum: u32 = counts.iter().zip(1u32..).map(|(c, s)| c * s).sum();
    (
        n,
        Some(f64::from(sum) / f64::from(n)),
        Some(f64::from(counts[3] + counts[4]) / f64::from(n)),
    )
}

/// Names of the per-day counters (D1 `daily.metric`), each counted under a key. Counts
/// marked "once" count each visitor once a day per key (D1 `seen`).
pub mod metric {
    /// Story views, key = story id (once).
    pub const STORY_VIEW: &str = "story_view";
    /// Story completions, key = story id (once).
    pub const STORY_COMPLETE: &str = "story_complete";
    /// Slide views, key = `{story}/{slide}` (once): the drop-off funnel.
    pub const SLIDE_VIEW: &str = "slide_view";
    /// CTA clicks, key = story id (once per slide).
    pub const CTA_CLICK: &str = "cta_click";
    /// "This helped", key = story id (once).
    pub const HELPED: &str = "helped";
    /// "This didn't help", key = story id (once).
    pub const NOT_HELPFUL: &str = "not_helpful";
    /// Live-session joins, key = session id (once).
    pub const SESSION_JOIN: &str = "session_join";
    /// Escalations, key = channel kind (every one).
    pub const ESCALATION: &str = "escalation";
    /// Escalations, key = topic id, `""` without one (every one).
    pub const ESCALATION_TOPIC: &str = "escalation_topic";
    /// Visitors who sent any event, key = `""` (once).
    pub const VISITORS: &str = "visitors";
    /// Current answers recorded that day, key = `{poll}/{answer_key}`.
    pub const VOTE: &str = "vote";
    /// Rating answers recorded that day, key = the stars `1`–`5`.
    pub const CSAT: &str = "csat";
    /// Questions asked that day, key = topic id. Written by the questions consumer.
    pub const QUESTIONS: &str = "questions";
}

/// One count an event batch makes on its day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// One of [`metric`].
    pub metric: &'static str,
    /// What the counter is kept per (`daily.key`).
    pub key: String,
    /// `Some(mark)`: counted once per visitor a day per (metric, mark); `None`: every time.
    pub once: Option<String>,
}

impl Count {
    fn once(metric: &'static str, key: &str) -> Self {
        Self {
            metric,
            key: key.to_string(),
            once: Some(key.to_string()),
        }
    }
}

/// The counts one event batch makes, in event order: the visitor (if any event), then each
/// event's. Slides past the 100th are not counted.
pub fn counts(batch: &StoredBatch) -> Vec<Count> {
    let mut out = Vec::with_capacity(batch.events.len() + 1);
    if !batch.events.is_empty() {
        out.push(Count::once(metric::VISITORS, ""));
    }
    for e in &batch.events {
        match &e.kind {
            EventKind::StoryView { story } => out.push(Count::once(metric::STORY_VIEW, story)),
            EventKind::StoryComplete { story } => {
                out.push(Count::once(metric::STORY_COMPLETE, story));
            }
            EventKind::SlideView { story, slide } if *slide < 100 => {
                out.push(Count::once(metric::SLIDE_VIEW, &format!("{story}/{slide}")));
            }
            EventKind::SlideView { .. } => {}
            EventKind::CtaClick { story, slide } => out.push(Count {
                metric: metric::CTA_CLICK,
                key: story.clone(),
                once: Some(format!("{story}/{slide}")),
            }),
            EventKind::Helpful { story } => out.push(Count::once(metric::HELPED, story)),
            EventKind::NotHelpful { story } => out.push(Count::once(metric::NOT_HELPFUL, story)),
            EventKind::BannerJoin { session } => {
                out.push(Count::once(metric::SESSION_JOIN, session));
            }
            EventKind::Escalation { channel, topic } => {
                let name = serde_json::to_value(channel)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                out.push(Count {
                    metric: metric::ESCALATION,
                    key: name,
                    once: None,
                });
                out.push(Count {
                    metric: metric::ESCALATION_TOPIC,
                    key: topic.clone().unwrap_or_default(),
                    once: None,
                });
            }
        }
    }
    out
}

/// The (metric, key) counters a current answer to `poll` adds on the day it was recorded:
/// its answer, and its stars for a rating.
pub fn vote_counts(poll: &str, answer: &Answer) -> Vec<(&'static str, String)> {
    let mut out = vec![(metric::VOTE, format!("{poll}/{}", answer_key(answer)))];
    if let Answer::Rating(r @ 1..=5) = answer {
        out.push((metric::CSAT, r.to_string()));
    }
    out
}

impl DayStats {
    /// One day's summary from its counters: `(metric, key, n)` rows of [`metric`] names
    /// (unknown metrics are ignored, negative counts read as 0). Question timings are not
    /// counters: `first_reply`, `resolution` and `question_times` stay empty.
    pub fn from_counters<'a>(
        day: &str,
        counters: impl IntoIterator<Item = (&'a str, &'a str, i64)>,
    ) -> Self {
        let mut out = Self {
            day: day.to_string(),
            ..Self::default()
        };
        for (m, key, n) in counters {
            let n = u32::try_from(n.max(0)).unwrap_or(u32::MAX);
            fn story<'s>(out: &'s mut DayStats, key: &str) -> &'s mut StoryDay {
                out.stories.entry(key.to_string()).or_default()
            }
            match m {
                metric::STORY_VIEW => story(&mut out, key).views += n,
                metric::STORY_COMPLETE => story(&mut out, key).completions += n,
                metric::CTA_CLICK => story(&mut out, key).cta_clicks += n,
                metric::HELPED => story(&mut out, key).helped += n,
                metric::NOT_HELPFUL => story(&mut out, key).not_helpful += n,
                metric::SLIDE_VIEW => {
                    if let Some((id, slide)) = key.rsplit_once('/')
                        && let Ok(i) = slide.parse::<usize>()
                        && i < 100
                    {
                        let s = out.stories.entry(id.to_string()).or_default();
                        if s.slide_views.len() <= i {
                            s.slide_views.resize(i + 1, 0);
                        }
                        s.slide_views[i] += n;
                    }
                }
                metric::SESSION_JOIN => *out.session_joins.entry(key.into()).or_default() += n,
                metric::ESCALATION => *out.escalations.entry(key.into()).or_default() += n,
                metric::ESCALATION_TOPIC => {
                    *out.escalations_by_topic.entry(key.into()).or_default() += n;
                }
                metric::VISITORS => out.visitors += n,
                metric::VOTE => {
                    if let Some((poll, answer)) = key.rsplit_once('/') {
                        *out.polls
                            .entry(poll.into())
                            .or_default()
                            .entry(answer.into())
                            .or_default() += n;
                    }
                }
                metric::CSAT => {
                    if let Ok(r @ 1..=5) = key.parse::<usize>() {
                        out.csat_counts[r - 1] += n;
                    }
                }
                metric::QUESTIONS => {
                    *out.questions_by_topic.entry(key.into()).or_default() += n;
                    out.questions_asked += n;
                }
                _ => {}
            }
        }
        // Polls without any answer left (all moved to another day) are not listed.
        for answers in out.polls.values_mut() {
            answers.retain(|_, n| *n > 0);
        }
        out.polls.retain(|_, a| !a.is_empty());
        (_, out.csat_mean, out.csat_satisfied) = csat(&out.csat_counts);
        out
    }
}

/// Rolls up `day` (`YYYY-MM-DD`) from its facts. `votes` are the (poll id, vote) pairs whose
/// vote was recorded that day (ratings also make CSAT); `questions` are the questions asked
/// that day with their replies and resolution. Counts exactly as the D1 counters do
/// ([`counts`], [`vote_counts`], [`DayStats::from_counters`]).
pub fn rollup(
    day: &str,
    batches: &[StoredBatch],
    votes: &[(String, Vote)],
    questions: &[(Question, Vec<Reply>, Option<Resolution>)],
) -> DayStats {
    let mut seen: BTreeSet<(&'static str, String, &str)> = BTreeSet::new();
    let mut counters: BTreeMap<(&'static str, String), i64> = BTreeMap::new();
    for b in batches {
        for c in counts(b) {
            if let Some(mark) = c.once
                && !seen.insert((c.metric, mark, b.visitor.as_str()))
            {
                continue;
            }
            *counters.entry((c.metric, c.key)).or_default() += 1;
        }
    }
    for (poll, v) in votes {
        for k in vote_counts(poll, &v.answer) {
            *counters.entry(k).or_default() += 1;
        }
    }
    for (q, _, _) in questions {
        *counters
            .entry((metric::QUESTIONS, q.topic.clone()))
            .or_default() += 1;
    }
    let mut out =
        DayStats::from_counters(day, counters.iter().map(|((m, k), n)| (*m, k.as_str(), *n)));
    out.first_reply = Durations::of(
        questions
            .iter()
            .filter_map(|(q, replies, _)| {
                replies
                    .iter()
                    .map(|r| r.at)
                    .min()
                    .map(|at| at - q.created_at)
            })
            .collect(),
    );
    out.resolution = Durations::of(
        questions
            .iter()
            .filter_map(|(q, _, res)| res.as_ref().map(|r| r.at - q.created_at))
            .collect(),
    );
    out.question_times = questions
        .iter()
        .map(|(q, replies, res)| QuestionTimes {
            topic: q.topic.clone(),
            first_reply_ms: replies
                .iter()
                .map(|r| r.at)
                .min()
                .map(|at| at - q.created_at),
            resolution_ms: res.as_ref().map(|r| r.at - q.created_at),
        })
        .collect();
    out.question_times.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;
    use crate::site::ChannelKind;

    fn batch(visitor: &str, kinds: Vec<EventKind>) -> StoredBatch {
        StoredBatch {
            visitor: visitor.into(),
            received_at: 0,
            events: kinds
                .into_iter()
                .map(|kind| Event { kind, at: None })
                .collect(),
        }
    }

    fn slide(s: &str, i: u16) -> EventKind {
        EventKind::SlideView {
            story: s.into(),
            slide: i,
        }
    }

    fn log() -> Vec<StoredBatch> {
        let view = |s: &str| EventKind::StoryView { story: s.into() };
        let done = |s: &str| EventKind::StoryComplete { story: s.into() };
        vec![
            batch(
                "a",
                vec![
                    view("reset"),
                    slide("reset", 0),
                    slide("reset", 1),
                    slide("reset", 2),
                    done("reset"),
                    EventKind::Helpful {
                        story: "reset".into(),
                    },
                ],
            ),
            batch(
                "b",
                vec![view("reset"), slide("reset", 0), slide("reset", 1)],
            ),
            batch("b", vec![view("reset"), slide("reset", 0)]), // a second visit counts once
            batch(
                "c",
                vec![
                    view("reset"),
                    slide("reset", 0),
                    EventKind::NotHelpful {
                        story: "reset".into(),
                    },
                    EventKind::Escalation {
                        channel: ChannelKind::Email,
                        topic: None,
                    },
                    EventKind::CtaClick {
                        story: "reset".into(),
                        slide: 0,
                    },
                ],
            ),
            batch(
                "c",
                vec![
                    EventKind::BannerJoin {
                        session: "qa".into(),
                    },
                    EventKind::BannerJoin {
                        session: "qa".into(),
                    },
                ],
            ),
            batch(
                "d",
                vec![
                    EventKind::BannerJoin {
                        session: "qa".into(),
                    },
                    EventKind::Escalation {
                        channel: ChannelKind::Phone,
                        topic: Some("billing".into()),
                    },
                ],
            ),
        ]
    }

    fn vote(r: u8) -> (String, Vote) {
        (
            "csat".into(),
            Vote {
                id: "x".repeat(16),
                answer: Answer::Rating(r),
                at: 0,
            },
        )
    }

    fn question(
        created: Millis,
        replies: &[Millis],
        resolved: Option<Millis>,
    ) -> (Question, Vec<Reply>, Option<Resolution>) {
        (
            Question {
                id: "q".into(),
                topic: "orders".into(),
                message: "m".into(),
                visitor: "v".repeat(16),
                token: "t".into(),
                created_at: created,
                email: None,
            },
            replies
                .iter()
                .map(|at| Reply {
                    text: "r".into(),
                    at: *at,
                    ..Default::default()
                })
                .collect(),
            resolved.map(|at| Resolution {
                category: "orders".into(),
                at,
            }),
        )
    }

    #[test]
    fn exact_numbers_on_a_fixed_log() {
        let qs = [
            question(0, &[60_000, 120_000], Some(600_000)),
            question(0, &[300_000], None),
            question(0, &[], None),
            question(0, &[30_000], Some(3_600_000)),
        ];
        let d = rollup(
            "2026-11-22",
            &log(),
            &[vote(5), vote(4), vote(2), vote(5)],
            &qs,
        );
        let reset = &d.stories["reset"];
        assert_eq!(reset.views, 3);
        assert_eq!(reset.completions, 1);
        assert_eq!(reset.slide_views, [3, 2, 1]);
        assert_eq!(
            (reset.cta_clicks, reset.helped, reset.not_helpful),
            (1, 1, 1)
        );
        assert_eq!(
            d.escalations,
            BTreeMap::from([("email".into(), 1), ("phone".into(), 1)])
        );
        assert_eq!(
            d.escalations_by_topic,
            BTreeMap::from([("".into(), 1), ("billing".into(), 1)])
        );
        assert_eq!(d.visitors, 4);
        assert_eq!(
            d.polls,
            BTreeMap::from([(
                "csat".into(),
                BTreeMap::from([("2".into(), 1), ("4".into(), 1), ("5".into(), 2)])
            )])
        );
        assert_eq!(d.question_times.len(), 4);
        assert_eq!(
            d.question_times[0],
            QuestionTimes {
                topic: "orders".into(),
                first_reply_ms: None,
                resolution_ms: None
            }
        );
        assert_eq!(d.session_joins, BTreeMap::from([("qa".into(), 2)]));
        assert_eq!(d.csat_counts, [0, 1, 0, 1, 2]);
        assert_eq!(d.csat_mean, Some(4.0));
        assert_eq!(d.csat_satisfied, Some(0.75));
        assert_eq!(d.questions_asked, 4);
        assert_eq!(d.questions_by_topic, BTreeMap::from([("orders".into(), 4)]));
        assert_eq!(
            d.first_reply,
            Durations {
                count: 3,
                median_ms: Some(60_000),
                p90_ms: Some(300_000)
            }
        );
        assert_eq!(
            d.resolution,
            Durations {
                count: 2,
                median_ms: Some(600_000),
                p90_ms: Some(3_600_000)
            }
        );
    }

    #[test]
    fn counters_read_back_as_the_day() {
        let d = DayStats::from_counters(
            "2026-11-22",
            [
                (metric::STORY_VIEW, "reset", 3),
                (metric::SLIDE_VIEW, "reset/1", 2),
                (metric::SLIDE_VIEW, "reset/0", 3),
                (metric::CTA_CLICK, "reset", 1),
                (metric::VOTE, "pick/0", 2),
                // An answer moved to another day leaves a zero behind: not listed.
                (metric::VOTE, "pick/1", 0),
                (metric::VOTE, "gone/1", 0),
                (metric::CSAT, "5", 2),
                (metric::CSAT, "4", 1),
                (metric::CSAT, "9", 1),
                (metric::QUESTIONS, "orders", 2),
                (metric::QUESTIONS, "", 1),
                (metric::VISITORS, "", 7),
                (metric::STORY_COMPLETE, "reset", -1),
                ("unknown", "x", 5),
            ],
        );
        assert_eq!(d.day, "2026-11-22");
        let reset = &d.stories["reset"];
        assert_eq!(
            (reset.views, reset.completions, reset.cta_clicks),
            (3, 0, 1)
        );
        assert_eq!(reset.slide_views, [3, 2]);
        assert_eq!(
            d.polls,
            BTreeMap::from([("pick".into(), BTreeMap::from([("0".into(), 2)]))])
        );
        assert_eq!(d.csat_counts, [0, 0, 0, 1, 2]);
        assert_eq!(d.csat_satisfied, Some(1.0));
        assert_eq!(d.questions_asked, 3);
        assert_eq!(d.visitors, 7);
    }

    #[test]
    fn rerunning_is_idempotent_and_order_does_not_matter() {
        let mut reversed = log();
        reversed.reverse();
        let a = rollup("d", &log(), &[], &[]);
        assert_eq!(a, rollup("d", &log(), &[], &[]));
        assert_eq!(a, rollup("d", &reversed, &[], &[]));
        assert_eq!(rollup("d", &[], &[], &[]).csat_mean, None);
    }
}
