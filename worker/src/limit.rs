//! Rate limiting of public writes, per client IP per site: a sliding window estimated from
//! two fixed windows (the current and the previous one), as Cloudflare's own limiter does.
//! Pure arithmetic over an explicit `now_ms`; the state lives in the isolate, so the limit
//! holds per edge location. That bounds abuse cheaply without ever writing a shared KV
//! counter (KV allows one write per second per key and is eventually consistent).

use std::cell::RefCell;
use std::collections::HashMap;

use glimpse_shared::Millis;

/// The limit: at most `max` requests per `window_ms`, per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_ms: Millis,
}

impl Limit {
    pub const DEFAULT_PER_MINUTE: u32 = 60;

    pub fn per_minute(max: u32) -> Self {
        Self {
            max,
            window_ms: 60_000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Millis,
    current: u32,
    previous: u32,
}

/// Counts requests per key. Holds at most [`RateLimiter::KEYS_MAX`] keys; idle keys are
/// dropped first when it is full.
#[derive(Debug)]
pub struct RateLimiter {
    limit: Limit,
    windows: RefCell<HashMap<String, Window>>,
}

impl RateLimiter {
    pub const KEYS_MAX: usize = 10_000;

    pub fn new(limit: Limit) -> Self {
        Self {
            limit,
            windows: RefCell::new(HashMap::new()),
        }
    }

    pub fn limit(&self) -> Limit {
        self.limit
    }

    /// Counts one request for `key` at `now_ms`: `Ok` if allowed, otherwise `Err` with the
    /// seconds to wait before retrying (≥ 1). Refused requests are not counted.
    pub fn check(&self, key: &str, now_ms: Millis) -> Result<(), u32> {
        let Limit { max, window_ms } = self.limit;
        if max == 0 || window_ms <= 0 {
            return Ok(());
        }
        let mut windows = self.windows.borrow_mut();
        if windows.len() >= Self::KEYS_MAX && !windows.contains_key(key) {
            windows.retain(|_, w| now_ms - w.start < 2 * window_ms);
            if windows.len() >= Self::KEYS_MAX {
                windows.clear();
            }
        }
        let start = now_ms - now_ms.rem_euclid(window_ms);
        let w = windows.entry(key.to_string()).or_insert(Window {
            start,
            current: 0,
            previous: 0,
        });
        if start != w.start {
            w.previous = if start - w.start == window_ms {
                w.current
            } else {
                0
            };
            w.current = 0;
            w.start = start;
        }
        let elapsed = now_ms - start;
        // Weight of the previous window still inside the sliding window.
        let weight = (window_ms - elapsed) as f64 / window_ms as f64;
        let estimate = f64::from(w.previous) * weight + f64::from(w.current);
        if estimate + 1.0 <= f64::from(max) {
            w.current += 1;
            return Ok(());
        }
        // When will the estimate drop enough? Within this window only through the decay of
        // the previous one; otherwise at the next window boundary.
        let wait_ms = if w.previous > 0 && f64::from(w.current) + 1.0 <= f64::from(max) {
            let needed = (f64::from(max) - 1.0 - f64::from(w.current)) / f64::from(w.previous);
            let at = (window_ms as f64 * (1.0 - needed)).ceil() as Millis;
            (at - elapsed).max(1)
        } else {
            window_ms - elapsed
        };
        Err(u32::try_from((wait_ms + 999) / 1000)
            .unwrap_or(u32::MAX)
            .max(1))
    }
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

    #[test]
    fn memory_is_bounded() {
        let l = RateLimiter::new(Limit::per_minute(5));
        for i in 0..(RateLimiter::KEYS_MAX + 10) {
            assert_eq!(l.check(&format!("k{i}"), 0), Ok(()));
        }
        assert!(l.windows.borrow().len() <= RateLimiter::KEYS_MAX);
    }
}
