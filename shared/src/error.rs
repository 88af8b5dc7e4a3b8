//! The one error shape of the HTTP API: `{"error":{"code","message","field"?}}`.

use serde::{Deserialize, Serialize};

/// An API error: an HTTP status plus a machine-readable code and a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: u16,
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
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

    pub fn unavailable() -> Self {
        Self::new(503, "unavailable", "storage is unavailable, retry shortly")
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
    }
}
