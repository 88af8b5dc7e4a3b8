//! Privacy: everything stored about one anonymous visitor id, exported as JSON or erased.
//! Visitors are only ever identified by the random id their browser made; no cookies.
//!
//! Both find the visitor's data through D1's per-visitor indexes (`responses_by_visitor`,
//! `votes_by_visitor`, `batches_by_visitor`, `questions_by_visitor`, `seen_by_visitor`,
//! `kb_by_visitor`) and touch only that visitor's rows and the KV records those rows name:
//! each response's record (and, for answers given before 0.17, the vote key and the
//! response receipt), each event batch key, each question key and its photo. Nothing is found
//! by listing KV, and nothing of anyone else is read.
//!
//! What stays: the anonymous per-day counters (`daily`) and the all-time story counters
//! (`popularity`) hold counts only, never a visitor id, so they are not personal data and
//! are not changed (a report of a past day keeps counting an erased visitor's view). Votes
//! are the exception, because a vote row says which counters it moved: erasing a vote
//! decrements its tally and its day's vote and CSAT counters in the same transaction that
//! deletes the vote, as if it had never been given. The knowledge base holds a visitor's words
//! only when an operator published an answer to that visitor's question; such entries
//! remember the visitor, are listed in the export and removed by the erasure.
//!
//! Bounded per request (Cloudflare's per-invocation limits): an export lists at most
//! [`PAGE`] items of a kind and answers a `next` cursor while more remain; an erasure removes
//! at most [`PAGE`] votes, batches and questions, [`SEEN_PAGE`] `seen` rows and every KB entry
//! of the visitor per request, and answers `202 {"remaining": true}` until a request finds
//! nothing left (`200`).

use glimpse_shared::events::StoredBatch;
use glimpse_shared::kb::KbEntry;
use glimpse_shared::question::Question;
use glimpse_shared::{ApiError, Millis, Vote, keys};
use serde::{Deserialize, Serialize};

use crate::core::{Api, unavailable};
use crate::http::{ApiRequest, ApiResponse};
use crate::sql::{Row, Stmt, decode};
use crate::store::KvStore;

/// Most responses, votes, event batches and questions (each) one request exports or erases.
/// An erasure step's KV operations stay under [`KV_OPS_MAX`]: a response is 1 delete, a vote
/// 2 (0.16's vote key and receipt), a batch 1, a question 4 and more (record, photo, and 0.14's resolution key and
/// a listing of its reply keys, each deleted); questions past the budget wait for the next
/// step.
pub const PAGE: i64 = 150;
/// Most KV operations one erasure step makes (Workers KV allows 1000 per invocation).
pub const KV_OPS_MAX: usize = 900;
/// Most `seen` rows (the visitor's once-a-day marks) one request exports or erases.
pub const SEEN_PAGE: i64 = 1000;

/// What is stored for a visitor.
#[derive(Debug, Default, Serialize)]
pub struct VisitorData {
    pub visitor: String,
    /// `(poll, vote)`: the visitor's current answer per poll.
    pub votes: Vec<(String, Vote)>,
    /// `(poll, vote)`: every response the visitor sent and the consumer recorded, current
    /// and replaced (each is also a KV record until retention ends).
    pub responses: Vec<(String, Vote)>,
    pub event_batches: Vec<StoredBatch>,
    pub questions: Vec<Question>,
    /// Knowledge-base entries an operator published in answer to the visitor's questions.
    pub knowledge_base: Vec<KbEntry>,
    /// The days the visitor was counted for something (a story view, a unique visit…):
    /// `{day, metric, key}`.
    pub seen: Vec<Seen>,
    /// Present while more remains: repeat the request with `?cursor=` this value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// One once-a-day mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub day: String,
    pub metric: String,
    pub key: String,
}

#[derive(Deserialize)]
struct VoteRow {
    poll: String,
    response: String,
    value: String,
    at: Millis,
}

/// A `responses` row (the erasure reads only poll and response).
#[derive(Deserialize)]
struct ResponseRow {
    poll: String,
    response: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    at: Millis,
}

#[derive(Deserialize)]
struct BatchRow {
    id: String,
    day: String,
}

#[derive(Deserialize)]
struct QuestionRow {
    id: String,
    topic: String,
    message: String,
    created_at: Millis,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize)]
struct EntryRow {
    entry: String,
}

/// Where an export page starts: the section and the last key of the page before (for
/// `seen`, how many rows came before). Text form `{section}.{after}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub section: usize,
    pub after: String,
}

/// The sections of an export, in order.
const SECTIONS: [&str; 6] = ["votes", "batches", "questions", "seen", "kb", "responses"];

impl Cursor {
    pub fn parse(s: &str) -> Option<Self> {
        let (name, after) = s.split_once('.')?;
        let section = SECTIONS.iter().position(|x| *x == name)?;
        Some(Self {
            section,
            after: after.to_string(),
        })
    }

    pub fn text(&self) -> String {
        format!(
            "{}.{}",
            SECTIONS.get(self.section).copied().unwrap_or("responses"),
            self.after
        )
    }
}

fn cursor_of(req: &ApiRequest) -> Result<Cursor, ApiError> {
    match req.query_param("cursor") {
        None => Ok(Cursor {
            section: 0,
            after: String::new(),
        }),
        Some(c) => Cursor::parse(&c).ok_or_else(|| {
            ApiError::new(400, "invalid_cursor", "cursor is not one this API gave")
                .with_field("cursor")
        }),
    }
}

fn stmt_votes(site: &str, visitor: &str, after: &str) -> Stmt {
    Stmt::new(
        "SELECT poll, response, value, at FROM votes WHERE site = ?1 AND visitor = ?2 \
         AND poll > ?3 ORDER BY poll LIMIT ?4",
    )
    .bind(site)
    .bind(visitor)
    .bind(after)
    .bind(PAGE)
}

/// The visitor's responses after `after` (`{poll}/{response}`, empty for the first page).
fn stmt_responses(site: &str, visitor: &str, after: &str) -> Stmt {
    let (poll, response) = after.split_once('/').unwrap_or((after, ""));
    Stmt::new(
        "SELECT poll, response, value, at FROM responses WHERE site = ?1 AND visitor = ?2 \
         AND (poll, response) > (?3, ?4) ORDER BY poll, response LIMIT ?5",
    )
    .bind(site)
    .bind(visitor)
    .bind(poll)
    .bind(response)
    .bind(PAGE)
}

fn stmt_batches(site: &str, visitor: &str, after: &str) -> Stmt {
    Stmt::new(
        "SELECT id, day FROM batches WHERE site = ?1 AND visitor = ?2 AND id > ?3 \
         ORDER BY id LIMIT ?4",
    )
    .bind(site)
    .bind(visitor)
    .bind(after)
    .bind(PAGE)
}

fn stmt_questions(site: &str, visitor: &str, after: &str) -> Stmt {
    Stmt::new(
        "SELECT id, topic, message, created_at, email FROM questions WHERE site = ?1 AND visitor = ?2 \
         AND id > ?3 ORDER BY id LIMIT ?4",
    )
    .bind(site)
    .bind(visitor)
    .bind(after)
    .bind(PAGE)
}

fn response_of(r: ResponseRow) -> (String, Vote) {
    vote_of(VoteRow {
        poll: r.poll,
        response: r.response,
        value: r.value,
        at: r.at,
    })
}

fn vote_of(r: VoteRow) -> (String, Vote) {
    let answer =
        crate::json::from_str(&r.value).unwrap_or(glimpse_shared::Answer::Text(String::new()));
    (
        r.poll,
        Vote {
            id: r.response,
            answer,
            at: r.at,
        },
    )
}

fn question_of(r: QuestionRow, visitor: &str) -> Question {
    // Never exported: not even the token's hash leaves storage.
    Question {
        id: r.id,
        topic: r.topic,
        message: r.message,
        visitor: visitor.to_string(),
        token: String::new(),
        created_at: r.created_at,
        email: r.email,
    }
}

fn rows_of<T: serde::de::DeserializeOwned>(rows: Option<Vec<Row>>) -> Result<Vec<T>, ApiError> {
    decode(rows.unwrap_or_default()).map_err(unavailable)
}

/// `GET /v1/admin/sites/{site}/visitors/{visitor}[?cursor=…]`: what is stored for that
/// visitor, a page at a time (see the module's bounds): at most 6 D1 queries and
/// [`PAGE`] KV reads (the event batches' records).
pub async fn export<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &str,
    visitor: &str,
) -> Result<ApiResponse, ApiError> {
    let cursor = cursor_of(req)?;
    let mut out = VisitorData {
        visitor: visitor.to_string(),
        ..VisitorData::default()
    };
    let full = |n: usize| i64::try_from(n).unwrap_or(i64::MAX) >= PAGE;
    for section in cursor.section..SECTIONS.len() {
        let after = if section == cursor.section {
            cursor.after.as_str()
        } else {
            ""
        };
        let next_after: Option<String> = match section {
            0 => {
                let rows: Vec<VoteRow> =
                    crate::sql::rows(api.sql, stmt_votes(site, visitor, after))
                        .await
                        .map_err(unavailable)?;
                let more = full(rows.len());
                out.votes.extend(rows.into_iter().map(vote_of));
                out.votes.last().filter(|_| more).map(|(p, _)| p.clone())
            }
            1 => {
                let rows: Vec<BatchRow> =
                    crate::sql::rows(api.sql, stmt_batches(site, visitor, after))
                        .await
                        .map_err(unavailable)?;
                for r in &rows {
                    if let Some(raw) = api
                        .store
                        .get(&keys::events(site, &r.day, &r.id))
                        .await
                        .map_err(unavailable)?
                        && let Ok(b) = crate::json::from_str::<StoredBatch>(&raw)
                    {
                        out.event_batches.push(b);
                    }
                }
                rows.last()
                    .filter(|_| full(rows.len()))
                    .map(|r| r.id.clone())
            }
            2 => {
                let rows: Vec<QuestionRow> =
                    crate::sql::rows(api.sql, stmt_questions(site, visitor, after))
                        .await
                        .map_err(unavailable)?;
                let more = full(rows.len());
                out.questions
                    .extend(rows.into_iter().map(|r| question_of(r, visitor)));
                out.questions.last().filter(|_| more).map(|q| q.id.clone())
            }
            3 => {
                let offset: i64 = after.parse().unwrap_or(0);
                let rows: Vec<Seen> = crate::sql::rows(
                    api.sql,
                    Stmt::new(
                        "SELECT day, metric, key FROM seen WHERE site = ?1 AND visitor = ?2 \
                         ORDER BY day, metric, key LIMIT ?3 OFFSET ?4",
                    )
                    .bind(site)
                    .bind(visitor)
                    .bind(SEEN_PAGE)
                    .bind(offset),
                )
                .await
                .map_err(unavailable)?;
                let n = i64::try_from(rows.len()).unwrap_or(i64::MAX);
                out.seen = rows;
                (n >= SEEN_PAGE).then(|| (offset + n).to_string())
            }
            5 => {
                let rows: Vec<ResponseRow> =
                    crate::sql::rows(api.sql, stmt_responses(site, visitor, after))
                        .await
                        .map_err(unavailable)?;
                let more = full(rows.len());
                out.responses.extend(rows.into_iter().map(response_of));
                out.responses
                    .last()
                    .filter(|_| more)
                    .map(|(p, v)| format!("{p}/{}", v.id))
            }
            _ => {
                // A visitor's questions with published answers: a handful at most.
                let rows: Vec<EntryRow> = crate::sql::rows(
                    api.sql,
                    Stmt::new(
                        "SELECT entry FROM kb WHERE site = ?1 AND visitor = ?2 ORDER BY id LIMIT ?3",
                    )
                    .bind(site)
                    .bind(visitor)
                    .bind(PAGE),
                )
                .await
                .map_err(unavailable)?;
                out.knowledge_base = rows
                    .iter()
                    .filter_map(|r| crate::json::from_str(&r.entry).ok())
                    .collect();
                None
            }
        };
        if let Some(after) = next_after {
            out.next = Some(Cursor { section, after }.text());
            break;
        }
    }
    Ok(ApiResponse::json(200, &out).with_header("cache-control", "no-store"))
}

/// How much one erasure request removed.
#[derive(Debug, Default, Serialize)]
pub struct Erased {
    pub votes: usize,
    pub responses: usize,
    pub event_batches: usize,
    pub questions: usize,
    pub knowledge_base: usize,
    pub seen: usize,
}

/// The D1 writes of one erasure step: the given votes (tallies decremented in the same
/// transaction), batches and questions (with their replies), up to [`SEEN_PAGE`] `seen`
/// rows and the visitor's KB entries; the last statement answers `{more}`.
pub fn erase_plan(
    site: &str,
    visitor: &str,
    polls: &[&str],
    batches: &[&str],
    questions: &[&str],
    responses: &[(&str, &str)],
) -> Vec<Stmt> {
    let s = |sql: &'static str| Stmt::new(sql).bind(site).bind(visitor);
    vec![
        // Each of the visitor's answers leaves its tally (rows at 0 go).
        s(
            "UPDATE tallies SET n = n - 1 WHERE site = ?1 AND (poll, answer) IN \
           (SELECT poll, answer FROM votes WHERE site = ?1 AND visitor = ?2 \
            AND poll IN (SELECT value FROM json_each(?3)))",
        )
        .bind_json(polls),
        // …and their days' vote and CSAT counters, as if never given (the counters the
        // consumer moved: see `crate::ingest::erase_votes`; here for this step's polls).
        s(
            "UPDATE daily SET n = n - (SELECT COUNT(*) FROM votes v WHERE v.site = ?1 \
           AND v.visitor = ?2 AND v.poll IN (SELECT value FROM json_each(?3)) \
           AND date(v.at / 1000, 'unixepoch') = daily.day \
           AND v.poll || '/' || v.answer = daily.key) \
           WHERE site = ?1 AND metric = 'vote' AND (day, key) IN \
           (SELECT date(at / 1000, 'unixepoch'), poll || '/' || answer FROM votes \
            WHERE site = ?1 AND visitor = ?2 AND poll IN (SELECT value FROM json_each(?3)))",
        )
        .bind_json(polls),
        s(
            "UPDATE daily SET n = n - (SELECT COUNT(*) FROM votes v WHERE v.site = ?1 \
           AND v.visitor = ?2 AND v.poll IN (SELECT value FROM json_each(?3)) \
           AND date(v.at / 1000, 'unixepoch') = daily.day \
           AND CAST(json_extract(v.value, '$.rating') AS TEXT) = daily.key) \
           WHERE site = ?1 AND metric = 'csat' AND (day, key) IN \
           (SELECT date(at / 1000, 'unixepoch'), CAST(json_extract(value, '$.rating') AS TEXT) \
            FROM votes WHERE site = ?1 AND visitor = ?2 \
            AND poll IN (SELECT value FROM json_each(?3)) \
            AND json_extract(value, '$.rating') IS NOT NULL)",
        )
        .bind_json(polls),
        s(
            "DELETE FROM tallies WHERE site = ?1 AND n <= 0 AND ?2 = ?2 \
           AND poll IN (SELECT value FROM json_each(?3))",
        )
        .bind_json(polls),
        s("DELETE FROM votes WHERE site = ?1 AND visitor = ?2 \
           AND poll IN (SELECT value FROM json_each(?3))")
        .bind_json(polls),
        s("DELETE FROM batches WHERE site = ?1 AND visitor = ?2 \
           AND id IN (SELECT value FROM json_each(?3))")
        .bind_json(batches),
        s("DELETE FROM replies WHERE site = ?1 AND ?2 = ?2 \
           AND question IN (SELECT value FROM json_each(?3))")
        .bind_json(questions),
        s("DELETE FROM questions WHERE site = ?1 AND visitor = ?2 \
           AND id IN (SELECT value FROM json_each(?3))")
        .bind_json(questions),
        s(
            "DELETE FROM seen WHERE (site, day, metric, key, visitor) IN \
           (SELECT site, day, metric, key, visitor FROM seen WHERE site = ?1 AND visitor = ?2 \
            LIMIT ?3) RETURNING 1 AS n",
        )
        .bind(SEEN_PAGE),
        s("DELETE FROM kb WHERE site = ?1 AND visitor = ?2 RETURNING id"),
        s(
            "DELETE FROM responses WHERE site = ?1 AND visitor = ?2 AND (poll, response) IN \
           (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') \
            FROM json_each(?3))",
        )
        .bind_json(responses),
        s("DELETE FROM followups WHERE site = ?1 AND ?2 = ?2 \
           AND question IN (SELECT value FROM json_each(?3))")
        .bind_json(questions),
        // What they asked and upvoted in live sessions (a page of each per step).
        s("DELETE FROM live_questions WHERE (site, session, id) IN \
           (SELECT site, session, id FROM live_questions WHERE site = ?1 AND visitor = ?2 \
            LIMIT ?3)")
        .bind(PAGE),
        s(
            "DELETE FROM live_votes WHERE (site, session, question, visitor) IN \
           (SELECT site, session, question, visitor FROM live_votes \
            WHERE site = ?1 AND visitor = ?2 LIMIT ?3)",
        )
        .bind(PAGE),
        s(
            "SELECT (EXISTS (SELECT 1 FROM votes WHERE site = ?1 AND visitor = ?2) \
           OR EXISTS (SELECT 1 FROM responses WHERE site = ?1 AND visitor = ?2) \
           OR EXISTS (SELECT 1 FROM batches WHERE site = ?1 AND visitor = ?2) \
           OR EXISTS (SELECT 1 FROM questions WHERE site = ?1 AND visitor = ?2) \
           OR EXISTS (SELECT 1 FROM seen WHERE site = ?1 AND visitor = ?2) \
           OR EXISTS (SELECT 1 FROM kb WHERE site = ?1 AND visitor = ?2) \
           OR EXISTS (SELECT 1 FROM live_questions WHERE site = ?1 AND visitor = ?2) \
           OR EXISTS (SELECT 1 FROM live_votes WHERE site = ?1 AND visitor = ?2)) AS more",
        ),
    ]
}

/// `DELETE /v1/admin/sites/{site}/visitors/{visitor}`: erases a bounded step of what is
/// stored for the visitor (see the module). `200 {visitor, erased}` when nothing is left,
/// `202 {visitor, erased, remaining: true}` while more remains: repeat until 200. Safe to
/// repeat at any point. Two D1 calls (5 and 13 statements) and at most 900 KV deletes.
///
/// The first write is the visitor's `erased` tombstone (site, visitor, now): the queue
/// consumer drops any message of that visitor sent before it, so nothing queued brings the
/// data back.
pub async fn erase<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    visitor: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let tombstone = Stmt::new(
        "INSERT INTO erased (site, visitor, at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (site, visitor) DO UPDATE SET at = MAX(at, excluded.at)",
    )
    .bind(site)
    .bind(visitor)
    .bind(now_ms);
    let mut found = api
        .sql
        .batch(&[
            tombstone,
            stmt_votes(site, visitor, ""),
            stmt_batches(site, visitor, ""),
            stmt_questions(site, visitor, ""),
            stmt_responses(site, visitor, ""),
        ])
        .await
        .map_err(unavailable)?
        .into_iter()
        .skip(1);
    let votes: Vec<VoteRow> = rows_of(found.next())?;
    let batches: Vec<BatchRow> = rows_of(found.next())?;
    let questions: Vec<QuestionRow> = rows_of(found.next())?;
    let responses: Vec<ResponseRow> = rows_of(found.next())?;

    // KV records first: the D1 rows are their index, deleted once the records are gone.
    let mut doomed: Vec<String> = Vec::new();
    // Each response's record; and what versions before 0.17 kept per current answer (the
    // vote key and the response's receipt).
    doomed.extend(
        responses
            .iter()
            .map(|r| keys::response(site, &r.poll, &r.response)),
    );
    for v in &votes {
        doomed.push(keys::vote(site, &v.poll, visitor));
        doomed.push(keys::receipt(site, &v.poll, &v.response));
    }
    doomed.extend(batches.iter().map(|b| keys::events(site, &b.day, &b.id)));
    for key in &doomed {
        api.store.delete(key).await.map_err(unavailable)?;
    }
    // Each question: its record and photo, and what versions up to 0.14 kept beside it (the
    // resolution key, one key per reply: one listing). A question whose keys do not fit in
    // this step's KV budget waits for the next step (its rows stay, so it is found again).
    let mut ops = doomed.len();
    let mut done_questions: Vec<&str> = Vec::new();
    for q in &questions {
        if ops + 4 > KV_OPS_MAX {
            break;
        }
        let legacy = api
            .store
            .list(&keys::replies_prefix(site, &q.id), None)
            .await
            .map_err(unavailable)?;
        ops += 1;
        let whole = legacy.cursor.is_none();
        for r in &legacy.keys {
            if ops >= KV_OPS_MAX {
                break;
            }
            api.store.delete(&r.name).await.map_err(unavailable)?;
            ops += 1;
        }
        if !whole || ops + 3 > KV_OPS_MAX {
            break;
        }
        for key in [
            keys::question(site, &q.id),
            keys::question_photo(site, &q.id),
            keys::resolution(site, &q.id),
        ] {
            api.store.delete(&key).await.map_err(unavailable)?;
        }
        ops += 3;
        done_questions.push(&q.id);
    }

    let polls: Vec<&str> = votes.iter().map(|v| v.poll.as_str()).collect();
    let batch_ids: Vec<&str> = batches.iter().map(|b| b.id.as_str()).collect();
    let question_ids = done_questions;
    let out = api
        .sql
        .batch(&erase_plan(
            site,
            visitor,
            &polls,
            &batch_ids,
            &question_ids,
            &responses
                .iter()
                .map(|r| (r.poll.as_str(), r.response.as_str()))
                .collect::<Vec<_>>(),
        ))
        .await
        .map_err(unavailable)?;
    let count = |i: usize| out.get(i).map_or(0, Vec::len);
    let erased = Erased {
        votes: votes.len(),
        responses: responses.len(),
        event_batches: batches.len(),
        questions: question_ids.len(),
        seen: count(8),
        knowledge_base: count(9),
    };
    let more = out
        .last()
        .and_then(|rows| rows.first())
        .and_then(|row| row.get("more"))
        .and_then(serde_json::Value::as_i64)
        .is_none_or(|m| m != 0);
    let res = if more {
        ApiResponse::json(
            202,
            &serde_json::json!({ "visitor": visitor, "erased": erased, "remaining": true }),
        )
    } else {
        ApiResponse::json(
            200,
            &serde_json::json!({ "visitor": visitor, "erased": erased }),
        )
    };
    Ok(res.with_header("cache-control", "no-store"))
}
