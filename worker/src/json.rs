//! The one way the worker reads JSON, request bodies and stored values alike: serde_json over
//! a byte slice, tracking the path to the first problem (serde_path_to_error). One reader
//! means each type's deserializer is compiled once, not once per input kind (the worker's
//! upload counts every copy).

use serde::de::DeserializeOwned;

/// Why JSON did not read as the expected type: where (`path`, dotted, `"."` for the root)
/// and what serde_json said.
#[derive(Debug)]
pub struct JsonError {
    /// The path of the offending value, e.g. `slides[1].text`; `.` for the whole document.
    pub path: String,
    /// serde_json's message, with line and column.
    pub inner: serde_json::Error,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path == "." || self.path.is_empty() {
            write!(f, "{}", self.inner)
        } else {
            write!(f, "{}: {}", self.path, self.inner)
        }
    }
}

impl std::error::Error for JsonError {}

/// Reads `bytes` as exactly one JSON `T` (trailing whitespace only): first as a
/// [`serde_json::Value`], then as `T` by [`from_value`].
///
/// # Errors
/// [`JsonError`]: not JSON (path `.`), or not a `T` (the path of the offending value).
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    from_value(value(bytes)?)
}

/// [`from_slice`] of a string.
///
/// # Errors
/// As [`from_slice`].
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    from_slice(text.as_bytes())
}

/// `bytes` as one JSON value of any shape.
///
/// # Errors
/// [`JsonError`] with path `.`: not JSON, or something after the value.
pub fn value(bytes: &[u8]) -> Result<serde_json::Value, JsonError> {
    serde_json::from_slice(bytes).map_err(|inner| JsonError {
        path: ".".into(),
        inner,
    })
}

/// A parsed value as `T`: stored records and D1 rows, which this worker wrote itself (when
/// one does not read, the message is enough to find it).
///
/// # Errors
/// [`JsonError`] with path `.`: `value` is not a `T`.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, JsonError> {
    T::deserialize(value).map_err(|inner| JsonError {
        path: ".".into(),
        inner,
    })
}

/// A parsed request body as `T`, naming the path of the first problem
/// (`slides[1].text`) so a client can point at it. Bodies only: tracking the path doubles
/// each type's decoder, and most stored types are never bodies of the visitors' API.
///
/// # Errors
/// [`JsonError`]: `value` is not a `T`.
pub fn body_from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, JsonError> {
    serde_path_to_error::deserialize(value).map_err(|e| JsonError {
        path: e.path().to_string(),
        inner: e.into_inner(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use glimpse_shared::Story;

    #[test]
    fn body_errors_name_the_path_and_trailing_data_is_refused() {
        let bad = r#"{"id":"a","title":"t","topic":"x","slides":[{"text":1}],"publish_at":0,"expires_at":1}"#;
        let Err(e) = value(bad.as_bytes()).and_then(body_from_value::<Story>) else {
            panic!("a number is not slide text");
        };
        assert_eq!(e.path, "slides[0].text");
        assert!(
            e.to_string().starts_with("slides[0].text: invalid type"),
            "{e}"
        );
        let Err(e) = from_str::<u32>("1 2") else {
            panic!("two values are not one");
        };
        assert_eq!(e.path, ".");
        assert_eq!(from_str::<u32>(" 7\n").ok(), Some(7));
    }
}
