//! The embed configuration the loader reads from the `<script>` tag's data attributes.

use glimpse_shared::ids::is_slug;
use wasm_bindgen::JsValue;

/// Validated configuration of one widget instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `data-site`: the site id.
    pub site: String,
    /// API base URL without a trailing slash: the script's own origin, or `data-api`.
    pub api: String,
}

impl Config {
    /// Validates raw values; the error is a message for the site owner's console.
    pub fn new(site: &str, api: &str) -> Result<Self, String> {
        if !is_slug(site) {
            return Err(format!(
                "data-site {site:?} is not a site id ([a-z0-9][a-z0-9-]*)"
            ));
        }
        let api = api.trim_end_matches('/');
        if !(api.starts_with("https://") || api.starts_with("http://")) {
            return Err(format!("API base {api:?} must be an http(s) URL"));
        }
        Ok(Self {
            site: site.to_string(),
            api: api.to_string(),
        })
    }

    /// Reads `{site, api}` from the loader's plain object.
    pub fn from_js(v: &JsValue) -> Result<Self, String> {
        let get = |k: &str| {
            js_sys::Reflect::get(v, &JsValue::from_str(k))
                .ok()
                .and_then(|x| x.as_string())
                .unwrap_or_default()
        };
        Self::new(&get("site"), &get("api"))
    }

    /// URL of the site's feed.
    pub fn feed_url(&self) -> String {
        format!("{}/v1/sites/{}/feed", self.api, self.site)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_normal_embed() {
        let c = Config::new("demo", "http://127.0.0.1:8787/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.feed_url(), "http://127.0.0.1:8787/v1/sites/demo/feed");
    }

    #[test]
    fn refuses_bad_site_and_api() {
        assert!(Config::new("", "https://x").is_err());
        assert!(Config::new("../admin", "https://x").is_err());
        assert!(Config::new("demo", "javascript:alert(1)").is_err());
    }
}
