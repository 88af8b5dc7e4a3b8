//! The one error shape of the HTTP API: `{"error":{"code","message","field"?}}`.

use serde::{Deserialize, Serialize};

use crate::validate::Problem;

/// An API error: an HTTP status plus a machine-readable code and a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: u16,
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Validation failures: every problem found, not only the first (`field` names the first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    /// Seconds the client should wait before retrying (429, 503), sent as `Retry-After`.
    #[serde(skip)]
    pub retry_after: Option<u32>,
}

/// The JSON envelope errors travel in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ApiError,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            field: None,
            problems: Vec::new(),
            retry_after: None,
        }
    }

    /// 400 for a value that failed validation, carrying every problem.
    pub fn invalid(what: &str, problems: Vec<Problem>) -> Self {
        let first = problems.first().cloned();
        let message = match &first {
            Some(p) if problems.len() == 1 => format!("invalid {what}: {}: {}", p.field, p.message),
            Some(p) => format!(
                "invalid {what}: {}: {} (and {} more)",
                p.field,
                p.message,
                problems.len() - 1
            ),
            None => format!("invalid {what}"),
        };
        Self {
            status: 400,
            code: "invalid".into(),
            message,
            field: first.map(|p| p.field),
            problems,
            retry_after: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(404, "not_found", format!("{what} not found"))
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "method_not_allowed",
            "method not allowed for this path",
        )
    }

    pub fn gone(what: &str) -> Self {
        Self::new(410, "gone", format!("{what} has expired"))
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(401, "unauthorized", message)
    }

    pub fn forbidden_origin() -> Self {
        Self::new(
            403,
            "origin_not_allowed",
            "this origin is not allowed for the site; add it to the site's origins",
        )
    }

    pub fn too_large(limit_bytes: usize) -> Self {
        Self::new(
            413,
            "payload_too_large",
            format!("request body is over {limit_bytes} bytes"),
        )
    }

    pub fn not_json() -> Self {
        Self::new(
            415,
            "unsupported_media_type",
            "send the body as JSON with content-type: application/json",
        )
    }

    pub fn rate_limited(retry_after_s: u32) -> Self {
        let mut e = Self::new(
            429,
            "rate_limited",
            format!("too many requests from this address; retry in {retry_after_s} s"),
        );
        e.retry_after = Some(retry_after_s);
        e
    }

    pub fn unavailable() -> Self {
        let mut e = Self::new(503, "unavailable", "storage is unavailable, retry shortly");
        e.retry_after = Some(5);
        e
    }

    /// The JSON body for this error.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&ErrorBody {
            error: self.clone(),
        })
        .unwrap_or_else(|_| r#"{"error":{"code":"internal","message":"error"}}"#.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_json_shape() {
        assert_eq!(
            ApiError::not_found("site").to_json(),
            r#"{"error":{"code":"not_found","message":"site not found"}}"#
        );
        assert_eq!(
            ApiError::new(400, "invalid", "bad")
                .with_field("slides[0].text")
                .to_json(),
            r#"{"error":{"code":"invalid","message":"bad","field":"slides[0].text"}}"#
        );
        let e = ApiError::invalid(
            "story",
            vec![Problem::new("id", "bad id"), Problem::new("title", "empty")],
        );
        assert_eq!(e.status, 400);
        assert_eq!(e.field.as_deref(), Some("id"));
        assert_eq!(e.message, "invalid story: id: bad id (and 1 more)");
        let json: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap_or_default();
        assert_eq!(json["error"]["problems"][1]["field"], "title");
    }
}
