//! Calendar arithmetic on unix milliseconds, without a clock.

use crate::Millis;

/// The UTC calendar date of `ms` as `YYYY-MM-DD` (proleptic Gregorian).
pub fn utc_date(ms: Millis) -> String {
    let days = ms.div_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(86_399_999), "1970-01-01");
        assert_eq!(utc_date(-1), "1969-12-31");
        assert_eq!(utc_date(951_782_400_000), "2000-02-29");
        assert_eq!(utc_date(1_795_305_600_000), "2026-11-22");
    }
}

/// `YYYYMMDDTHHMMSSZ`, the iCalendar UTC form.
pub fn ical_utc(ms: Millis) -> String {
    let date = utc_date(ms).replace('-', "");
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{date}T{:02}{:02}{:02}Z",
        secs / 3_600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod ical_tests {
    use super::*;

    #[test]
    fn ical_times() {
        assert_eq!(ical_utc(1_795_305_600_000 + 3_723_000), "20261122T010203Z");
        assert_eq!(ical_utc(0), "19700101T000000Z");
    }
}
