//! Identifier rules. Site, story and other content ids are slugs so they are safe in URLs
//! and KV keys without escaping; visitor and response ids are random tokens made by clients.

/// Longest slug: 63 characters, so any key built from a few slugs stays far below KV's
/// 512-byte key limit.
pub const SLUG_MAX: usize = 63;

/// Shortest and longest visitor / response / batch token.
pub const TOKEN_MIN: usize = 16;
pub const TOKEN_MAX: usize = 64;

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

/// `[A-Za-z0-9_-]{16,64}`: visitor ids, poll response ids and event batch ids.
pub fn is_token(s: &str) -> bool {
    (TOKEN_MIN..=TOKEN_MAX).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// A slug suggested from a title: ASCII letters and digits kept (lower-cased), accents
/// dropped, everything else becomes one `-`; empty when nothing usable is left.
pub fn slugify(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ß' => {
                out.push_str("ss");
                continue;
            }
            c => c,
        };
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= SLUG_MAX {
            break;
        }
    }
    out.truncate(SLUG_MAX);
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_from_titles() {
        assert_eq!(
            slugify("Reset your Wi-Fi router!"),
            "reset-your-wi-fi-router"
        );
        assert_eq!(slugify("  Café Über Straße  "), "cafe-uber-strasse");
        assert_eq!(slugify("¿¡!!"), "");
        let long = slugify(&"word ".repeat(40));
        assert!(is_slug(&long) && long.len() <= SLUG_MAX, "{long}");
    }

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

    #[test]
    fn tokens() {
        for ok in ["abcdefghijklmnop", "A-_0A-_0A-_0A-_0", &"x".repeat(64)] {
            assert!(is_token(ok), "{ok:?} should be a token");
        }
        for bad in [
            "short",
            "abcdefghijklmno",
            &"x".repeat(65),
            "abcdefghijklmnop/",
            "abcdefghijklmnö",
            "abcdefgh ijklmnop",
        ] {
            assert!(!is_token(bad), "{bad:?} should not be a token");
        }
    }
}
