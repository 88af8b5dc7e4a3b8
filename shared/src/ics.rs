//! "Add to calendar" for a live session: an iCalendar (RFC 5545) event, built purely.

use crate::time::ical_utc;
use crate::{LiveSession, Millis};

/// Escapes TEXT values: backslash, semicolon, comma and line breaks.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (continuation lines start with a space), never inside
/// a UTF-8 character.
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

/// The `.ics` file for `session` on `site`, stamped `now_ms`.
pub fn session_ics(site: &str, session: &LiveSession, now_ms: Millis) -> String {
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//Glimpse//Live sessions//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{}.{}@glimpse", session.id, site),
        format!("DTSTAMP:{}", ical_utc(now_ms)),
        format!("DTSTART:{}", ical_utc(session.starts_at)),
        format!("DTEND:{}", ical_utc(session.ends_at)),
        format!("SUMMARY:{}", escape(&session.title)),
        format!(
            "DESCRIPTION:{}",
            escape(&format!("{}\n{}", session.host, session.join_url))
        ),
        format!("URL:{}", session.join_url),
        format!("LOCATION:{}", escape(&session.join_url)),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ];
    lines.iter().map(|l| fold(l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::tests::session;

    #[test]
    fn a_valid_calendar_event() {
        let mut s = session("qa", 0, 1_795_305_600_000, 1_795_309_200_000);
        s.title = "Q&A; refunds, returns\nand more".into();
        let ics = session_ics("demo", &s, 1_795_300_000_000);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
        assert!(ics.contains("DTSTART:20261122T000000Z\r\n"));
        assert!(ics.contains("DTEND:20261122T010000Z\r\n"));
        assert!(ics.contains("SUMMARY:Q&A\\; refunds\\, returns\\nand more\r\n"));
        assert!(ics.contains("UID:qa.demo@glimpse\r\n"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} is too long");
        }
    }

    #[test]
    fn long_lines_fold_without_splitting_characters() {
        let folded = fold(&format!("SUMMARY:{}", "é".repeat(60)));
        for line in folded.split("\r\n") {
            assert!(line.len() <= 75);
        }
        let unfolded = folded.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{}\r\n", "é".repeat(60)));
    }
}
