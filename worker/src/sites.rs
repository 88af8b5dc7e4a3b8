//! Deleting a whole site: every key under `site/{site}/` (config, snapshot, content, votes,
//! receipts, events, questions, photos, replies, resolutions, knowledge base, roll-ups) and
//! its registry entry `sites/{site}`.
//!
//! Bounded per invocation: Workers KV allows 1000 operations per invocation, so one request
//! deletes at most [`DELETE_BATCH`] keys (plus the listings to find them) and answers `202`
//! with `{"remaining": true}` when more may be left; the operator (or the console, which
//! loops) repeats the same `DELETE` until it answers `204`. Repeating is always safe.
//!
//! Order: the snapshot and config go first (so visitors and operators see the site gone at
//! once and no new visitor writes are accepted for it), the registry entry last (so a
//! half-deleted site can still be found). A KV listing may lag a write by up to a minute, so
//! a key written in the minute before deletion can escape one run; a repeat a minute later
//! removes it.

use glimpse_shared::{ApiError, Millis, keys};
use serde::Serialize;

use crate::core::{Api, unavailable};
use crate::http::ApiResponse;
use crate::store::KvStore;

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
    let (doomed, remaining) = plan(site, &listed, page.cursor.is_some());
    for key in &doomed {
        api.store.delete(key).await.map_err(unavailable)?;
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
