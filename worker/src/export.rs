//! `GET /v1/admin/sites/{site}/export`: raw records for a warehouse or BI tool, a page at a
//! time, oldest first, as NDJSON (one JSON object a line) or CSV (RFC 4180, a header row).
//!
//! Query: `kind` (required) is `responses` (poll answers, CSAT ratings and text answers;
//! `poll` narrows to one poll), `questions` (the inbox's questions with their timings) or
//! `events` (what visitors did: views, completions, CTA clicks, escalations, joins, one row
//! per event); `format` is `ndjson` (default) or `csv`; `cursor` is the previous page's
//! `Glimpse-Next-Cursor`; `include_text=true` adds visitors' own words (text answers, the
//! question's message and email), left out otherwise.
//!
//! Bounded: one D1 query a page ([`PAGE`] rows; events: [`EVENT_BATCHES`] batches, one KV
//! read each), through an index on the arrival time. The next page's cursor is in the
//! `Glimpse-Next-Cursor` header and a `Link: <…>; rel="next"`; the last page has neither.

use base64::Engine;
use glimpse_shared::events::StoredBatch;
use glimpse_shared::poll::Answer;
use glimpse_shared::{ApiError, keys};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::core::{Api, unavailable};
use crate::http::{ApiRequest, ApiResponse};
use crate::sql::{Stmt, rows};
use crate::store::KvStore;

/// Rows a page holds (responses, questions).
pub const PAGE: i64 = 500;
/// Event batches a page reads (each one KV read, up to 50 events each).
pub const EVENT_BATCHES: i64 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Responses,
    Questions,
    Events,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Ndjson,
    Csv,
}

/// Where a page starts: after the row with this (time, first key, second key).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
struct Cursor(i64, String, String);

impl Cursor {
    fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_string(self).unwrap_or_default())
    }

    fn decode(s: &str) -> Option<Self> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()?;
        serde_json::from_slice(&raw).ok()
    }

    fn start() -> Self {
        Cursor(i64::MIN, String::new(), String::new())
    }
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::new(400, "invalid", message).with_field(field)
}

/// The export's columns for `kind`, in CSV order (NDJSON objects have the same names; a
/// value left out is absent there and empty in CSV).
fn columns(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Responses => &[
            "poll",
            "response",
            "visitor",
            "at",
            "answer_kind",
            "choice",
            "rating",
            "text",
        ],
        Kind::Questions => &[
            "id",
            "topic",
            "visitor",
            "created_at",
            "has_photo",
            "first_reply_at",
            "resolved_at",
            "category",
            "message",
            "email",
        ],
        Kind::Events => &[
            "batch",
            "visitor",
            "received_at",
            "kind",
            "story",
            "slide",
            "channel",
            "topic",
            "session",
        ],
    }
}

/// Answers the export request (see the module docs).
pub async fn export<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &str,
) -> Result<ApiResponse, ApiError> {
    let kind = match req.query_param("kind").as_deref() {
        Some("responses") => Kind::Responses,
        Some("questions") => Kind::Questions,
        Some("events") => Kind::Events,
        _ => {
            return Err(invalid("kind", "kind is responses, questions or events"));
        }
    };
    let format = match req.query_param("format").as_deref() {
        None | Some("ndjson") => Format::Ndjson,
        Some("csv") => Format::Csv,
        Some(_) => return Err(invalid("format", "format is ndjson or csv")),
    };
    let include_text = match req.query_param("include_text").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(invalid("include_text", "include_text is true or false")),
    };
    let cursor = match req.query_param("cursor") {
        None => Cursor::start(),
        Some(c) => Cursor::decode(&c).ok_or_else(|| {
            invalid(
                "cursor",
                "cursor is the Glimpse-Next-Cursor of a previous page",
            )
        })?,
    };
    let poll = req.query_param("poll");
    if let Some(p) = &poll
        && (kind != Kind::Responses || !glimpse_shared::ids::is_slug(p))
    {
        return Err(invalid("poll", "poll is a poll id, with kind=responses"));
    }
    crate::admin::load_site_pub(api, site).await?;
    let (records, next) = match kind {
        Kind::Responses => responses(api, site, poll.as_deref(), &cursor, include_text).await?,
        Kind::Questions => questions(api, site, &cursor, include_text).await?,
        Kind::Events => events(api, site, &cursor).await?,
    };
    let (body, content_type) = match format {
        Format::Ndjson => (ndjson(&records), "application/x-ndjson; charset=utf-8"),
        Format::Csv => (csv(columns(kind), &records)?, "text/csv; charset=utf-8"),
    };
    let mut res = ApiResponse::json_text(200, body)
        .with_header("content-type", content_type)
        .with_header("cache-control", "no-store");
    if let Some(next) = next {
        let token = next.encode();
        let mut query: Vec<String> = vec![format!(
            "kind={}",
            match kind {
                Kind::Responses => "responses",
                Kind::Questions => "questions",
                Kind::Events => "events",
            }
        )];
        if format == Format::Csv {
            query.push("format=csv".into());
        }
        if include_text {
            query.push("include_text=true".into());
        }
        if let Some(p) = &poll {
            query.push(format!("poll={p}"));
        }
        query.push(format!("cursor={token}"));
        res = res.with_header("glimpse-next-cursor", &token).with_header(
            "link",
            &format!(
                "</v1/admin/sites/{site}/export?{}>; rel=\"next\"",
                query.join("&")
            ),
        );
    }
    Ok(res)
}

fn ndjson(records: &[Value]) -> String {
    let mut out = String::new();
    for r in records {
        out.push_str(&r.to_string());
        out.push('\n');
    }
    out
}

fn csv(columns: &[&str], records: &[Value]) -> Result<String, ApiError> {
    let fail = |_| ApiError::new(500, "internal", "the CSV could not be written");
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(columns).map_err(fail)?;
    for r in records {
        w.write_record(columns.iter().map(|c| match &r[*c] {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }))
        .map_err(fail)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|_| ApiError::new(500, "internal", "CSV"))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `PAGE + 1` rows were asked for: the page and, if there was one more, the cursor after
/// the page's last row.
fn split<T>(mut found: Vec<T>, limit: i64, key: impl Fn(&T) -> Cursor) -> (Vec<T>, Option<Cursor>) {
    let limit = usize::try_from(limit).unwrap_or(0);
    if found.len() > limit {
        found.truncate(limit);
        let next = found.last().map(key);
        (found, next)
    } else {
        (found, None)
    }
}

#[derive(Deserialize)]
struct ResponseRow {
    poll: String,
    response: String,
    visitor: String,
    value: String,
    at: i64,
}

async fn responses<S>(
    api: &Api<'_, S>,
    site: &str,
    poll: Option<&str>,
    after: &Cursor,
    include_text: bool,
) -> Result<(Vec<Value>, Option<Cursor>), ApiError> {
    let found: Vec<ResponseRow> = rows(
        api.sql,
        Stmt::new(
            "SELECT poll, response, visitor, value, at FROM responses \
             WHERE site = ?1 AND (?2 IS NULL OR poll = ?2) AND (at, poll, response) > (?3, ?4, ?5) \
             ORDER BY at, poll, response LIMIT ?6",
        )
        .bind(site)
        .bind(poll)
        .bind(after.0)
        .bind(after.1.as_str())
        .bind(after.2.as_str())
        .bind(PAGE + 1),
    )
    .await
    .map_err(unavailable)?;
    let (page, next) = split(found, PAGE, |r| {
        Cursor(r.at, r.poll.clone(), r.response.clone())
    });
    let records = page
        .into_iter()
        .map(|r| {
            let mut v = json!({
                "poll": r.poll, "response": r.response, "visitor": r.visitor, "at": r.at,
            });
            match crate::json::from_str::<Answer>(&r.value) {
                Ok(Answer::Choice(i)) => {
                    v["answer_kind"] = json!("choice");
                    v["choice"] = json!(i);
                }
                Ok(Answer::Rating(n)) => {
                    v["answer_kind"] = json!("rating");
                    v["rating"] = json!(n);
                }
                Ok(Answer::Text(t)) => {
                    v["answer_kind"] = json!("text");
                    if include_text {
                        v["text"] = json!(t);
                    }
                }
                Err(_) => {}
            }
            v
        })
        .collect();
    Ok((records, next))
}

#[derive(Deserialize)]
struct QuestionRow {
    id: String,
    topic: String,
    visitor: String,
    created_at: i64,
    has_photo: i64,
    first_reply_at: Option<i64>,
    resolved_at: Option<i64>,
    category: Option<String>,
    message: String,
    email: Option<String>,
}

async fn questions<S>(
    api: &Api<'_, S>,
    site: &str,
    after: &Cursor,
    include_text: bool,
) -> Result<(Vec<Value>, Option<Cursor>), ApiError> {
    let found: Vec<QuestionRow> = rows(
        api.sql,
        Stmt::new(
            "SELECT id, topic, visitor, created_at, has_photo, first_reply_at, resolved_at, \
             category, message, email FROM questions \
             WHERE site = ?1 AND (created_at, id) > (?2, ?3) ORDER BY created_at, id LIMIT ?4",
        )
        .bind(site)
        .bind(after.0)
        .bind(after.1.as_str())
        .bind(PAGE + 1),
    )
    .await
    .map_err(unavailable)?;
    let (page, next) = split(found, PAGE, |r| {
        Cursor(r.created_at, r.id.clone(), String::new())
    });
    let records = page
        .into_iter()
        .map(|r| {
            let mut v = json!({
                "id": r.id, "topic": r.topic, "visitor": r.visitor, "created_at": r.created_at,
                "has_photo": r.has_photo != 0, "first_reply_at": r.first_reply_at,
                "resolved_at": r.resolved_at, "category": r.category,
            });
            if include_text {
                v["message"] = json!(r.message);
                v["email"] = json!(r.email);
            }
            strip_nulls(v)
        })
        .collect();
    Ok((records, next))
}

#[derive(Deserialize)]
struct BatchRow {
    id: String,
    visitor: String,
    day: String,
    received_at: i64,
}

async fn events<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    after: &Cursor,
) -> Result<(Vec<Value>, Option<Cursor>), ApiError> {
    let found: Vec<BatchRow> = rows(
        api.sql,
        Stmt::new(
            "SELECT id, visitor, day, received_at FROM batches \
             WHERE site = ?1 AND (received_at, id) > (?2, ?3) ORDER BY received_at, id LIMIT ?4",
        )
        .bind(site)
        .bind(after.0)
        .bind(after.1.as_str())
        .bind(EVENT_BATCHES + 1),
    )
    .await
    .map_err(unavailable)?;
    let (page, next) = split(found, EVENT_BATCHES, |r| {
        Cursor(r.received_at, r.id.clone(), String::new())
    });
    let mut records = Vec::new();
    for b in page {
        // A batch whose record retention already removed (or erasure) has nothing to give.
        let Some(raw) = api
            .store
            .get(&keys::events(site, &b.day, &b.id))
            .await
            .map_err(unavailable)?
        else {
            continue;
        };
        let Ok(stored) = crate::json::from_str::<StoredBatch>(&raw) else {
            continue;
        };
        for e in stored.events {
            let mut v = json!({
                "batch": b.id, "visitor": b.visitor, "received_at": b.received_at,
            });
            let detail = serde_json::to_value(&e.kind).unwrap_or(Value::Null);
            if let Value::Object(map) = detail {
                for (k, val) in map {
                    v[k] = val;
                }
            }
            records.push(strip_nulls(v));
        }
    }
    Ok((records, next))
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = Cursor(1_764_000_000_000, "csat".into(), "r-1".into());
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("not a cursor"), None);
        assert_eq!(Cursor::decode(""), None);
    }

    #[test]
    fn csv_quotes_what_needs_quoting() -> Result<(), ApiError> {
        let out = csv(
            &["a", "b"],
            &[json!({"a": "x, \"y\"\nz", "b": 3}), json!({"a": "plain"})],
        )?;
        assert_eq!(out, "a,b\n\"x, \"\"y\"\"\nz\",3\nplain,\n");
        Ok(())
    }
}
