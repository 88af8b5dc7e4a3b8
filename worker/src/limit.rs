//! Rate limiting of anonymous requests: a sliding window estimated from two fixed windows
//! (the current and the previous one), as Cloudflare's own limiter does. Pure arithmetic over
//! an explicit `now_ms`; the state lives in the isolate, so on its own the limit holds per
//! edge location. Where the worker has Cloudflare's Rate Limiting binding, the edge asks it
//! first with the same keys and tells this limiter about its refusals ([`RateLimiter::refuse`]),
//! so the limit holds across isolates; this limiter is the fallback. Nothing is ever counted
//! in KV (one write per second per key, eventually consistent).
//!
//! Who is counted ([`keys_for`]): every public write (poll response, event batch, question,
//! photo, the help centre's "Did this help?" form) counts once for its *subject* on its
//! address — the visitor id in the body (the question id for a photo; for the form, which
//! has no visitor id, one subject for all its answers) — and once for the address alone,
//! per site. A visitor using the widget normally writes about 9 times a minute (an event
//! batch every 10 s, a vote or two, rarely a question), so [`Limits::VISITOR_PER_MINUTE`]
//! (30) leaves it 3× headroom and [`Limits::ADDRESS_PER_MINUTE`] (600) lets fifty such
//! visitors share one office NAT, while one abuser stays at 30 a minute with one visitor id
//! and at 600 a minute however many ids it invents. Reads of a question thread (the widget
//! polls every 5 s) are counted the same way in their own buckets. IPv6 clients are counted
//! per /64, the block one subscriber usually gets, so rotating addresses inside it gains
//! nothing.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;

use glimpse_shared::Millis;
use glimpse_shared::ids::is_token;

use crate::http::ApiRequest;
use crate::route::{Method, Route};

/// The limit: at most `max` requests per `window_ms`, per key (`max` 0: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_ms: Millis,
}

impl Limit {
    /// Requests per minute per visitor (the `RATE_LIMIT_PER_MINUTE` default).
    pub const DEFAULT_PER_MINUTE: u32 = Limits::VISITOR_PER_MINUTE;

    pub fn per_minute(max: u32) -> Self {
        Self {
            max,
            window_ms: 60_000,
        }
    }
}

/// The two ceilings every counted request must pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Per site, address and subject (visitor id, question id).
    pub per_visitor: Limit,
    /// Per site and address (an IPv4 address or an IPv6 /64), whatever the subject.
    pub per_address: Limit,
}

impl Limits {
    /// About 9 writes a minute for a visitor using the widget normally, 3× headroom.
    pub const VISITOR_PER_MINUTE: u32 = 30;
    /// Fifty such visitors behind one NAT (≈ 450 a minute) plus a third.
    pub const ADDRESS_PER_MINUTE: u32 = 600;
    /// When only the per-visitor limit is configured, the address ceiling is this many times
    /// it (30 → 600).
    pub const VISITORS_PER_ADDRESS: u32 = 20;

    pub fn per_minute(per_visitor: u32, per_address: u32) -> Self {
        Self {
            per_visitor: Limit::per_minute(per_visitor),
            per_address: Limit::per_minute(per_address),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::per_minute(Self::VISITOR_PER_MINUTE, Self::ADDRESS_PER_MINUTE)
    }
}

/// Which ceiling a key is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Visitor,
    Address,
}

impl Tier {
    /// The Rate Limiting binding (wrangler.toml) that counts this tier where deployed.
    pub fn binding(self) -> &'static str {
        match self {
            Tier::Visitor => "VISITOR_LIMITER",
            Tier::Address => "ADDRESS_LIMITER",
        }
    }
}

/// The keys one request is counted under, address first.
pub type Keys = [(Tier, String); 2];

/// The address a client is counted as: an IPv4 address as it is, an IPv6 address as its /64
/// (`2001:db8:1:2::/64`; an IPv4-mapped one as its IPv4 address). Anything unparseable is
/// kept as given (at most 64 bytes).
pub fn address_key(ip: &str) -> String {
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => ip
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(64)
            .collect(),
    }
}

/// The visitor id a JSON write names (`"visitor"`), if it is a valid token.
fn visitor_in(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Named {
        visitor: Option<String>,
    }
    crate::json::from_slice::<Named>(body)
        .ok()
        .and_then(|n| n.visitor)
        .filter(|v| is_token(v))
}

/// The keys `req` is counted under, or `None` for requests that are not limited (the feed,
/// knowledge base and results are cached instead; operators are authenticated). Pure: the
/// edge calls it to ask the Rate Limiting binding, the core to count in the isolate.
pub fn keys_for(route: &Route, req: &ApiRequest) -> Option<Keys> {
    let (kind, site, subject) = match (route, req.method) {
        (Route::PollResponses { site, .. }, Method::Post)
        | (Route::Events { site }, Method::Post)
        | (Route::Ask { site }, Method::Post)
        | (Route::LiveAsk { site, .. }, Method::Post)
        | (Route::LiveVote { site, .. }, Method::Post) => ("w", site, visitor_in(&req.body)),
        (Route::Photo { site, id }, Method::Put)
        | (Route::Thread { site, id }, Method::Delete)
        | (Route::FollowUp { site, id }, Method::Post) => ("w", site, Some(format!("q-{id}"))),
        (Route::ThreadStatus { site }, Method::Post) => ("r", site, Some("threads".into())),
        (Route::Thread { site, id }, Method::Get | Method::Head) => {
            ("r", site, Some(format!("q-{id}")))
        }
        // The help centre's "Did this help?" form carries no visitor id: its answers share one
        // bucket per address.
        (Route::KbFeedback { site, .. }, Method::Post) => ("w", site, Some("kb-feedback".into())),
        _ => return None,
    };
    let address = address_key(req.client_ip());
    let subject = subject.unwrap_or_else(|| "-".into());
    Some([
        (Tier::Address, format!("{kind}|{site}|{address}")),
        (Tier::Visitor, format!("{kind}|{site}|{address}|{subject}")),
    ])
}

#[derive(Debug, Clone, Copy)]
struct Window {
    limit: Limit,
    start: Millis,
    current: u32,
    previous: u32,
    /// The last request counted or refused (which entries to evict first).
    last_ms: Millis,
    /// Refused until then, whatever the count (the Rate Limiting binding said so).
    blocked_until: Millis,
}

impl Window {
    fn new(limit: Limit, now_ms: Millis) -> Self {
        Self {
            limit,
            start: now_ms - now_ms.rem_euclid(limit.window_ms),
            current: 0,
            previous: 0,
            last_ms: now_ms,
            blocked_until: 0,
        }
    }

    /// Moves the fixed windows forward to `now_ms`.
    fn roll(&mut self, now_ms: Millis) {
        let window_ms = self.limit.window_ms;
        let start = now_ms - now_ms.rem_euclid(window_ms);
        if start != self.start {
            self.previous = if start - self.start == window_ms {
                self.current
            } else {
                0
            };
            self.current = 0;
            self.start = start;
        }
    }

    /// Ok if one more request fits at `now_ms` (after [`Window::roll`]), else the seconds
    /// to wait (≥ 1).
    fn room(&self, now_ms: Millis) -> Result<(), u32> {
        let Limit { max, window_ms } = self.limit;
        if self.blocked_until > now_ms {
            return Err(secs(self.blocked_until - now_ms));
        }
        let elapsed = now_ms - self.start;
        // Weight of the previous window still inside the sliding window.
        let weight = (window_ms - elapsed) as f64 / window_ms as f64;
        let estimate = f64::from(self.previous) * weight + f64::from(self.current);
        if estimate + 1.0 <= f64::from(max) {
            return Ok(());
        }
        // When will the estimate drop enough? Within this window only through the decay of
        // the previous one; otherwise at the next window boundary.
        let wait_ms = if self.previous > 0 && f64::from(self.current) + 1.0 <= f64::from(max) {
            let needed =
                (f64::from(max) - 1.0 - f64::from(self.current)) / f64::from(self.previous);
            let at = (window_ms as f64 * (1.0 - needed)).ceil() as Millis;
            (at - elapsed).max(1)
        } else {
            window_ms - elapsed
        };
        Err(secs(wait_ms))
    }

    /// Whether this entry would refuse a request at `now_ms`.
    fn is_limited(&self, now_ms: Millis) -> bool {
        let mut w = *self;
        w.roll(now_ms);
        w.room(now_ms).is_err()
    }

    /// Nothing left to remember: no count inside the sliding window, no block.
    fn is_idle(&self, now_ms: Millis) -> bool {
        now_ms - self.start >= 2 * self.limit.window_ms && self.blocked_until <= now_ms
    }
}

fn secs(ms: Millis) -> u32 {
    u32::try_from((ms + 999) / 1000).unwrap_or(u32::MAX).max(1)
}

/// Counts requests per key, in bounded memory: at most [`RateLimiter::KEYS_MAX`] keys. When
/// the table is full, idle keys go first, then the least recently active keys that are under
/// their limit; a key that is currently limited is never forgotten, so no flood of fresh
/// addresses can unblock it. If every key in a full table is limited, a new key is let
/// through uncounted (the table cannot grow) until entries age out.
#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    windows: RefCell<HashMap<String, Window>>,
}

impl RateLimiter {
    pub const KEYS_MAX: usize = 10_000;
    /// Keys evicted at once when the table is full (so eviction is amortised).
    const EVICT_BATCH: usize = Self::KEYS_MAX / 20;

    /// `limit` per visitor; the address ceiling is [`Limits::VISITORS_PER_ADDRESS`] times it.
    pub fn new(limit: Limit) -> Self {
        Self::with_limits(Limits {
            per_visitor: limit,
            per_address: Limit {
                max: limit.max.saturating_mul(Limits::VISITORS_PER_ADDRESS),
                window_ms: limit.window_ms,
            },
        })
    }

    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            windows: RefCell::new(HashMap::new()),
        }
    }

    pub fn limit(&self) -> Limit {
        self.limits.per_visitor
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether anything is limited at all (a per-visitor limit of 0 turns limiting off).
    pub fn enabled(&self) -> bool {
        self.limits.per_visitor.max > 0 && self.limits.per_visitor.window_ms > 0
    }

    fn tier_limit(&self, tier: Tier) -> Limit {
        match tier {
            Tier::Visitor => self.limits.per_visitor,
            Tier::Address => self.limits.per_address,
        }
    }

    /// Counts one request for `key` at the per-visitor limit: see [`RateLimiter::check_keys`].
    pub fn check(&self, key: &str, now_ms: Millis) -> Result<(), u32> {
        self.check_keys(&[(Tier::Visitor, key.to_string())], now_ms)
    }

    /// Counts one request under every key at `now_ms` if all of them have room: `Ok`,
    /// otherwise `Err` with the seconds to wait before retrying (≥ 1, the longest wait of the
    /// keys that refused). A refused request is counted under none of them.
    pub fn check_keys(&self, keys: &[(Tier, String)], now_ms: Millis) -> Result<(), u32> {
        if !self.enabled() {
            return Ok(());
        }
        let mut windows = self.windows.borrow_mut();
        let mut wait: Option<u32> = None;
        for (tier, key) in keys {
            let limit = self.tier_limit(*tier);
            if limit.max == 0 || limit.window_ms <= 0 {
                continue;
            }
            if let Some(w) = windows.get_mut(key) {
                w.roll(now_ms);
                w.last_ms = now_ms;
                if let Err(s) = w.room(now_ms) {
                    wait = Some(wait.map_or(s, |x| x.max(s)));
                }
            }
        }
        if let Some(s) = wait {
            return Err(s);
        }
        for (tier, key) in keys {
            let limit = self.tier_limit(*tier);
            if limit.max == 0 || limit.window_ms <= 0 {
                continue;
            }
            if !windows.contains_key(key) && !make_room(&mut windows, now_ms) {
                continue;
            }
            let w = windows
                .entry(key.clone())
                .or_insert_with(|| Window::new(limit, now_ms));
            w.roll(now_ms);
            w.current += 1;
            w.last_ms = now_ms;
        }
        Ok(())
    }

    /// Refuses `key` for `for_ms` from `now_ms`, whatever it counted: the Rate Limiting
    /// binding refused it (it counts across isolates; this isolate saw only its share).
    pub fn refuse(&self, tier: Tier, key: &str, now_ms: Millis, for_ms: Millis) {
        let limit = self.tier_limit(tier);
        if limit.max == 0 || limit.window_ms <= 0 {
            return;
        }
        let mut windows = self.windows.borrow_mut();
        if !windows.contains_key(key) && !make_room(&mut windows, now_ms) {
            // A full table of limited keys: evict the one whose wait ends first.
            let soonest = windows
                .iter()
                .min_by_key(|(_, w)| w.blocked_until.max(w.start + 2 * w.limit.window_ms))
                .map(|(k, _)| k.clone());
            if let Some(k) = soonest {
                windows.remove(&k);
            }
        }
        let w = windows
            .entry(key.to_string())
            .or_insert_with(|| Window::new(limit, now_ms));
        w.blocked_until = w.blocked_until.max(now_ms + for_ms);
        w.last_ms = now_ms;
    }

    /// Keys held now (at most [`RateLimiter::KEYS_MAX`]).
    pub fn len(&self) -> usize {
        self.windows.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Makes room for one more key if the table is full: idle keys first, then the least
/// recently active keys that are under their limit. `false` if every key is limited.
fn make_room(windows: &mut HashMap<String, Window>, now_ms: Millis) -> bool {
    if windows.len() < RateLimiter::KEYS_MAX {
        return true;
    }
    windows.retain(|_, w| !w.is_idle(now_ms));
    if windows.len() < RateLimiter::KEYS_MAX {
        return true;
    }
    let mut free: Vec<(Millis, String)> = windows
        .iter()
        .filter(|(_, w)| !w.is_limited(now_ms))
        .map(|(k, w)| (w.last_ms, k.clone()))
        .collect();
    if free.is_empty() {
        return false;
    }
    let n = RateLimiter::EVICT_BATCH.min(free.len());
    free.select_nth_unstable_by_key(n - 1, |(at, _)| *at);
    for (_, k) in free.into_iter().take(n) {
        windows.remove(&k);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_the_limit_then_says_how_long_to_wait() {
        let l = RateLimiter::new(Limit::per_minute(3));
        assert_eq!(l.check("ip|site", 0), Ok(()));
        assert_eq!(l.check("ip|site", 1), Ok(()));
        assert_eq!(l.check("ip|site", 2), Ok(()));
        assert_eq!(l.check("ip|site", 3), Err(60));
        assert_eq!(l.check("ip|site", 30_000), Err(30));
        // Other keys are independent.
        assert_eq!(l.check("ip|other-site", 3), Ok(()));
        assert_eq!(l.check("ip2|site", 3), Ok(()));
    }

    #[test]
    fn the_previous_window_decays() {
        let l = RateLimiter::new(Limit::per_minute(4));
        for t in 0..4 {
            assert_eq!(l.check("k", t), Ok(()));
        }
        // At 60 s the previous window (4) still weighs fully: refused, and the wait is the
        // time until 4 * (1 - elapsed/60) <= 3, i.e. 15 s into the window.
        assert_eq!(l.check("k", 60_000), Err(15));
        assert_eq!(l.check("k", 74_000), Err(1));
        assert_eq!(l.check("k", 75_000), Ok(()));
        // Two windows later, nothing remains.
        let l2 = RateLimiter::new(Limit::per_minute(1));
        assert_eq!(l2.check("k", 0), Ok(()));
        assert_eq!(l2.check("k", 120_000), Ok(()));
    }

    #[test]
    fn refused_requests_are_not_counted() {
        let l = RateLimiter::new(Limit::per_minute(1));
        assert_eq!(l.check("k", 0), Ok(()));
        for t in 1..100 {
            assert!(l.check("k", t).is_err());
        }
        assert_eq!(l.check("k", 120_000), Ok(()));
    }

    #[test]
    fn zero_disables_the_limit() {
        let l = RateLimiter::new(Limit::per_minute(0));
        for t in 0..1_000 {
            assert_eq!(l.check("k", t), Ok(()));
        }
    }

    fn req(ip: &str, body: &str) -> ApiRequest {
        ApiRequest::new(Method::Post, "/v1/sites/demo/events")
            .header("cf-connecting-ip", ip)
            .json(body)
    }

    fn events(site: &str) -> Route {
        Route::Events { site: site.into() }
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        assert_eq!(address_key("203.0.113.7"), "203.0.113.7");
        assert_eq!(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            address_key("2001:db8:1:2:ffff:ffff:ffff:fffe"),
            "2001:db8:1:2::/64"
        );
        assert_ne!(
            address_key("2001:db8:1:3::1"),
            address_key("2001:db8:1:2::1")
        );
        assert_eq!(address_key("::ffff:198.51.100.4"), "198.51.100.4");
        assert_eq!(address_key("unknown"), "unknown");
        assert_eq!(address_key(&"x".repeat(500)).len(), 64);
        // So a client rotating through its /64 stays one client.
        let l = RateLimiter::new(Limit::per_minute(3));
        let body = r#"{"visitor":"visitor-0000000001"}"#;
        for i in 0..3 {
            let r = req(&format!("2001:db8:1:2::{i:x}"), body);
            assert_eq!(
                l.check_keys(&keys_for(&events("demo"), &r).unwrap(), 0),
                Ok(())
            );
        }
        let r = req("2001:db8:1:2:9999::1", body);
        assert!(
            l.check_keys(&keys_for(&events("demo"), &r).unwrap(), 0)
                .is_err()
        );
    }

    #[test]
    fn keys_name_the_site_the_address_and_the_visitor() {
        let r = req(
            "203.0.113.7",
            r#"{"id":"x","visitor":"visitor-0000000001","events":[]}"#,
        );
        let [(a, address), (v, visitor)] = keys_for(&events("demo"), &r).unwrap();
        assert_eq!((a, v), (Tier::Address, Tier::Visitor));
        assert_eq!(address, "w|demo|203.0.113.7");
        assert_eq!(visitor, "w|demo|203.0.113.7|visitor-0000000001");
        // No valid visitor id: one shared bucket per address, at the per-visitor limit.
        let r = req("203.0.113.7", "{not json");
        assert_eq!(
            keys_for(&events("demo"), &r).unwrap()[1].1,
            "w|demo|203.0.113.7|-"
        );
        let r = req("203.0.113.7", r#"{"visitor":"short"}"#);
        assert_eq!(
            keys_for(&events("demo"), &r).unwrap()[1].1,
            "w|demo|203.0.113.7|-"
        );
        // Thread reads have their own buckets; the feed is not counted.
        let thread = Route::Thread {
            site: "demo".into(),
            id: "q1".into(),
        };
        let get = ApiRequest::new(Method::Get, "/").header("cf-connecting-ip", "203.0.113.7");
        assert_eq!(
            keys_for(&thread, &get).unwrap()[1].1,
            "r|demo|203.0.113.7|q-q1"
        );
        assert_eq!(
            keys_for(
                &Route::Feed {
                    site: "demo".into()
                },
                &get
            ),
            None
        );
        assert_eq!(keys_for(&events("demo"), &get), None);
    }

    /// A visitor using the widget normally for a minute: six event batches (one per 10 s),
    /// two votes, one question.
    const HONEST_WRITES_PER_MINUTE: usize = 9;

    #[test]
    fn fifty_honest_visitors_behind_one_nat_pass_and_one_abuser_stays_bounded() {
        let l = RateLimiter::with_limits(Limits::default());
        let nat = "198.51.100.20";
        // Five minutes of it, each visitor's writes spread over the minute as the widget
        // sends them (the visitors not in step with each other).
        for minute in 0..5 {
            let t0 = minute * 60_000;
            for n in 0..HONEST_WRITES_PER_MINUTE {
                for v in 0..50 {
                    let r = req(nat, &format!(r#"{{"visitor":"honest-visitor-{v:04}"}}"#));
                    let keys = keys_for(&events("demo"), &r).unwrap();
                    let (n, v) = (i64::try_from(n).unwrap(), i64::from(v));
                    let t = t0 + n * 6_600 + v * 130;
                    assert_eq!(l.check_keys(&keys, t), Ok(()), "visitor {v}, write {n}");
                }
            }
        }
        // One abuser elsewhere, one visitor id: 30 a minute.
        let abuser = |id: String, t| {
            let r = req("192.0.2.66", &format!(r#"{{"visitor":"{id}"}}"#));
            l.check_keys(&keys_for(&events("demo"), &r).unwrap(), t)
        };
        let passed = (0..1_000)
            .filter(|i| abuser("abuser-visitor-0001".into(), 400_000 + i).is_ok())
            .count();
        assert_eq!(passed, 30);
        // Rotating visitor ids: the address ceiling, 600 a minute.
        let passed = (0..5_000)
            .filter(|i| abuser(format!("abuser-visitor-{i:05}"), 600_000 + i).is_ok())
            .count();
        assert_eq!(passed, 600);
    }

    #[test]
    fn a_full_table_never_forgets_a_limited_client() {
        let l = RateLimiter::new(Limit::per_minute(5));
        for t in 0..5 {
            assert_eq!(l.check("abuser", t), Ok(()));
        }
        assert!(l.check("abuser", 10).is_err());
        // The attack of issue 14: 10,600 fresh addresses within the minute.
        for i in 0..10_600 {
            assert_eq!(l.check(&format!("fresh-{i}"), 1_000 + i), Ok(()));
            assert!(l.len() <= RateLimiter::KEYS_MAX);
        }
        assert_eq!(l.check("abuser", 20_000), Err(40));
        // It ages out normally: two windows later it is free again.
        assert_eq!(l.check("abuser", 120_000), Ok(()));
    }

    #[test]
    fn a_full_table_of_limited_clients_keeps_them_all_limited() {
        let l = RateLimiter::new(Limit::per_minute(1));
        for i in 0..RateLimiter::KEYS_MAX {
            assert_eq!(l.check(&format!("k{i}"), 0), Ok(()));
        }
        // Every key is limited; a newcomer passes uncounted, nobody is unblocked.
        assert_eq!(l.check("newcomer", 1), Ok(()));
        assert_eq!(l.len(), RateLimiter::KEYS_MAX);
        assert!(l.check("k0", 2).is_err());
        assert!(
            l.check(&format!("k{}", RateLimiter::KEYS_MAX - 1), 2)
                .is_err()
        );
    }

    #[test]
    fn a_refusal_on_one_key_counts_on_none() {
        let l = RateLimiter::with_limits(Limits::per_minute(2, 3));
        let keys = |v: &str| {
            [
                (Tier::Address, "a".to_string()),
                (Tier::Visitor, format!("a|{v}")),
            ]
        };
        assert_eq!(l.check_keys(&keys("x"), 0), Ok(()));
        assert_eq!(l.check_keys(&keys("x"), 1), Ok(()));
        assert!(l.check_keys(&keys("x"), 2).is_err(), "visitor limit");
        assert_eq!(
            l.check_keys(&keys("y"), 3),
            Ok(()),
            "the refusal cost the address nothing"
        );
        assert!(l.check_keys(&keys("z"), 4).is_err(), "address limit");
        assert!(l.check_keys(&keys("z"), 5).is_err());
    }

    #[test]
    fn the_binding_s_refusals_hold_in_the_isolate() {
        let l = RateLimiter::with_limits(Limits::default());
        let keys = [
            (Tier::Address, "a".to_string()),
            (Tier::Visitor, "a|v".to_string()),
        ];
        assert_eq!(l.check_keys(&keys, 0), Ok(()));
        l.refuse(Tier::Visitor, "a|v", 1_000, 10_000);
        assert_eq!(l.check_keys(&keys, 1_000), Err(10));
        assert_eq!(l.check_keys(&keys, 10_999), Err(1));
        assert_eq!(l.check_keys(&keys, 11_000), Ok(()));
        // Off means off, binding or not.
        let off = RateLimiter::new(Limit::per_minute(0));
        off.refuse(Tier::Visitor, "a|v", 0, 10_000);
        assert_eq!(off.check_keys(&keys, 1), Ok(()));
    }

    #[test]
    fn memory_is_bounded() {
        let l = RateLimiter::new(Limit::per_minute(5));
        for i in 0..(RateLimiter::KEYS_MAX + 10) {
            assert_eq!(l.check(&format!("k{i}"), 0), Ok(()));
        }
        assert!(l.windows.borrow().len() <= RateLimiter::KEYS_MAX);
    }
}
