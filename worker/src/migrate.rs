//! Data from versions before 0.15 (everything in KV) brought into D1:
//! `POST /v1/admin/sites/{site}/rebuild[?cursor=…]`, one bounded step per request.
//!
//! Each request reads ONE KV listing page (≤ 1000 keys) under `site/{site}/` and at most
//! [`READS_MAX`] values, and for each key it knows:
//!
//! | KV key (0.14) | becomes |
//! | --- | --- |
//! | `story/…`, `session/…`, `poll/…` | a `content` row (kept if one exists: D1 wins) |
//! | `vote/{poll}/{visitor}` (answer in metadata) | a [`Message::Vote`] |
//! | `events/{day}/{id}` | a [`Message::Events`] |
//! | `question/{id}` | a [`Message::Question`] (without its token) |
//! | `reply/{question}/{at}-{id}` | a `replies` row (the question's `first_reply_at` follows) |
//! | `resolved/{question}` | the question's `resolved_at` and `category` |
//! | `kb/{id}` | a `kb` row (kept if one exists) |
//! | `rollup/{day}` of a day before the retention window | that day's `daily` counters |
//!
//! A day's roll-up becomes counters only when its event batches and questions have all
//! expired (days before the UTC day of `now − retention_days`): later days are counted again
//! from the batches and questions themselves, so nothing is counted twice. Its vote and CSAT
//! counts are left out, since a long-running poll's votes from such a day may still be in KV
//! and be counted from them; question timings (medians) are measured from `questions` rows,
//! which those days no longer have.
//!
//! Everything else (config, snapshot, receipts, photos, the old indexes, tallies and
//! roll-ups) stays as it is or is derived again. Messages go through the normal queue
//! consumer, which is idempotent, so running the whole rebuild twice changes nothing.
//!
//! A reply needs no question row (the consumer takes `first_reply_at` from `replies` when it
//! inserts the question). A resolution can only be applied once its question's row exists,
//! which the consumer writes later: while a question of this step is still queued, the step
//! answers `waiting: true` with the cursor it was given: repeat it after a moment (the xtask
//! step waits). The answer is `{cursor, done, …}`: repeat with `?cursor=` until `done`.

use glimpse_shared::events::StoredBatch;
use glimpse_shared::kb::KbEntry;
use glimpse_shared::keys::{self, ContentKind};
use glimpse_shared::question::{Question, Reply, Resolution};
use glimpse_shared::rollup::{DayStats, metric};
use glimpse_shared::{ApiError, Millis, Site, Vote};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::core::{Api, unavailable};
use crate::http::{ApiRequest, ApiResponse};
use crate::queue::{Message, send_all};
use crate::sql::{Stmt, rows};
use crate::store::{KvStore, Listed};

/// Most values one step reads, a resolution counting twice (its question's record
/// may be read too). Workers KV allows 1000 operations per invocation; the listing, the
/// site's config and the snapshot take a few more.
pub const READS_MAX: usize = 880;
/// Most rows in one JSON parameter (keeps each statement small).
const CHUNK: usize = 200;

/// Where a step starts: the KV listing cursor of the page (`None`: the first) and how many of
/// that page's keys earlier steps already handled. Text form `{skip}.{kv cursor}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cursor {
    pub skip: usize,
    pub kv: Option<String>,
}

impl Cursor {
    pub fn parse(s: &str) -> Option<Self> {
        let (skip, kv) = s.split_once('.')?;
        Some(Self {
            skip: skip.parse().ok()?,
            kv: (!kv.is_empty()).then(|| kv.to_string()),
        })
    }

    pub fn text(&self) -> String {
        format!("{}.{}", self.skip, self.kv.as_deref().unwrap_or(""))
    }
}

/// What a step answers.
#[derive(Debug, Serialize)]
pub struct Step {
    /// Pass it back as `?cursor=` (absent once done).
    pub cursor: Option<String>,
    pub done: bool,
    /// Keys of the listing this step handled.
    pub scanned: usize,
    /// Queue messages sent.
    pub sent: usize,
    /// Rows written directly (content, replies, resolutions, KB entries).
    pub rows: usize,
    /// Questions of this step are still queued: repeat the same cursor shortly.
    pub waiting: bool,
}

/// What one KV key of a 0.14 site is, by its name under `site/{site}/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Old {
    Content(ContentKind, String),
    Vote { poll: String, visitor: String },
    Events { id: String },
    Question(String),
    Reply { question: String, id: String },
    Resolved(String),
    Kb(String),
    Rollup(String),
    Other,
}

impl Old {
    /// Classifies `rest`, a key's name after `site/{site}/`. Pure.
    pub fn of(rest: &str) -> Self {
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            [kind, id] if !id.is_empty() => match *kind {
                "story" => Self::Content(ContentKind::Story, (*id).into()),
                "session" => Self::Content(ContentKind::Session, (*id).into()),
                "poll" => Self::Content(ContentKind::Poll, (*id).into()),
                "question" => Self::Question((*id).into()),
                "resolved" => Self::Resolved((*id).into()),
                "kb" => Self::Kb((*id).into()),
                "rollup" => Self::Rollup((*id).into()),
                _ => Self::Other,
            },
            ["vote", poll, visitor] => Self::Vote {
                poll: (*poll).into(),
                visitor: (*visitor).into(),
            },
            ["events", _day, id] => Self::Events { id: (*id).into() },
            ["reply", question, name] => match name.split_once('-') {
                Some((_, id)) => Self::Reply {
                    question: (*question).into(),
                    id: id.into(),
                },
                None => Self::Other,
            },
            _ => Self::Other,
        }
    }

    /// Whether handling it needs the value (a KV read).
    fn reads(&self) -> bool {
        !matches!(self, Self::Vote { .. } | Self::Other)
    }
}

#[derive(Default)]
struct Planned {
    messages: Vec<Message>,
    content: Vec<serde_json::Value>,
    replies: Vec<serde_json::Value>,
    resolutions: Vec<serde_json::Value>,
    kb: Vec<KbEntry>,
    /// `{day, metric, key, n}` counters from old roll-ups.
    daily: Vec<serde_json::Value>,
    /// Questions that resolutions name.
    questions: Vec<String>,
}

impl Planned {
    fn rows(&self) -> usize {
        self.content.len()
            + self.replies.len()
            + self.resolutions.len()
            + self.kb.len()
            + self.daily.len()
    }
}

/// `POST /v1/admin/sites/{site}/rebuild`: one step of the KV → D1 rebuild (see the module).
pub async fn rebuild<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site_id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let cursor = match req.query_param("cursor") {
        // An empty cursor is the first step, like none.
        None => Cursor::default(),
        Some(c) if c.is_empty() => Cursor::default(),
        Some(c) => Cursor::parse(&c).ok_or_else(|| {
            ApiError::new(400, "invalid_cursor", "cursor is not one this API gave")
                .with_field("cursor")
        })?,
    };
    let site = crate::admin::load_site_pub(api, site_id).await?;
    let prefix = format!("site/{site_id}/");
    let page = api
        .store
        .list(&prefix, cursor.kv.clone())
        .await
        .map_err(unavailable)?;
    let mut plan = Planned::default();
    let mut reads = 0usize;
    let mut handled = cursor.skip;
    for listed in page.keys.iter().skip(cursor.skip) {
        let rest = listed.name.strip_prefix(&prefix).unwrap_or("");
        let old = Old::of(rest);
        if old.reads() {
            // A resolution may cost a second read: its question's record, when the question
            // has no row yet.
            let cost = if matches!(old, Old::Resolved(_)) {
                2
            } else {
                1
            };
            if reads + cost > READS_MAX {
                break;
            }
            reads += cost;
        }
        handled += 1;
        take(api, &site, &mut plan, old, listed, now_ms).await?;
    }
    let finished_page = handled >= page.keys.len();

    // Resolutions wait for their question's row.
    plan.questions.sort();
    plan.questions.dedup();
    let mut waiting = false;
    let known: Vec<String> = if plan.questions.is_empty() {
        Vec::new()
    } else {
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        rows::<Id>(
            api.sql,
            Stmt::new(
                "SELECT id FROM questions WHERE site = ?1 \
                 AND id IN (SELECT value FROM json_each(?2))",
            )
            .bind(site_id)
            .bind_json(&plan.questions),
        )
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|r| r.id)
        .collect()
    };
    for q in plan.questions.iter().filter(|q| !known.contains(q)) {
        let queued = plan
            .messages
            .iter()
            .any(|m| matches!(m, Message::Question { question, .. } if &question.id == q));
        if queued
            || api
                .store
                .get(&keys::question(site_id, q))
                .await
                .map_err(unavailable)?
                .is_some()
        {
            waiting = true;
        }
    }

    let mut stmts = vec![
        Stmt::new(
            "INSERT INTO sites (site, name, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (site) DO NOTHING",
        )
        .bind(site_id)
        .bind(&site.name)
        .bind(now_ms),
    ];
    for chunk in plan.content.chunks(CHUNK) {
        stmts.push(
            Stmt::new(
                "INSERT INTO content (site, kind, id, body, over_at, purge_at) \
                 SELECT ?1, json_extract(value, '$.kind'), json_extract(value, '$.id'), json_extract(value, '$.body'), \
                 json_extract(value, '$.over_at'), json_extract(value, '$.purge_at') FROM json_each(?2) WHERE true \
                 ON CONFLICT (site, kind, id) DO NOTHING",
            )
            .bind(site_id)
            .bind_json(chunk),
        );
    }
    for chunk in plan.daily.chunks(CHUNK) {
        stmts.push(
            Stmt::new(
                "INSERT INTO daily (site, day, metric, key, n) \
                 SELECT ?1, json_extract(value, '$.day'), json_extract(value, '$.metric'), \
                 json_extract(value, '$.key'), json_extract(value, '$.n') \
                 FROM json_each(?2) WHERE true \
                 ON CONFLICT (site, day, metric, key) DO NOTHING",
            )
            .bind(site_id)
            .bind_json(chunk),
        );
    }
    for chunk in plan.replies.chunks(CHUNK) {
        stmts.push(
            Stmt::new(
                "INSERT INTO replies (site, question, at, id, body) \
                 SELECT ?1, json_extract(value, '$.question'), json_extract(value, '$.at'), json_extract(value, '$.id'), json_extract(value, '$.body') \
                 FROM json_each(?2) WHERE true ON CONFLICT DO NOTHING",
            )
            .bind(site_id)
            .bind_json(chunk),
        );
        stmts.push(
            Stmt::new(
                "UPDATE questions SET first_reply_at = MIN(COALESCE(first_reply_at, r.at), r.at) \
                 FROM (SELECT json_extract(value, '$.question') AS q, MIN(json_extract(value, '$.at')) AS at \
                       FROM json_each(?2) GROUP BY 1) AS r \
                 WHERE questions.site = ?1 AND questions.id = r.q",
            )
            .bind(site_id)
            .bind_json(chunk),
        );
    }
    for chunk in plan.resolutions.chunks(CHUNK) {
        stmts.push(
            Stmt::new(
                "UPDATE questions SET resolved_at = r.at, category = r.category \
                 FROM (SELECT json_extract(value, '$.question') AS q, json_extract(value, '$.at') AS at, \
                       json_extract(value, '$.category') AS category FROM json_each(?2)) AS r \
                 WHERE questions.site = ?1 AND questions.id = r.q \
                 AND questions.resolved_at IS NULL",
            )
            .bind(site_id)
            .bind_json(chunk),
        );
    }
    api.sql.batch(&stmts).await.map_err(unavailable)?;
    // Knowledge-base entries through the KB's own writer (its derived columns), only those
    // D1 does not hold yet: an entry edited since stays as it is.
    if !plan.kb.is_empty() {
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        let ids: Vec<&str> = plan.kb.iter().map(|e| e.id.as_str()).collect();
        let known: Vec<String> = rows::<Id>(
            api.sql,
            Stmt::new(
                "SELECT id FROM kb WHERE site = ?1 AND id IN (SELECT value FROM json_each(?2))",
            )
            .bind(site_id)
            .bind_json(&ids),
        )
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|r| r.id)
        .collect();
        let new: Vec<(&str, Option<&KbEntry>)> = plan
            .kb
            .iter()
            .filter(|e| !known.contains(&e.id))
            .map(|e| (e.id.as_str(), Some(e)))
            .collect();
        crate::kb::write(api.sql, site_id, &new).await?;
    }
    send_all(api.queue, &plan.messages)
        .await
        .map_err(unavailable)?;

    let next = if waiting {
        Some(cursor.clone())
    } else if !finished_page {
        Some(Cursor {
            skip: handled,
            kv: cursor.kv.clone(),
        })
    } else {
        page.cursor.map(|kv| Cursor {
            skip: 0,
            kv: Some(kv),
        })
    };
    let done = next.is_none();
    if done {
        crate::admin::rebuild_snapshot(api.store, api.sql, &site, now_ms).await?;
    }
    Ok(ApiResponse::json(
        200,
        &Step {
            cursor: next.map(|c| c.text()),
            done,
            scanned: handled - cursor.skip,
            sent: plan.messages.len(),
            rows: plan.rows(),
            waiting,
        },
    )
    .with_header("cache-control", "no-store"))
}

/// Adds what one old key becomes to `plan`; a value that is gone or unreadable is skipped.
async fn take<S: KvStore>(
    api: &Api<'_, S>,
    site: &Site,
    plan: &mut Planned,
    old: Old,
    listed: &Listed,
    now_ms: Millis,
) -> Result<(), ApiError> {
    let site_id = site.id.as_str();
    if let Old::Vote { poll, visitor } = &old {
        if let Some(vote) = listed
            .metadata
            .clone()
            .and_then(|m| crate::json::from_value::<Vote>(m).ok())
        {
            plan.messages.push(Message::Vote {
                site: site_id.into(),
                poll: poll.clone(),
                visitor: visitor.clone(),
                vote,
            });
        }
        return Ok(());
    }
    if !old.reads() {
        return Ok(());
    }
    let Some(raw) = api.store.get(&listed.name).await.map_err(unavailable)? else {
        return Ok(());
    };
    match old {
        Old::Content(kind, id) => {
            if let Some(over_at) = crate::admin::stored_ends_at(kind, &raw) {
                plan.content.push(json!({
                    "kind": kind.singular(), "id": id, "body": raw,
                    "over_at": over_at, "purge_at": site.retain_until(over_at),
                }));
            }
        }
        Old::Events { id } => {
            if let Ok(batch) = crate::json::from_str::<StoredBatch>(&raw) {
                plan.messages.push(Message::Events {
                    site: site_id.into(),
                    id,
                    batch,
                });
            }
        }
        Old::Question(_) => {
            if let Ok(q) = crate::json::from_str::<Question>(&raw) {
                plan.messages.push(Message::Question {
                    site: site_id.into(),
                    question: Question {
                        token: String::new(),
                        ..q
                    },
                });
            }
        }
        Old::Reply { question, id } => {
            if let Ok(reply) = crate::json::from_str::<Reply>(&raw) {
                plan.replies.push(json!({
                    "question": question, "at": reply.at, "id": id, "body": raw,
                }));
            }
        }
        Old::Resolved(question) => {
            if let Ok(r) = crate::json::from_str::<Resolution>(&raw) {
                plan.resolutions.push(json!({
                    "question": question, "at": r.at, "category": r.category,
                }));
                plan.questions.push(question);
            }
        }
        Old::Kb(_) => {
            if let Ok(e) = crate::json::from_str::<KbEntry>(&raw) {
                plan.kb.push(e);
            }
        }
        Old::Rollup(day) => {
            let cutoff = site.retain_until(0);
            let first_kept = glimpse_shared::time::utc_date(now_ms.saturating_sub(cutoff));
            if day < first_kept
                && let Ok(stats) = crate::json::from_str::<DayStats>(&raw)
            {
                plan.daily.extend(
                    counters_of(&stats)
                        .into_iter()
                        .map(|(m, k, n)| json!({"day": day, "metric": m, "key": k, "n": n})),
                );
            }
        }
        Old::Vote { .. } | Old::Other => {}
    }
    Ok(())
}

/// The `daily` counters a 0.14 roll-up stands for, without votes and CSAT (see the module):
/// `(metric, key, n)`, zero counts left out. Pure; the inverse of
/// [`DayStats::from_counters`] for what it keeps.
pub fn counters_of(d: &DayStats) -> Vec<(&'static str, String, u32)> {
    let mut out: Vec<(&'static str, String, u32)> = Vec::new();
    for (id, s) in &d.stories {
        out.push((metric::STORY_VIEW, id.clone(), s.views));
        out.push((metric::STORY_COMPLETE, id.clone(), s.completions));
        out.push((metric::CTA_CLICK, id.clone(), s.cta_clicks));
        out.push((metric::HELPED, id.clone(), s.helped));
        out.push((metric::NOT_HELPFUL, id.clone(), s.not_helpful));
        for (i, n) in s.slide_views.iter().enumerate() {
            out.push((metric::SLIDE_VIEW, format!("{id}/{i}"), *n));
        }
    }
    for (k, n) in &d.session_joins {
        out.push((metric::SESSION_JOIN, k.clone(), *n));
    }
    for (k, n) in &d.escalations {
        out.push((metric::ESCALATION, k.clone(), *n));
    }
    for (k, n) in &d.escalations_by_topic {
        out.push((metric::ESCALATION_TOPIC, k.clone(), *n));
    }
    out.push((metric::VISITORS, String::new(), d.visitors));
    // Questions per topic: stored since 0.14's later days; else from the timings, else all
    // under no topic.
    let mut by_topic = d.questions_by_topic.clone();
    if by_topic.is_empty() {
        for q in &d.question_times {
            *by_topic.entry(q.topic.clone()).or_default() += 1;
        }
    }
    if by_topic.is_empty() && d.questions_asked > 0 {
        by_topic.insert(String::new(), d.questions_asked);
    }
    for (k, n) in by_topic {
        out.push((metric::QUESTIONS, k, n));
    }
    out.retain(|(_, _, n)| *n > 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_keys_are_classified_by_name() {
        assert_eq!(
            Old::of("story/reset"),
            Old::Content(ContentKind::Story, "reset".into())
        );
        assert_eq!(
            Old::of("vote/csat/visitor-0000000000000001"),
            Old::Vote {
                poll: "csat".into(),
                visitor: "visitor-0000000000000001".into()
            }
        );
        assert_eq!(
            Old::of("events/2026-11-22/batch-1"),
            Old::Events {
                id: "batch-1".into()
            }
        );
        assert_eq!(
            Old::of("reply/q1/1795305600000-r1"),
            Old::Reply {
                question: "q1".into(),
                id: "r1".into()
            }
        );
        assert_eq!(Old::of("resolved/q1"), Old::Resolved("q1".into()));
        assert_eq!(Old::of("kb/story-reset"), Old::Kb("story-reset".into()));
        for other in [
            "config",
            "snapshot",
            "kbindex",
            "receipt/csat/r1",
            "qphoto/q1",
            "tally/csat",
        ] {
            assert_eq!(Old::of(other), Old::Other, "{other}");
        }
    }

    #[test]
    fn an_old_rollup_becomes_the_counters_it_was_made_of() {
        let mut d = DayStats {
            day: "2026-01-02".into(),
            visitors: 7,
            questions_asked: 2,
            ..DayStats::default()
        };
        d.stories.insert(
            "reset".into(),
            glimpse_shared::rollup::StoryDay {
                views: 5,
                completions: 3,
                slide_views: vec![5, 4, 0],
                cta_clicks: 1,
                helped: 2,
                not_helpful: 0,
            },
        );
        d.escalations.insert("email".into(), 2);
        d.escalations_by_topic.insert("orders".into(), 2);
        d.session_joins.insert("qa".into(), 4);
        d.question_times = vec![
            glimpse_shared::rollup::QuestionTimes {
                topic: "orders".into(),
                ..Default::default()
            };
            2
        ];
        d.csat_counts = [0, 0, 0, 1, 1];
        let counters = counters_of(&d);
        let back = DayStats::from_counters(
            &d.day,
            counters
                .iter()
                .map(|(m, k, n)| (*m, k.as_str(), i64::from(*n))),
        );
        assert_eq!(back.stories["reset"].views, 5);
        assert_eq!(back.stories["reset"].slide_views, [5, 4]);
        assert_eq!(back.stories["reset"].cta_clicks, 1);
        assert_eq!(back.escalations, d.escalations);
        assert_eq!(back.escalations_by_topic, d.escalations_by_topic);
        assert_eq!(back.session_joins, d.session_joins);
        assert_eq!((back.visitors, back.questions_asked), (7, 2));
        assert_eq!(back.questions_by_topic.get("orders"), Some(&2));
        // Votes and CSAT are counted from the votes themselves, never from a roll-up.
        assert_eq!(back.csat_counts, [0; 5]);
        assert!(counters.iter().all(|(_, _, n)| *n > 0));
    }

    #[test]
    fn cursors_round_trip() {
        for c in [
            Cursor::default(),
            Cursor {
                skip: 880,
                kv: Some("AAAQ.x=".into()),
            },
        ] {
            assert_eq!(Cursor::parse(&c.text()), Some(c));
        }
        assert_eq!(Cursor::parse("x.y"), None);
    }
}
