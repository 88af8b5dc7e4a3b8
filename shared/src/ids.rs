//! Identifier rules. Site, story and other content ids are slugs so they are safe in URLs
//! and KV keys without escaping.

/// Longest slug: 63 characters, so any key built from a few slugs stays far below KV's
/// 512-byte key limit.
pub const SLUG_MAX: usize = 63;

/// `[a-z0-9][a-z0-9-]{0,62}`
pub fn is_slug(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit() => {}
        _ => return false,
    }
    b.len() <= SLUG_MAX
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["demo", "a", "0", "acme-shop", "x-1-2", &"a".repeat(63)] {
            assert!(is_slug(ok), "{ok:?} should be a slug");
        }
        for bad in [
            "",
            "-a",
            "A",
            "acme_shop",
            "a b",
            "a/b",
            "..",
            "é",
            &"a".repeat(64),
        ] {
            assert!(!is_slug(bad), "{bad:?} should not be a slug");
        }
    }
}
