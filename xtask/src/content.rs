//! Content as files: a site directory (`site.toml`, `stories/*.toml`, `sessions/*.toml`,
//! `polls/*.toml`, or the same as `.yaml`) read into the shared types and validated with the same code the worker
//! uses, then published through the worker's own API core into an in-memory KV whose entries
//! are what `wrangler kv bulk put` seeds. So seeded data is exactly what the admin API
//! would have stored: same keys, expirations, metadata and snapshot.

pub use glimpse_cli::content::{SiteContent, load_dir};
use glimpse_shared::Millis;
use glimpse_worker::core::{Api, handle};
use glimpse_worker::http::ApiRequest;
use glimpse_worker::limit::{Limit, RateLimiter};
use glimpse_worker::route::Method;
use glimpse_worker::store::MemoryKv;
use serde::Serialize;

use crate::Result;

/// One entry for `wrangler kv bulk put` (expiration in unix seconds).
#[derive(Debug, Clone, Serialize)]
pub struct KvEntry {
    pub key: String,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

/// What seeding writes: KV entries and the SQL that puts the same content into D1.
#[derive(Debug, Clone)]
pub struct Seed {
    /// For `wrangler kv bulk put`.
    pub kv: Vec<KvEntry>,
    /// For `wrangler d1 execute --file` after the migrations: every write the API core made
    /// to D1, with its values written in.
    pub sql: String,
}

/// Offline publishing of content files.
pub trait KvEntries {
    /// Publishes this content through the worker's API core into an in-memory KV and D1
    /// (real SQLite with the migrations applied) at `now_ms`, and returns what they hold.
    fn seed(&self, now_ms: Millis) -> Result<Seed>;

    /// The KV part of [`KvEntries::seed`].
    fn kv_entries(&self, now_ms: Millis) -> Result<Vec<KvEntry>> {
        Ok(self.seed(now_ms)?.kv)
    }
}

impl KvEntries for SiteContent {
    fn seed(&self, now_ms: Millis) -> Result<Seed> {
        let kv = MemoryKv::new();
        kv.set_now(now_ms);
        let sql = glimpse_worker::sqlite::Sqlite::memory().map_err(|e| e.to_string())?;
        sql.record();
        let queue = glimpse_worker::queue::MemoryQueue::new();
        let limiter = RateLimiter::new(Limit::per_minute(0));
        let token = "offline-publishing-through-the-api-core";
        let random = || Some(String::from("offline-publishing-has-no-ids"));
        let auth_failures = glimpse_worker::door::AuthThrottle::per_minute();
        let api = Api {
            store: &kv,
            admin_token: Some(token),
            limiter: &limiter,
            auth_failures: &auth_failures,
            random: &random,
            sql: &sql,
            queue: &queue,
            zones: &glimpse_worker::hours::TzDatabase,
            memo: &glimpse_worker::memo::SnapshotMemo::default(),
            local: true,
            // Content files name media by URL; seeding uploads none.
            blobs: &glimpse_worker::media::MemoryBlobs::default(),
            // Seeding opens no live rooms.
            rooms: &glimpse_worker::live::NoRooms,
        };
        let site = &self.site.id;
        let mut puts: Vec<(String, String)> =
            vec![(format!("/v1/admin/sites/{site}"), json(&self.site)?)];
        for s in &self.stories {
            puts.push((format!("/v1/admin/sites/{site}/stories/{}", s.id), json(s)?));
        }
        for s in &self.sessions {
            puts.push((
                format!("/v1/admin/sites/{site}/sessions/{}", s.id),
                json(s)?,
            ));
        }
        for p in &self.polls {
            puts.push((format!("/v1/admin/sites/{site}/polls/{}", p.id), json(p)?));
        }
        for (path, body) in puts {
            let req = ApiRequest::new(Method::Put, &path)
                .header("authorization", &format!("Bearer {token}"))
                .json(body);
            let res = pollster::block_on(handle(&api, &req, now_ms));
            if !(200..300).contains(&res.status) {
                return Err(format!("publish {path}: {} {}", res.status, res.body));
            }
        }
        let entries = kv
            .dump()
            .into_iter()
            .map(|(key, value, expires_at_ms, metadata)| KvEntry {
                key,
                value,
                expiration: expires_at_ms.map(|at| kv_expiration_s(at, now_ms)),
                metadata,
            })
            .collect();
        Ok(Seed {
            kv: entries,
            sql: sql.recorded(),
        })
    }
}

/// KV expirations are unix seconds and must be at least 60 s ahead.
fn kv_expiration_s(expires_at_ms: Millis, now_ms: Millis) -> i64 {
    (expires_at_ms / 1000).max(now_ms / 1000 + 60)
}

fn json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use glimpse_shared::{SiteSnapshot, keys};

    const NOW: Millis = 1_700_000_000_000;

    #[test]
    fn demo_content_loads_and_is_live_now() {
        let content = load_dir(&crate::at("demo/content"), NOW).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(content.site.id, "demo");
        assert!(content.stories.len() >= 2);
        assert!(!content.sessions.is_empty());
        assert!(!content.polls.is_empty());
        for s in &content.stories {
            assert!(s.is_live(NOW), "{} should be live when seeded", s.id);
        }
        let entries = content.kv_entries(NOW).unwrap_or_else(|e| panic!("{e}"));
        let snapshot = entries
            .iter()
            .find(|e| e.key == keys::snapshot("demo"))
            .unwrap_or_else(|| panic!("no snapshot entry"));
        let snap: SiteSnapshot =
            serde_json::from_str(&snapshot.value).unwrap_or_else(|e| panic!("{e}"));
        let feed = snap.feed_at(NOW);
        assert_eq!(feed.stories.len(), content.stories.len());
        assert_eq!(feed.polls.len(), content.polls.len());
        assert!(feed.sessions.len() <= content.sessions.len());
        // Content lives in D1 (replayed from the recorded SQL), not in per-item keys.
        let story_key = keys::content("demo", keys::ContentKind::Story, &content.stories[0].id);
        assert!(entries.iter().all(|e| e.key != story_key));
    }

    #[test]
    fn kv_expiration_is_at_least_a_minute_ahead() {
        assert_eq!(kv_expiration_s(NOW + 10_000, NOW), NOW / 1000 + 60);
        assert_eq!(kv_expiration_s(NOW + 3_600_000, NOW), NOW / 1000 + 3600);
    }
}
