//! Quick polls and CSAT: questions, answers, and exact tallies.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::validate::{Problem, Problems};

/// A quick question for visitors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poll {
    pub id: String,
    pub question: String,
    pub kind: PollKind,
    pub publish_at: Millis,
    pub expires_at: Millis,
    /// Whether visitors may see the results after answering.
    #[serde(default)]
    pub show_results: bool,
    /// Where, for whom and when it shows ([`crate::targeting`]); everywhere when left out.
    #[serde(
        default,
        skip_serializing_if = "crate::targeting::Targeting::is_everyone"
    )]
    pub targeting: crate::targeting::Targeting,
    /// The poll's words in the site's other languages ([`crate::translate`]).
    #[serde(
        default,
        skip_serializing_if = "crate::translate::Translations::is_empty"
    )]
    pub translations: crate::translate::Translations<crate::translate::PollText>,
}

/// What kind of answer a poll takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PollKind {
    /// One of 2–6 options.
    Choice { options: Vec<String> },
    /// 1–5 stars; CSAT is the share of 4s and 5s.
    Rating,
    /// A short free-text answer.
    Text {
        #[serde(default = "PollKind::text_max_default")]
        max_chars: u16,
    },
}

impl PollKind {
    /// Longest free-text answer; short enough to live in KV key metadata (1024 bytes).
    pub const TEXT_MAX: u16 = 200;

    fn text_max_default() -> u16 {
        Self::TEXT_MAX
    }
}

/// One visitor's answer. JSON: `{"choice":1}`, `{"rating":5}` or `{"text":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Index into the poll's options.
    Choice(u8),
    Rating(u8),
    Text(String),
}

/// `POST /v1/sites/{site}/polls/{poll}/responses`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollResponse {
    /// Client-made idempotency token: the same id again is the same response.
    pub id: String,
    /// The visitor's anonymous, client-made id: one answer per visitor per poll.
    pub visitor: String,
    pub answer: Answer,
}

/// A poll answer as recorded: the response id, the answer and the server time. The queue
/// carries it to D1's `votes` (the visitor's current answer per poll).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// The response id that set this answer.
    pub id: String,
    pub answer: Answer,
    /// Server time the answer was recorded.
    pub at: Millis,
}

/// One poll response as its own KV record (`keys::response`, one per response id): who
/// answered and what. Erasure finds it through D1's `responses` row of the same id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseRecord {
    pub visitor: String,
    /// The response id.
    pub id: String,
    pub answer: Answer,
    /// Server time the response arrived, ms.
    pub at: Millis,
}

/// `GET /v1/admin/sites/{site}/polls/{poll}/results`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollResults {
    pub poll: String,
    /// Visitors who answered (each counted once, with their latest answer).
    pub total: u64,
    /// Choice polls: count per option, in option order. Rating polls: count per star, 1–5.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counts: Vec<u64>,
    /// Rating polls: the mean rating, when anyone answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Rating polls: CSAT, the share of 4- and 5-star answers (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<f64>,
    /// Text polls: the newest answers first (at most [`PollResults::TEXTS_MAX`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub texts: Vec<TextAnswer>,
    /// Stored answers that no longer fit the poll (it was edited after they were given).
    pub ignored: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextAnswer {
    pub text: String,
    pub at: Millis,
}

impl PollResults {
    pub const TEXTS_MAX: usize = 200;
}

/// A poll's results as visitors get them: a bounded, cached tally. Recounted from the vote
/// keys at most every few seconds (`computed_at`, server unix ms) from at most a capped
/// number of them (`complete` is false when there were more), so it can lag the newest
/// votes by those seconds plus Workers KV's listing delay (up to a minute). Never holds
/// text answers. The operators' results stay exact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicResults {
    #[serde(flatten)]
    pub results: PollResults,
    pub computed_at: Millis,
    /// Every stored vote was counted (false: only the first ones the listing returned).
    pub complete: bool,
}

impl PublicResults {
    /// Whether this tally may still be served at `now_ms` instead of recounting: computed
    /// less than `fresh_ms` ago (and not in the future, which only a broken clock makes).
    pub fn is_fresh(&self, now_ms: Millis, fresh_ms: Millis) -> bool {
        (0..fresh_ms).contains(&(now_ms - self.computed_at))
    }
}

impl Poll {
    pub const OPTIONS_MIN: usize = 2;
    pub const OPTIONS_MAX: usize = 6;

    /// Whether visitors can answer at `now_ms`.
    pub fn is_open(&self, now_ms: Millis) -> bool {
        self.publish_at <= now_ms && now_ms < self.expires_at
    }

    /// Every problem with this poll, or none.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.slug("id", &self.id);
        p.text("question", &self.question, 200);
        if self.expires_at <= self.publish_at {
            p.push("expires_at", "must be after publish_at");
        }
        p.expiry("expires_at", self.expires_at);
        self.targeting.check("targeting", &mut p);
        let options = match &self.kind {
            PollKind::Choice { options } => options.len(),
            _ => 0,
        };
        crate::translate::check_map(&mut p, &self.translations, |p, at, t| {
            p.optional_text(format!("{at}.question"), &t.question, 200);
            if t.options.len() > options {
                p.push(format!("{at}.options"), "more options than the poll has");
            }
            for (i, o) in t.options.iter().enumerate() {
                p.optional_text(format!("{at}.options[{i}]"), o, 80);
            }
        });
        match &self.kind {
            PollKind::Choice { options } => {
                if !(Self::OPTIONS_MIN..=Self::OPTIONS_MAX).contains(&options.len()) {
                    p.push("kind.options", "must have 2-6 options");
                }
                for (i, o) in options.iter().enumerate() {
                    p.text(format!("kind.options[{i}]"), o, 80);
                    if options[..i].iter().any(|x| x.trim() == o.trim()) {
                        p.push(format!("kind.options[{i}]"), "duplicate option");
                    }
                }
            }
            PollKind::Rating => {}
            PollKind::Text { max_chars } => {
                if !(1..=PollKind::TEXT_MAX).contains(max_chars) {
                    p.push("kind.max_chars", "must be 1-200");
                }
            }
        }
        p.into_vec()
    }

    /// Authoring advice that does not block publishing.
    pub fn lint(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.question.chars().count() > 100 {
            out.push(Problem::new(
                "question",
                "questions over 100 characters get fewer answers",
            ));
        }
        if let PollKind::Choice { options } = &self.kind {
            for (i, o) in options.iter().enumerate() {
                if o.chars().count() > 40 {
                    out.push(Problem::new(
                        format!("kind.options[{i}]"),
                        "options over 40 characters wrap on phones",
                    ));
                }
            }
        }
        out
    }

    /// Whether `answer` fits this poll; the problem otherwise (field `answer`).
    pub fn check_answer(&self, answer: &Answer) -> Result<(), Problem> {
        let bad = |m: &str| Err(Problem::new("answer", m));
        match (&self.kind, answer) {
            (PollKind::Choice { options }, Answer::Choice(i)) => {
                if usize::from(*i) < options.len() {
                    Ok(())
                } else {
                    bad("no such option")
                }
            }
            (PollKind::Rating, Answer::Rating(r)) => {
                if (1..=5).contains(r) {
                    Ok(())
                } else {
                    bad("rating must be 1-5")
                }
            }
            (PollKind::Text { max_chars }, Answer::Text(t)) => {
                let mut p = Problems::default();
                p.text("answer", t, usize::from(*max_chars));
                match p.into_vec().pop() {
                    Some(problem) => Err(problem),
                    None => Ok(()),
                }
            }
            (PollKind::Choice { .. }, _) => bad(r#"this poll takes {"choice": <option index>}"#),
            (PollKind::Rating, _) => bad(r#"this poll takes {"rating": 1-5}"#),
            (PollKind::Text { .. }, _) => bad(r#"this poll takes {"text": "..."}"#),
        }
    }

    /// Exact results from every visitor's current vote.
    pub fn tally<'a>(&self, votes: impl IntoIterator<Item = &'a Vote>) -> PollResults {
        let mut r = PollResults {
            poll: self.id.clone(),
            total: 0,
            counts: match &self.kind {
                PollKind::Choice { options } => vec![0; options.len()],
                PollKind::Rating => vec![0; 5],
                PollKind::Text { .. } => Vec::new(),
            },
            mean: None,
            csat: None,
            texts: Vec::new(),
            ignored: 0,
        };
        for vote in votes {
            if self.check_answer(&vote.answer).is_err() {
                r.ignored += 1;
                continue;
            }
            r.total += 1;
            match &vote.answer {
                Answer::Choice(i) => r.counts[usize::from(*i)] += 1,
                Answer::Rating(s) => r.counts[usize::from(*s) - 1] += 1,
                Answer::Text(t) => r.texts.push(TextAnswer {
                    text: t.clone(),
                    at: vote.at,
                }),
            }
        }
        if matches!(self.kind, PollKind::Rating) && r.total > 0 {
            let sum: u64 = r.counts.iter().zip(1u64..).map(|(c, s)| c * s).sum();
            r.mean = Some(sum as f64 / r.total as f64);
            r.csat = Some((r.counts[3] + r.counts[4]) as f64 / r.total as f64);
        }
        r.texts.sort_by_key(|t| std::cmp::Reverse(t.at));
        r.texts.truncate(PollResults::TEXTS_MAX);
        r
    }
}

impl Poll {
    /// Exact results from stored counts per answer key (`shared::rollup::answer_key`: the
    /// option index, the stars, or `text`) and the newest text answers (at most
    /// [`PollResults::TEXTS_MAX`] are kept). Keys that no longer fit the poll (it was edited)
    /// count as `ignored`, as in [`Poll::tally`].
    pub fn results_from_counts<'a>(
        &self,
        counts: impl IntoIterator<Item = (&'a str, u64)>,
        mut texts: Vec<TextAnswer>,
    ) -> PollResults {
        let mut r = self.tally(std::iter::empty());
        for (key, n) in counts {
            let slot = match &self.kind {
                PollKind::Choice { .. } => key.parse::<u8>().ok().map(Answer::Choice),
                PollKind::Rating => key.parse::<u8>().ok().map(Answer::Rating),
                PollKind::Text { .. } => (key == "text").then(|| Answer::Text(String::new())),
            };
            let fits = slot.as_ref().is_some_and(|a| match a {
                Answer::Text(_) => true,
                other => self.check_answer(other).is_ok(),
            });
            if !fits {
                r.ignored += n;
                continue;
            }
            r.total += n;
            match slot {
                Some(Answer::Choice(i)) => r.counts[usize::from(i)] += n,
                Some(Answer::Rating(s)) => r.counts[usize::from(s) - 1] += n,
                _ => {}
            }
        }
        if matches!(self.kind, PollKind::Rating) && r.total > 0 {
            let sum: u64 = r.counts.iter().zip(1u64..).map(|(c, s)| c * s).sum();
            r.mean = Some(sum as f64 / r.total as f64);
            r.csat = Some((r.counts[3] + r.counts[4]) as f64 / r.total as f64);
        }
        if matches!(self.kind, PollKind::Text { .. }) {
            texts.sort_by_key(|t| std::cmp::Reverse(t.at));
            texts.truncate(PollResults::TEXTS_MAX);
            r.texts = texts;
        }
        r
    }
}

impl PollResponse {
    /// Every problem with the request itself (ids); the answer is checked against the poll.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.token("id", &self.id);
        p.token("visitor", &self.visitor);
        p.into_vec()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn poll(id: &str, kind: PollKind) -> Poll {
        Poll {
            translations: Default::default(),
            targeting: Default::default(),
            id: id.into(),
            question: "Did this help?".into(),
            kind,
            publish_at: 0,
            expires_at: 1_000,
            show_results: true,
        }
    }

    pub(crate) fn choice() -> PollKind {
        PollKind::Choice {
            options: vec!["Yes".into(), "No".into(), "Partly".into()],
        }
    }

    fn vote(answer: Answer, at: Millis) -> Vote {
        Vote {
            id: "r".repeat(16),
            answer,
            at,
        }
    }

    #[test]
    fn answers_json_shape() {
        let r: PollResponse = serde_json::from_str(
            r#"{"id":"aaaaaaaaaaaaaaaa","visitor":"bbbbbbbbbbbbbbbb","answer":{"choice":2}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.answer, Answer::Choice(2));
        assert_eq!(r.validate(), vec![]);
        assert_eq!(
            serde_json::to_string(&Answer::Text("hi".into())).unwrap_or_default(),
            r#"{"text":"hi"}"#
        );
        let kind: PollKind =
            serde_json::from_str(r#"{"type":"text"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(kind, PollKind::Text { max_chars: 200 });
    }

    #[test]
    fn answers_must_fit_the_poll() {
        let p = poll("p", choice());
        assert!(p.check_answer(&Answer::Choice(2)).is_ok());
        assert!(p.check_answer(&Answer::Choice(3)).is_err());
        assert!(p.check_answer(&Answer::Rating(3)).is_err());
        let r = poll("r", PollKind::Rating);
        assert!(r.check_answer(&Answer::Rating(1)).is_ok());
        assert!(r.check_answer(&Answer::Rating(5)).is_ok());
        assert!(r.check_answer(&Answer::Rating(0)).is_err());
        assert!(r.check_answer(&Answer::Rating(6)).is_err());
        let t = poll("t", PollKind::Text { max_chars: 5 });
        assert!(t.check_answer(&Answer::Text("hello".into())).is_ok());
        assert!(t.check_answer(&Answer::Text("hello!".into())).is_err());
        assert!(t.check_answer(&Answer::Text("  ".into())).is_err());
    }

    #[test]
    fn choice_tally_is_exact_and_ignores_stale_answers() {
        let p = poll("p", choice());
        let votes = [
            vote(Answer::Choice(0), 1),
            vote(Answer::Choice(0), 2),
            vote(Answer::Choice(2), 3),
            vote(Answer::Choice(5), 4),
            vote(Answer::Rating(5), 5),
        ];
        let r = p.tally(&votes);
        assert_eq!(r.total, 3);
        assert_eq!(r.counts, [2, 0, 1]);
        assert_eq!(r.ignored, 2);
        assert_eq!(r.mean, None);
    }

    #[test]
    fn rating_tally_has_distribution_mean_and_csat() {
        let p = poll("csat", PollKind::Rating);
        let votes: Vec<Vote> = [5, 4, 4, 2, 1, 5, 3, 5]
            .into_iter()
            .map(|s| vote(Answer::Rating(s), 0))
            .collect();
        let r = p.tally(&votes);
        assert_eq!(r.total, 8);
        assert_eq!(r.counts, [1, 1, 1, 2, 3]);
        assert_eq!(r.mean, Some(29.0 / 8.0));
        assert_eq!(r.csat, Some(5.0 / 8.0));
        assert_eq!(p.tally(&[]).mean, None);
    }

    #[test]
    fn results_from_counts_equal_the_tally_of_the_same_votes() {
        use std::collections::BTreeMap;
        let check = |p: &Poll, votes: &[Vote]| {
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            for v in votes {
                *counts
                    .entry(crate::rollup::answer_key(&v.answer))
                    .or_default() += 1;
            }
            let texts = votes
                .iter()
                .filter_map(|v| match &v.answer {
                    Answer::Text(t) => Some(TextAnswer {
                        text: t.clone(),
                        at: v.at,
                    }),
                    _ => None,
                })
                .collect();
            let from_counts =
                p.results_from_counts(counts.iter().map(|(k, n)| (k.as_str(), *n)), texts);
            assert_eq!(from_counts, p.tally(votes), "{}", p.id);
        };
        check(
            &poll("p", choice()),
            &[
                vote(Answer::Choice(0), 1),
                vote(Answer::Choice(0), 2),
                vote(Answer::Choice(2), 3),
                vote(Answer::Choice(5), 4),
            ],
        );
        let stars: Vec<Vote> = [5, 4, 4, 2, 1, 5, 3, 5]
            .into_iter()
            .map(|s| vote(Answer::Rating(s), 0))
            .collect();
        check(&poll("csat", PollKind::Rating), &stars);
        check(
            &poll("t", PollKind::Text { max_chars: 200 }),
            &[
                vote(Answer::Text("old".into()), 1),
                vote(Answer::Text("new".into()), 9),
            ],
        );
        check(&poll("empty", PollKind::Rating), &[]);
    }

    #[test]
    fn text_tally_lists_newest_first() {
        let p = poll("t", PollKind::Text { max_chars: 200 });
        let r = p.tally(&[
            vote(Answer::Text("old".into()), 1),
            vote(Answer::Text("new".into()), 9),
        ]);
        assert_eq!(r.total, 2);
        let texts: Vec<_> = r.texts.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["new", "old"]);
    }

    #[test]
    fn validation() {
        assert_eq!(poll("p", choice()).validate(), vec![]);
        let mut bad = poll(
            "P",
            PollKind::Choice {
                options: vec!["Yes".into(), " Yes".into()],
            },
        );
        bad.expires_at = 0;
        let fields: Vec<_> = bad.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["id", "expires_at", "kind.options[1]"]);
        let one = poll(
            "p",
            PollKind::Choice {
                options: vec!["Only".into()],
            },
        );
        assert_eq!(one.validate()[0].field, "kind.options");
        let r = PollResponse {
            id: "short".into(),
            visitor: "x".repeat(65),
            answer: Answer::Rating(1),
        };
        let fields: Vec<_> = r.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["id", "visitor"]);
    }

    #[test]
    fn stored_votes_fit_in_kv_metadata() {
        let v = Vote {
            id: "x".repeat(64),
            answer: Answer::Text("\u{1F600}".repeat(200)),
            at: i64::MAX,
        };
        let json = serde_json::to_string(&v).unwrap_or_default();
        assert!(json.len() <= 1024, "{} bytes", json.len());
    }
}
