//! The operators' effectiveness report: the daily roll-ups of a period, optionally narrowed
//! to one topic, summarised into what the console plots and exports. Pure: the worker builds
//! it from stored roll-ups and content, the console only draws it, and every number can be
//! checked natively. Medians and p90 over a period are exact because each day keeps every
//! question's (anonymous) timings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::rollup::{DayStats, Durations, answer_key, csat};
use crate::{Answer, LiveSession, Millis, Poll, PollKind, Story};

/// One day of the period, for plots over time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DayLine {
    pub day: String,
    pub story_views: u32,
    pub completions: u32,
    pub cta_clicks: u32,
    pub not_helpful: u32,
    pub escalations: u32,
    pub visitors: u32,
    pub csat_responses: u32,
    pub csat_mean: Option<f64>,
    pub csat_satisfied: Option<f64>,
    pub questions_asked: u32,
    pub session_joins: u32,
}

/// One story over the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoryLine {
    pub id: String,
    pub title: String,
    pub topic: String,
    pub views: u32,
    pub completions: u32,
    pub completion_rate: Option<f64>,
    /// Visitor-days that reached each slide: the drop-off funnel.
    pub slide_views: Vec<u32>,
    pub cta_clicks: u32,
    pub helped: u32,
    pub not_helpful: u32,
    pub not_helpful_rate: Option<f64>,
}

/// One poll's answers over the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PollLine {
    pub id: String,
    pub question: String,
    pub responses: u32,
    /// (label, count) per option or star; text polls have one `text` row.
    pub answers: Vec<(String, u32)>,
}

/// One live session over the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionLine {
    pub id: String,
    pub title: String,
    pub topic: String,
    pub joins: u32,
}

/// The whole period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub story_views: u32,
    pub completions: u32,
    pub completion_rate: Option<f64>,
    pub cta_clicks: u32,
    pub not_helpful: u32,
    pub not_helpful_rate: Option<f64>,
    pub escalations: u32,
    /// Escalations per visitor-day.
    pub escalation_rate: Option<f64>,
    pub visitors: u32,
    pub csat_counts: [u32; 5],
    pub csat_mean: Option<f64>,
    pub csat_satisfied: Option<f64>,
    pub questions_asked: u32,
    pub first_reply: Durations,
    pub resolution: Durations,
    pub session_joins: u32,
}

/// What `GET /v1/admin/sites/{site}/report` answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub topic: Option<String>,
    pub totals: Totals,
    pub days: Vec<DayLine>,
    pub stories: Vec<StoryLine>,
    /// Escalations per channel kind (all topics).
    pub escalations: BTreeMap<String, u32>,
    /// Polls are site-wide: empty when a topic is chosen.
    pub polls: Vec<PollLine>,
    pub sessions: Vec<SessionLine>,
}

/// The content the report names: stories, polls and sessions as stored (expired ones too).
#[derive(Debug, Clone, Copy)]
pub struct Catalog<'a> {
    pub stories: &'a [Story],
    pub polls: &'a [Poll],
    pub sessions: &'a [LiveSession],
}

fn rate(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

/// First-reply and resolution times over a whole period (and topic), measured where the
/// questions are (the worker: in SQL over its questions table).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Measured {
    pub first_reply: Durations,
    pub resolution: Durations,
}

/// Builds the report of `days` (the daily summaries from `from` to `to`, in any order),
/// narrowed to `topic` if given. Questions asked are counted from each day's
/// `questions_by_topic`; the period's first-reply and resolution times are `measured` when
/// given, otherwise computed from the days' `question_times`. Stories and sessions no
/// longer stored count under their id with an empty topic (so a topic filter leaves them
/// out).
pub fn build(
    from: &str,
    to: &str,
    topic: Option<&str>,
    days: &[DayStats],
    catalog: Catalog<'_>,
    measured: Option<Measured>,
) -> Report {
    let mut days: Vec<&DayStats> = days
        .iter()
        .filter(|d| d.day.as_str() >= from && d.day.as_str() <= to)
        .collect();
    days.sort_by(|a, b| a.day.cmp(&b.day));
    let in_topic = |t: &str| topic.is_none_or(|want| want == t);
    let story_topic = |id: &str| {
        catalog
            .stories
            .iter()
            .find(|s| s.id == id)
            .map_or("", |s| s.topic.as_str())
    };
    let session_topic = |id: &str| {
        catalog
            .sessions
            .iter()
            .find(|s| s.id == id)
            .map_or("", |s| s.topic.as_str())
    };

    let mut report = Report {
        from: from.into(),
        to: to.into(),
        topic: topic.map(String::from),
        ..Report::default()
    };
    let mut stories: BTreeMap<&str, StoryLine> = BTreeMap::new();
    let mut sessions: BTreeMap<&str, u32> = BTreeMap::new();
    let mut polls: BTreeMap<&str, BTreeMap<&str, u32>> = BTreeMap::new();
    let (mut first_reply, mut resolution) = (Vec::<Millis>::new(), Vec::<Millis>::new());
    let t = &mut report.totals;
    for d in &days {
        let mut line = DayLine {
            day: d.day.clone(),
            visitors: d.visitors,
            ..DayLine::default()
        };
        for (id, s) in d.stories.iter().filter(|(id, _)| in_topic(story_topic(id))) {
            let l = stories.entry(id).or_insert_with(|| StoryLine {
                id: id.clone(),
                ..StoryLine::default()
            });
            l.views += s.views;
            l.completions += s.completions;
            if l.slide_views.len() < s.slide_views.len() {
                l.slide_views.resize(s.slide_views.len(), 0);
            }
            for (sum, n) in l.slide_views.iter_mut().zip(&s.slide_views) {
                *sum += n;
            }
            l.cta_clicks += s.cta_clicks;
            l.helped += s.helped;
            l.not_helpful += s.not_helpful;
            line.story_views += s.views;
            line.completions += s.completions;
            line.cta_clicks += s.cta_clicks;
            line.not_helpful += s.not_helpful;
        }
        line.escalations = match topic {
            None => d.escalations.values().sum(),
            Some(want) => d.escalations_by_topic.get(want).copied().unwrap_or(0),
        };
        if topic.is_none() {
            for (channel, n) in &d.escalations {
                *report.escalations.entry(channel.clone()).or_default() += n;
            }
        }
        for (id, n) in d
            .session_joins
            .iter()
            .filter(|(id, _)| in_topic(session_topic(id)))
        {
            *sessions.entry(id).or_default() += n;
            line.session_joins += n;
        }
        line.questions_asked = match topic {
            None => d.questions_by_topic.values().sum(),
            Some(want) => d.questions_by_topic.get(want).copied().unwrap_or(0),
        };
        for q in d.question_times.iter().filter(|q| in_topic(&q.topic)) {
            first_reply.extend(q.first_reply_ms);
            resolution.extend(q.resolution_ms);
        }
        // Polls and CSAT are site-wide.
        if topic.is_none() {
            for (poll, answers) in &d.polls {
                let p = polls.entry(poll).or_default();
                for (k, n) in answers {
                    *p.entry(k).or_default() += n;
                }
            }
            for (sum, n) in t.csat_counts.iter_mut().zip(d.csat_counts) {
                *sum += n;
            }
            (line.csat_responses, line.csat_mean, line.csat_satisfied) = csat(&d.csat_counts);
        }
        t.story_views += line.story_views;
        t.completions += line.completions;
        t.cta_clicks += line.cta_clicks;
        t.not_helpful += line.not_helpful;
        t.escalations += line.escalations;
        t.visitors += line.visitors;
        t.questions_asked += line.questions_asked;
        t.session_joins += line.session_joins;
        report.days.push(line);
    }
    t.completion_rate = rate(t.completions, t.story_views);
    t.not_helpful_rate = rate(t.not_helpful, t.story_views);
    t.escalation_rate = rate(t.escalations, t.visitors);
    (_, t.csat_mean, t.csat_satisfied) = csat(&t.csat_counts);
    (t.first_reply, t.resolution) = match measured {
        Some(m) => (m.first_reply, m.resolution),
        None => (Durations::of(first_reply), Durations::of(resolution)),
    };

    report.stories = stories
        .into_values()
        .map(|mut l| {
            if let Some(s) = catalog.stories.iter().find(|s| s.id == l.id) {
                l.title = s.title.clone();
                l.topic = s.topic.clone();
            }
            l.completion_rate = rate(l.completions, l.views);
            l.not_helpful_rate = rate(l.not_helpful, l.views);
            l
        })
        .collect();
    report
        .stories
        .sort_by(|a, b| b.views.cmp(&a.views).then(a.id.cmp(&b.id)));
    report.sessions = sessions
        .into_iter()
        .map(|(id, joins)| {
            let s = catalog.sessions.iter().find(|s| s.id == id);
            SessionLine {
                id: id.into(),
                title: s.map(|s| s.title.clone()).unwrap_or_default(),
                topic: s.map(|s| s.topic.clone()).unwrap_or_default(),
                joins,
            }
        })
        .collect();
    report.polls = polls
        .into_iter()
        .map(|(id, counts)| poll_line(id, &counts, catalog.polls.iter().find(|p| p.id == id)))
        .collect();
    report
}

/// A poll's answers labelled with its options (every option listed, even at zero).
fn poll_line(id: &str, counts: &BTreeMap<&str, u32>, poll: Option<&Poll>) -> PollLine {
    let count = |a: &Answer| counts.get(answer_key(a).as_str()).copied().unwrap_or(0);
    let answers = match poll.map(|p| &p.kind) {
        Some(PollKind::Choice { options }) => options
            .iter()
            .zip(0u8..)
            .map(|(label, i)| (label.clone(), count(&Answer::Choice(i))))
            .collect(),
        Some(PollKind::Rating) => (1u8..=5)
            .map(|r| (format!("{r}★"), count(&Answer::Rating(r))))
            .collect(),
        Some(PollKind::Text { .. }) => vec![("text".into(), count(&Answer::Text(String::new())))],
        None => counts.iter().map(|(k, n)| ((*k).to_string(), *n)).collect(),
    };
    PollLine {
        id: id.into(),
        question: poll.map(|p| p.question.clone()).unwrap_or_default(),
        responses: counts.values().sum(),
        answers,
    }
}

/// A table of the report, as the console shows it and exports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}", v * 100.0)).unwrap_or_default()
}

fn mean(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_default()
}

impl Report {
    /// Every table of the report: one per plot.
    pub fn tables(&self) -> Vec<Table> {
        let days = Table {
            name: "days",
            columns: vec![
                "day",
                "story_views",
                "completions",
                "cta_clicks",
                "not_helpful",
                "escalations",
                "visitors",
                "csat_responses",
                "csat_mean",
                "csat_satisfied_pct",
                "questions_asked",
                "session_joins",
            ],
            rows: self
                .days
                .iter()
                .map(|d| {
                    vec![
                        d.day.clone(),
                        d.story_views.to_string(),
                        d.completions.to_string(),
                        d.cta_clicks.to_string(),
                        d.not_helpful.to_string(),
                        d.escalations.to_string(),
                        d.visitors.to_string(),
                        d.csat_responses.to_string(),
                        mean(d.csat_mean),
                        pct(d.csat_satisfied),
                        d.questions_asked.to_string(),
                        d.session_joins.to_string(),
                    ]
                })
                .collect(),
        };
        let stories = Table {
            name: "stories",
            columns: vec![
                "story",
                "title",
                "topic",
                "views",
                "completions",
                "completion_pct",
                "slide_views",
                "cta_clicks",
                "helped",
                "not_helpful",
                "not_helpful_pct",
            ],
            rows: self
                .stories
                .iter()
                .map(|s| {
                    vec![
                        s.id.clone(),
                        s.title.clone(),
                        s.topic.clone(),
                        s.views.to_string(),
                        s.completions.to_string(),
                        pct(s.completion_rate),
                        s.slide_views
                            .iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(" "),
                        s.cta_clicks.to_string(),
                        s.helped.to_string(),
                        s.not_helpful.to_string(),
                        pct(s.not_helpful_rate),
                    ]
                })
                .collect(),
        };
        let polls = Table {
            name: "polls",
            columns: vec!["poll", "question", "answer", "count"],
            rows: self
                .polls
                .iter()
                .flat_map(|p| {
                    p.answers.iter().map(|(label, n)| {
                        vec![
                            p.id.clone(),
                            p.question.clone(),
                            label.clone(),
                            n.to_string(),
                        ]
                    })
                })
                .collect(),
        };
        let t = &self.totals;
        let questions = Table {
            name: "questions",
            columns: vec!["measure", "count", "median_ms", "p90_ms"],
            rows: [
                ("first_reply", &t.first_reply),
                ("resolution", &t.resolution),
            ]
            .into_iter()
            .map(|(name, d)| {
                vec![
                    name.to_string(),
                    d.count.to_string(),
                    opt(d.median_ms),
                    opt(d.p90_ms),
                ]
            })
            .collect(),
        };
        let sessions = Table {
            name: "sessions",
            columns: vec!["session", "title", "topic", "joins"],
            rows: self
                .sessions
                .iter()
                .map(|s| {
                    vec![
                        s.id.clone(),
                        s.title.clone(),
                        s.topic.clone(),
                        s.joins.to_string(),
                    ]
                })
                .collect(),
        };
        let escalations = Table {
            name: "escalations",
            columns: vec!["channel", "count"],
            rows: self
                .escalations
                .iter()
                .map(|(c, n)| vec![c.clone(), n.to_string()])
                .collect(),
        };
        vec![days, stories, polls, questions, sessions, escalations]
    }
}

impl Table {
    /// RFC 4180 CSV (CRLF line ends). Cells a spreadsheet would run as a formula (starting
    /// with `=`, `+`, `-`, `@`, tab or CR) get a leading `'`, since titles and answers are
    /// written by other people.
    pub fn csv(&self) -> String {
        let mut out = String::new();
        let mut line = |cells: &mut dyn Iterator<Item = &str>| {
            let cells: Vec<String> = cells.map(csv_cell).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        };
        line(&mut self.columns.iter().copied());
        for row in &self.rows {
            line(&mut row.iter().map(String::as_str));
        }
        out
    }
}

fn csv_cell(cell: &str) -> String {
    let numeric = cell.parse::<f64>().is_ok();
    let guarded = if !numeric && cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::{QuestionTimes, StoryDay};
    use crate::{Slide, Story};

    fn story(id: &str, topic: &str) -> Story {
        Story {
            translations: Default::default(),
            targeting: Default::default(),
            id: id.into(),
            title: format!("Title {id}"),
            topic: topic.into(),
            slides: vec![Slide {
                text: "x".into(),
                media: None,
                duration_ms: 5_000,
                cta: None,
            }],
            publish_at: 0,
            expires_at: 1,
        }
    }

    fn day(d: &str, reset_views: u32, wifi_views: u32) -> DayStats {
        DayStats {
            day: d.into(),
            stories: BTreeMap::from([
                (
                    "reset".into(),
                    StoryDay {
                        views: reset_views,
                        completions: 1,
                        slide_views: vec![reset_views, 2, 1],
                        cta_clicks: 1,
                        helped: 1,
                        not_helpful: 1,
                    },
                ),
                (
                    "wifi".into(),
                    StoryDay {
                        views: wifi_views,
                        completions: wifi_views,
                        slide_views: vec![wifi_views],
                        ..StoryDay::default()
                    },
                ),
            ]),
            escalations: BTreeMap::from([("email".into(), 2)]),
            escalations_by_topic: BTreeMap::from([("orders".into(), 1), ("".into(), 1)]),
            csat_counts: [0, 1, 0, 1, 2],
            visitors: 10,
            polls: BTreeMap::from([(
                "pick".into(),
                BTreeMap::from([("0".into(), 3), ("2".into(), 1)]),
            )]),
            question_times: vec![
                QuestionTimes {
                    topic: "orders".into(),
                    first_reply_ms: Some(60_000),
                    resolution_ms: Some(600_000),
                },
                QuestionTimes {
                    topic: "network".into(),
                    first_reply_ms: Some(120_000),
                    resolution_ms: None,
                },
            ],
            questions_by_topic: BTreeMap::from([("orders".into(), 1), ("network".into(), 1)]),
            ..DayStats::default()
        }
    }

    fn catalog() -> (Vec<Story>, Vec<Poll>) {
        let polls = vec![Poll {
            translations: Default::default(),
            targeting: Default::default(),
            id: "pick".into(),
            question: "Which?".into(),
            kind: PollKind::Choice {
                options: vec!["a".into(), "b".into(), "c".into()],
            },
            publish_at: 0,
            expires_at: 1,
            show_results: false,
        }];
        (
            vec![story("reset", "orders"), story("wifi", "network")],
            polls,
        )
    }

    #[test]
    fn sums_a_period_exactly() {
        let (stories, polls) = catalog();
        let cat = Catalog {
            stories: &stories,
            polls: &polls,
            sessions: &[],
        };
        // Out of order, plus one day outside the period.
        let days = [
            day("2026-11-23", 4, 2),
            day("2026-11-22", 3, 0),
            day("2026-11-30", 99, 99),
        ];
        let r = build("2026-11-22", "2026-11-23", None, &days, cat, None);
        assert_eq!(
            r.days.iter().map(|d| d.day.as_str()).collect::<Vec<_>>(),
            ["2026-11-22", "2026-11-23"]
        );
        assert_eq!(r.totals.story_views, 9);
        assert_eq!(r.totals.completions, 4);
        assert_eq!(r.totals.escalations, 4);
        assert_eq!(r.totals.escalation_rate, Some(0.2));
        assert_eq!(r.totals.csat_counts, [0, 2, 0, 2, 4]);
        assert_eq!(r.totals.csat_mean, Some(4.0));
        assert_eq!(r.totals.csat_satisfied, Some(0.75));
        assert_eq!(r.totals.questions_asked, 4);
        assert_eq!(r.totals.first_reply.median_ms, Some(60_000));
        assert_eq!(r.totals.first_reply.p90_ms, Some(120_000));
        assert_eq!(r.totals.resolution.count, 2);
        let reset = &r.stories[0];
        assert_eq!((reset.id.as_str(), reset.views), ("reset", 7));
        assert_eq!(reset.title, "Title reset");
        assert_eq!(reset.slide_views, [7, 4, 2]);
        assert_eq!(reset.completion_rate, Some(2.0 / 7.0));
        assert_eq!(
            r.polls[0].answers,
            [("a".into(), 6), ("b".into(), 0), ("c".into(), 2)]
        );
        assert_eq!(r.polls[0].responses, 8);
    }

    #[test]
    fn a_topic_narrows_stories_questions_and_escalations() {
        let (stories, polls) = catalog();
        let cat = Catalog {
            stories: &stories,
            polls: &polls,
            sessions: &[],
        };
        let days = [day("2026-11-22", 3, 5)];
        let r = build(
            "2026-11-01",
            "2026-11-30",
            Some("network"),
            &days,
            cat,
            None,
        );
        assert_eq!(r.stories.len(), 1);
        assert_eq!(r.stories[0].id, "wifi");
        assert_eq!(r.totals.story_views, 5);
        assert_eq!(r.totals.escalations, 0);
        assert_eq!(r.totals.questions_asked, 1);
        assert_eq!(r.totals.resolution.count, 0);
        assert!(r.polls.is_empty(), "polls are site-wide");
        assert_eq!(r.totals.csat_mean, None);
        let orders = build("2026-11-01", "2026-11-30", Some("orders"), &days, cat, None);
        assert_eq!(orders.totals.escalations, 1);
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let t = Table {
            name: "x",
            columns: vec!["a", "b"],
            rows: vec![
                vec!["=HYPERLINK(\"x\")".into(), "-3".into()],
                vec!["one, two".into(), "line\nbreak".into()],
            ],
        };
        assert_eq!(
            t.csv(),
            "a,b\r\n\"'=HYPERLINK(\"\"x\"\")\",-3\r\n\"one, two\",\"line\nbreak\"\r\n"
        );
        let (stories, polls) = catalog();
        let cat = Catalog {
            stories: &stories,
            polls: &polls,
            sessions: &[],
        };
        let r = build(
            "2026-11-22",
            "2026-11-22",
            None,
            &[day("2026-11-22", 3, 0)],
            cat,
            None,
        );
        let tables = r.tables();
        let days = tables.iter().find(|t| t.name == "days").map(Table::csv);
        assert_eq!(
            days.as_deref().and_then(|c| c.lines().nth(1)),
            Some("2026-11-22,3,1,1,1,2,10,4,4.00,75.0,2,0")
        );
    }
}
