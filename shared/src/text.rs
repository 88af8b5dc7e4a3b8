//! The two Unicode operations search and the sensitive-data guard need: lower case and
//! splitting text into words. Behind a trait so a host can answer them from its own runtime:
//! the edge and the browser already carry ICU (JavaScript's `toLowerCase` and `\p{…}` regular
//! expressions), and Rust's case and property tables (~10 KiB gzip) need not be uploaded
//! with every worker. [`StdText`] is the reference; [`JsText`] (wasm32) must agree with it
//! (tested in Chromium over every code point, widget/tests/dom.rs).

/// Lower case and words, as Unicode defines them.
pub trait UnicodeText {
    /// `text` under Unicode's default lower-case mapping (final sigma included).
    fn lowercase(&self, text: &str) -> String;
    /// The lower-cased words of `text`: maximal runs of alphanumeric characters (Unicode
    /// `Alphabetic`, or general category `N*`), in order, none empty.
    fn words(&self, text: &str) -> Vec<String>;
    /// Whether `c` has the Unicode `Alphabetic` property.
    fn is_alphabetic(&self, c: char) -> bool;
    /// Whether `c` is `Alphabetic` or in general category `N*` (a letter or a digit).
    fn is_alphanumeric(&self, c: char) -> bool;
}

/// Rust's own Unicode tables (`str::to_lowercase`, `char::is_alphanumeric`).
#[derive(Debug, Default, Clone, Copy)]
pub struct StdText;

impl UnicodeText for StdText {
    fn lowercase(&self, text: &str) -> String {
        text.to_lowercase()
    }

    fn words(&self, text: &str) -> Vec<String> {
        text.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn is_alphabetic(&self, c: char) -> bool {
        c.is_alphabetic()
    }

    fn is_alphanumeric(&self, c: char) -> bool {
        c.is_alphanumeric()
    }
}

/// The JavaScript runtime's Unicode support (workerd, browsers): `String.prototype.
/// toLowerCase` and a `/[^\p{Alphabetic}\p{N}]+/u` split.
#[cfg(target_arch = "wasm32")]
#[derive(Debug, Default, Clone, Copy)]
pub struct JsText;

#[cfg(target_arch = "wasm32")]
impl UnicodeText for JsText {
    fn lowercase(&self, text: &str) -> String {
        String::from(js_sys::JsString::from(text).to_lower_case())
    }

    fn words(&self, text: &str) -> Vec<String> {
        let lower = js_sys::JsString::from(text).to_lower_case();
        SEPARATORS.with(|re| {
            lower
                .split_by_pattern(re)
                .iter()
                .filter_map(|w| w.as_string())
                .filter(|w| !w.is_empty())
                .collect()
        })
    }

    fn is_alphabetic(&self, c: char) -> bool {
        ALPHABETIC.with(|re| re.test(c.encode_utf8(&mut [0; 4])))
    }

    fn is_alphanumeric(&self, c: char) -> bool {
        ALPHANUMERIC.with(|re| re.test(c.encode_utf8(&mut [0; 4])))
    }
}

#[cfg(target_arch = "wasm32")]
thread_local! {
    static SEPARATORS: js_sys::RegExp = js_sys::RegExp::new(r"[^\p{Alphabetic}\p{N}]+", "u");
    static ALPHABETIC: js_sys::RegExp = js_sys::RegExp::new(r"^\p{Alphabetic}$", "u");
    static ALPHANUMERIC: js_sys::RegExp = js_sys::RegExp::new(r"^[\p{Alphabetic}\p{N}]$", "u");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_alphanumeric_runs() {
        assert_eq!(
            StdText.words("ÅPNE Bestilling #42, contraseña—Ünïcode  ΣΊΣΥΦΟΣ"),
            [
                "åpne",
                "bestilling",
                "42",
                "contraseña",
                "ünïcode",
                "σίσυφος"
            ]
        );
        assert!(StdText.words(" ,.;!? ").is_empty());
        assert_eq!(StdText.lowercase("PASSORD: X"), "passord: x");
    }
}
