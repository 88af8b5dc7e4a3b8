//! The cron's per-site work: retention of D1 rows. A site keeps what visitors did for its
//! `retention_days` (the KV records expire by themselves at the same time); each tick deletes
//! the rows past it:
//!
//! - `batches` received before the cutoff, and `seen` marks of days before it;
//! - `questions` asked before the cutoff, with their `replies`;
//! - webhook `deliveries` (the log) and `notices` (alerts already sent) older than the cutoff;
//! - `responses`, `votes` and `tallies` of polls whose content row is past its `purge_at` or
//!   that an operator deleted (tallied, without a content row), then the `content` rows past
//!   `purge_at` (a poll's row, and its tallies, only once its responses and votes are gone,
//!   so a later tick still knows which to delete);
//!
//! at most [`ROWS_PER_TABLE`] rows of each per invocation, in one transaction; when more
//! remains the tick sends itself again ([`Message::Tick`], same `now_ms`). Kept for good: the
//! knowledge base (`kb`, no expiry), the anonymous per-day counters (`daily`: counts only,
//! what reports of past periods read) and the all-time `popularity` counters, and the
//! `erased` tombstones.

use glimpse_shared::{Millis, Site, keys};

use crate::consumer::Ports;
use crate::queue::Message;
use crate::sql::Stmt;
use crate::store::{KvStore, StoreError};

/// Most rows one tick deletes from each table.
pub const ROWS_PER_TABLE: i64 = 500;

/// The UTC day (`YYYY-MM-DD`) of `ms`.
fn day_of(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "0000-00-00".into())
}

/// One tick's statements for `site` at `now_ms` with `retention_days`; the last answers
/// `{more}`. Pure.
pub fn plan(site: &str, retention_days: u32, now_ms: Millis) -> Vec<Stmt> {
    let cutoff = now_ms.saturating_sub(i64::from(retention_days) * 86_400_000);
    let cutoff_day = day_of(cutoff);
    // Polls past purge_at, and polls an operator deleted (tallied, without a content row).
    let purged_polls = "SELECT id FROM content WHERE site = ?1 AND kind = 'poll' AND purge_at <= ?2 \
         UNION SELECT DISTINCT poll FROM tallies t WHERE site = ?1 AND NOT EXISTS \
         (SELECT 1 FROM content c WHERE c.site = ?1 AND c.kind = 'poll' AND c.id = t.poll)";
    let old_questions = "SELECT id FROM questions WHERE site = ?1 AND created_at < ?2 \
                         ORDER BY created_at, id LIMIT ?3";
    let st = |sql: String, at: Millis| Stmt::new(sql).bind(site).bind(at).bind(ROWS_PER_TABLE);
    vec![
        st(
            "DELETE FROM batches WHERE (site, id) IN (SELECT site, id FROM batches \
             WHERE site = ?1 AND received_at < ?2 LIMIT ?3)"
                .into(),
            cutoff,
        ),
        Stmt::new(
            "DELETE FROM seen WHERE (site, day, metric, key, visitor) IN \
             (SELECT site, day, metric, key, visitor FROM seen WHERE site = ?1 AND day < ?2 LIMIT ?3)",
        )
        .bind(site)
        .bind(cutoff_day.as_str())
        .bind(ROWS_PER_TABLE),
        st(
            format!(
                "DELETE FROM replies WHERE site = ?1 AND question IN ({old_questions})"
            ),
            cutoff,
        ),
        st(
            format!(
                "DELETE FROM followups WHERE site = ?1 AND question IN ({old_questions})"
            ),
            cutoff,
        ),
        st(
            format!("DELETE FROM questions WHERE site = ?1 AND id IN ({old_questions})"),
            cutoff,
        ),
        st(
            format!(
                "DELETE FROM responses WHERE (site, poll, response) IN (SELECT site, poll, \
                 response FROM responses WHERE site = ?1 AND poll IN ({purged_polls}) LIMIT ?3)"
            ),
            now_ms,
        ),
        st(
            format!(
                "DELETE FROM votes WHERE (site, poll, visitor) IN (SELECT site, poll, visitor \
                 FROM votes WHERE site = ?1 AND poll IN ({purged_polls}) LIMIT ?3)"
            ),
            now_ms,
        ),
        st(
            format!(
                "DELETE FROM tallies WHERE (site, poll, answer) IN (SELECT site, poll, answer \
                 FROM tallies t WHERE site = ?1 AND poll IN ({purged_polls}) AND NOT EXISTS \
                 (SELECT 1 FROM votes v WHERE v.site = ?1 AND v.poll = t.poll) AND NOT EXISTS \
                 (SELECT 1 FROM responses r WHERE r.site = ?1 AND r.poll = t.poll) LIMIT ?3)"
            ),
            now_ms,
        ),
        st(
            "DELETE FROM content WHERE (site, kind, id) IN (SELECT site, kind, id FROM content c \
             WHERE site = ?1 AND purge_at <= ?2 AND NOT (kind = 'poll' AND (\
             EXISTS (SELECT 1 FROM votes v WHERE v.site = ?1 AND v.poll = c.id) OR \
             EXISTS (SELECT 1 FROM responses r WHERE r.site = ?1 AND r.poll = c.id) OR \
             EXISTS (SELECT 1 FROM tallies t WHERE t.site = ?1 AND t.poll = c.id))) LIMIT ?3)"
                .into(),
            now_ms,
        ),
        st(
            "DELETE FROM live_questions WHERE (site, session, id) IN (SELECT site, session, id \
             FROM live_questions WHERE site = ?1 AND at < ?2 LIMIT ?3)"
                .into(),
            cutoff,
        ),
        st(
            "DELETE FROM live_votes WHERE (site, session, question, visitor) IN (SELECT site, \
             session, question, visitor FROM live_votes WHERE site = ?1 AND at < ?2 LIMIT ?3)"
                .into(),
            cutoff,
        ),
        st(
            "DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries \
             WHERE site = ?1 AND at < ?2 ORDER BY seq LIMIT ?3)"
                .into(),
            cutoff,
        ),
        st(
            "DELETE FROM notices WHERE (site, key) IN (SELECT site, key FROM notices \
             WHERE site = ?1 AND at < ?2 LIMIT ?3)"
                .into(),
            cutoff,
        ),
        Stmt::new(
            "SELECT (EXISTS (SELECT 1 FROM batches WHERE site = ?1 AND received_at < ?2) \
             OR EXISTS (SELECT 1 FROM deliveries WHERE site = ?1 AND at < ?2) \
             OR EXISTS (SELECT 1 FROM notices WHERE site = ?1 AND at < ?2) \
             OR EXISTS (SELECT 1 FROM live_questions WHERE site = ?1 AND at < ?2) \
             OR EXISTS (SELECT 1 FROM live_votes WHERE site = ?1 AND at < ?2) \
             OR EXISTS (SELECT 1 FROM seen WHERE site = ?1 AND day < ?3) \
             OR EXISTS (SELECT 1 FROM questions WHERE site = ?1 AND created_at < ?2) \
             OR EXISTS (SELECT 1 FROM content WHERE site = ?1 AND purge_at <= ?4) \
             OR EXISTS (SELECT 1 FROM tallies t WHERE site = ?1 AND NOT EXISTS \
               (SELECT 1 FROM content c WHERE c.site = ?1 AND c.kind = 'poll' AND c.id = t.poll))) \
             AS more",
        )
        .bind(site)
        .bind(cutoff)
        .bind(cutoff_day.as_str())
        .bind(now_ms),
    ]
}

/// One site's periodic work, bounded per invocation: one KV read (the site's retention),
/// one D1 transaction of 12 statements, the media sweep ([`crate::media::sweep`]: one query,
/// at most one R2 delete and one D1 delete), the stories about to expire
/// ([`crate::alerts::expiring`]: a query, a write and a send when there are some), and a
/// queue send when more remains. A site without
/// configuration (deleted) is left alone: its deletion removes its rows.
pub async fn tick<S: KvStore>(
    ports: &Ports<'_, S>,
    site: &str,
    now_ms: Millis,
) -> Result<(), StoreError> {
    let Some(raw) = ports.store.get(&keys::site(site)).await? else {
        return Ok(());
    };
    let Ok(config) = crate::json::from_str::<Site>(&raw) else {
        return Ok(());
    };
    let out = ports
        .sql
        .batch(&plan(site, config.retention_days, now_ms))
        .await?;
    let more = out
        .last()
        .and_then(|rows| rows.first())
        .and_then(|row| row.get("more"))
        .and_then(serde_json::Value::as_i64)
        .is_some_and(|m| m != 0);
    // Media uploaded longer ago than the retention that nothing stored uses any more.
    let cutoff = now_ms.saturating_sub(i64::from(config.retention_days) * 86_400_000);
    let swept = crate::media::sweep(ports.sql, ports.blobs, site, cutoff).await?;
    let more = more || swept == crate::media::DELETE_BATCH;
    // Stories about to expire, told once to the site's webhooks.
    let (events, record) = crate::alerts::expiring(ports.sql, site, now_ms).await?;
    if let Some(record) = record {
        ports.sql.query(&record).await?;
        crate::webhooks::emit(ports.sql, ports.queue, &events).await;
    }
    // The expected reply time the widget shows, when it changed.
    crate::questions::refresh_reply_time(ports.store, ports.sql, &config, now_ms).await?;
    if more {
        ports
            .queue
            .send(&[Message::Tick {
                site: site.to_string(),
                now_ms,
            }])
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc() {
        assert_eq!(day_of(1_795_305_600_000), "2026-11-22");
        assert_eq!(day_of(1_795_305_599_999), "2026-11-21");
    }
}
