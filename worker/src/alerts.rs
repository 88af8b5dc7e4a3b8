//! What the team is alerted about, as webhook events ([`Envelope`]s): new questions and low
//! CSAT answers found among the facts the consumer writes, replies and resolutions made by
//! operators, and stories about to expire (found by the hourly tick, each told once).
//!
//! Event ids are made from the facts' own ids (`question.created` of question `q1` is
//! `qc-q1`), so the same fact delivered twice is the same event: receivers deduplicate by
//! `Glimpse-Delivery`.

use glimpse_shared::question::{Question, Reply, Resolution};
use glimpse_shared::webhook::{Envelope, EventType};
use glimpse_shared::{Answer, Millis};
use serde::Deserialize;
use serde_json::json;

use crate::queue::Message;
use crate::sql::{Sql, Stmt, rows};
use crate::store::StoreError;

/// A CSAT answer this low or lower alerts (`csat.low`).
pub const LOW_STARS: u8 = 2;
/// How far ahead a story's expiry alerts (`story.expiring`), in ms: 24 hours.
pub const EXPIRING_WITHIN_MS: Millis = 24 * 3_600_000;
/// Most `story.expiring` events one site's tick sends.
pub const EXPIRING_MAX: i64 = 50;

fn envelope(
    id: String,
    kind: EventType,
    site: &str,
    at: Millis,
    data: serde_json::Value,
) -> Envelope {
    Envelope {
        id,
        kind,
        site: site.into(),
        created_at: at,
        data,
    }
}

/// `question.created` for a question that reached the inbox.
pub fn question_created(site: &str, q: &Question) -> Envelope {
    let mut data = json!({
        "question": q.id,
        "topic": q.topic,
        "message": q.message,
        "created_at": q.created_at,
    });
    if let Some(email) = &q.email {
        data["email"] = json!(email);
    }
    envelope(
        format!("qc-{}", q.id),
        EventType::QuestionCreated,
        site,
        q.created_at,
        data,
    )
}

/// `question.replied` for reply `reply_id`.
pub fn question_replied(site: &str, question: &str, reply_id: &str, r: &Reply) -> Envelope {
    let mut data = json!({ "question": question, "text": r.text, "at": r.at });
    if let Some(a) = &r.author {
        data["author"] = json!(a);
    }
    if let Some(p) = &r.photo {
        data["photo"] = json!(p);
    }
    envelope(
        format!("qr-{reply_id}"),
        EventType::QuestionReplied,
        site,
        r.at,
        data,
    )
}

/// `question.resolved`.
pub fn question_resolved(site: &str, question: &str, r: &Resolution) -> Envelope {
    envelope(
        format!("qs-{question}-{}", r.at),
        EventType::QuestionResolved,
        site,
        r.at,
        json!({ "question": question, "category": r.category, "at": r.at }),
    )
}

#[derive(Deserialize)]
struct KnownResponse {
    site: String,
    poll: String,
    response: String,
}

/// The events among the facts of one consumer batch, decided before they are written:
/// `question.created` for each question the batch adds (`asked`, from
/// [`crate::questions::plan_ingest`]) and `csat.low` for each rating answer of at most
/// [`LOW_STARS`] whose response id is new (one query, only when there is such an answer).
pub async fn from_facts(
    sql: &dyn Sql,
    facts: &[&Message],
    asked: &[(&str, &Question)],
    _now_ms: Millis,
) -> Result<Vec<Envelope>, StoreError> {
    let mut out: Vec<Envelope> = asked
        .iter()
        .map(|(site, q)| question_created(site, q))
        .collect();
    let low: Vec<(&str, &str, &glimpse_shared::Vote)> = facts
        .iter()
        .filter_map(|m| match m {
            Message::Vote {
                site, poll, vote, ..
            } if matches!(vote.answer, Answer::Rating(n) if n <= LOW_STARS) => {
                Some((site.as_str(), poll.as_str(), vote))
            }
            _ => None,
        })
        .collect();
    if low.is_empty() {
        return Ok(out);
    }
    let keys: Vec<[&str; 3]> = low
        .iter()
        .map(|(s, p, v)| [*s, *p, v.id.as_str()])
        .collect();
    let known: Vec<KnownResponse> = rows(
        sql,
        Stmt::new(
            "SELECT r.site, r.poll, r.response FROM json_each(?1) j JOIN responses r \
             ON r.site = json_extract(j.value, '$[0]') AND r.poll = json_extract(j.value, '$[1]') \
             AND r.response = json_extract(j.value, '$[2]')",
        )
        .bind_json(&keys),
    )
    .await?;
    let mut seen = std::collections::BTreeSet::new();
    for (site, poll, vote) in low {
        let old = known
            .iter()
            .any(|k| k.site == site && k.poll == poll && k.response == vote.id);
        if old || !seen.insert((site, poll, vote.id.as_str())) {
            continue;
        }
        let stars = match vote.answer {
            Answer::Rating(n) => n,
            _ => 0,
        };
        out.push(envelope(
            format!("csat-{poll}-{}", vote.id),
            EventType::CsatLow,
            site,
            vote.at,
            json!({ "poll": poll, "response": vote.id, "stars": stars, "at": vote.at }),
        ));
    }
    Ok(out)
}

#[derive(Deserialize)]
struct Expiring {
    id: String,
    title: Option<String>,
    expires_at: Millis,
}

/// `story.expiring` for the site's published stories that expire within
/// [`EXPIRING_WITHIN_MS`] of `now_ms` and were not told yet (at most [`EXPIRING_MAX`] a
/// tick), with the statement that records them as told (`notices`). Two queries' worth.
pub async fn expiring(
    sql: &dyn Sql,
    site: &str,
    now_ms: Millis,
) -> Result<(Vec<Envelope>, Option<Stmt>), StoreError> {
    let found: Vec<Expiring> = rows(
        sql,
        Stmt::new(
            "SELECT c.id, json_extract(c.body, '$.title') AS title, c.over_at AS expires_at \
             FROM content c WHERE c.site = ?1 AND c.kind = 'story' \
             AND c.over_at > ?2 AND c.over_at <= ?3 \
             AND json_extract(c.body, '$.publish_at') <= ?2 \
             AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.site = c.site \
             AND n.key = 'expiring:' || c.id || ':' || c.over_at) \
             ORDER BY c.over_at LIMIT ?4",
        )
        .bind(site)
        .bind(now_ms)
        .bind(now_ms + EXPIRING_WITHIN_MS)
        .bind(EXPIRING_MAX),
    )
    .await?;
    if found.is_empty() {
        return Ok((Vec::new(), None));
    }
    let keys: Vec<String> = found
        .iter()
        .map(|s| format!("expiring:{}:{}", s.id, s.expires_at))
        .collect();
    let record = Stmt::new(
        "INSERT INTO notices (site, key, at) SELECT ?1, value, ?2 FROM json_each(?3) \
         WHERE true ON CONFLICT (site, key) DO NOTHING",
    )
    .bind(site)
    .bind(now_ms)
    .bind_json(&keys);
    let events = found
        .into_iter()
        .map(|s| {
            envelope(
                format!("se-{}-{}", s.id, s.expires_at),
                EventType::StoryExpiring,
                site,
                now_ms,
                json!({ "story": s.id, "title": s.title.unwrap_or_default(), "expires_at": s.expires_at }),
            )
        })
        .collect();
    Ok((events, Some(record)))
}
