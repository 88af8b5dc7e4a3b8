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
    /// Every question asked this day, sorted, for exact medians over periods and topics.
    #[serde(default)]
    pub question_times: Vec<QuestionTimes>,
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

/// Rolls up `day` (`YYYY-MM-DD`) from its facts. `votes` are the (poll id, vote) pairs whose
/// vote was recorded that day (ratings also make CSAT); `questions` are the questions asked
/// that day with their replies and resolution.
pub fn rollup(
    day: &str,
    batches: &[StoredBatch],
    votes: &[(String, Vote)],
    questions: &[(Question, Vec<Reply>, Option<Resolution>)],
) -> DayStats {
    let mut out = DayStats {
        day: day.to_string(),
        ..DayStats::default()
    };
    // (what, key, slide, visitor) seen, so each visitor counts once.
    let mut seen: BTreeSet<(u8, String, u16, String)> = BTreeSet::new();
    let mut visitors: BTreeSet<&str> = BTreeSet::new();
    for b in batches {
        if !b.events.is_empty() {
            visitors.insert(&b.visitor);
        }
        for e in &b.events {
            let (what, key, slide) = match &e.kind {
                EventKind::StoryView { story } => (0, story, 0),
                EventKind::StoryComplete { story } => (1, story, 0),
                EventKind::SlideView { story, slide } => (2, story, *slide),
                EventKind::CtaClick { story, slide } => (3, story, *slide),
                EventKind::Helpful { story } => (4, story, 0),
                EventKind::NotHelpful { story } => (5, story, 0),
                EventKind::BannerJoin { session } => (6, session, 0),
                EventKind::Escalation { channel, topic } => {
                    let name = serde_json::to_value(channel)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default();
                    *out.escalations.entry(name).or_default() += 1;
                    *out.escalations_by_topic
                        .entry(topic.clone().unwrap_or_default())
                        .or_default() += 1;
                    continue;
                }
            };
            if !seen.insert((what, key.clone(), slide, b.visitor.clone())) {
                continue;
            }
            if what == 6 {
                *out.session_joins.entry(key.clone()).or_default() += 1;
                continue;
            }
            let s = out.stories.entry(key.clone()).or_default();
            match what {
                0 => s.views += 1,
                1 => s.completions += 1,
                2 => {
                    let i = usize::from(slide);
                    if i < 100 {
                        if s.slide_views.len() <= i {
                            s.slide_views.resize(i + 1, 0);
                        }
                        s.slide_views[i] += 1;
                    }
                }
                3 => s.cta_clicks += 1,
                4 => s.helped += 1,
                _ => s.not_helpful += 1,
            }
        }
    }
    out.visitors = u32::try_from(visitors.len()).unwrap_or(u32::MAX);
    for (poll, v) in votes {
        if let Answer::Rating(r @ 1..=5) = v.answer {
            out.csat_counts[usize::from(r) - 1] += 1;
        }
        *out.polls
            .entry(poll.clone())
            .or_default()
            .entry(answer_key(&v.answer))
            .or_default() += 1;
    }
    (_, out.csat_mean, out.csat_satisfied) = csat(&out.csat_counts);
    out.questions_asked = u32::try_from(questions.len()).unwrap_or(u32::MAX);
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
            },
            replies
                .iter()
                .map(|at| Reply {
                    text: "r".into(),
                    story: None,
                    at: *at,
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
    fn rerunning_is_idempotent_and_order_does_not_matter() {
        let mut reversed = log();
        reversed.reverse();
        let a = rollup("d", &log(), &[], &[]);
        assert_eq!(a, rollup("d", &log(), &[], &[]));
        assert_eq!(a, rollup("d", &reversed, &[], &[]));
        assert_eq!(rollup("d", &[], &[], &[]).csat_mean, None);
    }
}
