//! Content as files: a site directory (`site.toml`, `stories/*.toml`) read into the shared
//! types and validated with the same code the worker uses, then laid out as KV entries.

use std::path::Path;

use glimpse_shared::{Millis, Site, SiteSnapshot, Story, keys};
use serde::Serialize;

use crate::Result;

const HOUR_MS: f64 = 3_600_000.0;

/// A site and its content as read from a directory.
#[derive(Debug, Clone)]
pub struct SiteContent {
    pub site: Site,
    pub stories: Vec<Story>,
}

/// One entry for `wrangler kv bulk put` (expiration in unix seconds).
#[derive(Debug, Clone, Serialize)]
pub struct KvEntry {
    pub key: String,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
}

/// Reads and validates a content directory. Story times may be absolute (`publish_at`,
/// `expires_at` in unix ms) or relative to `now_ms` (`publish_in_hours`, `expires_in_hours`);
/// a story without `publish_at` is published at `now_ms`.
pub fn load_dir(dir: &Path, now_ms: Millis) -> Result<SiteContent> {
    let site: Site = read_toml(&dir.join("site.toml"), now_ms)?;
    let problems = site.validate();
    if !problems.is_empty() {
        return Err(format!("site.toml: {problems:?}"));
    }
    let mut stories = Vec::new();
    let stories_dir = dir.join("stories");
    if stories_dir.is_dir() {
        let mut paths: Vec<_> = std::fs::read_dir(&stories_dir)
            .map_err(|e| format!("read {}: {e}", stories_dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let story: Story = read_toml(&path, now_ms)?;
            let problems = story.validate();
            if !problems.is_empty() {
                let list: Vec<String> = problems
                    .iter()
                    .map(|p| format!("{}: {}", p.field, p.message))
                    .collect();
                return Err(format!("{}: {}", path.display(), list.join("; ")));
            }
            stories.push(story);
        }
    }
    Ok(SiteContent { site, stories })
}

fn read_toml<T: serde::de::DeserializeOwned>(path: &Path, now_ms: Millis) -> Result<T> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let mut value: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    resolve_relative_times(&mut value, now_ms);
    value
        .try_into()
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Replaces `publish_in_hours` / `expires_in_hours` with absolute unix-ms times.
fn resolve_relative_times(table: &mut toml::Table, now_ms: Millis) {
    let rel = |table: &mut toml::Table, key: &str| {
        table.remove(key).and_then(|v| match v {
            toml::Value::Integer(h) => Some(h as f64),
            toml::Value::Float(h) => Some(h),
            _ => None,
        })
    };
    let at = |h: f64| toml::Value::Integer(now_ms + (h * HOUR_MS) as i64);
    if let Some(h) = rel(table, "publish_in_hours") {
        table.insert("publish_at".into(), at(h));
    }
    if let Some(h) = rel(table, "expires_in_hours") {
        table.insert("expires_at".into(), at(h));
    }
    if table.contains_key("slides") && !table.contains_key("publish_at") {
        table.insert("publish_at".into(), toml::Value::Integer(now_ms));
    }
}

impl SiteContent {
    /// The KV entries that hold this content: site config, one key per story (expiring with
    /// the story) and the feed snapshot.
    pub fn kv_entries(&self, now_ms: Millis) -> Result<Vec<KvEntry>> {
        let site_id = &self.site.id;
        let mut out = vec![KvEntry {
            key: keys::site(site_id),
            value: json(&self.site)?,
            expiration: None,
        }];
        for story in &self.stories {
            out.push(KvEntry {
                key: keys::story(site_id, &story.id),
                value: json(story)?,
                expiration: Some(kv_expiration_s(story.expires_at, now_ms)),
            });
        }
        let snapshot = SiteSnapshot::new(self.site.clone(), self.stories.clone(), now_ms);
        out.push(KvEntry {
            key: keys::snapshot(site_id),
            value: json(&snapshot)?,
            expiration: None,
        });
        Ok(out)
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

    const NOW: Millis = 1_700_000_000_000;

    #[test]
    fn demo_content_loads_and_is_live_now() {
        let content = load_dir(&crate::at("demo/content"), NOW).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(content.site.id, "demo");
        assert!(content.stories.len() >= 2);
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
        assert_eq!(snap.feed_at(NOW).stories.len(), content.stories.len());
    }

    #[test]
    fn relative_times_resolve_against_now() {
        let mut t: toml::Table =
            toml::from_str("slides = []\npublish_in_hours = -1\nexpires_in_hours = 1.5")
                .unwrap_or_default();
        resolve_relative_times(&mut t, NOW);
        assert_eq!(t["publish_at"].as_integer(), Some(NOW - 3_600_000));
        assert_eq!(t["expires_at"].as_integer(), Some(NOW + 5_400_000));
    }

    #[test]
    fn kv_expiration_is_at_least_a_minute_ahead() {
        assert_eq!(kv_expiration_s(NOW + 10_000, NOW), NOW / 1000 + 60);
        assert_eq!(kv_expiration_s(NOW + 3_600_000, NOW), NOW / 1000 + 3600);
    }
}
