//! The daily roll-up: reads one UTC day's facts (event batches, rating votes, questions) and
//! stores the pure `shared::rollup` summary under `site/{site}/rollup/{day}`. Re-running a day
//! rewrites the same value (idempotent). Run hourly by the cron trigger for today and
//! yesterday, and on demand by operators.

use chrono::NaiveDate;
use glimpse_shared::events::StoredBatch;
use glimpse_shared::keys::{self, ContentKind};
use glimpse_shared::question::{Question, QuestionSummary, Reply, Resolution};
use glimpse_shared::rollup::{DayStats, rollup};
use glimpse_shared::{ApiError, Millis, Poll, PollKind, Vote};
use serde_json::json;

use crate::core::unavailable;
use crate::http::{ApiRequest, ApiResponse};
use crate::store::{KvStore, Put, list_all};

const PAGES: usize = 50;

fn rollup_key(site: &str, day: &str) -> String {
    format!("site/{site}/rollup/{day}")
}

/// `[start, end)` of a `YYYY-MM-DD` UTC day in ms, or a 400.
pub fn day_range(day: &str) -> Result<(Millis, Millis), ApiError> {
    let date = NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|_| ApiError::new(400, "invalid", "day must be YYYY-MM-DD").with_field("day"))?;
    let start = date
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp_millis())
        .ok_or_else(|| ApiError::new(400, "invalid", "day is out of range").with_field("day"))?;
    Ok((start, start + 86_400_000))
}

/// Computes and stores `day`'s summary for `site`.
pub async fn run<S: KvStore>(store: &S, site: &str, day: &str) -> Result<DayStats, ApiError> {
    let (start, end) = day_range(day)?;
    let mut batches = Vec::new();
    for k in list_all(store, &keys::events_prefix(site, Some(day)), PAGES)
        .await
        .map_err(unavailable)?
    {
        if let Some(raw) = store.get(&k.name).await.map_err(unavailable)?
            && let Ok(b) = serde_json::from_str::<StoredBatch>(&raw)
        {
            batches.push(b);
        }
    }
    let mut votes = Vec::new();
    let poll_prefix = keys::content_prefix(site, ContentKind::Poll);
    for k in list_all(store, &poll_prefix, PAGES)
        .await
        .map_err(unavailable)?
    {
        let Some(raw) = store.get(&k.name).await.map_err(unavailable)? else {
            continue;
        };
        let Ok(poll) = serde_json::from_str::<Poll>(&raw) else {
            continue;
        };
        if poll.kind != PollKind::Rating {
            continue;
        }
        for v in list_all(store, &keys::votes_prefix(site, &poll.id), PAGES)
            .await
            .map_err(unavailable)?
        {
            if let Some(vote) = v
                .metadata
                .and_then(|m| serde_json::from_value::<Vote>(m).ok())
                && (start..end).contains(&vote.at)
            {
                votes.push(vote);
            }
        }
    }
    let mut questions = Vec::new();
    for k in list_all(store, &keys::questions_prefix(site), PAGES)
        .await
        .map_err(unavailable)?
    {
        let in_day = k
            .metadata
            .and_then(|m| serde_json::from_value::<QuestionSummary>(m).ok())
            .is_some_and(|s| (start..end).contains(&s.created_at));
        if !in_day {
            continue;
        }
        let Some(raw) = store.get(&k.name).await.map_err(unavailable)? else {
            continue;
        };
        let Ok(q) = serde_json::from_str::<Question>(&raw) else {
            continue;
        };
        let mut replies = Vec::new();
        for r in list_all(store, &keys::replies_prefix(site, &q.id), PAGES)
            .await
            .map_err(unavailable)?
        {
            if let Some(raw) = store.get(&r.name).await.map_err(unavailable)?
                && let Ok(reply) = serde_json::from_str::<Reply>(&raw)
            {
                replies.push(reply);
            }
        }
        let resolution: Option<Resolution> = store
            .get(&keys::resolution(site, &q.id))
            .await
            .map_err(unavailable)?
            .and_then(|raw| serde_json::from_str(&raw).ok());
        questions.push((q, replies, resolution));
    }
    let stats = rollup(day, &batches, &votes, &questions);
    let value = serde_json::to_string(&stats)
        .map_err(|_| ApiError::new(500, "internal", "summary could not be encoded"))?;
    store
        .put(&rollup_key(site, day), &value, Put::default())
        .await
        .map_err(unavailable)?;
    Ok(stats)
}

/// `GET /v1/admin/sites/{site}/rollups?from=&to=`: the stored daily summaries in range.
pub async fn list<S: KvStore>(
    store: &S,
    req: &ApiRequest,
    site: &str,
) -> Result<ApiResponse, ApiError> {
    let from = req
        .query_param("from")
        .unwrap_or_else(|| "0000-01-01".into());
    let to = req.query_param("to").unwrap_or_else(|| "9999-12-31".into());
    for (field, v) in [("from", &from), ("to", &to)] {
        if NaiveDate::parse_from_str(v, "%Y-%m-%d").is_err() {
            return Err(
                ApiError::new(400, "invalid", format!("{field} must be YYYY-MM-DD"))
                    .with_field(field),
            );
        }
    }
    let prefix = format!("site/{site}/rollup/");
    let mut days = Vec::new();
    for k in list_all(store, &prefix, PAGES).await.map_err(unavailable)? {
        let day = k.name.strip_prefix(&prefix).unwrap_or("");
        if day >= from.as_str()
            && day <= to.as_str()
            && let Some(raw) = store.get(&k.name).await.map_err(unavailable)?
            && let Ok(stats) = serde_json::from_str::<DayStats>(&raw)
        {
            days.push(stats);
        }
    }
    Ok(ApiResponse::json(200, &json!({ "days": days })))
}
