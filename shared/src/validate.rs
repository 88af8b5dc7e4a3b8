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
        if !is_https_url(value) {
            self.push(field, "must be an https URL");
        }
    }

    pub fn into_vec(self) -> Vec<Problem> {
        self.0
    }
}

/// Links in authored content must be https: nothing else is ever rendered as a link.
pub fn is_https_url(url: &str) -> bool {
    url.len() <= 2_048
        && url
            .strip_prefix("https://")
            .and_then(|rest| rest.split(['/', '?', '#']).next())
            .is_some_and(|host| {
                !host.is_empty() && !host.contains(char::is_whitespace) && !host.contains('@')
            })
        && !url.contains(char::is_control)
        && !url.contains(char::is_whitespace)
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
