//! What validation and the authoring lint report, and the small checks they share.

use serde::{Deserialize, Serialize};

/// One problem (validation) or warning (lint), with the path of the field it is about
/// (`slides[2].cta.url`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Collects problems while a validator walks a value.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::new(field, message));
    }

    /// [`Problems::text`] unless `value` is empty (a translation's field left to the source).
    pub fn optional_text(&mut self, field: impl Into<String>, value: &str, max: usize) {
        if !value.is_empty() {
            self.text(field, value, max);
        }
    }

    /// Text that must be present (not only whitespace), at most `max` characters and free
    /// of control characters other than line breaks.
    pub fn text(&mut self, field: impl Into<String>, value: &str, max: usize) {
        if value.trim().is_empty()
            || value.chars().count() > max
            || value.chars().any(|c| c.is_control() && c != '\n')
        {
            self.push(
                field,
                format!("must be 1-{max} characters of text (no control characters)"),
            );
        }
    }

    pub fn slug(&mut self, field: impl Into<String>, value: &str) {
        if !crate::ids::is_slug(value) {
            self.push(field, "must match [a-z0-9][a-z0-9-]{0,62}");
        }
    }

    /// A client-made visitor, response or batch id.
    pub fn token(&mut self, field: impl Into<String>, value: &str) {
        if !crate::ids::is_token(value) {
            self.push(field, "must match [A-Za-z0-9_-]{16,64}");
        }
    }

    pub fn https(&mut self, field: impl Into<String>, value: &str) {
        self.https_with(field, value, &Idna);
    }

    /// [`Problems::https`] with hosts checked by `domains`.
    pub fn https_with(
        &mut self,
        field: impl Into<String>,
        value: &str,
        domains: &impl DomainToAscii,
    ) {
        if !is_https_url_with(value, domains) {
            self.push(field, "must be an https URL");
        }
    }

    /// A picture or video address: https, or a path on the Glimpse origin ([`is_media_url`]).
    pub fn media(&mut self, field: impl Into<String>, value: &str) {
        self.media_with(field, value, &Idna);
    }

    /// [`Problems::media`] with hosts checked by `domains`.
    pub fn media_with(
        &mut self,
        field: impl Into<String>,
        value: &str,
        domains: &impl DomainToAscii,
    ) {
        if !is_media_url_with(value, domains) {
            self.push(
                field,
                "must be an https URL or a path on the Glimpse server starting with /",
            );
        }
    }

    /// An instant something is stored until: refused past [`STORAGE_EXPIRY_MAX_MS`].
    pub fn expiry(&mut self, field: impl Into<String>, at_ms: crate::Millis) {
        if at_ms > STORAGE_EXPIRY_MAX_MS {
            self.push(field, STORAGE_EXPIRY_MESSAGE);
        }
    }

    /// A call-to-action or channel value: no bidirectional control characters
    /// ([`has_bidi_control`]), which can make a link or address read as another.
    pub fn no_bidi(&mut self, field: impl Into<String>, value: &str) {
        if has_bidi_control(value) {
            self.push(
                field,
                "must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C)",
            );
        }
    }

    pub fn into_vec(self) -> Vec<Problem> {
        self.0
    }
}

/// The latest instant storage accepts as an expiry: Workers KV takes expirations as a
/// signed 32-bit count of seconds (2038-01-19T03:14:07Z), in ms. Later is refused with 400.
pub const STORAGE_EXPIRY_MAX_MS: crate::Millis = 2_147_483_647_000;

/// What [`Problems::expiry`] says.
pub const STORAGE_EXPIRY_MESSAGE: &str = "must be on or before 2038-01-19T03:14:07Z (2147483647000 ms), the latest expiry storage accepts";

/// Whether `s` holds a bidirectional control character: the embeddings and overrides
/// U+202A-U+202E, the isolates U+2066-U+2069, the marks U+200E/U+200F and U+061C.
pub fn has_bidi_control(s: &str) -> bool {
    s.chars().any(|c| {
        matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
    })
}

/// Domain to ASCII as the WHATWG URL standard does it (UTS #46 processing, internationalised
/// labels in punycode: `pаypal.example` with a Cyrillic `а` → `xn--pypal-4ve.example`).
/// `None` if `host` is not a valid domain name (or is empty).
///
/// [`Idna`] is the `idna` crate's, used by the worker, the console and the CLI. The widget
/// passes the browser's own URL parser instead, so that the Unicode tables UTS #46 needs are
/// not downloaded by every visitor of every host page.
pub trait DomainToAscii {
    fn domain_to_ascii(&self, host: &str) -> Option<String>;
}

/// [`DomainToAscii`] by the `idna` crate (`idna::domain_to_ascii`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Idna;

impl DomainToAscii for Idna {
    fn domain_to_ascii(&self, host: &str) -> Option<String> {
        idna::domain_to_ascii(host).ok().filter(|h| !h.is_empty())
    }
}

/// The host of an https URL as operators should see it: ASCII, internationalised labels in
/// punycode (`https://pаypal.example` with a Cyrillic `а` → `xn--pypal-4ve.example`).
/// `None` if the URL is not https or the host is not a valid domain name.
pub fn ascii_host(url: &str) -> Option<String> {
    ascii_host_with(url, &Idna)
}

/// [`ascii_host`] with the domain name converted by `domains`.
pub fn ascii_host_with(url: &str, domains: &impl DomainToAscii) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    if host.is_empty() {
        return None;
    }
    domains.domain_to_ascii(host).filter(|h| !h.is_empty())
}

/// A lint warning for an https URL whose host is not plain ASCII (a possible look-alike):
/// names the host in punycode, which is how it really reads.
pub fn lookalike_warning(field: impl Into<String>, url: &str) -> Option<Problem> {
    let rest = url.strip_prefix("https://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let ascii = ascii_host(url)?;
    (!host.is_ascii() || ascii.split('.').any(|l| l.starts_with("xn--"))).then(|| {
        Problem::new(
            field,
            format!(
                "the address's host is {ascii} in plain letters: check it is the site you mean (look-alike characters?)"
            ),
        )
    })
}

/// Whether `s` holds an invisible formatting character that can make a link read as another:
/// the bidirectional controls ([`has_bidi_control`]), the soft hyphen U+00AD, U+180E, the
/// zero-width characters U+200B-U+200D, U+2060-U+2064, U+206A-U+206F, the byte-order mark
/// U+FEFF and the interlinear annotations U+FFF9-U+FFFB.
pub fn has_invisible(s: &str) -> bool {
    has_bidi_control(s)
        || s.chars().any(|c| {
            matches!(c, '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}'
                | '\u{206A}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
        })
}

/// Links in authored content must be https: nothing else is ever rendered as a link. No
/// invisible formatting character ([`has_invisible`]), written or percent-encoded; a host
/// without `%` or `@` that IDNA accepts.
pub fn is_https_url(url: &str) -> bool {
    is_https_url_with(url, &Idna)
}

/// [`is_https_url`] with the host checked by `domains` (the widget: the browser's URL parser).
pub fn is_https_url_with(url: &str, domains: &impl DomainToAscii) -> bool {
    !has_invisible(url)
        && !has_invisible(&percent_encoding::percent_decode_str(url).decode_utf8_lossy())
        && ascii_host_with(url, domains).is_some()
        && url.len() <= 2_048
        && url
            .strip_prefix("https://")
            .and_then(|rest| rest.split(['/', '?', '#']).next())
            .is_some_and(|host| {
                !host.is_empty()
                    && !host.contains(char::is_whitespace)
                    && !host.contains('@')
                    && !host.contains('%')
            })
        && !url.contains(char::is_control)
        && !url.contains(char::is_whitespace)
}

/// A media path on the Glimpse origin itself (`/media/demo/step-1.webp`): one leading `/`,
/// no `//`, no `..` segment, no backslash, whitespace or control character, at most 2,048
/// bytes. It cannot leave the origin it is resolved against.
pub fn is_root_relative_path(url: &str) -> bool {
    url.len() <= 2_048
        && url.starts_with('/')
        && !url.contains("//")
        && !url.contains('\\')
        && !url.contains(char::is_whitespace)
        && !url.contains(char::is_control)
        && !url
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .split('/')
            .any(|seg| {
                let seg = seg.to_ascii_lowercase().replace("%2e", ".");
                seg == "." || seg == ".."
            })
        && !url.to_ascii_lowercase().contains("%2f")
        && !url.to_ascii_lowercase().contains("%5c")
}

/// Media (pictures, videos) may be https anywhere, or a path on the Glimpse origin (its own
/// static files, e.g. the demo's generated illustrations). Links stay https only.
pub fn is_media_url(url: &str) -> bool {
    is_media_url_with(url, &Idna)
}

/// [`is_media_url`] with https hosts checked by `domains`.
pub fn is_media_url_with(url: &str, domains: &impl DomainToAscii) -> bool {
    is_https_url_with(url, domains) || is_root_relative_path(url)
}

/// The absolute address the widget loads a slide's media from: an https URL as it is, a
/// root-relative path ([`is_root_relative_path`]) on the origin of `api_base` (the widget's
/// `data-api` / script origin, `http(s)://host[:port][/path]`). `None` for anything else,
/// which the widget then treats as media that failed to load.
///
/// `media_url("http://127.0.0.1:8787", "/media/demo/a.webp")` is
/// `Some("http://127.0.0.1:8787/media/demo/a.webp")`.
pub fn media_url(api_base: &str, url: &str) -> Option<String> {
    media_url_with(api_base, url, &Idna)
}

/// [`media_url`] with https hosts checked by `domains`.
pub fn media_url_with(api_base: &str, url: &str, domains: &impl DomainToAscii) -> Option<String> {
    if is_https_url_with(url, domains) {
        return Some(url.to_string());
    }
    if !is_root_relative_path(url) {
        return None;
    }
    let (scheme, rest) = api_base
        .strip_prefix("https://")
        .map(|r| ("https://", r))
        .or_else(|| api_base.strip_prefix("http://").map(|r| ("http://", r)))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_ok = !host.is_empty()
        && !host.contains('@')
        && !host.contains('\\')
        && !host.contains(char::is_whitespace)
        && !host.contains(char::is_control);
    host_ok.then(|| format!("{scheme}{host}{url}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_only_links() {
        assert!(is_https_url("https://help.example/x?y#z"));
        for bad in [
            "http://help.example",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "HTTPS://x",
            "https://a b",
            "https://x\n",
            "https://user@evil.example",
            &format!("https://x/{}", "a".repeat(2_100)),
        ] {
            assert!(!is_https_url(bad), "{bad:?}");
        }
    }

    /// A converter that knows one host: what the `_with` checks ask it is exactly the host.
    struct Only(&'static str);
    impl DomainToAscii for Only {
        fn domain_to_ascii(&self, host: &str) -> Option<String> {
            (host == self.0).then(|| host.to_string())
        }
    }

    #[test]
    fn link_checks_ask_the_given_converter_for_the_bare_host() {
        let only = Only("help.example");
        assert!(is_https_url_with("https://help.example:8443/a?b#c", &only));
        assert!(!is_https_url_with("https://other.example/", &only));
        assert!(is_media_url_with("/media/a.webp", &only));
        assert_eq!(
            media_url_with(
                "http://127.0.0.1:8787",
                "https://other.example/a.webp",
                &only
            ),
            None
        );
        // The non-host rules hold whatever the converter says.
        assert!(!is_https_url_with("https://help.example/\u{202E}x", &only));
        assert!(!is_https_url_with("http://help.example/", &only));
        assert_eq!(ascii_host_with("https:///x", &only), None);
    }

    #[test]
    fn media_is_https_or_a_safe_path_on_the_glimpse_origin() {
        for good in [
            "https://cdn.example/a.webp",
            "/media/demo/step-1.webp",
            "/media/demo/tap.webm?v=2#t=1",
            "/a",
        ] {
            assert!(is_media_url(good), "{good:?}");
        }
        for bad in [
            "http://cdn.example/a.webp",
            "//evil.example/a.webp",
            "/media//evil.example",
            "media/demo/a.webp",
            "./a.webp",
            "/media/../admin/",
            "/media/..",
            "/media/./a.webp",
            "/media/%2e%2e/admin",
            "/media/.%2E/admin",
            "/media/%2F%2Fevil",
            "/media\\evil",
            "/\\evil.example",
            "/a b.webp",
            "/a\n",
            "/a\u{0}",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "",
            &format!("/{}", "a".repeat(2_100)),
        ] {
            assert!(!is_media_url(bad), "{bad:?}");
        }
    }

    #[test]
    fn media_paths_resolve_against_the_api_origin() {
        assert_eq!(
            media_url("http://127.0.0.1:8787", "/media/demo/step-1.webp").as_deref(),
            Some("http://127.0.0.1:8787/media/demo/step-1.webp")
        );
        // Root-relative: the API base's own path does not matter.
        assert_eq!(
            media_url("https://help.example/glimpse/", "/media/a.webm").as_deref(),
            Some("https://help.example/media/a.webm")
        );
        assert_eq!(
            media_url("http://127.0.0.1:8787", "https://cdn.example/a.webp").as_deref(),
            Some("https://cdn.example/a.webp")
        );
        for (api, url) in [
            ("http://127.0.0.1:8787", "http://cdn.example/a.webp"),
            ("http://127.0.0.1:8787", "//evil.example/a.webp"),
            ("http://127.0.0.1:8787", "/media/../x"),
            ("ftp://example", "/media/a.webp"),
            ("https://", "/media/a.webp"),
            ("https://user@evil.example", "/media/a.webp"),
        ] {
            assert_eq!(media_url(api, url), None, "{api} {url}");
        }
    }

    #[test]
    fn bidi_controls_are_found_and_refuse_links() {
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            let url = format!("https://help.example/{c}gpj.exe");
            assert!(has_bidi_control(&url), "{c:?}");
            assert!(!is_https_url(&url), "{c:?}");
            let mut p = Problems::default();
            p.no_bidi("cta.label", &format!("Open{c}"));
            assert_eq!(p.0.len(), 1);
        }
        assert!(!has_bidi_control("Hilfe · مساعدة"));
    }

    #[test]
    fn invisible_and_encoded_tricks_refuse_links() {
        for bad in [
            "https://example.com/%E2%80%AEfdp.exe",
            "https://example.com/%e2%80%8b",
            "https://exa\u{200B}mple.com/",
            "https://exa\u{200D}mple.com/",
            "https://example.com/\u{FEFF}",
            "https://example.com/a\u{00AD}b",
            "https://ex\u{180E}ample.com",
            "https://evil.example%40example.com/",
            "https://evil.example%2Fexample.com/",
        ] {
            assert!(!is_https_url(bad), "{bad:?}");
        }
        for good in [
            "https://example.com/a%20b",
            "https://example.com/caf%C3%A9",
            "https://xn--caf-dma.example/",
            "https://café.example/menu",
        ] {
            assert!(is_https_url(good), "{good:?}");
        }
    }

    #[test]
    fn expiries_past_what_storage_accepts_are_refused() {
        let mut p = Problems::default();
        p.expiry("a", STORAGE_EXPIRY_MAX_MS);
        assert!(p.0.is_empty());
        // 2100-01-01, the README's old example.
        p.expiry("expires_at", 4_102_444_800_000);
        p.expiry("b", crate::Millis::MAX);
        assert_eq!(p.0.len(), 2);
        assert_eq!(p.0[0].field, "expires_at");
        assert!(p.0[0].message.contains("2038-01-19"));
    }

    #[test]
    fn look_alike_hosts_are_shown_in_punycode() {
        // A Cyrillic "а" in paypal.
        let url = "https://p\u{0430}ypal.example/login";
        assert_eq!(ascii_host(url).as_deref(), Some("xn--pypal-4ve.example"));
        let w = lookalike_warning("cta.url", url);
        assert!(
            w.is_some_and(|w| w.field == "cta.url" && w.message.contains("xn--pypal-4ve.example"))
        );
        // Already punycode: still shown (it is what it is).
        assert!(lookalike_warning("u", "https://xn--pypal-4ve.example/").is_some());
        // Plain ASCII hosts and ports are left alone.
        assert_eq!(lookalike_warning("u", "https://help.example:8443/a"), None);
        assert_eq!(
            ascii_host("https://Help.Example/a").as_deref(),
            Some("help.example")
        );
        assert_eq!(ascii_host("http://x.example"), None);
    }

    #[test]
    fn text_rules() {
        let mut p = Problems::default();
        p.text("a", "fine\nline two", 20);
        assert!(p.0.is_empty());
        p.text("b", "  ", 20);
        p.text("c", "toolong", 3);
        p.text("d", "bell\u{7}", 20);
        let fields: Vec<_> = p.0.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["b", "c", "d"]);
    }
}
