//! The Workers KV key layout, in one place. Keys are `/`-separated and start with the site
//! id, so everything a site owns can be listed by prefix. Every component is a validated
//! slug, so keys never need escaping and stay under KV's 512-byte limit.

/// The precomputed snapshot a feed request reads: site config plus all unexpired content.
/// Rebuilt on every content write; read once per feed request.
pub fn snapshot(site: &str) -> String {
    format!("site/{site}/snapshot")
}

/// One story, as authored. Carries a KV expiration at the story's `expires_at`.
pub fn story(site: &str, story: &str) -> String {
    format!("site/{site}/story/{story}")
}

/// Prefix under which all of a site's stories are listed.
pub fn stories_prefix(site: &str) -> String {
    format!("site/{site}/story/")
}

/// The site's configuration.
pub fn site(site: &str) -> String {
    format!("site/{site}/config")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SLUG_MAX;

    #[test]
    fn longest_keys_fit_in_kv() {
        let id = "a".repeat(SLUG_MAX);
        for key in [snapshot(&id), story(&id, &id), site(&id)] {
            assert!(key.len() < 512, "{key} is too long for KV");
        }
        assert!(story("demo", "x").starts_with(&stories_prefix("demo")));
    }
}
