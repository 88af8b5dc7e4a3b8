//! The sensitive-data guard: card numbers (Luhn), IBANs (mod 97) and passwords or secrets
//! typed into a message. The widget warns before sending; the worker refuses with 422
//! `sensitive_data`. Pure, so true and false positives are pinned by tests.

use serde::{Deserialize, Serialize};

/// What kind of sensitive data was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitive {
    CardNumber,
    Iban,
    Secret,
}

impl Sensitive {
    pub fn describe(self) -> &'static str {
        match self {
            Sensitive::CardNumber => "a payment card number",
            Sensitive::Iban => "a bank account number (IBAN)",
            Sensitive::Secret => "a password or secret",
        }
    }
}

/// Luhn checksum over ASCII digits.
pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// IBAN check (ISO 13616): country letters, check digits, mod 97 == 1.
pub fn iban_valid(iban: &str) -> bool {
    let b = iban.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b[4..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return false;
    }
    let mut rem = 0u32;
    for &c in b[4..].iter().chain(&b[..4]) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// Card numbers: 13–19 digits, optionally grouped by spaces or dashes, passing Luhn.
fn find_cards(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let mut digits = Vec::new();
            let mut j = i;
            while j < b.len()
                && (b[j].is_ascii_digit()
                    || ((b[j] == b' ' || b[j] == b'-')
                        && j + 1 < b.len()
                        && b[j + 1].is_ascii_digit()))
            {
                if b[j].is_ascii_digit() {
                    digits.push(b[j]);
                }
                j += 1;
            }
            let ends_clean = j == b.len() || !b[j].is_ascii_alphanumeric();
            if ends_clean
                && (13..=19).contains(&digits.len())
                && luhn(&digits)
                && digits.iter().any(|d| *d != digits[0])
            {
                return true;
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    false
}

/// IBANs, written compactly or in groups of four.
fn find_ibans(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    let b = upper.as_bytes();
    for start in 0..b.len().saturating_sub(3) {
        if !(b[start].is_ascii_uppercase()
            && b[start + 1].is_ascii_uppercase()
            && b[start + 2].is_ascii_digit()
            && b[start + 3].is_ascii_digit()
            && (start == 0 || !b[start - 1].is_ascii_alphanumeric()))
        {
            continue;
        }
        let mut compact = String::new();
        for &c in &b[start..] {
            if c.is_ascii_alphanumeric() {
                compact.push(char::from(c));
            } else if c != b' ' {
                break;
            }
            if compact.len() >= 15 && iban_valid(&compact) {
                return true;
            }
            if compact.len() >= 34 {
                break;
            }
        }
    }
    false
}

/// Words that introduce a secret, in English, Spanish and Norwegian.
const SECRET_WORDS: [&str; 12] = [
    "password",
    "passwd",
    "pwd",
    "passcode",
    "pin",
    "cvv",
    "cvc",
    "secret",
    "api key",
    "apikey",
    "contraseña",
    "passord",
];

/// Well-known secret token prefixes (API keys pasted by mistake).
const TOKEN_PREFIXES: [&str; 6] = [
    "sk_live_",
    "sk_test_",
    "ghp_",
    "xoxb-",
    "akia",
    "-----begin",
];

/// A password or secret: a secret word followed by `:`/`=`/"is"/"es"/"er" and a value that
/// looks like one (a separator sign, or a value with a digit or symbol), or a known token
/// prefix. "My password reset is not working" is not flagged.
fn find_secrets(text: &str, text_ops: &impl crate::text::UnicodeText) -> bool {
    let lower = text_ops.lowercase(text);
    if TOKEN_PREFIXES.iter().any(|p| lower.contains(p)) {
        return true;
    }
    for word in SECRET_WORDS {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(word) {
            let at = from + pos;
            from = at + word.len();
            let before_ok = lower[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !text_ops.is_alphanumeric(c));
            if !before_ok {
                continue;
            }
            // Inflections ("passordet") and a short possessive ("mitt", "my") may follow.
            let mut rest = lower[from..]
                .trim_start_matches(|c| text_ops.is_alphabetic(c))
                .trim_start();
            let short: String = rest
                .chars()
                .take_while(|c| text_ops.is_alphabetic(*c))
                .collect();
            if (2..=4).contains(&short.chars().count())
                && !["is", "es", "er", "was"].contains(&short.as_str())
            {
                rest = rest[short.len()..].trim_start();
            }
            let (sign, after) = if let Some(r) = rest.strip_prefix([':', '=']) {
                (true, r)
            } else if let Some(r) = ["is ", "es ", "er ", "was "]
                .iter()
                .find_map(|w| rest.strip_prefix(w))
            {
                (false, r)
            } else {
                continue;
            };
            let value: String = after
                .trim_start()
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            let value = value.trim_end_matches(['.', ',', '!', '?', ')']);
            let looks_secret = value.chars().count() >= 4
                && (sign
                    || value
                        .chars()
                        .any(|c| c.is_ascii_digit() || !text_ops.is_alphanumeric(c)));
            if looks_secret {
                return true;
            }
        }
    }
    false
}

/// Every kind of sensitive data in `text`.
pub fn scan(text: &str) -> Vec<Sensitive> {
    scan_with(text, &crate::text::StdText)
}

/// [`scan`] with lower case from `text_ops` (the edge passes the runtime's).
pub fn scan_with(text: &str, text_ops: &impl crate::text::UnicodeText) -> Vec<Sensitive> {
    let mut out = Vec::new();
    if find_cards(text) {
        out.push(Sensitive::CardNumber);
    }
    if find_ibans(text) {
        out.push(Sensitive::Iban);
    }
    if find_secrets(text, text_ops) {
        out.push(Sensitive::Secret);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers() {
        for text in [
            "my card is 4111 1111 1111 1111 please refund",
            "4111-1111-1111-1111",
            "card:5500005555555559.",
            "amex 378282246310005",
        ] {
            assert_eq!(scan(text), [Sensitive::CardNumber], "{text}");
        }
        for text in [
            "order 4111 1111 1111 1112 is late", // fails Luhn
            "call +44 20 7946 0000",             // a phone number
            "tracking 1Z999AA10123456784",       // letters inside
            "0000 0000 0000 0000",               // all one digit
            "on 2026-11-22 at 10:30",
            "12345",
        ] {
            assert!(!scan(text).contains(&Sensitive::CardNumber), "{text}");
        }
    }

    #[test]
    fn ibans() {
        assert!(iban_valid("GB82WEST12345698765432"));
        assert!(iban_valid("DE89370400440532013000"));
        assert!(!iban_valid("GB82WEST12345698765433"));
        for text in [
            "refund to GB82 WEST 1234 5698 7654 32 thanks",
            "iban: de89370400440532013000",
            "NO9386011117947",
        ] {
            assert_eq!(scan(text), [Sensitive::Iban], "{text}");
        }
        for text in [
            "GB82 WEST 1234 5698 7654 33",
            "see section AB12 of the terms",
        ] {
            assert!(!scan(text).contains(&Sensitive::Iban), "{text}");
        }
    }

    #[test]
    fn secrets() {
        for text in [
            "my password is hunter2",
            "Password: correct horse",
            "pwd=abc12345",
            "the PIN is 4921!",
            "mi contraseña es gato123",
            "passordet mitt: fjord!",
            "key sk_live_51Habc",
        ] {
            assert!(scan(text).contains(&Sensitive::Secret), "{text}");
        }
        for text in [
            "my password reset is not working",
            "I forgot my password",
            "the password is wrong apparently",
            "spin the wheel",
            "how do I change my PIN?",
        ] {
            assert!(!scan(text).contains(&Sensitive::Secret), "{text}");
        }
    }

    #[test]
    fn plain_questions_are_clean() {
        assert!(scan("Where is my order #48213? It was due on Monday.").is_empty());
        assert!(scan("").is_empty());
        assert!(scan("ñ€😀 4111").is_empty());
    }
}
