//! Targeting: on which pages, for which visitors and when a story, poll or live session
//! shows. The rules travel with the content inside the one cached feed, and the widget
//! decides per page view with [`Targeting::decide`] — against the page's URL and labels, the
//! device class, the time on the page and what this visitor was already shown — so the feed
//! stays one edge-cached read for every page and every visitor.
//!
//! URL patterns ([`UrlPattern`]) are written the way marketers write them in Intercom,
//! Formbricks or Storyly:
//! - `/pricing`: exactly that path (a trailing `/` does not matter);
//! - `/docs/*`: every path under `/docs/` (a prefix);
//! - `/help/*/billing`, `*/checkout`: `*` stands for any run of characters, `/` included
//!   (a wildcard);
//! - a pattern containing `?` also matches the query (`/search?q=*`); without one the query
//!   is ignored;
//! - `https://shop.example/checkout*`: the whole URL, for a site served on several hosts.
//!
//! Paths compare percent-decoded, so `/café` matches the browser's `/caf%C3%A9`.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::validate::Problems;

/// Where, for whom and when a piece of content shows. Every part is optional; the default
/// (nothing set) shows everywhere, to everyone, at once, on every page view.
///
/// JSON (all keys optional): `{"pages": ["/pricing", "/docs/*"], "exclude_pages":
/// ["/docs/internal/*"], "labels": ["checkout"], "exclude_labels": ["vip"],
/// "delay_seconds": 10, "frequency": {"times": 1}, "devices": ["mobile"]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targeting {
    /// URL patterns ([`UrlPattern`]): the page must match at least one. Empty: every page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<String>,
    /// URL patterns on which it never shows, even if `pages` matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_pages: Vec<String>,
    /// Page labels the host page passes (`data-labels="checkout, pro"` on the script tag,
    /// or `Glimpse('page', {labels: [...]})`): the page must carry at least one. Empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Page labels on which it never shows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_labels: Vec<String>,
    /// Seconds on the page (since it loaded, or since the last SPA route change) before it
    /// shows. 0: at once.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_seconds: u32,
    /// A cap on how often one visitor is shown it. None: on every page view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<Frequency>,
    /// Device classes it shows on. Empty: all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Show at most `times` page views, ever or within a rolling window of `per_hours` hours.
/// `{"times": 1}` is "show once".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frequency {
    /// Most page views (1-100) one visitor is shown it on.
    pub times: u32,
    /// The rolling window in hours (1-8760); none: ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_hours: Option<u32>,
}

/// A device class, from the browser's pointer and screen ([`Device::classify`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    Mobile,
    Tablet,
    Desktop,
}

impl Device {
    pub const ALL: [Device; 3] = [Device::Mobile, Device::Tablet, Device::Desktop];

    /// The class of a browser whose screen's shorter side is `short_side_px` CSS pixels and
    /// whose primary pointer is coarse (a finger: `(pointer: coarse)`) or not. Phones are
    /// under 600 px on their short side in either orientation; a coarse pointer on a larger
    /// screen is a tablet; a fine pointer (mouse, trackpad) is a desktop, however narrow
    /// its window.
    pub fn classify(short_side_px: f64, coarse_pointer: bool) -> Device {
        match (coarse_pointer, short_side_px < 600.0) {
            (true, true) => Device::Mobile,
            (true, false) => Device::Tablet,
            (false, _) => Device::Desktop,
        }
    }

    /// The JSON name (`mobile`, `tablet`, `desktop`).
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
            Device::Desktop => "desktop",
        }
    }

    /// The class named `s` ([`Device::as_str`]).
    pub fn parse(s: &str) -> Option<Device> {
        Device::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// The page view content is decided for.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    /// `location.origin`: `https://shop.example` (scheme and host, any port).
    pub origin: &'a str,
    /// `location.pathname`, as the browser gives it (percent-encoded): `/docs/start`.
    pub path: &'a str,
    /// `location.search`: `?q=x`, or empty.
    pub query: &'a str,
    /// The labels the host page passed.
    pub labels: &'a [String],
    pub device: Device,
    /// When this page view began (load or SPA route change), unix ms.
    pub since: Millis,
}

/// What [`Targeting::decide`] says for one page view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Show it now.
    Show,
    /// Show it from this instant (unix ms) on: its delay has not passed yet.
    From(Millis),
    /// Not on this page view.
    Hide,
}

impl Decision {
    /// Whether it shows at `now_ms`.
    pub fn shows_at(self, now_ms: Millis) -> bool {
        match self {
            Decision::Show => true,
            Decision::From(at) => now_ms >= at,
            Decision::Hide => false,
        }
    }
}

impl Targeting {
    /// Most patterns in `pages` or `exclude_pages`, and most labels in either list.
    pub const LIST_MAX: usize = 20;
    /// Longest URL pattern or label, in characters.
    pub const PATTERN_MAX: usize = 300;
    /// Longest delay, in seconds (one hour).
    pub const DELAY_MAX_S: u32 = 3_600;

    /// Whether no rule is set: it shows everywhere, to everyone, at once, every time.
    pub fn is_everyone(&self) -> bool {
        self == &Targeting::default()
    }

    /// Whether it shows on `page`, and from when. `shown` holds the instants (unix ms) this
    /// visitor was shown it before; what was shown during this page view (at or after
    /// `page.since`) does not count against the cap, so nothing disappears while it is
    /// looked at.
    pub fn decide(&self, page: &Page<'_>, shown: &[Millis]) -> Decision {
        if !self.matches(page) || self.capped(page.since, shown) {
            return Decision::Hide;
        }
        if self.delay_seconds == 0 {
            Decision::Show
        } else {
            Decision::From(page.since + Millis::from(self.delay_seconds) * 1_000)
        }
    }

    /// Whether the page, its labels and the device pass the rules (neither time nor history).
    pub fn matches(&self, page: &Page<'_>) -> bool {
        self.why_not(page).is_none()
    }

    /// Which rule keeps it off `page` (the first that does, in the order the console lists
    /// them), or `None` when the page, its labels and the device pass: the console's tester
    /// says it in these words.
    pub fn why_not(&self, page: &Page<'_>) -> Option<&'static str> {
        let any_page = |patterns: &[String]| {
            patterns
                .iter()
                .filter_map(|p| UrlPattern::parse(p).ok())
                .any(|p| p.matches(page))
        };
        let any_label = |labels: &[String]| {
            labels
                .iter()
                .any(|l| page.labels.iter().any(|x| x.trim() == l.trim()))
        };
        if !self.pages.is_empty() && !any_page(&self.pages) {
            Some("the URL matches none of the pages it shows on")
        } else if any_page(&self.exclude_pages) {
            Some("the URL matches a page it never shows on")
        } else if !self.labels.is_empty() && !any_label(&self.labels) {
            Some("the page carries none of its labels")
        } else if any_label(&self.exclude_labels) {
            Some("the page carries a label it never shows on")
        } else if !self.devices.is_empty() && !self.devices.contains(&page.device) {
            Some("not on this device class")
        } else {
            None
        }
    }

    /// Whether the frequency cap is reached by what was shown before `since`.
    fn capped(&self, since: Millis, shown: &[Millis]) -> bool {
        let Some(f) = self.frequency else {
            return false;
        };
        let from = f
            .per_hours
            .map_or(Millis::MIN, |h| since - Millis::from(h) * 3_600_000);
        let before = shown.iter().filter(|&&t| t < since && t >= from).count();
        before >= f.times as usize
    }

    /// The instants of `shown` still needed to decide ([`Targeting::decide`]) from `now_ms`
    /// on: within the window, and at most `times` of them. What the widget keeps per item.
    pub fn keep(&self, shown: &[Millis], now_ms: Millis) -> Vec<Millis> {
        let Some(f) = self.frequency else {
            return Vec::new();
        };
        let from = f
            .per_hours
            .map_or(Millis::MIN, |h| now_ms - Millis::from(h) * 3_600_000);
        let mut kept: Vec<Millis> = shown.iter().copied().filter(|&t| t >= from).collect();
        kept.sort_unstable();
        let extra = kept.len().saturating_sub(f.times as usize);
        kept.drain(..extra);
        kept
    }

    /// Problems with the rules, reported under `field` (`targeting`).
    pub fn check(&self, field: &str, p: &mut Problems) {
        for (name, list) in [
            ("pages", &self.pages),
            ("exclude_pages", &self.exclude_pages),
        ] {
            if list.len() > Self::LIST_MAX {
                p.push(
                    format!("{field}.{name}"),
                    format!("at most {} patterns", Self::LIST_MAX),
                );
            }
            for (i, pattern) in list.iter().enumerate() {
                if let Err(why) = UrlPattern::parse(pattern) {
                    p.push(format!("{field}.{name}[{i}]"), why);
                }
            }
        }
        for (name, list) in [
            ("labels", &self.labels),
            ("exclude_labels", &self.exclude_labels),
        ] {
            if list.len() > Self::LIST_MAX {
                p.push(
                    format!("{field}.{name}"),
                    format!("at most {} labels", Self::LIST_MAX),
                );
            }
            for (i, label) in list.iter().enumerate() {
                if !is_label(label) {
                    p.push(
                        format!("{field}.{name}[{i}]"),
                        "a label is 1-60 characters without spaces, commas or control characters",
                    );
                }
            }
        }
        if self.delay_seconds > Self::DELAY_MAX_S {
            p.push(
                format!("{field}.delay_seconds"),
                format!("must be 0-{} seconds", Self::DELAY_MAX_S),
            );
        }
        if let Some(f) = self.frequency {
            if !(1..=100).contains(&f.times) {
                p.push(format!("{field}.frequency.times"), "must be 1-100");
            }
            if f.per_hours.is_some_and(|h| !(1..=8_760).contains(&h)) {
                p.push(
                    format!("{field}.frequency.per_hours"),
                    "must be 1-8760 hours (a year), or left out for ever",
                );
            }
        }
        let mut seen = Vec::new();
        for d in &self.devices {
            if seen.contains(d) {
                p.push(format!("{field}.devices"), "lists a device class twice");
                break;
            }
            seen.push(*d);
        }
    }
}

/// A page URL (`https://shop.example/docs/a?x=1#top`) as `(origin, path, query)`:
/// `("https://shop.example", "/docs/a", "?x=1")`, the way `location` gives them (a missing
/// path is `/`, the fragment is dropped). A bare path (`/docs/a?x=1`) has an empty origin.
/// `None` for anything else. For the console's tester; the widget reads `location`.
pub fn split_url(url: &str) -> Option<(&str, &str, &str)> {
    let url = url.split('#').next().unwrap_or_default();
    let (origin, rest) = if url.starts_with('/') {
        ("", url)
    } else {
        let scheme = ["https://", "http://"]
            .into_iter()
            .find(|s| url.starts_with(s))?;
        let host_len = url
            .get(scheme.len()..)?
            .find(['/', '?'])
            .map_or(url.len(), |i| i + scheme.len());
        let (origin, rest) = url.split_at_checked(host_len)?;
        if origin.len() == scheme.len() {
            return None;
        }
        (origin, rest)
    };
    let (path, query) = match rest.find('?') {
        Some(i) => rest.split_at_checked(i)?,
        None => (rest, ""),
    };
    Some((origin, if path.is_empty() { "/" } else { path }, query))
}

/// Whether `s` is a page label: 1-60 characters, no whitespace, commas or control
/// characters (`data-labels` separates labels by commas or spaces).
pub fn is_label(s: &str) -> bool {
    let n = s.chars().count();
    (1..=60).contains(&n)
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c.is_control())
}

/// The labels in a `data-labels` attribute: separated by commas and/or spaces; what is not
/// a label ([`is_label`]) is dropped, and at most 50 are kept.
pub fn parse_labels(attr: &str) -> Vec<String> {
    attr.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|l| is_label(l))
        .take(50)
        .map(str::to_string)
        .collect()
}

/// A parsed URL pattern (see the module's documentation for the syntax).
#[derive(Debug, Clone)]
pub struct UrlPattern {
    kind: PatternKind,
    /// Matches the whole URL (`https://…`), not only the path.
    whole_url: bool,
    /// Matches the query too (the pattern has a `?`).
    with_query: bool,
}

#[derive(Debug, Clone)]
enum PatternKind {
    /// No `*`: the subject equals it (a trailing `/` of the path aside).
    Exact(String),
    /// One `*`, at the end: the subject starts with it.
    Prefix(String),
    /// `*` elsewhere: any run of characters (the pattern's literal parts, split at `*`).
    Wildcard(Vec<String>),
}

impl UrlPattern {
    /// Parses a pattern: a path starting with `/` (or `*`), or a whole `https://` or
    /// `http://` URL, up to [`Targeting::PATTERN_MAX`] characters, with no spaces, control
    /// characters or `#` (fragments never reach a page's URL rules). Errors say what is wrong.
    pub fn parse(pattern: &str) -> Result<UrlPattern, &'static str> {
        let scheme = ["https://", "http://"]
            .into_iter()
            .find(|s| pattern.starts_with(s));
        if scheme.is_none() && !pattern.starts_with(['/', '*']) {
            return Err("a page pattern starts with / or * (a path) or https:// (a whole URL)");
        }
        if pattern.chars().count() > Targeting::PATTERN_MAX {
            return Err("a page pattern is at most 300 characters");
        }
        if pattern
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '#')
        {
            return Err("a page pattern has no spaces, control characters or #");
        }
        let decoded = decode(pattern);
        // A whole URL: its scheme and host compare lower-cased, and no path means `/`.
        let (origin, rest) = match scheme {
            Some(scheme) => {
                let after = decoded.get(scheme.len()..).unwrap_or_default();
                let host_len = after.find(['/', '?', '*']).unwrap_or(after.len());
                let (host, rest) = after.split_at_checked(host_len).unwrap_or((after, ""));
                let mut origin = scheme.to_string();
                origin.push_str(&host.to_ascii_lowercase());
                let rest = if rest.is_empty() || rest.starts_with('?') {
                    format!("/{rest}")
                } else {
                    rest.to_string()
                };
                (origin, rest)
            }
            None => (String::new(), decoded),
        };
        let with_query = rest.contains('?');
        let kind = match rest.matches('*').count() {
            0 => {
                let (path, query) = rest.split_once('?').unwrap_or((&rest, ""));
                PatternKind::Exact(subject(&origin, path, with_query.then_some(query), true))
            }
            1 if rest.ends_with('*') => {
                let mut prefix = origin;
                prefix.push_str(rest.trim_end_matches('*'));
                PatternKind::Prefix(prefix)
            }
            _ => {
                let mut whole = origin;
                whole.push_str(&rest);
                PatternKind::Wildcard(whole.split('*').map(str::to_string).collect())
            }
        };
        Ok(UrlPattern {
            kind,
            whole_url: scheme.is_some(),
            with_query,
        })
    }

    /// Whether `page`'s URL matches.
    pub fn matches(&self, page: &Page<'_>) -> bool {
        let origin = if self.whole_url {
            page.origin.to_ascii_lowercase()
        } else {
            String::new()
        };
        let query = self
            .with_query
            .then(|| decode(page.query.strip_prefix('?').unwrap_or(page.query)));
        let path = decode(page.path);
        match &self.kind {
            PatternKind::Exact(p) => subject(&origin, &path, query.as_deref(), true) == *p,
            PatternKind::Prefix(p) => {
                subject(&origin, &path, query.as_deref(), false).starts_with(p.as_str())
            }
            PatternKind::Wildcard(parts) => {
                wildcard_matches(parts, &subject(&origin, &path, query.as_deref(), false))
            }
        }
    }
}

/// What a URL pattern compares: `origin` (empty for path patterns), the path (without a
/// trailing `/` if `trim`, the root aside) and `?query` when the pattern has one.
fn subject(origin: &str, path: &str, query: Option<&str>, trim: bool) -> String {
    let mut out = origin.to_string();
    let path = match path.strip_suffix('/') {
        Some(trimmed) if trim && !trimmed.is_empty() => trimmed,
        _ => path,
    };
    out.push_str(path);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Whether `subject` is `parts` joined by runs of any characters: the first part at its
/// start, the last at its end, the others in order between, each where it first fits
/// (which is never wrong: a later fit leaves less room for the rest). Hand-written, not the
/// `wildmatch` crate: that one links the Unicode case tables (15 KB) into the widget's
/// first download for a case-insensitive mode URL paths must not have.
fn wildcard_matches(parts: &[String], subject: &str) -> bool {
    let [first, middle @ .., last] = parts else {
        return parts.first().is_some_and(|p| p == subject);
    };
    let Some(mut rest) = subject.as_bytes().strip_prefix(first.as_bytes()) else {
        return false;
    };
    for part in middle {
        let part = part.as_bytes();
        if part.is_empty() {
            continue;
        }
        match rest.windows(part.len()).position(|w| w == part) {
            Some(at) => rest = rest.get(at + part.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    rest.ends_with(last.as_bytes())
}

/// Percent-decodes; text that does not decode to UTF-8 is compared as it was written.
fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map_or_else(|_| s.to_string(), std::borrow::Cow::into_owned)
}

/// What one visitor was shown of the items with a frequency cap, kept by the widget in
/// localStorage (`glimpse:{site}:shown`) as `id=ms,ms;id=ms` (ids are slugs, instants unix
/// ms): small, and read without a JSON decoder in the widget's first chunk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShownLog(Vec<(String, Vec<Millis>)>);

impl ShownLog {
    /// Most items kept; the least recently shown go first.
    pub const ITEMS_MAX: usize = 100;

    /// Reads a stored log; what cannot be read is skipped.
    pub fn parse(stored: &str) -> ShownLog {
        let items = stored
            .split(';')
            .filter_map(|entry| {
                let (id, times) = entry.split_once('=')?;
                crate::ids::is_slug(id).then_some(())?;
                let times: Vec<Millis> = times.split(',').filter_map(|t| t.parse().ok()).collect();
                (!times.is_empty()).then(|| (id.to_string(), times))
            })
            .take(Self::ITEMS_MAX)
            .collect();
        ShownLog(items)
    }

    /// The stored form ([`ShownLog::parse`] reads it back).
    pub fn encode(&self) -> String {
        self.0
            .iter()
            .map(|(id, times)| {
                let times: Vec<String> = times.iter().map(Millis::to_string).collect();
                format!("{id}={}", times.join(","))
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The instants item `id` was shown.
    pub fn of(&self, id: &str) -> Vec<Millis> {
        self.0
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    }

    /// Records that `id` was shown at `at_ms`, keeping only what its `targeting` needs to
    /// decide later ([`Targeting::keep`]). Items without a cap are not recorded. Returns
    /// whether the log changed (and should be stored).
    pub fn record(&mut self, id: &str, at_ms: Millis, targeting: &Targeting) -> bool {
        if targeting.frequency.is_none() || !crate::ids::is_slug(id) {
            return false;
        }
        let mut times = self.of(id);
        times.push(at_ms);
        let kept = targeting.keep(&times, at_ms);
        self.0.retain(|(i, _)| i != id);
        self.0.push((id.to_string(), kept));
        let extra = self.0.len().saturating_sub(Self::ITEMS_MAX);
        self.0.drain(..extra);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page<'a>(path: &'a str, query: &'a str, labels: &'a [String]) -> Page<'a> {
        Page {
            origin: "https://Shop.Example",
            path,
            query,
            labels,
            device: Device::Desktop,
            since: 1_000_000,
        }
    }

    fn on(pattern: &str, path: &str) -> bool {
        let p = UrlPattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        let (path, query) = path.split_at(path.find('?').unwrap_or(path.len()));
        p.matches(&page(path, query, &[]))
    }

    #[test]
    fn exact_patterns_match_one_path_with_or_without_its_trailing_slash() {
        assert!(on("/pricing", "/pricing"));
        assert!(on("/pricing", "/pricing/"));
        assert!(on("/pricing/", "/pricing"));
        assert!(on("/pricing", "/pricing?plan=pro"), "the query is ignored");
        assert!(!on("/pricing", "/pricing/team"));
        assert!(!on("/pricing", "/Pricing"), "paths are case-sensitive");
        assert!(on("/", "/"));
        assert!(!on("/", "/docs"));
    }

    #[test]
    fn prefix_and_wildcard_patterns() {
        assert!(on("/docs/*", "/docs/start"));
        assert!(on("/docs/*", "/docs/a/b/c"));
        assert!(on("/docs/*", "/docs/"));
        assert!(!on("/docs/*", "/docs"));
        assert!(!on("/docs/*", "/documents"));
        assert!(on("/help/*/billing", "/help/en/billing"));
        assert!(on("/help/*/billing", "/help/en/gb/billing"));
        assert!(!on("/help/*/billing", "/help/en/billing/x"));
        assert!(on("*/checkout", "/eu/checkout"));
        assert!(on("/*", "/anything"));
        assert!(on("/a*b*c", "/abc"));
        assert!(on("/a*b*c", "/a-b-b-c"));
        assert!(!on("/a*b*c", "/a-c-b"));
        assert!(on("/a*a", "/aa"));
        assert!(!on("/a*a", "/a"), "the parts may not overlap");
        assert!(on("*/x/*", "/q/x/r"));
    }

    /// A backtracking matcher, obviously right and exponential: the reference.
    fn reference(p: &[char], s: &[char]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some(('*', rest)) => (0..=s.len()).any(|i| reference(rest, &s[i..])),
            Some((c, rest)) => s.first() == Some(c) && reference(rest, &s[1..]),
        }
    }

    proptest::proptest! {
        #[test]
        fn wildcards_match_as_backtracking_does(p in "[ab*]{0,9}", s in "[ab]{0,12}") {
            let parts: Vec<String> = p.split('*').map(str::to_string).collect();
            let chars = |x: &str| x.chars().collect::<Vec<_>>();
            proptest::prop_assert_eq!(
                wildcard_matches(&parts, &s),
                reference(&chars(&p), &chars(&s)),
                "{} on {}", p, s
            );
        }
    }

    #[test]
    fn a_question_mark_is_literal_and_brings_the_query_in() {
        assert!(on("/search?q=*", "/search?q=refund"));
        assert!(!on("/search?q=*", "/search"));
        assert!(!on("/search?q=*", "/search?page=2"));
        assert!(!on("/a?b", "/ab"), "? is not a single-character wildcard");
    }

    #[test]
    fn whole_url_patterns_compare_hosts_case_insensitively() {
        assert!(on("https://shop.example/checkout*", "/checkout/pay"));
        assert!(on("https://SHOP.example/checkout", "/checkout/"));
        assert!(on("https://shop.example", "/"));
        assert!(!on("https://shop.example", "/x"));
        assert!(!on("https://other.example/checkout*", "/checkout"));
        assert!(!on("http://shop.example/*", "/x"), "the scheme counts");
    }

    #[test]
    fn paths_compare_percent_decoded() {
        assert!(on("/café", "/caf%C3%A9"));
        assert!(on("/caf%C3%A9", "/café"));
        assert!(on("/søk/*", "/s%C3%B8k/sko"));
    }

    #[test]
    fn bad_patterns_are_refused_with_a_reason() {
        for bad in ["pricing", "", "ftp://x/", "/a b", "/a#b", "/\u{7}"] {
            assert!(UrlPattern::parse(bad).is_err(), "{bad:?}");
        }
        assert!(UrlPattern::parse(&format!("/{}", "a".repeat(300))).is_err());
    }

    #[test]
    fn includes_excludes_labels_and_devices_combine() {
        let t = Targeting {
            pages: vec!["/docs/*".into(), "/pricing".into()],
            exclude_pages: vec!["/docs/internal/*".into()],
            labels: vec!["pro".into(), "team".into()],
            exclude_labels: vec!["vip".into()],
            devices: vec![Device::Desktop, Device::Tablet],
            ..Targeting::default()
        };
        let pro = vec!["pro".to_string()];
        let vip = vec!["pro".to_string(), "vip".to_string()];
        assert!(t.matches(&page("/docs/start", "", &pro)));
        assert!(t.matches(&page("/pricing", "", &pro)));
        assert!(!t.matches(&page("/docs/internal/x", "", &pro)), "excluded");
        assert!(!t.matches(&page("/blog", "", &pro)), "not included");
        assert!(!t.matches(&page("/pricing", "", &[])), "no label");
        assert!(!t.matches(&page("/pricing", "", &vip)), "excluded label");
        let phone = Page {
            device: Device::Mobile,
            ..page("/pricing", "", &pro)
        };
        assert!(!t.matches(&phone), "device");
        assert!(Targeting::default().matches(&phone));
    }

    #[test]
    fn the_delay_counts_from_the_page_view() {
        let t = Targeting {
            delay_seconds: 10,
            ..Targeting::default()
        };
        let p = page("/", "", &[]);
        let d = t.decide(&p, &[]);
        assert_eq!(d, Decision::From(1_010_000));
        assert!(!d.shows_at(1_009_999));
        assert!(d.shows_at(1_010_000));
        assert_eq!(Targeting::default().decide(&p, &[]), Decision::Show);
    }

    #[test]
    fn show_once_and_frequency_caps() {
        let once = Targeting {
            frequency: Some(Frequency {
                times: 1,
                per_hours: None,
            }),
            ..Targeting::default()
        };
        let p = page("/", "", &[]);
        assert_eq!(once.decide(&p, &[]), Decision::Show);
        assert_eq!(once.decide(&p, &[5]), Decision::Hide, "shown long ago");
        assert_eq!(
            once.decide(&p, &[p.since + 10]),
            Decision::Show,
            "shown on this very page view: it stays"
        );
        let twice_a_day = Targeting {
            frequency: Some(Frequency {
                times: 2,
                per_hours: Some(24),
            }),
            ..Targeting::default()
        };
        let hour = 3_600_000;
        let t0 = 100 * hour;
        let p = Page {
            since: t0,
            ..page("/", "", &[])
        };
        assert_eq!(twice_a_day.decide(&p, &[t0 - hour]), Decision::Show);
        assert_eq!(
            twice_a_day.decide(&p, &[t0 - hour, t0 - 2 * hour]),
            Decision::Hide
        );
        assert_eq!(
            twice_a_day.decide(&p, &[t0 - 25 * hour, t0 - 2 * hour]),
            Decision::Show,
            "one of them is outside the window"
        );
        assert_eq!(
            twice_a_day.keep(
                &[t0 - 25 * hour, t0 - 3 * hour, t0 - 2 * hour, t0 - hour],
                t0
            ),
            vec![t0 - 2 * hour, t0 - hour]
        );
        assert!(Targeting::default().keep(&[1, 2], 3).is_empty());
    }

    #[test]
    fn devices_are_classified_by_pointer_and_screen() {
        assert_eq!(Device::classify(390.0, true), Device::Mobile);
        assert_eq!(Device::classify(820.0, true), Device::Tablet);
        assert_eq!(Device::classify(390.0, false), Device::Desktop);
        assert_eq!(Device::classify(1080.0, false), Device::Desktop);
        for d in Device::ALL {
            assert_eq!(Device::parse(d.as_str()), Some(d));
        }
    }

    #[test]
    fn the_shown_log_keeps_what_the_caps_need() {
        let once = Targeting {
            frequency: Some(Frequency {
                times: 1,
                per_hours: None,
            }),
            ..Targeting::default()
        };
        let mut log = ShownLog::parse("");
        assert!(
            !log.record("a", 5, &Targeting::default()),
            "no cap: nothing kept"
        );
        assert!(log.record("a", 5, &once));
        assert!(log.record("a", 9, &once));
        assert!(log.record("b-2", 7, &once));
        assert_eq!(log.encode(), "a=9;b-2=7");
        assert_eq!(ShownLog::parse(&log.encode()), log);
        assert_eq!(log.of("a"), [9]);
        assert!(log.of("c").is_empty());
        let junk = ShownLog::parse("x=1,zz,3;Bad Id=4;=5;y=;z");
        assert_eq!(junk.encode(), "x=1,3");
        for i in 0..150 {
            log.record(&format!("s{i}"), i, &once);
        }
        assert_eq!(log.0.len(), ShownLog::ITEMS_MAX);
        assert_eq!(log.of("s149"), [149]);
        assert!(log.of("a").is_empty(), "the oldest went first");
    }

    #[test]
    fn the_tester_says_which_rule_keeps_it_off() {
        let t = Targeting {
            pages: vec!["/docs/*".into()],
            exclude_pages: vec!["/docs/internal/*".into()],
            labels: vec!["pro".into()],
            devices: vec![Device::Mobile],
            ..Targeting::default()
        };
        let pro = vec!["pro".to_string()];
        let on = |path, labels: &[String], device| {
            t.why_not(&Page {
                device,
                ..page(path, "", labels)
            })
        };
        assert_eq!(
            on("/blog", &pro, Device::Mobile),
            Some("the URL matches none of the pages it shows on")
        );
        assert_eq!(
            on("/docs/internal/x", &pro, Device::Mobile),
            Some("the URL matches a page it never shows on")
        );
        assert_eq!(
            on("/docs/a", &[], Device::Mobile),
            Some("the page carries none of its labels")
        );
        assert_eq!(
            on("/docs/a", &pro, Device::Desktop),
            Some("not on this device class")
        );
        assert_eq!(on("/docs/a", &pro, Device::Mobile), None);
    }

    #[test]
    fn urls_split_as_location_does() {
        assert_eq!(
            split_url("https://shop.example/docs/a?x=1#top"),
            Some(("https://shop.example", "/docs/a", "?x=1"))
        );
        assert_eq!(
            split_url("https://shop.example"),
            Some(("https://shop.example", "/", ""))
        );
        assert_eq!(
            split_url("http://127.0.0.1:8787?q"),
            Some(("http://127.0.0.1:8787", "/", "?q"))
        );
        assert_eq!(
            split_url("/pricing?plan=pro"),
            Some(("", "/pricing", "?plan=pro"))
        );
        assert_eq!(split_url("pricing"), None);
        assert_eq!(split_url("https://"), None);
        assert_eq!(split_url("ftp://x/"), None);
    }

    #[test]
    fn labels_from_the_attribute() {
        assert_eq!(
            parse_labels(" checkout, pro  team,,"),
            ["checkout", "pro", "team"]
        );
        assert!(parse_labels("").is_empty());
    }

    #[test]
    fn rules_are_checked_field_by_field() {
        let t = Targeting {
            pages: vec!["pricing".into()],
            labels: vec!["two words".into()],
            delay_seconds: 4_000,
            frequency: Some(Frequency {
                times: 0,
                per_hours: Some(0),
            }),
            devices: vec![Device::Mobile, Device::Mobile],
            ..Targeting::default()
        };
        let mut p = Problems::default();
        t.check("targeting", &mut p);
        let fields: Vec<String> = p.into_vec().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "targeting.pages[0]",
                "targeting.labels[0]",
                "targeting.delay_seconds",
                "targeting.frequency.times",
                "targeting.frequency.per_hours",
                "targeting.devices",
            ]
        );
        let mut p = Problems::default();
        Targeting::default().check("targeting", &mut p);
        assert!(p.into_vec().is_empty());
    }

    #[test]
    fn json_leaves_out_what_is_not_set() {
        assert_eq!(
            serde_json::to_string(&Targeting::default()).unwrap_or_default(),
            "{}"
        );
        let t: Targeting = serde_json::from_str(
            r#"{"pages":["/a"],"frequency":{"times":1},"devices":["mobile"],"delay_seconds":5}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.devices, [Device::Mobile]);
        assert_eq!(t.frequency.map(|f| f.times), Some(1));
        assert!(!t.is_everyone());
    }
}
