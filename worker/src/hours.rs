//! Live-help availability: from a topic's weekly opening hours in the site's time zone and
//! its scheduled live sessions, whether help is open at `now`, until when, or when it next
//! opens. Pure: the only thing it needs from the time zone database is a zone's UTC offset at
//! an instant ([`ZoneOffsets`]). At the edge that comes from the runtime's own ICU
//! (`Intl.DateTimeFormat`, `crate::zones`), natively from chrono-tz ([`TzDatabase`]), and an
//! isolate keeps what it looked up ([`CachedOffsets`]). Tested across DST changes.

use std::cell::RefCell;
use std::collections::HashMap;

use glimpse_shared::site::{Availability, Opening};
use glimpse_shared::{LiveSession, Millis, Site};

/// How far ahead the next opening is looked for.
const HORIZON_DAYS: i64 = 8;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

/// A time zone's offset from UTC at an instant: all that opening hours need from the tz
/// database.
pub trait ZoneOffsets {
    /// The offset of local wall-clock time from UTC (local minus UTC, in ms; +3 600 000 for
    /// CET) in effect at `utc_ms` (unix ms) in the IANA zone `zone` (`"Europe/Oslo"`), or
    /// `None` if the zone is unknown to the source.
    fn offset_ms(&self, zone: &str, utc_ms: Millis) -> Option<i64>;
}

/// The tz database compiled in by chrono-tz: the reference for native tests and tools (the
/// edge uses the runtime's ICU instead, see `crate::zones`, and does not link it).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Default, Clone, Copy)]
pub struct TzDatabase;

#[cfg(not(target_arch = "wasm32"))]
impl ZoneOffsets for TzDatabase {
    fn offset_ms(&self, zone: &str, utc_ms: Millis) -> Option<i64> {
        use chrono::{Offset, TimeZone};
        let tz: chrono_tz::Tz = zone.parse().ok()?;
        let at = tz.timestamp_millis_opt(utc_ms).single()?;
        Some(i64::from(at.offset().fix().local_minus_utc()) * 1000)
    }
}

/// Offsets remembered per zone per minute of UTC time, in front of a slower source (the
/// edge's `Intl` formatting). Exact because every transition of the tz database from 2020 to
/// 2035 falls on a whole UTC minute (most on a quarter hour; Antarctica/Casey's at 16:01):
/// a minute never straddles one (tested over every zone). Opening hours ask for the same
/// instants again and again (each day's openings), so nearly every lookup is a hit. At most [`CachedOffsets::MAX_ENTRIES`] are
/// kept; then the memory starts over.
#[derive(Debug, Default)]
pub struct CachedOffsets<Z> {
    source: Z,
    memo: RefCell<HashMap<String, HashMap<i64, Option<i64>>>>,
    entries: std::cell::Cell<usize>,
}

impl<Z> CachedOffsets<Z> {
    /// Remembered offsets (all zones together) before the memory is cleared.
    pub const MAX_ENTRIES: usize = 8_192;

    /// `source` with a memory in front of it.
    pub fn new(source: Z) -> Self {
        Self {
            source,
            memo: RefCell::default(),
            entries: std::cell::Cell::new(0),
        }
    }
}

impl<Z: ZoneOffsets> ZoneOffsets for CachedOffsets<Z> {
    fn offset_ms(&self, zone: &str, utc_ms: Millis) -> Option<i64> {
        let minute = utc_ms.div_euclid(MINUTE_MS);
        if let Some(hit) = self
            .memo
            .borrow()
            .get(zone)
            .and_then(|by_minute| by_minute.get(&minute))
        {
            return *hit;
        }
        let offset = self.source.offset_ms(zone, utc_ms);
        let mut memo = self.memo.borrow_mut();
        if self.entries.get() >= Self::MAX_ENTRIES {
            memo.clear();
            self.entries.set(0);
        }
        memo.entry(zone.to_string())
            .or_default()
            .insert(minute, offset);
        self.entries.set(self.entries.get() + 1);
        offset
    }
}

/// A wall-clock reading (proleptic Gregorian `year`, `month` 1–12, `day` 1–31, `hour` 0–23,
/// `minute`, `second`) as ms since 1970-01-01 00:00 on the same clock: what an offset source
/// that reads a zone's calendar fields (`Intl.DateTimeFormat`) subtracts the instant from.
/// `None` for a field out of range.
pub fn wall_clock_ms(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<i64> {
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Days from civil (H. Hinnant's algorithm): March-based years, 400-year eras.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(
        days * DAY_MS
            + i64::from(hour) * 3_600_000
            + i64::from(minute) * MINUTE_MS
            + i64::from(second) * 1000,
    )
}

/// The UTC instant of a local wall-clock time (`local_ms`: the wall clock read as if it were
/// UTC). In a spring-forward gap the time does not exist; the opening then starts when the
/// clock resumes (probing on in half hours). In a fall-back overlap the earlier instant is
/// taken. Offsets are sought a day either side, so a zone changing twice within two days
/// (none does) would be misread.
fn to_utc(offset: &impl Fn(Millis) -> i64, local_ms: i64) -> Millis {
    for step in 0..4 {
        let local = local_ms + step * 30 * MINUTE_MS;
        let (before, after) = (offset(local - DAY_MS), offset(local + DAY_MS));
        let earliest = [before, after]
            .into_iter()
            .map(|o| local - o)
            .filter(|&t| local - offset(t) == t)
            .min();
        if let Some(t) = earliest {
            return t;
        }
    }
    local_ms - offset(local_ms)
}

/// Days since 1970-01-01 to its weekday, Monday 0 … Sunday 6 (1970-01-01 was a Thursday).
fn weekday(days: i64) -> u32 {
    u32::try_from((days + 3).rem_euclid(7)).unwrap_or(0)
}

/// Opening intervals `[start, end)` in UTC ms from one day before `now` to the horizon.
fn intervals(
    offset: &impl Fn(Millis) -> i64,
    hours: &[Opening],
    now_ms: Millis,
) -> Vec<(Millis, Millis)> {
    let today = (now_ms + offset(now_ms)).div_euclid(DAY_MS);
    let mut out = Vec::new();
    for day in today - 1..=today + HORIZON_DAYS {
        let weekday = weekday(day);
        for o in hours {
            let Some((from, to)) = o.minutes() else {
                continue;
            };
            if !o.days.iter().any(|d| d.index() == weekday) {
                continue;
            }
            // Minutes past 24:00 run into the next day, like the wall clock does.
            let at = |mins: u32| to_utc(offset, day * DAY_MS + i64::from(mins) * MINUTE_MS);
            let (start, end) = (at(from), at(to));
            if start < end {
                out.push((start, end));
            }
        }
    }
    out
}

/// Sorts and merges overlapping or touching intervals.
fn merge(mut v: Vec<(Millis, Millis)>) -> Vec<(Millis, Millis)> {
    v.sort_unstable();
    let mut out: Vec<(Millis, Millis)> = Vec::new();
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Availability at `now_ms` of every topic that has opening hours or live sessions, in the
/// site's time zone as `zones` knows it (an unknown zone counts as UTC).
pub fn availability(
    site: &Site,
    sessions: &[LiveSession],
    zones: &dyn ZoneOffsets,
    now_ms: Millis,
) -> Vec<Availability> {
    let offset = |t: Millis| zones.offset_ms(&site.timezone, t).unwrap_or(0);
    site.topics
        .iter()
        .filter_map(|topic| {
            let mut spans = intervals(&offset, &topic.hours, now_ms);
            spans.extend(
                sessions
                    .iter()
                    .filter(|s| s.topic == topic.id)
                    .map(|s| (s.starts_at, s.ends_at)),
            );
            if spans.is_empty() {
                return None;
            }
            let spans = merge(spans);
            let current = spans.iter().find(|(s, e)| *s <= now_ms && now_ms < *e);
            let next_open = spans.iter().map(|(s, _)| *s).find(|s| *s > now_ms);
            // Nothing now and nothing ahead (only past sessions): say nothing.
            if current.is_none() && next_open.is_none() {
                return None;
            }
            Some(Availability {
                topic: topic.id.clone(),
                open: current.is_some(),
                until: current.map(|(_, e)| *e),
                next_open: if current.is_some() { None } else { next_open },
            })
        })
        .collect()
}

/// The first instant after `now_ms` at which [`availability`] may answer differently: the
/// next start or end of an opening or session. Until then an answer computed at `now_ms`
/// stays right (the edge reuses the feed's body until this instant).
pub fn next_change(
    site: &Site,
    sessions: &[LiveSession],
    zones: &dyn ZoneOffsets,
    now_ms: Millis,
) -> Millis {
    let offset = |t: Millis| zones.offset_ms(&site.timezone, t).unwrap_or(0);
    let sessions = sessions.iter().map(|s| (s.starts_at, s.ends_at));
    site.topics
        .iter()
        .flat_map(|topic| intervals(&offset, &topic.hours, now_ms))
        .chain(sessions)
        .flat_map(|(s, e)| [s, e])
        .filter(|&t| t > now_ms)
        .min()
        // Nothing ahead within the horizon: look again once the horizon has moved a day on.
        .unwrap_or(now_ms + DAY_MS)
        .min(now_ms + DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use glimpse_shared::site::Day;
    use glimpse_shared::{Theme, Topic};

    fn site(tz: &str, hours: Vec<Opening>) -> Site {
        Site {
            languages: Default::default(),
            id: "demo".into(),
            name: "Demo".into(),
            origins: vec![],
            theme: Theme::default(),
            language: "en".into(),
            timezone: tz.into(),
            channels: vec![],
            topics: vec![
                Topic {
                    translations: Default::default(),
                    id: "orders".into(),
                    label: "Orders".into(),
                    simple: true,
                    hours,
                },
                Topic {
                    translations: Default::default(),
                    id: "none".into(),
                    label: "No hours".into(),
                    simple: true,
                    hours: vec![],
                },
            ],
            retention_days: 30,
        }
    }

    fn weekdays(from: &str, to: &str) -> Vec<Opening> {
        vec![Opening {
            days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
            from: from.into(),
            to: to.into(),
        }]
    }

    fn at(site: &Site, now: Millis) -> Availability {
        let all = availability(site, &[], &TzDatabase, now);
        assert_eq!(
            all.len(),
            1,
            "topics without hours or sessions are left out"
        );
        all[0].clone()
    }

    #[test]
    fn open_during_hours_and_closing_at_five_local() {
        let s = site("Europe/Berlin", weekdays("09:00", "17:00"));
        // Fri 2026-03-27 12:00 CET.
        let a = at(&s, 1_774_609_200_000);
        assert!(a.open);
        assert_eq!(a.until, Some(1_774_627_200_000)); // 17:00 CET = 16:00Z
        // At 17:00 it is closed; next opening is Monday 09:00 CEST, after the DST change.
        let a = at(&s, 1_774_627_200_000);
        assert!(!a.open);
        assert_eq!(a.next_open, Some(1_774_854_000_000)); // 2026-03-30 07:00Z
    }

    #[test]
    fn the_autumn_change_moves_the_utc_opening_by_an_hour() {
        let s = site("Europe/Berlin", weekdays("09:00", "17:00"));
        // Fri 2026-10-23 18:00 CEST → Mon 2026-10-26 09:00 CET = 08:00Z.
        let a = at(&s, 1_792_771_200_000);
        assert_eq!(a.next_open, Some(1_793_001_600_000));
    }

    #[test]
    fn an_opening_inside_the_spring_gap_starts_when_the_clock_resumes() {
        let s = site(
            "Europe/Berlin",
            vec![Opening {
                days: vec![Day::Sun],
                from: "02:30".into(),
                to: "04:00".into(),
            }],
        );
        // Sun 2026-03-29 00:00 CET; 02:30 does not exist that night (clocks jump 02:00 → 03:00).
        let a = at(&s, 1_774_738_800_000);
        assert_eq!(a.next_open, Some(1_774_746_000_000)); // 03:00 CEST = 01:00Z
    }

    #[test]
    fn new_york_spring_forward() {
        let s = site("America/New_York", weekdays("08:00", "18:00"));
        // Sat 2026-03-07 12:00 EST → Mon 2026-03-09 08:00 EDT = 12:00Z.
        let a = at(&s, 1_772_902_800_000);
        assert!(!a.open);
        assert_eq!(a.next_open, Some(1_773_057_600_000));
    }

    #[test]
    fn live_sessions_open_help_and_merge_with_hours() {
        let s = site("Europe/Berlin", weekdays("09:00", "17:00"));
        let fri_noon = 1_774_609_200_000;
        let session = LiveSession {
            translations: Default::default(),
            targeting: Default::default(),
            id: "qa".into(),
            title: "Q&A".into(),
            topic: "orders".into(),
            host: "Ana".into(),
            // 16:30–18:00 CET: extends Friday's hours to 18:00.
            starts_at: fri_noon + 4 * 3_600_000 + 1_800_000,
            ends_at: fri_noon + 6 * 3_600_000,
            join_url: "https://meet.example".into(),
            announce_from: fri_noon,
            answers_until: None,
        };
        let all = availability(&s, std::slice::from_ref(&session), &TzDatabase, fri_noon);
        assert_eq!(all[0].until, Some(session.ends_at));
        let mut no_hours = site("Europe/Berlin", vec![]);
        no_hours.topics[0].hours.clear();
        let all = availability(
            &no_hours,
            std::slice::from_ref(&session),
            &TzDatabase,
            fri_noon,
        );
        assert_eq!(all.len(), 1);
        assert_eq!(
            (all[0].open, all[0].next_open),
            (false, Some(session.starts_at))
        );
    }

    #[test]
    fn unknown_time_zones_fall_back_to_utc_and_24_00_works() {
        let s = site("Mars/Olympus", weekdays("00:00", "24:00"));
        // Fri 2026-03-27 16:00Z: open all day, until Saturday 00:00Z.
        let a = at(&s, 1_774_627_200_000);
        assert!(a.open);
        assert_eq!(a.until, Some(1_774_656_000_000));
    }

    /// Zones with DST (several rules, half-hour and 45-minute offsets, southern hemisphere).
    const DST_ZONES: &[&str] = &[
        "Europe/Oslo",
        "Europe/London",
        "America/New_York",
        "America/St_Johns",
        "America/Santiago",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "Asia/Tehran",
        "Africa/Casablanca",
        "Asia/Kolkata",
        "Asia/Kathmandu",
    ];

    #[test]
    fn a_minute_never_straddles_a_transition() {
        // Exhaustively over 2020–2035 for every zone chrono-tz knows: the premise of
        // CachedOffsets. Every change found on a 12-hourly scan (no zone changes twice within
        // 12 hours) is located to the millisecond.
        let (from, to) = (1_577_836_800_000_i64, 2_082_758_400_000_i64);
        for tz in chrono_tz::TZ_VARIANTS {
            let zone = tz.name();
            let off = |t| TzDatabase.offset_ms(zone, t);
            let mut t = from;
            let mut last = off(t);
            while t < to {
                let next = t + 12 * 3_600_000;
                let now = off(next);
                if now != last {
                    // The change lies in (t, next]: find it to the millisecond.
                    let (mut lo, mut hi) = (t, next);
                    while hi - lo > 1 {
                        let mid = lo + (hi - lo) / 2;
                        if off(mid) == last { lo = mid } else { hi = mid }
                    }
                    assert_eq!(
                        hi.rem_euclid(MINUTE_MS),
                        0,
                        "{zone} changes offset at {hi}, not on a whole UTC minute"
                    );
                }
                last = now;
                t = next;
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]
        /// The cached source answers exactly what its source answers, whatever was asked
        /// before (including the instants either side of a transition).
        #[test]
        fn cached_offsets_agree_with_the_database(
            zone in proptest::sample::select(DST_ZONES),
            instants in proptest::collection::vec(1_577_836_800_000_i64..2_082_758_400_000, 1..40),
            nudge in -1_000_i64..1_000,
        ) {
            let cached = CachedOffsets::new(TzDatabase);
            for t in instants {
                for at in [t, t + nudge, t - MINUTE_MS, t + MINUTE_MS] {
                    proptest::prop_assert_eq!(cached.offset_ms(zone, at), TzDatabase.offset_ms(zone, at));
                }
            }
        }

        /// Opening hours worked out from offsets alone agree with chrono-tz's own local-time
        /// conversion, across every DST change of 2024–2032 in these zones.
        #[test]
        fn local_times_map_to_utc_like_chrono_tz(
            zone in proptest::sample::select(DST_ZONES),
            day in 19_723_i64..23_010,
            minute in 0_i64..1_440,
        ) {
            use chrono::TimeZone;
            let tz: chrono_tz::Tz = zone.parse().map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{e}")))?;
            let offset = |t| TzDatabase.offset_ms(zone, t).unwrap_or(0);
            let local_ms = day * DAY_MS + minute * MINUTE_MS;
            let Some(naive) = chrono::DateTime::from_timestamp_millis(local_ms).map(|d| d.naive_utc()) else {
                return Ok(());
            };
            // chrono-tz's answer, with the same rule for gaps (the clock's resumption, probed
            // in half hours) and overlaps (the earlier instant).
            let mut expected = None;
            for step in 0..4 {
                let probe = naive + chrono::Duration::minutes(30 * step);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    expected = Some(t.timestamp_millis());
                    break;
                }
            }
            proptest::prop_assert_eq!(Some(to_utc(&offset, local_ms)), expected);
        }
    }

    proptest::proptest! {
        /// Calendar fields to a wall-clock instant agree with chrono's, over 1900–2100.
        #[test]
        fn wall_clock_readings_agree_with_chrono(ms in -2_208_988_800_000_i64..4_102_444_800_000) {
            use chrono::{Datelike, Timelike};
            let Some(d) = chrono::DateTime::from_timestamp_millis(ms) else {
                return Ok(());
            };
            let read = wall_clock_ms(i64::from(d.year()), d.month(), d.day(), d.hour(), d.minute(), d.second());
            proptest::prop_assert_eq!(read, Some(ms.div_euclid(1000) * 1000));
        }
    }

    #[test]
    fn out_of_range_fields_are_refused() {
        assert_eq!(wall_clock_ms(2026, 13, 1, 0, 0, 0), None);
        assert_eq!(wall_clock_ms(2026, 1, 0, 0, 0, 0), None);
        assert_eq!(wall_clock_ms(2026, 1, 1, 24, 0, 0), None);
        assert_eq!(wall_clock_ms(1970, 1, 1, 0, 0, 0), Some(0));
    }

    #[test]
    fn weekdays_count_from_the_epoch() {
        assert_eq!(weekday(0), 3, "1970-01-01 was a Thursday");
        assert_eq!(weekday(20_542), 0, "2026-03-30 is a Monday");
        assert_eq!(weekday(-1), 2, "1969-12-31 was a Wednesday");
    }

    #[test]
    fn the_next_change_is_the_next_opening_or_closing() {
        let s = site("Europe/Berlin", weekdays("09:00", "17:00"));
        // Fri 2026-03-27 12:00 CET: closes at 16:00Z.
        assert_eq!(
            next_change(&s, &[], &TzDatabase, 1_774_609_200_000),
            1_774_627_200_000
        );
        // Fri 17:00 CET: nothing until Monday, so a day later at the latest.
        assert_eq!(
            next_change(&s, &[], &TzDatabase, 1_774_627_200_000),
            1_774_627_200_000 + DAY_MS
        );
    }
}
