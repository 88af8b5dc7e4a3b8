//! The daily roll-up: reads one UTC day's facts (event batches, poll votes, questions) and
//! stores the pure `shared::rollup` summary under `site/{site}/rollup/{day}`. Re-running a day
//! rewrites the same value (idempotent). Run hourly by the cron trigger for today and
//! yesterday, and on demand by operators.

use chrono::NaiveDate;
use glimpse_shared::events::StoredBatch;
use glimpse_shared::keys::{self, ContentKind};
use glimpse_shared::question::{Question, QuestionSummary, Reply, Resolution};
use glimpse_shared::report::Catalog;
use glimpse_shared::rollup::{DayStats, rollup};
use glimpse_shared::{ApiError, LiveSession, Millis, Poll, Site, Story, Vote};
use serde_json::json;

use crate::core::unavailable;
use crate::http::{ApiRequest, ApiResponse};
use crate::store::{KvStore, Put, list_all, read_all};

const PAGES: usize = 50;

fn rollups_prefix(site: &str) -> String {
    format!("site/{site}/rollup/")
}

fn rollup_key(site: &str, day: &str) -> String {
    format!("{}{day}", rollups_prefix(site))
}

/// A `YYYY-MM-DD` calendar day, exactly: four, two and two ASCII digits (chrono alone would
/// also take `2026-1-5` or `+2026-01-05`, which the API description does not allow).
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    shape
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
}

/// The query parameter `field` (or `default`) as a `YYYY-MM-DD` day, or a 400 naming it.
fn day_param(
    req: &ApiRequest,
    field: &str,
    default: String,
) -> Result<(String, NaiveDate), ApiError> {
    let v = req.query_param(field).unwrap_or(default);
    parse_day(&v).map(|d| (v, d)).ok_or_else(|| {
        ApiError::new(400, "invalid", format!("{field} must be YYYY-MM-DD")).with_field(field)
    })
}

/// The stored summaries of the days `from..=to`, in key (day) order.
async fn stored_days<S: KvStore>(
    store: &S,
    site: &str,
    from: &str,
    to: &str,
) -> Result<Vec<DayStats>, ApiError> {
    let prefix = rollups_prefix(site);
    let mut days = Vec::new();
    for k in list_all(store, &prefix, PAGES).await.map_err(unavailable)? {
        let day = k.name.strip_prefix(&prefix).unwrap_or("");
        if day >= from
            && day <= to
            && let Some(raw) = store.get(&k.name).await.map_err(unavailable)?
            && let Ok(stats) = serde_json::from_str::<DayStats>(&raw)
        {
            days.push(stats);
        }
    }
    Ok(days)
}

/// `[start, end)` of a `YYYY-MM-DD` UTC day in ms, or a 400.
pub fn day_range(day: &str) -> Result<(Millis, Millis), ApiError> {
    let date = parse_day(day)
        .ok_or_else(|| ApiError::new(400, "invalid", "day must be YYYY-MM-DD").with_field("day"))?;
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
        for v in list_all(store, &keys::votes_prefix(site, &poll.id), PAGES)
            .await
            .map_err(unavailable)?
        {
            if let Some(vote) = v
                .metadata
                .and_then(|m| serde_json::from_value::<Vote>(m).ok())
                && (start..end).contains(&vote.at)
            {
                votes.push((poll.id.clone(), vote));
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

/// Longest period a report covers.
pub const REPORT_DAYS_MAX: i64 = 366;

/// `GET /v1/admin/sites/{site}/report?from=&to=&topic=`: the effectiveness report built from
/// the stored daily summaries of `[from, to]` (default: the 30 days up to today, UTC) and the
/// site's stored content, narrowed to `topic` if given.
pub async fn report<S: KvStore>(
    store: &S,
    req: &ApiRequest,
    site: &Site,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let today = glimpse_shared::time::utc_date(now_ms);
    let (to, to_date) = day_param(req, "to", today)?;
    let (from, from_date) = day_param(
        req,
        "from",
        (to_date - chrono::Days::new(29))
            .format("%Y-%m-%d")
            .to_string(),
    )?;
    let span = (to_date - from_date).num_days();
    if !(0..REPORT_DAYS_MAX).contains(&span) {
        return Err(ApiError::new(
            400,
            "invalid",
            format!("from must be on or before to, at most {REPORT_DAYS_MAX} days apart"),
        )
        .with_field("from"));
    }
    let topic = req.query_param("topic").filter(|t| !t.is_empty());
    if let Some(t) = &topic
        && !site.topics.iter().any(|known| &known.id == t)
    {
        return Err(ApiError::new(
            400,
            "unknown_topic",
            "topic is not one of the site's topics",
        )
        .with_field("topic"));
    }
    let days = stored_days(store, &site.id, &from, &to).await?;
    let stories: Vec<Story> = read_all(
        store,
        &keys::content_prefix(&site.id, ContentKind::Story),
        PAGES,
    )
    .await
    .map_err(unavailable)?;
    let polls: Vec<Poll> = read_all(
        store,
        &keys::content_prefix(&site.id, ContentKind::Poll),
        PAGES,
    )
    .await
    .map_err(unavailable)?;
    let sessions: Vec<LiveSession> = read_all(
        store,
        &keys::content_prefix(&site.id, ContentKind::Session),
        PAGES,
    )
    .await
    .map_err(unavailable)?;
    let report = glimpse_shared::report::build(
        &from,
        &to,
        topic.as_deref(),
        &days,
        Catalog {
            stories: &stories,
            polls: &polls,
            sessions: &sessions,
        },
    );
    Ok(ApiResponse::json(200, &report).with_header("cache-control", "no-store"))
}

/// `GET /v1/admin/sites/{site}/rollups?from=&to=`: the stored daily summaries in range.
pub async fn list<S: KvStore>(
    store: &S,
    req: &ApiRequest,
    site: &str,
) -> Result<ApiResponse, ApiError> {
    let (from, _) = day_param(req, "from", "0000-01-01".into())?;
    let (to, _) = day_param(req, "to", "9999-12-31".into())?;
    let days = stored_days(store, site, &from, &to).await?;
    Ok(ApiResponse::json(200, &json!({ "days": days })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_exactly_yyyy_mm_dd() {
        assert_eq!(
            parse_day("2026-11-22"),
            NaiveDate::from_ymd_opt(2026, 11, 22)
        );
        assert!(parse_day("0000-01-01").is_some());
        for bad in [
            "",
            "2026-1-22",
            "+2026-11-22",
            "2026-11-2",
            "2026-02-30",
            "0000-00-00",
            "2026/11/22",
            "2026-11-22 ",
            "２０２６-11-22",
        ] {
            assert_eq!(parse_day(bad), None, "{bad:?}");
        }
    }
}
