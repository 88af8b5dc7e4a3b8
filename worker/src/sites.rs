//! Deleting a whole site: every key under `site/{site}/` (config, snapshot, responses, votes, receipts,
//! events, questions, photos, and whatever earlier versions stored there), the legacy
//! registry entry `sites/{site}` of versions before 0.15, and every D1 row of the site
//! (content, responses, votes, tallies, batches, seen, daily, popularity, questions, replies, followups, kb,
//! erased, webhooks and their deliveries and notices; the `sites` row last). The audit log
//! keeps its entries: it is the team's record, deletion included.
//!
//! Bounded per invocation: Workers KV allows 1000 operations per invocation, so one request
//! deletes at most [`DELETE_BATCH`] keys (plus the listing to find them) and at most
//! [`ROWS_PER_TABLE`] rows of each D1 table (one transaction of [`TABLES`]` + 1` statements),
//! and answers `202` with `{"remaining": true}` when more may be left; the operator (or the
//! console, which loops) repeats the same `DELETE` until it answers `204`. Repeating is
//! always safe.
//!
//! Order: the snapshot and config go first (so visitors and operators see the site gone at
//! once and no new visitor writes are accepted for it), then the content rows, the `sites`
//! row last (so the cron and the site list still find a half-deleted site). A KV listing may lag a write by up to a minute, so
//! a key written in the minute before deletion can escape one run; a repeat a minute later
//! removes it.

use glimpse_shared::{ApiError, Millis, keys};
use serde::Serialize;

use crate::core::{Api, unavailable};
use crate::http::ApiResponse;
use crate::sql::Stmt;
use crate::store::KvStore;

/// Each table holding a site's rows, content first, with its primary key columns (the D1
/// deletes name rows by key: `DELETE … WHERE (key) IN (SELECT key … LIMIT n)`).
pub const TABLES: [(&str, &str); 19] = [
    ("content", "site, kind, id"),
    ("responses", "site, poll, response"),
    ("votes", "site, poll, visitor"),
    ("tallies", "site, poll, answer"),
    ("batches", "site, id"),
    ("seen", "site, day, metric, key, visitor"),
    ("daily", "site, day, metric, key"),
    ("popularity", "site, story"),
    ("questions", "site, id"),
    ("replies", "site, question, at, id"),
    ("followups", "site, question, at, id"),
    ("kb", "site, id"),
    ("erased", "site, visitor"),
    ("webhooks", "site, id"),
    ("deliveries", "seq"),
    ("notices", "site, key"),
    ("saved_replies", "site, id"),
    ("live_questions", "site, session, id"),
    ("live_votes", "site, session, question, visitor"),
];

/// Most rows one request deletes from each table.
pub const ROWS_PER_TABLE: i64 = 500;

/// The statements of one request's D1 part: a bounded delete per table, then one row
/// `{more}` telling whether any of the site's rows remain.
pub fn d1_plan(site: &str) -> Vec<Stmt> {
    let mut out: Vec<Stmt> = TABLES
        .iter()
        .map(|(table, key)| {
            Stmt::new(format!(
                "DELETE FROM {table} WHERE ({key}) IN \
                 (SELECT {key} FROM {table} WHERE site = ?1 LIMIT ?2)"
            ))
            .bind(site)
            .bind(ROWS_PER_TABLE)
        })
        .collect();
    let any: Vec<String> = TABLES
        .iter()
        .map(|(table, _)| format!("EXISTS (SELECT 1 FROM {table} WHERE site = ?1)"))
        .collect();
    out.push(Stmt::new(format!("SELECT ({}) AS more", any.join(" OR "))).bind(site));
    out
}

/// Most keys one request deletes (KV allows 1000 operations per invocation; the listings and
/// the first deletes take a few more).
pub const DELETE_BATCH: usize = 900;

/// What a `DELETE /v1/admin/sites/{site}` that could not finish answers (202).
#[derive(Debug, Serialize)]
pub struct Progress<'a> {
    pub site: &'a str,
    /// Keys deleted by this request.
    pub deleted: usize,
    /// Always true in a 202: repeat the request.
    pub remaining: bool,
}

/// The plan of one request: which keys to delete now, and whether more may remain. Pure:
/// `listed` is the first page of the site's keys (at most [`DELETE_BATCH`] are taken).
pub fn plan(site: &str, listed: &[String], more_pages: bool) -> (Vec<String>, bool) {
    let first = [keys::snapshot(site), keys::site(site)];
    let mut out: Vec<String> = first.to_vec();
    for k in listed {
        if out.len() >= DELETE_BATCH {
            break;
        }
        if !first.contains(k) {
            out.push(k.clone());
        }
    }
    let taken = out.len() - first.len();
    let listed_rest = listed.iter().filter(|k| !first.contains(k)).count() > taken;
    let remaining = more_pages || listed_rest;
    if !remaining {
        out.push(keys::site_registry(site));
    }
    (out, remaining)
}

/// `DELETE /v1/admin/sites/{site}` → `204` when nothing of the site is left (also when
/// there was nothing), `202` + [`Progress`] when the request's budget ran out first.
pub async fn delete<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    _now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let prefix = format!("site/{site}/");
    let page = api.store.list(&prefix, None).await.map_err(unavailable)?;
    let listed: Vec<String> = page.keys.into_iter().map(|k| k.name).collect();
    let (doomed, kv_remaining) = plan(site, &listed, page.cursor.is_some());
    for key in &doomed {
        api.store.delete(key).await.map_err(unavailable)?;
    }
    let out = api.sql.batch(&d1_plan(site)).await.map_err(unavailable)?;
    let rows_remaining = out
        .last()
        .and_then(|rows| rows.first())
        .and_then(|row| row.get("more"))
        .and_then(serde_json::Value::as_i64)
        .is_none_or(|more| more != 0);
    // The media library's files in R2 and their rows, a batch at a time.
    let media_remaining = crate::media::delete_some(api, site).await?;
    let remaining = kv_remaining || rows_remaining || media_remaining;
    if !remaining {
        api.sql
            .query(&Stmt::new("DELETE FROM sites WHERE site = ?1").bind(site))
            .await
            .map_err(unavailable)?;
    }
    let res = if remaining {
        ApiResponse::json(
            202,
            &Progress {
                site,
                deleted: doomed.len(),
                remaining: true,
            },
        )
    } else {
        ApiResponse::empty(204)
    };
    Ok(res.with_header("cache-control", "no-store"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_and_snapshot_first_registry_only_when_done() {
        let listed = vec![
            "site/s/config".to_string(),
            "site/s/snapshot".to_string(),
            "site/s/story/a".to_string(),
        ];
        let (keys, remaining) = plan("s", &listed, false);
        assert!(!remaining);
        assert_eq!(
            keys,
            [
                "site/s/snapshot",
                "site/s/config",
                "site/s/story/a",
                "sites/s"
            ]
        );
    }

    #[test]
    fn a_large_site_is_deleted_in_bounded_batches() {
        let listed: Vec<String> = (0..1000)
            .map(|i| format!("site/s/vote/p/{i:016}"))
            .collect();
        let (keys, remaining) = plan("s", &listed, false);
        assert!(remaining);
        assert_eq!(keys.len(), DELETE_BATCH);
        assert!(!keys.contains(&"sites/s".to_string()));
        // More pages behind the first: not done either, even if the page fits.
        let (keys, remaining) = plan("s", &listed[..10], true);
        assert!(remaining);
        assert_eq!(keys.len(), 12);
    }
}
