//! What an isolate keeps between requests for each site: its snapshot parsed once per stored
//! version, and the feed's body serialised once per version and per stretch of time in which
//! the feed lists the same content. A feed request then costs a pointer comparison (the
//! isolate's read cache hands out the same shared string until it reads the key again) and
//! one copy of the body with the server's clock spliced in, not a parse and two
//! serialisations.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use glimpse_shared::{Millis, SiteSnapshot};

use crate::hours::{self, ZoneOffsets};

/// Parsed snapshots and serialised feeds, per site, for one isolate.
#[derive(Debug, Default)]
pub struct SnapshotMemo {
    sites: RefCell<HashMap<String, Entry>>,
}

#[derive(Debug)]
struct Entry {
    /// The stored JSON the snapshot was parsed from: a new version is a different string.
    raw: Rc<str>,
    snapshot: Rc<SiteSnapshot>,
    feed: Option<Rc<FeedBody>>,
}

/// A feed serialised once: the body around its `now`, valid from `from` until `until`.
#[derive(Debug)]
pub struct FeedBody {
    from: Millis,
    until: Millis,
    /// Everything before the value of the top-level `now`.
    head: String,
    /// Everything after it.
    tail: String,
    /// A strong ETag over the content (not over `now`): `"` + 16 hex digits + `"`.
    pub etag: String,
}

impl FeedBody {
    /// The body with `now_ms` as the feed's `now`.
    pub fn body(&self, now_ms: Millis) -> String {
        let now = now_ms.to_string();
        let mut out = String::with_capacity(self.head.len() + now.len() + self.tail.len());
        out.push_str(&self.head);
        out.push_str(&now);
        out.push_str(&self.tail);
        out
    }
}

/// The `now` the feed is serialised with before it is cut around that value: no real clock
/// reads this, and no other number in a feed can (times are validated to fit storage).
const NOW_MARK: Millis = Millis::MIN;

impl SnapshotMemo {
    /// Sites remembered; beyond it the memory starts over (it only ever holds hot sites).
    pub const MAX_SITES: usize = 256;

    /// The snapshot stored as `raw` for `site`, parsed only if `raw` differs from what was
    /// parsed last for it. Errors: `raw` is not a snapshot.
    pub fn snapshot(
        &self,
        site: &str,
        raw: Rc<str>,
    ) -> Result<Rc<SiteSnapshot>, crate::json::JsonError> {
        if let Some(entry) = self.sites.borrow_mut().get_mut(site) {
            // The same shared string: no need to look at it. An equal one (the key read
            // again): the same version, remembered by its new pointer from now on.
            if Rc::ptr_eq(&entry.raw, &raw) {
                return Ok(Rc::clone(&entry.snapshot));
            }
            if *entry.raw == *raw {
                entry.raw = raw;
                return Ok(Rc::clone(&entry.snapshot));
            }
        }
        let snapshot: Rc<SiteSnapshot> = Rc::new(crate::json::from_str(&raw)?);
        let mut sites = self.sites.borrow_mut();
        if sites.len() >= Self::MAX_SITES && !sites.contains_key(site) {
            sites.clear();
        }
        sites.insert(
            site.to_string(),
            Entry {
                raw,
                snapshot: Rc::clone(&snapshot),
                feed: None,
            },
        );
        Ok(snapshot)
    }

    /// The feed of `snapshot` (as returned by [`SnapshotMemo::snapshot`] for `site`) at
    /// `now_ms`, with live-help availability from `zones`: reused while the listed content
    /// and the availability stay the same, computed again after.
    pub fn feed(
        &self,
        site: &str,
        snapshot: &Rc<SiteSnapshot>,
        zones: &dyn ZoneOffsets,
        now_ms: Millis,
    ) -> Rc<FeedBody> {
        if let Some(entry) = self.sites.borrow().get(site)
            && Rc::ptr_eq(&entry.snapshot, snapshot)
            && let Some(feed) = &entry.feed
            && (feed.from..feed.until).contains(&now_ms)
        {
            return Rc::clone(feed);
        }
        let feed = Rc::new(serialise(snapshot, zones, now_ms));
        if let Some(entry) = self.sites.borrow_mut().get_mut(site)
            && Rc::ptr_eq(&entry.snapshot, snapshot)
        {
            entry.feed = Some(Rc::clone(&feed));
        }
        feed
    }
}

/// Serialises the feed at `now_ms` once, cut around its `now`.
fn serialise(snapshot: &SiteSnapshot, zones: &dyn ZoneOffsets, now_ms: Millis) -> FeedBody {
    let site = &snapshot.site;
    let mut feed = snapshot.feed_at(now_ms);
    feed.availability = hours::availability(site, &snapshot.sessions, zones, now_ms);
    let until = snapshot
        .feed_changes_after(now_ms)
        .unwrap_or(Millis::MAX)
        .min(hours::next_change(site, &snapshot.sessions, zones, now_ms));
    feed.now = 0;
    let fingerprint = serde_json::to_string(&feed).unwrap_or_default();
    let etag = format!(
        "\"{:016x}\"",
        glimpse_shared::hash::fnv1a64(fingerprint.as_bytes())
    );
    feed.now = NOW_MARK;
    let marked = serde_json::to_string(&feed).unwrap_or_default();
    let mark = format!(":{NOW_MARK}");
    let (head, tail) = match marked.split_once(&mark) {
        // `"now":` ends the head; the tail starts after the number.
        Some((before, after)) => (format!("{before}:"), after.to_string()),
        // Unreachable while `Feed` has a top-level `now`; a body without the clock beats none.
        None => (fingerprint, String::new()),
    };
    FeedBody {
        from: now_ms,
        until,
        head,
        tail,
        etag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::TzDatabase;

    const T0: Millis = 1_774_609_200_000; // Fri 2026-03-27 12:00 CET
    const HOUR: Millis = 3_600_000;

    /// A site open 09:00–17:00 Oslo time on weekdays (across the spring DST change), with
    /// stories, a session and a poll starting and ending over the following days.
    fn raw() -> String {
        let story = |id: &str, from: Millis, to: Millis| {
            serde_json::json!({
                "id": id, "title": format!("How to {id}"), "topic": "orders",
                "slides": [{"text": "Open Settings", "duration_ms": 5000}],
                "publish_at": from, "expires_at": to
            })
        };
        serde_json::json!({
            "site": {
                "id": "demo", "name": "Demo", "origins": ["https://shop.example"],
                "theme": {"accent": "#aa3300", "mode": "light"}, "language": "en",
                "timezone": "Europe/Oslo", "channels": [],
                "topics": [{"id": "orders", "label": "Orders", "hours": [
                    {"days": ["mon","tue","wed","thu","fri"], "from": "09:00", "to": "17:00"}]},
                    {"id": "billing", "label": "Billing"}],
                "retention_days": 30
            },
            "stories": [story("a", T0 - HOUR, T0 + 30 * HOUR), story("b", T0 + 50 * HOUR, T0 + 200 * HOUR)],
            "sessions": [{"id": "qa", "title": "Live Q&A", "topic": "billing", "host": "Ana",
                "announce_from": T0 + 20 * HOUR, "starts_at": T0 + 70 * HOUR,
                "ends_at": T0 + 71 * HOUR, "join_url": "https://meet.example/qa"}],
            "polls": [{"id": "p", "question": "Did this help?", "kind": {"type": "rating"},
                "publish_at": T0, "expires_at": T0 + 100 * HOUR, "show_results": true}]
        })
        .to_string()
    }

    /// The feed the memo stands for, serialised directly.
    fn direct(snapshot: &SiteSnapshot, now_ms: Millis) -> String {
        let mut feed = snapshot.feed_at(now_ms);
        feed.availability =
            hours::availability(&snapshot.site, &snapshot.sessions, &TzDatabase, now_ms);
        serde_json::to_string(&feed).unwrap_or_default()
    }

    #[test]
    fn a_snapshot_is_parsed_once_per_version() {
        let memo = SnapshotMemo::default();
        let a = memo.snapshot("demo", raw().into()).ok();
        let b = memo.snapshot("demo", raw().into()).ok();
        assert!(matches!((&a, &b), (Some(a), Some(b)) if Rc::ptr_eq(a, b)));
        let mut changed: SiteSnapshot =
            crate::json::from_str(&raw()).unwrap_or_else(|_| unreachable!());
        changed.site.name = "Renamed".into();
        let c = memo
            .snapshot(
                "demo",
                serde_json::to_string(&changed).unwrap_or_default().into(),
            )
            .ok();
        assert!(matches!((&a, &c), (Some(a), Some(c)) if !Rc::ptr_eq(a, c)));
        assert_eq!(c.map(|c| c.site.name.clone()).as_deref(), Some("Renamed"));
        assert!(memo.snapshot("demo", "{".into()).is_err());
    }

    #[test]
    fn the_memoised_feed_is_byte_for_byte_the_direct_one_at_every_instant() {
        let memo = SnapshotMemo::default();
        let Ok(snap) = memo.snapshot("demo", raw().into()) else {
            panic!("the demo snapshot parses");
        };
        let start = T0;
        let mut reused = 0;
        let mut last: Option<Rc<FeedBody>> = None;
        // Every 7 minutes for 10 days: across openings, closings, expiries.
        for step in 0..(10 * 24 * 60 / 7) {
            let now = start + step * 7 * 60_000;
            let feed = memo.feed("demo", &snap, &TzDatabase, now);
            assert_eq!(feed.body(now), direct(&snap, now), "at {now}");
            if last.as_ref().is_some_and(|l| Rc::ptr_eq(l, &feed)) {
                reused += 1;
            }
            last = Some(feed);
        }
        assert!(reused > 1_000, "the body was reused only {reused} times");
    }

    #[test]
    fn the_etag_ignores_the_clock_and_follows_the_content() {
        let memo = SnapshotMemo::default();
        let Ok(snap) = memo.snapshot("demo", raw().into()) else {
            panic!("the demo snapshot parses");
        };
        let now = T0;
        let a = memo.feed("demo", &snap, &TzDatabase, now).etag.clone();
        let b = memo.feed("demo", &snap, &TzDatabase, now + 1).etag.clone();
        assert_eq!(a, b);
        let later = snap.feed_changes_after(now).unwrap_or(now);
        let c = memo.feed("demo", &snap, &TzDatabase, later).etag.clone();
        assert_ne!(a, c);
    }
}
