//! The Workers KV key layout, in one place. Keys are `/`-separated and start with the site
//! id, so everything a site owns can be listed by prefix. Every component is a validated
//! slug, token or date, so keys never need escaping and stay under KV's 512-byte limit.
//!
//! No key is ever read, modified and written back: each visitor's write has its own key
//! (one per visitor's vote, one per response id, one per event batch, one per question);
//! content and aggregates live in D1. The snapshot is derived data, rebuilt from D1's
//! content rows, never updated from itself.

/// The kinds of authored content (one D1 `content` row per item).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentKind {
    Story,
    Session,
    Poll,
}

impl ContentKind {
    pub const ALL: [ContentKind; 3] = [Self::Story, Self::Session, Self::Poll];

    /// The plural used in API paths (`/stories/{id}`).
    pub fn plural(self) -> &'static str {
        match self {
            Self::Story => "stories",
            Self::Session => "sessions",
            Self::Poll => "polls",
        }
    }

    /// The singular used in messages and KV keys.
    pub fn singular(self) -> &'static str {
        match self {
            Self::Story => "story",
            Self::Session => "session",
            Self::Poll => "poll",
        }
    }

    pub fn from_plural(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.plural() == s)
    }
}

/// The site's configuration.
pub fn site(site: &str) -> String {
    format!("site/{site}/config")
}

/// The precomputed snapshot a feed request reads: site config plus all unexpired content.
/// Rebuilt from D1's content rows on every admin write; read once per public request.
pub fn snapshot(site: &str) -> String {
    format!("site/{site}/snapshot")
}

/// Whether `key` is some site's feed snapshot (the key every public request reads).
pub fn is_snapshot(key: &str) -> bool {
    key.strip_prefix("site/")
        .and_then(|rest| rest.strip_suffix("/snapshot"))
        .is_some_and(crate::ids::is_slug)
}

/// One content item, as versions up to 0.14 stored it (expiring `retention_days` after the
/// content does). Since 0.15 content is a D1 row; only the KV→D1 rebuild reads these.
pub fn content(site: &str, kind: ContentKind, id: &str) -> String {
    format!("site/{site}/{}/{id}", kind.singular())
}

/// Prefix under which all of a site's items of `kind` are listed.
pub fn content_prefix(site: &str, kind: ContentKind) -> String {
    format!("site/{site}/{}/", kind.singular())
}

/// A visitor's current answer to a poll (the answer also in the key's metadata), as versions
/// before 0.17 stored it; since then each response is its own record ([`response`]). Erasure
/// and site deletion still remove these.
pub fn vote(site: &str, poll: &str, visitor: &str) -> String {
    format!("site/{site}/vote/{poll}/{visitor}")
}

/// Prefix listing every visitor's vote on a poll.
pub fn votes_prefix(site: &str, poll: &str) -> String {
    format!("site/{site}/vote/{poll}/")
}

/// One poll response, as its own record: `{visitor, id, answer, at}` (a
/// `shared::poll::ResponseRecord`). Written once per response id (a retry rewrites the same
/// key), found for erasure through D1's `responses` rows.
pub fn response(site: &str, poll: &str, response: &str) -> String {
    format!("site/{site}/response/{poll}/{response}")
}

/// Marked a response id as recorded, in versions before 0.17 (replays are recognised by the
/// queue consumer now, from D1's `responses`). Erasure and site deletion still remove these.
pub fn receipt(site: &str, poll: &str, response: &str) -> String {
    format!("site/{site}/receipt/{poll}/{response}")
}

/// A visitor's question (the thread's root), with `{topic, created_at, preview}` metadata.
pub fn question(site: &str, id: &str) -> String {
    format!("site/{site}/question/{id}")
}

/// Prefix listing every question of a site.
pub fn questions_prefix(site: &str) -> String {
    format!("site/{site}/question/")
}

/// A question's photo.
pub fn question_photo(site: &str, id: &str) -> String {
    format!("site/{site}/qphoto/{id}")
}

/// One reply, ordered by time: `{at:013}-{reply id}`.
pub fn reply(site: &str, question: &str, at: i64, reply: &str) -> String {
    format!("site/{site}/reply/{question}/{at:013}-{reply}")
}

/// Prefix listing a question's replies, oldest first.
pub fn replies_prefix(site: &str, question: &str) -> String {
    format!("site/{site}/reply/{question}/")
}

/// A question's resolution.
pub fn resolution(site: &str, question: &str) -> String {
    format!("site/{site}/resolved/{question}")
}

/// A permanent knowledge-base entry (`story-{id}` / `question-{id}`): no expiration.
pub fn kb_entry(site: &str, id: &str) -> String {
    format!("site/{site}/kb/{id}")
}

/// Prefix listing a site's knowledge-base entries.
pub fn kb_prefix(site: &str) -> String {
    format!("site/{site}/kb/")
}

/// Every knowledge-base entry in one value, rebuilt on each KB write: one read per search.
pub fn kb_index(site: &str) -> String {
    format!("site/{site}/kbindex")
}

/// Popularity (views, helped) per knowledge-base entry, recounted from the event batches.
pub fn kb_popularity(site: &str) -> String {
    format!("site/{site}/kbpop")
}

/// A poll's public tally: a `PublicResults` recounted from the vote keys at most every few
/// seconds and written whole (derived, never incremented); expires with the poll's votes.
pub fn poll_tally(site: &str, poll: &str) -> String {
    format!("site/{site}/tally/{poll}")
}

/// One key per site, as versions up to 0.14 wrote it for the cron to list; since 0.15 sites
/// are D1 rows, and site deletion only removes this leftover.
pub fn site_registry(site: &str) -> String {
    format!("sites/{site}")
}

/// One event batch, filed under the UTC day it arrived (`YYYY-MM-DD`).
pub fn events(site: &str, day: &str, batch: &str) -> String {
    format!("site/{site}/events/{day}/{batch}")
}

/// Prefix listing a site's event batches, all or of one day.
pub fn events_prefix(site: &str, day: Option<&str>) -> String {
    match day {
        Some(day) => format!("site/{site}/events/{day}/"),
        None => format!("site/{site}/events/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{SLUG_MAX, TOKEN_MAX};

    #[test]
    fn longest_keys_fit_in_kv() {
        let id = "a".repeat(SLUG_MAX);
        let token = "T".repeat(TOKEN_MAX);
        let mut keys = vec![
            snapshot(&id),
            site(&id),
            vote(&id, &id, &token),
            receipt(&id, &id, &token),
            response(&id, &id, &token),
            events(&id, "2026-11-22", &token),
            question(&id, &token),
            question_photo(&id, &token),
            reply(&id, &token, i64::MAX, &token),
            resolution(&id, &token),
            poll_tally(&id, &id),
        ];
        keys.extend(ContentKind::ALL.map(|k| content(&id, k, &id)));
        for key in keys {
            assert!(key.len() < 512, "{key} is too long for KV");
        }
    }

    #[test]
    fn snapshot_keys_are_recognised() {
        assert!(is_snapshot(&snapshot("demo")));
        for other in [
            site("demo"),
            "site/demo/snapshot/x".to_string(),
            "site//snapshot".to_string(),
            "site/a/b/snapshot".to_string(),
            content("demo", ContentKind::Story, "snapshot"),
        ] {
            assert!(!is_snapshot(&other), "{other}");
        }
    }

    #[test]
    fn prefixes_list_only_their_own_keys() {
        for kind in ContentKind::ALL {
            assert!(content("demo", kind, "x").starts_with(&content_prefix("demo", kind)));
            assert_eq!(ContentKind::from_plural(kind.plural()), Some(kind));
            for other in ContentKind::ALL.into_iter().filter(|o| *o != kind) {
                assert!(!content("demo", other, "x").starts_with(&content_prefix("demo", kind)));
            }
        }
        assert!(vote("demo", "p", "v").starts_with(&votes_prefix("demo", "p")));
        assert!(!vote("demo", "p2", "v").starts_with(&votes_prefix("demo", "p")));
        assert!(
            !content("demo2", ContentKind::Story, "x")
                .starts_with(&content_prefix("demo", ContentKind::Story))
        );
        assert!(
            events("demo", "2026-11-22", "b")
                .starts_with(&events_prefix("demo", Some("2026-11-22")))
        );
    }
}
