//! The embed configuration the loader reads from the `<script>` tag's data attributes.

use glimpse_shared::ThemeMode;
use glimpse_shared::ids::is_slug;
use wasm_bindgen::JsValue;

/// Which bottom corner the launcher sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

/// Validated configuration of one widget instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `data-site`: the site id.
    pub site: String,
    /// API base URL without a trailing slash: the script's own origin, or `data-api`.
    pub api: String,
    /// `data-lang`: overrides the browser's languages.
    pub lang: Option<String>,
    /// `data-position`: `left` or `right` (default).
    pub side: Side,
    /// `data-accent`: overrides the site's accent colour (`#rrggbb`).
    pub accent: Option<String>,
    /// `data-theme`: overrides the site's light/dark/auto theme.
    pub theme: Option<ThemeMode>,
    /// `data-nonce`: put on the widget's `<style>` for a strict CSP.
    pub nonce: Option<String>,
    /// `data-datalayer`: also push events to `window.dataLayer`.
    pub datalayer: bool,
    /// `data-labels`: the page's labels for targeting (`"checkout, pro"`), until the page
    /// sets others with `Glimpse('page', {labels})`.
    pub labels: Vec<String>,
    /// `data-preview`: the operators' console embeds the widget only to preview drafts in
    /// the real player; no launcher, no banners.
    pub preview_only: bool,
}

fn is_hex_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s.bytes().skip(1).all(|c| c.is_ascii_hexdigit())
}

impl Config {
    /// Validates raw values; the error is a message for the site owner's console.
    pub fn new(site: &str, api: &str) -> Result<Self, String> {
        if !is_slug(site) {
            return Err(format!(
                "data-site \"{site}\" is not a site id ([a-z0-9][a-z0-9-]*)"
            ));
        }
        let api = api.trim_end_matches('/');
        if !(api.starts_with("https://") || api.starts_with("http://")) {
            // Quoted by hand: `{:?}` would ship core's Unicode escaping tables.
            return Err(format!("API base \"{api}\" must be an http(s) URL"));
        }
        Ok(Self {
            site: site.to_string(),
            api: api.to_string(),
            lang: None,
            side: Side::Right,
            accent: None,
            theme: None,
            nonce: None,
            datalayer: false,
            labels: Vec::new(),
            preview_only: false,
        })
    }

    /// Applies the optional data attributes; values that make no sense are ignored.
    pub fn with_options(
        mut self,
        lang: &str,
        position: &str,
        accent: &str,
        theme: &str,
        nonce: &str,
        datalayer: Option<&str>,
    ) -> Self {
        let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        self.lang = some(lang).filter(|l| l.len() <= 35);
        self.side = if position.trim() == "left" {
            Side::Left
        } else {
            Side::Right
        };
        self.accent = some(accent).filter(|a| is_hex_colour(a));
        self.theme = match theme.trim() {
            "light" => Some(ThemeMode::Light),
            "dark" => Some(ThemeMode::Dark),
            "auto" => Some(ThemeMode::Auto),
            _ => None,
        };
        self.nonce = some(nonce);
        self.datalayer = datalayer.is_some_and(|v| v != "false");
        self
    }

    /// Reads the loader's plain object (`site`, `api`, and the optional attributes, `labels`
    /// among them).
    pub fn from_js(v: &JsValue) -> Result<Self, String> {
        let raw = |k: &str| js_sys::Reflect::get(v, &JsValue::from_str(k)).ok();
        let get = |k: &str| raw(k).and_then(|x| x.as_string()).unwrap_or_default();
        let datalayer = raw("datalayer").and_then(|x| x.as_string());
        let mut config = Self::new(&get("site"), &get("api"))?.with_options(
            &get("lang"),
            &get("position"),
            &get("accent"),
            &get("theme"),
            &get("nonce"),
            datalayer.as_deref(),
        );
        config.labels = glimpse_shared::targeting::parse_labels(&get("labels"));
        config.preview_only = raw("preview")
            .and_then(|x| x.as_string())
            .is_some_and(|v| v != "false");
        Ok(config)
    }

    /// URL of an API path under this site (`feed`, `events`, `polls/x/responses`).
    pub fn site_url(&self, rest: &str) -> String {
        format!("{}/v1/sites/{}/{rest}", self.api, self.site)
    }

    /// URL of the site's feed.
    pub fn feed_url(&self) -> String {
        self.site_url("feed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_normal_embed() {
        let c = Config::new("demo", "http://127.0.0.1:8787/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.feed_url(), "http://127.0.0.1:8787/v1/sites/demo/feed");
        assert_eq!(c.side, Side::Right);
    }

    #[test]
    fn refuses_bad_site_and_api() {
        assert!(Config::new("", "https://x").is_err());
        assert!(Config::new("../admin", "https://x").is_err());
        assert!(Config::new("demo", "javascript:alert(1)").is_err());
    }

    #[test]
    fn options_are_validated() {
        let c = Config::new("demo", "https://x")
            .unwrap_or_else(|e| panic!("{e}"))
            .with_options("es", "left", "#112233", "dark", "abc", Some(""));
        assert_eq!(c.lang.as_deref(), Some("es"));
        assert_eq!(c.side, Side::Left);
        assert_eq!(c.accent.as_deref(), Some("#112233"));
        assert_eq!(c.theme, Some(ThemeMode::Dark));
        assert_eq!(c.nonce.as_deref(), Some("abc"));
        assert!(c.datalayer);
        let c = Config::new("demo", "https://x")
            .unwrap_or_else(|e| panic!("{e}"))
            .with_options("", "middle", "red;}", "neon", " ", None);
        assert_eq!(
            (c.lang, c.side, c.accent, c.theme, c.nonce, c.datalayer),
            (None, Side::Right, None, None, None, false)
        );
    }
}
