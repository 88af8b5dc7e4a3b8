//! Routing: method + path → what to do. Pure, so every route and every refusal is testable.

use glimpse_shared::ApiError;
use glimpse_shared::ids::is_slug;

/// HTTP methods the API distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Other,
}

impl Method {
    pub fn parse(s: &str) -> Self {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Self::Get,
            "HEAD" => Self::Head,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "DELETE" => Self::Delete,
            "OPTIONS" => Self::Options,
            _ => Self::Other,
        }
    }
}

/// A recognised endpoint with its validated path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The demo company page that embeds the widget (served at `/`).
    DemoPage,
    Health,
    Feed {
        site: String,
    },
}

/// Matches `path` (without query string) and `method` to a [`Route`], or the error to answer.
pub fn route(method: Method, path: &str) -> Result<Route, ApiError> {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let (route, allowed): (Route, &[Method]) = match segments.as_slice() {
        [""] => (Route::DemoPage, &[Method::Get, Method::Head]),
        ["health"] => (Route::Health, &[Method::Get, Method::Head]),
        ["v1", "sites", site, "feed"] => {
            if !is_slug(site) {
                return Err(
                    ApiError::new(400, "invalid_id", "site id is not a valid slug")
                        .with_field("site"),
                );
            }
            (
                Route::Feed {
                    site: (*site).to_string(),
                },
                &[Method::Get, Method::Head],
            )
        }
        _ => return Err(ApiError::not_found("route")),
    };
    if allowed.contains(&method) {
        Ok(route)
    } else {
        Err(ApiError::method_not_allowed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route(Method::Get, "/"), Ok(Route::DemoPage));
        assert_eq!(route(Method::Get, "/health"), Ok(Route::Health));
        assert_eq!(
            route(Method::Get, "/v1/sites/demo/feed"),
            Ok(Route::Feed {
                site: "demo".into()
            })
        );
    }

    #[test]
    fn refusals() {
        let status = |m, p| route(m, p).err().map(|e| e.status);
        assert_eq!(status(Method::Post, "/v1/sites/demo/feed"), Some(405));
        assert_eq!(status(Method::Get, "/v1/sites/De%2Fmo/feed"), Some(400));
        assert_eq!(status(Method::Get, "/v1/sites/../feed"), Some(400));
        assert_eq!(status(Method::Get, "/v1/sites/demo/feed/x"), Some(404));
        assert_eq!(status(Method::Get, "/nothing"), Some(404));
        assert_eq!(status(Method::Post, "/"), Some(405));
        assert_eq!(status(Method::Get, "//health"), Some(404));
    }
}
