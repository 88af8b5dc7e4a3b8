//! The operators' door: who may try the admin token how often, what a usable token is, and
//! how thread tokens are kept. Pure: time is an argument, nothing is read from the outside.

use std::cell::RefCell;
use std::collections::HashMap;

use glimpse_shared::{ApiError, Millis};
use sha2::{Digest, Sha256};

/// The shortest `ADMIN_TOKEN` accepted. A shorter one is a configuration error: the admin
/// API stays disabled (and the edge logs why), it is never accepted.
pub const ADMIN_TOKEN_MIN: usize = 32;

/// The one answer to every failed admin authentication, whether a token was sent, was wrong,
/// or no usable token is configured: the reason is logged server-side, never told.
pub const UNAUTHORIZED: &str = "send Authorization: Bearer <a valid token>";

/// Why the configured admin token cannot be used (to log), or `None` if it can.
pub fn admin_token_problem(token: Option<&str>) -> Option<String> {
    match token {
        None | Some("") => Some(
            "ADMIN_TOKEN is not set: the admin API is disabled (set a secret of at least 32 characters)"
                .into(),
        ),
        Some(t) if t.chars().count() < ADMIN_TOKEN_MIN => Some(format!(
            "ADMIN_TOKEN has {} characters, fewer than {ADMIN_TOKEN_MIN}: the admin API is disabled until a longer secret is set",
            t.chars().count()
        )),
        Some(_) => None,
    }
}

/// The token if it is usable (configured and at least [`ADMIN_TOKEN_MIN`] characters).
pub fn usable_admin_token(token: Option<&str>) -> Option<&str> {
    token.filter(|t| admin_token_problem(Some(t)).is_none())
}

/// The throttling key of a client address: the same as the write limiter's
/// ([`crate::limit::address_key`]: an IPv4 address as is, an IPv6 address by its /64).
pub fn client_key(ip: &str) -> String {
    crate::limit::address_key(ip)
}

/// Failed authentications per client: at most `max` in any `window_ms` (`max` 0: no limit, for
/// test runs that send wrong tokens on purpose); then every attempt
/// of that client (right or wrong) is refused with 429 until the oldest failure leaves the
/// window. Holds at most [`AuthThrottle::KEYS_MAX`] clients, each with at most `max`
/// timestamps; when full, forgotten first are clients whose last failure is oldest (never
/// everyone at once).
#[derive(Debug)]
pub struct AuthThrottle {
    max: usize,
    window_ms: Millis,
    failures: RefCell<HashMap<String, Vec<Millis>>>,
}

impl AuthThrottle {
    pub const KEYS_MAX: usize = 4_096;
    /// Failures a client may make per minute.
    pub const DEFAULT_PER_MINUTE: usize = 10;

    pub fn new(max: usize, window_ms: Millis) -> Self {
        Self {
            max,
            window_ms,
            failures: RefCell::new(HashMap::new()),
        }
    }

    /// [`AuthThrottle::DEFAULT_PER_MINUTE`] failures a minute.
    pub fn per_minute() -> Self {
        Self::new(Self::DEFAULT_PER_MINUTE, 60_000)
    }

    /// `Err(seconds to wait, ≥ 1)` if `client` has used up its failures at `now_ms`.
    pub fn check(&self, client: &str, now_ms: Millis) -> Result<(), u32> {
        if self.max == 0 {
            return Ok(());
        }
        let mut map = self.failures.borrow_mut();
        let Some(list) = map.get_mut(client) else {
            return Ok(());
        };
        list.retain(|t| now_ms - t < self.window_ms);
        if list.len() < self.max {
            return Ok(());
        }
        let oldest = list.iter().copied().min().unwrap_or(now_ms);
        let wait_ms = (oldest + self.window_ms - now_ms).max(1);
        Err(u32::try_from((wait_ms + 999) / 1000).unwrap_or(u32::MAX))
    }

    /// Records one failed authentication of `client` at `now_ms`.
    pub fn fail(&self, client: &str, now_ms: Millis) {
        if self.max == 0 {
            return;
        }
        let mut map = self.failures.borrow_mut();
        if map.len() >= Self::KEYS_MAX && !map.contains_key(client) {
            let window = self.window_ms;
            map.retain(|_, l| l.iter().any(|t| now_ms - t < window));
            if map.len() >= Self::KEYS_MAX
                && let Some(stalest) = map
                    .iter()
                    .min_by_key(|(_, l)| l.iter().copied().max().unwrap_or(0))
                    .map(|(k, _)| k.clone())
            {
                map.remove(&stalest);
            }
        }
        let list = map.entry(client.to_string()).or_default();
        list.retain(|t| now_ms - t < self.window_ms);
        list.push(now_ms);
        if list.len() > self.max {
            list.remove(0);
        }
    }

    /// Clients currently tracked (for tests of the memory bound).
    pub fn tracked(&self) -> usize {
        self.failures.borrow().len()
    }
}

/// 429 for a client that failed authentication too often.
pub fn throttled(retry_after_s: u32) -> ApiError {
    let mut e = ApiError::new(
        429,
        "rate_limited",
        format!("too many failed authentications from this address; retry in {retry_after_s} s"),
    );
    e.retry_after = Some(retry_after_s);
    e
}

/// What a thread token is stored as: `sha256:` and the lowercase hex SHA-256 of the token.
/// A read of storage (an export, a leaked backup) never yields a usable token.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Whether `given` opens a thread whose stored token is `stored`: compared as hashes (in
/// constant time). Questions stored before tokens were hashed hold the plain token; those
/// are compared by hashing both sides, so they keep working until they expire.
pub fn token_matches(stored: &str, given: &str) -> bool {
    if given.is_empty() || stored.is_empty() {
        return false;
    }
    let given_hash = hash_token(given);
    let stored_hash = if stored.starts_with("sha256:") {
        stored.to_string()
    } else {
        hash_token(stored)
    };
    crate::admin::constant_time_eq(given_hash.as_bytes(), stored_hash.as_bytes())
}

/// Characters of an id or token piece made by [`id_from_bytes`] (≈ 134 bits).
pub const ID_LEN: usize = 26;

/// An [`ID_LEN`]-character `[a-z0-9]` id from random bytes without modulo bias: bytes of 252
/// or more (252 = 7 × 36) are skipped, the rest map uniformly. `None` if too few bytes were
/// usable (then the caller draws again, or fails closed).
pub fn id_from_bytes(bytes: &[u8]) -> Option<String> {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let id: String = bytes
        .iter()
        .filter(|b| **b < 252)
        .take(ID_LEN)
        .map(|b| char::from(ALPHABET[usize::from(*b) % 36]))
        .collect();
    (id.len() == ID_LEN).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_random_bytes_without_bias_or_never() {
        // Each of the 252 usable byte values maps to each of the 36 characters 7 times.
        let mut counts = std::collections::HashMap::new();
        let usable: Vec<u8> = (0..252).collect();
        for chunk in usable.chunks(ID_LEN) {
            let mut bytes = chunk.to_vec();
            bytes.resize(ID_LEN, 0);
            let id = id_from_bytes(&bytes).unwrap_or_default();
            for c in id.chars().take(chunk.len()) {
                *counts.entry(c).or_insert(0) += 1;
            }
        }
        assert_eq!(counts.len(), 36);
        assert!(counts.values().all(|n| *n == 7), "{counts:?}");
        // Bytes 252..=255 are skipped, not folded onto a-d.
        let mut bytes = vec![252u8, 253, 254, 255];
        bytes.extend(std::iter::repeat_n(0u8, ID_LEN));
        assert_eq!(id_from_bytes(&bytes), Some("a".repeat(ID_LEN)));
        // Too few usable bytes: no id (the caller draws again or fails closed).
        assert_eq!(id_from_bytes(&[255; 64]), None);
        assert_eq!(id_from_bytes(&[1; ID_LEN - 1]), None);
    }

    #[test]
    fn tokens_shorter_than_32_characters_disable_the_admin_api() {
        assert!(admin_token_problem(None).is_some());
        assert!(admin_token_problem(Some("")).is_some());
        let short = "a".repeat(31);
        assert!(
            admin_token_problem(Some(&short))
                .is_some_and(|m| m.contains("31 characters") && m.contains("disabled"))
        );
        assert_eq!(usable_admin_token(Some(&short)), None);
        let ok = "a".repeat(32);
        assert_eq!(admin_token_problem(Some(&ok)), None);
        assert_eq!(usable_admin_token(Some(&ok)), Some(ok.as_str()));
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        assert_eq!(
            client_key("2001:db8:1:2:aaaa::1"),
            client_key("2001:db8:1:2:ffff:1:2:3")
        );
        assert_ne!(client_key("2001:db8:1:2::1"), client_key("2001:db8:1:3::1"));
        assert_eq!(client_key("203.0.113.9"), "203.0.113.9");
        assert_eq!(client_key("::ffff:203.0.113.9"), "203.0.113.9");
        assert_ne!(client_key("203.0.113.9"), client_key("203.0.113.10"));
        assert_eq!(client_key("unknown"), "unknown");
    }

    #[test]
    fn ten_failures_a_minute_then_429_until_the_oldest_leaves_the_window() {
        let t = AuthThrottle::per_minute();
        for i in 0..10 {
            assert_eq!(t.check("a", i * 1_000), Ok(()));
            t.fail("a", i * 1_000);
        }
        // The 11th attempt in the minute is refused: the first failure (at 0) leaves the
        // window at 60 s, 50 s from now.
        assert_eq!(t.check("a", 10_000), Err(50));
        assert_eq!(t.check("a", 59_001), Err(1));
        // Another client is not affected.
        assert_eq!(t.check("b", 10_000), Ok(()));
        // At 60 s one failure has left: one more attempt.
        assert_eq!(t.check("a", 60_000), Ok(()));
        t.fail("a", 60_000);
        assert_eq!(t.check("a", 60_001), Err(1));
        // A minute after the last failure, the client is clear.
        assert_eq!(t.check("a", 120_000), Ok(()));
    }

    #[test]
    fn zero_turns_the_throttle_off() {
        let t = AuthThrottle::new(0, 60_000);
        for i in 0..100 {
            t.fail("a", i);
            assert_eq!(t.check("a", i), Ok(()));
        }
        assert_eq!(t.tracked(), 0);
    }

    #[test]
    fn memory_stays_bounded_and_a_full_table_never_forgets_everyone() {
        let t = AuthThrottle::new(2, 60_000);
        t.fail("abuser", 0);
        t.fail("abuser", 0);
        for i in 0..(AuthThrottle::KEYS_MAX + 100) {
            t.fail(&format!("k{i}"), 1 + i as Millis);
        }
        assert!(t.tracked() <= AuthThrottle::KEYS_MAX);
        // The stalest entry went (the abuser's, at 0), but the newest ones are still held.
        let last = format!("k{}", AuthThrottle::KEYS_MAX + 99);
        t.fail(&last, 50_000);
        assert!(t.check(&last, 50_000).is_err());
    }

    #[test]
    fn thread_tokens_are_stored_as_sha256_and_old_plain_ones_still_open_their_thread() {
        let token = "abcdefghijklmnopqrstuvwxyz0123456789";
        let stored = hash_token(token);
        assert!(stored.starts_with("sha256:"));
        assert_eq!(stored.len(), 7 + 64);
        assert!(!stored.contains(token));
        // Known vector: SHA-256("abc").
        assert_eq!(
            hash_token("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(token_matches(&stored, token));
        assert!(!token_matches(&stored, "wrong"));
        // The hash itself is not a token.
        assert!(!token_matches(&stored, &stored));
        // Migration: a question stored before hashing holds the plain token.
        assert!(token_matches(token, token));
        assert!(!token_matches(token, "wrong"));
        assert!(!token_matches(&stored, ""));
    }
}
