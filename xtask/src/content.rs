//! Content as files: a site directory (`site.toml`, `stories/*.toml`, `sessions/*.toml`,
//! `polls/*.toml`) read into the shared types and validated with the same code the worker
//! uses, then published through the worker's own API core into an in-memory KV whose entries
//! are what `wrangler kv bulk put` seeds. So seeded data is exactly what the admin API
//! would have stored: same keys, expirations, metadata and snapshot.

use std::path::Path;

use glimpse_shared::{LiveSession, Millis, Poll, Problem, Site, Story};
use glimpse_worker::core::{Api, handle};
use glimpse_worker::http::ApiRequest;
use glimpse_worker::limit::{Limit, RateLimiter};
use glimpse_worker::route::Method;
use glimpse_worker::store::MemoryKv;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Result;

const HOUR_MS: f64 = 3_600_000.0;

/// A site and its content as read from a directory.
#[derive(Debug, Clone)]
pub struct SiteContent {
    pub site: Site,
    pub stories: Vec<Story>,
    pub sessions: Vec<LiveSession>,
    pub polls: Vec<Poll>,
}

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

/// Reads and validates a content directory. Times may be absolute (`publish_at`,
/// `expires_at`, `starts_at`, `ends_at`, `announce_from` in unix ms) or relative to `now_ms`
/// (`publish_in_hours`, `expires_in_hours`, `starts_in_hours`, `ends_in_hours`,
/// `announce_in_hours`); a story or poll without `publish_at` is published at `now_ms`.
pub fn load_dir(dir: &Path, now_ms: Millis) -> Result<SiteContent> {
    let site_path = dir.join("site.toml");
    let site: Site = read_toml(&site_path, now_ms)?;
    check(&site_path, site.validate())?;
    Ok(SiteContent {
        stories: load_items(&dir.join("stories"), now_ms, Story::validate)?,
        sessions: load_items(&dir.join("sessions"), now_ms, LiveSession::validate)?,
        polls: load_items(&dir.join("polls"), now_ms, Poll::validate)?,
        site,
    })
}

fn check(path: &Path, problems: Vec<Problem>) -> Result {
    if problems.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect();
    Err(format!("{}: {}", path.display(), list.join("; ")))
}

fn load_items<T: DeserializeOwned>(
    dir: &Path,
    now_ms: Millis,
    validate: fn(&T) -> Vec<Problem>,
) -> Result<Vec<T>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let item: T = read_toml(&path, now_ms)?;
        check(&path, validate(&item))?;
        out.push(item);
    }
    Ok(out)
}

fn read_toml<T: DeserializeOwned>(path: &Path, now_ms: Millis) -> Result<T> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let mut value: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    resolve_relative_times(&mut value, now_ms);
    value
        .try_into()
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Replaces `*_in_hours` keys with absolute unix-ms times.
fn resolve_relative_times(table: &mut toml::Table, now_ms: Millis) {
    for (relative, absolute) in [
        ("publish_in_hours", "publish_at"),
        ("expires_in_hours", "expires_at"),
        ("starts_in_hours", "starts_at"),
        ("ends_in_hours", "ends_at"),
        ("announce_in_hours", "announce_from"),
    ] {
        let hours = table.remove(relative).and_then(|v| match v {
            toml::Value::Integer(h) => Some(h as f64),
            toml::Value::Float(h) => Some(h),
            _ => None,
        });
        if let Some(h) = hours {
            let at = now_ms + (h * HOUR_MS) as i64;
            table.insert(absolute.into(), toml::Value::Integer(at));
        }
    }
    let publishable = table.contains_key("slides") || table.contains_key("question");
    if publishable && !table.contains_key("publish_at") {
        table.insert("publish_at".into(), toml::Value::Integer(now_ms));
    }
}

impl SiteContent {
    /// Publishes this content through the worker's API core into an in-memory KV at
    /// `now_ms` and returns its entries for `wrangler kv bulk put`.
    pub fn kv_entries(&self, now_ms: Millis) -> Result<Vec<KvEntry>> {
        let kv = MemoryKv::new();
        kv.set_now(now_ms);
        let limiter = RateLimiter::new(Limit::per_minute(0));
        let token = "offline-publish";
        let random = || String::from("offline-publishing-has-no-ids");
        let api = Api {
            store: &kv,
            admin_token: Some(token),
            limiter: &limiter,
            random: &random,
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
        Ok(kv
            .dump()
            .into_iter()
            .map(|(key, value, expires_at_ms, metadata)| KvEntry {
                key,
                value,
                expiration: expires_at_ms.map(|at| kv_expiration_s(at, now_ms)),
                metadata,
            })
            .collect())
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
        let story_key = keys::content("demo", keys::ContentKind::Story, &content.stories[0].id);
        let story = entries
            .iter()
            .find(|e| e.key == story_key)
            .unwrap_or_else(|| panic!("no story entry"));
        assert!(story.expiration.is_some_and(|x| x > NOW / 1000));
    }

    #[test]
    fn relative_times_resolve_against_now() {
        let mut t: toml::Table = toml::from_str(
            "slides = []\npublish_in_hours = -1\nexpires_in_hours = 1.5\nannounce_in_hours = 0",
        )
        .unwrap_or_default();
        resolve_relative_times(&mut t, NOW);
        assert_eq!(t["publish_at"].as_integer(), Some(NOW - 3_600_000));
        assert_eq!(t["expires_at"].as_integer(), Some(NOW + 5_400_000));
        assert_eq!(t["announce_from"].as_integer(), Some(NOW));
        let mut poll: toml::Table = toml::from_str("question = 'q'").unwrap_or_default();
        resolve_relative_times(&mut poll, NOW);
        assert_eq!(poll["publish_at"].as_integer(), Some(NOW));
    }

    #[test]
    fn kv_expiration_is_at_least_a_minute_ahead() {
        assert_eq!(kv_expiration_s(NOW + 10_000, NOW), NOW / 1000 + 60);
        assert_eq!(kv_expiration_s(NOW + 3_600_000, NOW), NOW / 1000 + 3600);
    }
}
