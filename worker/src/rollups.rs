//! Per-day statistics and the effectiveness report, read from D1's counters: the `daily`
//! counters the queue consumer keeps (stories, sessions, escalations, visitors, votes, CSAT,
//! questions per topic) make each day's `DayStats` (rows ∝ days × content, never traffic),
//! and first-reply and resolution times are measured in SQL over the `questions` table
//! (nearest-rank median and p90, per day or over a period and topic). Counters are exact
//! and eventually consistent: they include what the queue has delivered (typically within
//! about a second).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use glimpse_shared::report::{Catalog, Measured};
use glimpse_shared::rollup::{DayStats, Durations};
use glimpse_shared::{ApiError, LiveSession, Millis, Poll, Site, Story};
use serde::Deserialize;
use serde_json::json;

use crate::core::unavailable;
use crate::http::{ApiRequest, ApiResponse};
use crate::sql::{Sql, Stmt, rows};

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

#[derive(Deserialize)]
struct CounterRow {
    day: String,
    metric: String,
    key: String,
    n: i64,
}

/// The days `from..=to` that have any counter, in day order (one query).
async fn counted_days(
    sql: &dyn Sql,
    site: &str,
    from: &str,
    to: &str,
) -> Result<Vec<DayStats>, ApiError> {
    let found: Vec<CounterRow> = rows(
        sql,
        Stmt::new(
            "SELECT day, metric, key, n FROM daily \
             WHERE site = ?1 AND day >= ?2 AND day <= ?3 ORDER BY day",
        )
        .bind(site)
        .bind(from)
        .bind(to),
    )
    .await
    .map_err(unavailable)?;
    let mut by_day: BTreeMap<&str, Vec<&CounterRow>> = BTreeMap::new();
    for r in &found {
        by_day.entry(r.day.as_str()).or_default().push(r);
    }
    Ok(by_day
        .into_iter()
        .map(|(day, rows)| {
            DayStats::from_counters(
                day,
                rows.iter()
                    .map(|r| (r.metric.as_str(), r.key.as_str(), r.n)),
            )
        })
        .collect())
}

#[derive(Deserialize)]
struct RankRow {
    grp: String,
    what: String,
    ms: Millis,
    rn: i64,
    count: i64,
}

/// Nearest-rank median and p90 of time to first reply and to resolution of the questions
/// created in `[start, end)` (in `topic` if given), per UTC day of creation (`per_day`) or
/// over the whole range (key `""`). One query; it returns at most four rows per group.
async fn measured(
    sql: &dyn Sql,
    site: &str,
    (start, end): (Millis, Millis),
    topic: Option<&str>,
    per_day: bool,
) -> Result<BTreeMap<String, Measured>, ApiError> {
    let found: Vec<RankRow> = rows(
        sql,
        Stmt::new(
            "WITH q AS (SELECT CASE WHEN ?4 = 1 THEN date(created_at / 1000, 'unixepoch') \
             ELSE '' END AS grp, first_reply_at - created_at AS fr, \
             resolved_at - created_at AS rs FROM questions \
             WHERE site = ?1 AND created_at >= ?2 AND created_at < ?3 \
             AND (?5 IS NULL OR topic = ?5)), \
             d AS (SELECT grp, 'first_reply' AS what, fr AS ms FROM q WHERE fr IS NOT NULL \
             UNION ALL SELECT grp, 'resolution', rs FROM q WHERE rs IS NOT NULL), \
             r AS (SELECT grp, what, ms, \
             ROW_NUMBER() OVER (PARTITION BY grp, what ORDER BY ms) AS rn, \
             COUNT(*) OVER (PARTITION BY grp, what) AS count FROM d) \
             SELECT grp, what, ms, rn, count FROM r \
             WHERE rn = (count + 1) / 2 OR rn = (9 * count + 9) / 10",
        )
        .bind(site)
        .bind(start)
        .bind(end)
        .bind(i64::from(per_day))
        .bind(topic),
    )
    .await
    .map_err(unavailable)?;
    let mut out: BTreeMap<String, Measured> = BTreeMap::new();
    for r in found {
        let m = out.entry(r.grp).or_default();
        let d: &mut Durations = if r.what == "resolution" {
            &mut m.resolution
        } else {
            &mut m.first_reply
        };
        d.count = u32::try_from(r.count).unwrap_or(u32::MAX);
        if r.rn == (r.count + 1) / 2 {
            d.median_ms = Some(r.ms);
        }
        if r.rn == (9 * r.count + 9) / 10 {
            d.p90_ms = Some(r.ms);
        }
    }
    Ok(out)
}

/// Each day of `from..=to` that has counters, with its own question timings.
async fn days_with_times(
    sql: &dyn Sql,
    site: &str,
    from: &str,
    to: &str,
) -> Result<Vec<DayStats>, ApiError> {
    let mut days = counted_days(sql, site, from, to).await?;
    let range = (day_range(from)?.0, day_range(to)?.1);
    let mut times = measured(sql, site, range, None, true).await?;
    for d in &mut days {
        if let Some(m) = times.remove(&d.day) {
            d.first_reply = m.first_reply;
            d.resolution = m.resolution;
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

/// `POST /v1/admin/sites/{site}/rollups/{day}`: `day`'s statistics as counted so far (the
/// counters are kept as messages arrive; nothing is recomputed).
pub async fn day(sql: &dyn Sql, site: &str, day: &str) -> Result<DayStats, ApiError> {
    day_range(day)?;
    Ok(days_with_times(sql, site, day, day)
        .await?
        .pop()
        .unwrap_or_else(|| DayStats {
            day: day.to_string(),
            ..DayStats::default()
        }))
}

#[derive(Deserialize)]
struct ContentRow {
    kind: String,
    body: String,
}

/// The site's stories, polls and sessions as stored in D1 (one query), to name them.
async fn catalog(
    sql: &dyn Sql,
    site: &str,
) -> Result<(Vec<Story>, Vec<Poll>, Vec<LiveSession>), ApiError> {
    let found: Vec<ContentRow> = rows(
        sql,
        Stmt::new("SELECT kind, body FROM content WHERE site = ?1").bind(site),
    )
    .await
    .map_err(unavailable)?;
    let (mut stories, mut polls, mut sessions) = (Vec::new(), Vec::new(), Vec::new());
    for r in found {
        match r.kind.as_str() {
            "story" => stories.extend(crate::json::from_str::<Story>(&r.body).ok()),
            "poll" => polls.extend(crate::json::from_str::<Poll>(&r.body).ok()),
            "session" => sessions.extend(crate::json::from_str::<LiveSession>(&r.body).ok()),
            _ => {}
        }
    }
    Ok((stories, polls, sessions))
}

/// Longest period a report covers.
pub const REPORT_DAYS_MAX: i64 = 366;

/// `GET /v1/admin/sites/{site}/report?from=&to=&topic=`: the effectiveness report of
/// `[from, to]` (default: the 30 days up to today, UTC) from the daily counters, the period's
/// question timings measured in SQL and the site's content, narrowed to `topic` if given.
/// Three queries whatever the traffic.
pub async fn report(
    sql: &dyn Sql,
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
    let days = counted_days(sql, &site.id, &from, &to).await?;
    let range = (day_range(&from)?.0, day_range(&to)?.1);
    let times = measured(sql, &site.id, range, topic.as_deref(), false)
        .await?
        .remove("")
        .unwrap_or_default();
    let (stories, polls, sessions) = catalog(sql, &site.id).await?;
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
        Some(times),
    );
    Ok(ApiResponse::json(200, &report).with_header("cache-control", "no-store"))
}

/// `GET /v1/admin/sites/{site}/rollups?from=&to=`: each day in range that has counters.
pub async fn list(sql: &dyn Sql, req: &ApiRequest, site: &str) -> Result<ApiResponse, ApiError> {
    let (from, _) = day_param(req, "from", "0000-01-01".into())?;
    let (to, _) = day_param(req, "to", "9999-12-31".into())?;
    let days = days_with_times(sql, site, &from, &to).await?;
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
