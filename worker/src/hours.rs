//! Live-help availability: from a topic's weekly opening hours in the site's time zone and
//! its scheduled live sessions, whether help is open at `now`, until when, or when it next
//! opens. Pure (time zone rules come from the compiled-in tz database), tested across DST.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use glimpse_shared::site::{Availability, Opening};
use glimpse_shared::{LiveSession, Millis, Site};

/// How far ahead the next opening is looked for.
const HORIZON_DAYS: i64 = 8;

/// The UTC instant of a local wall-clock time. In a spring-forward gap the time does not
/// exist; the opening then starts when the clock resumes (the gap's end). In a fall-back
/// overlap the earlier instant is taken.
fn to_utc(tz: Tz, local: NaiveDateTime) -> Option<Millis> {
    let mut probe = local;
    for _ in 0..4 {
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return Some(t.timestamp_millis());
        }
        probe += Duration::minutes(30);
    }
    None
}

/// Opening intervals `[start, end)` in UTC ms from one day before `now` to the horizon.
fn intervals(tz: Tz, hours: &[Opening], now_ms: Millis) -> Vec<(Millis, Millis)> {
    let Some(now) = tz.timestamp_millis_opt(now_ms).single() else {
        return Vec::new();
    };
    let today = now.date_naive();
    let mut out = Vec::new();
    for offset in -1..=HORIZON_DAYS {
        let Some(day) = today.checked_add_signed(Duration::days(offset)) else {
            continue;
        };
        let weekday = day.weekday().num_days_from_monday();
        for o in hours {
            let Some((from, to)) = o.minutes() else {
                continue;
            };
            if !o.days.iter().any(|d| d.index() == weekday) {
                continue;
            }
            let at = |mins: u32| -> Option<Millis> {
                let date: NaiveDate =
                    day.checked_add_signed(Duration::days(i64::from(mins / 1440)))?;
                let local = date.and_hms_opt(mins % 1440 / 60, mins % 60, 0)?;
                to_utc(tz, local)
            };
            if let (Some(start), Some(end)) = (at(from), at(to))
                && start < end
            {
                out.push((start, end));
            }
        }
    }
    out
}

/// Sorts and merges overlapping or touching intervals.
fn merge(mut v: Vec<(Millis, Millis)>) -> Vec<(Millis, Millis)> {
    v.sort();
    let mut out: Vec<(Millis, Millis)> = Vec::new();
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Availability at `now_ms` of every topic that has opening hours or live sessions.
pub fn availability(site: &Site, sessions: &[LiveSession], now_ms: Millis) -> Vec<Availability> {
    let tz: Tz = site.timezone.parse().unwrap_or(Tz::UTC);
    site.topics
        .iter()
        .filter_map(|topic| {
            let mut spans = intervals(tz, &topic.hours, now_ms);
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

#[cfg(test)]
mod tests {
    use super::*;
    use glimpse_shared::site::Day;
    use glimpse_shared::{Theme, Topic};

    fn site(tz: &str, hours: Vec<Opening>) -> Site {
        Site {
            id: "demo".into(),
            name: "Demo".into(),
            origins: vec![],
            theme: Theme::default(),
            language: "en".into(),
            timezone: tz.into(),
            channels: vec![],
            topics: vec![
                Topic {
                    id: "orders".into(),
                    label: "Orders".into(),
                    simple: true,
                    hours,
                },
                Topic {
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
        let all = availability(site, &[], now);
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
            id: "qa".into(),
            title: "Q&A".into(),
            topic: "orders".into(),
            host: "Ana".into(),
            // 16:30–18:00 CET: extends Friday's hours to 18:00.
            starts_at: fri_noon + 4 * 3_600_000 + 1_800_000,
            ends_at: fri_noon + 6 * 3_600_000,
            join_url: "https://meet.example".into(),
            announce_from: fri_noon,
        };
        let all = availability(&s, std::slice::from_ref(&session), fri_noon);
        assert_eq!(all[0].until, Some(session.ends_at));
        let mut no_hours = site("Europe/Berlin", vec![]);
        no_hours.topics[0].hours.clear();
        let all = availability(&no_hours, std::slice::from_ref(&session), fri_noon);
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
}
