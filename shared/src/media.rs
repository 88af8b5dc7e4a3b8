//! The media library: pictures, short videos and WebVTT captions operators upload from the
//! console. The bytes live in R2 (`site/{site}/media/{id}`), their rows in D1 (`media`); the
//! worker serves them at [`media_path`] with immutable caching and Range requests. An id is
//! the first 32 hex digits of the SHA-256 of the bytes: the same file uploaded twice is one
//! item, and a URL always names the same bytes.

use serde::{Deserialize, Serialize};

use crate::Millis;

/// What a stored file is, decided by its bytes (never by the name or the claimed type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    Jpeg,
    Png,
    Webp,
    Gif,
    Avif,
    Mp4,
    Webm,
    /// WebVTT captions (`text/vtt`).
    Vtt,
}

/// The three uses of library items: a slide's picture, a slide's video, a video's captions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Video,
    Captions,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Captions => "captions",
        }
    }

    /// Largest upload of this kind, in bytes: pictures 2 MiB (the console scales them to at
    /// most [`IMAGE_MAX_EDGE`] pixels first, so a photo is usually a few hundred KB), videos
    /// 25 MiB (stories are short), captions 256 KiB.
    pub fn max_bytes(self) -> usize {
        match self {
            Self::Image => 2 * 1024 * 1024,
            Self::Video => 25 * 1024 * 1024,
            Self::Captions => 256 * 1024,
        }
    }
}

/// Longest edge, in pixels, the console scales a picture down to before it uploads it.
pub const IMAGE_MAX_EDGE: u32 = 1600;

/// The largest upload of any kind (the video limit): the upload route's body limit.
pub const UPLOAD_MAX_BYTES: usize = 25 * 1024 * 1024;

impl MediaType {
    pub fn kind(self) -> MediaKind {
        match self {
            Self::Jpeg | Self::Png | Self::Webp | Self::Gif | Self::Avif => MediaKind::Image,
            Self::Mp4 | Self::Webm => MediaKind::Video,
            Self::Vtt => MediaKind::Captions,
        }
    }

    /// The `Content-Type` it is served with.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
            Self::Avif => "image/avif",
            Self::Mp4 => "video/mp4",
            Self::Webm => "video/webm",
            Self::Vtt => "text/vtt; charset=utf-8",
        }
    }

    /// The type served as `mime` (the part before any `;`), if it is one of these.
    pub fn from_mime(mime: &str) -> Option<Self> {
        let base = mime.split(';').next().unwrap_or("").trim();
        [
            Self::Jpeg,
            Self::Png,
            Self::Webp,
            Self::Gif,
            Self::Avif,
            Self::Mp4,
            Self::Webm,
            Self::Vtt,
        ]
        .into_iter()
        .find(|t| t.mime().split(';').next() == Some(base))
    }

    /// The `accept` list of a file input for these types.
    pub const ACCEPT: &'static str = "image/jpeg,image/png,image/webp,image/gif,image/avif,\
        video/mp4,video/webm,text/vtt,.vtt";
}

/// Whether `bytes` are a WebVTT file: an optional UTF-8 byte order mark, `WEBVTT`, then a
/// space, tab, line break or the end (WebVTT §4.1), and valid UTF-8 throughout.
pub fn is_webvtt(bytes: &[u8]) -> bool {
    let rest = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(after) = rest.strip_prefix(b"WEBVTT") else {
        return false;
    };
    matches!(after.first(), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
        && std::str::from_utf8(bytes).is_ok()
}

/// The id of `sha256` (the digest of the bytes): its first 16 bytes as 32 lowercase hex
/// digits.
pub fn media_id(sha256: &[u8]) -> String {
    sha256.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Whether `id` has the shape of a media id (32 lowercase hex digits).
pub fn is_media_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The path the worker serves an item at, relative to its origin:
/// `/v1/sites/{site}/media/{id}`.
pub fn media_path(site: &str, id: &str) -> String {
    format!("/v1/sites/{site}/media/{id}")
}

/// The R2 key of an item's bytes.
pub fn media_key(site: &str, id: &str) -> String {
    format!("site/{site}/media/{id}")
}

/// The ids of library items of `site` that `text` (an item's stored JSON: a story with its
/// slides' media, posters and captions) links to, each once, in order of appearance. Any
/// URL whose path is `/v1/sites/{site}/media/{id}` counts, with or without an origin.
pub fn referenced_ids(text: &str, site: &str) -> Vec<String> {
    let needle = format!("/v1/sites/{site}/media/");
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let after = &rest[at + needle.len()..];
        let id: String = after.chars().take(32).collect();
        if is_media_id(&id)
            && !after[32..].starts_with(|c: char| c.is_ascii_alphanumeric())
            && !out.contains(&id)
        {
            out.push(id);
        }
        rest = after;
    }
    out
}

/// One item of the library, as the operators' API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaItem {
    /// 32 hex digits ([`media_id`]).
    pub id: String,
    pub kind: MediaKind,
    /// The type it is served with (from its bytes).
    pub content_type: String,
    /// Size in bytes.
    pub bytes: u64,
    /// The file name it was uploaded with (for the library; never served).
    #[serde(default)]
    pub name: String,
    /// Unix ms of its first upload.
    pub created_at: Millis,
    /// Where it is served, relative to the worker's origin ([`media_path`]).
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webvtt_needs_its_signature_line() {
        assert!(is_webvtt(b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi"));
        assert!(is_webvtt(b"\xEF\xBB\xBFWEBVTT - captions\r\n"));
        assert!(is_webvtt(b"WEBVTT"));
        assert!(!is_webvtt(b"WEBVTTX\n"));
        assert!(!is_webvtt(b"1\n00:00:00,000 --> 00:00:01,000\nSRT"));
        assert!(!is_webvtt(b"WEBVTT\n\xff\xfe"));
    }

    #[test]
    fn ids_are_the_digest_prefix() {
        let digest: Vec<u8> = (0u8..32).collect();
        let id = media_id(&digest);
        assert_eq!(id, "000102030405060708090a0b0c0d0e0f");
        assert!(is_media_id(&id));
        assert!(!is_media_id("000102030405060708090a0b0c0d0e0F"));
        assert!(!is_media_id("abc"));
    }

    #[test]
    fn references_are_found_in_stored_json_once_each() {
        let a = "0123456789abcdef0123456789abcdef";
        let b = "fedcba9876543210fedcba9876543210";
        let json = format!(
            r#"{{"slides":[{{"media":{{"kind":"video","url":"/v1/sites/s1/media/{a}","poster":"https://glimpse.example/v1/sites/s1/media/{b}","captions":"/v1/sites/s1/media/{a}"}}}},
            {{"media":{{"kind":"image","url":"/v1/sites/other/media/{b}"}}}},
            {{"media":{{"kind":"image","url":"/v1/sites/s1/media/{a}0"}}}}]}}"#
        );
        assert_eq!(
            referenced_ids(&json, "s1"),
            vec![a.to_string(), b.to_string()]
        );
        assert_eq!(referenced_ids(&json, "other"), vec![b.to_string()]);
        assert!(referenced_ids("no media", "s1").is_empty());
    }

    #[test]
    fn types_have_kinds_limits_and_mimes() {
        assert_eq!(MediaType::Webp.kind(), MediaKind::Image);
        assert_eq!(MediaType::Webm.kind(), MediaKind::Video);
        assert_eq!(MediaType::from_mime("text/vtt"), Some(MediaType::Vtt));
        assert_eq!(
            MediaType::from_mime("video/mp4; codecs=avc1"),
            Some(MediaType::Mp4)
        );
        assert_eq!(MediaType::from_mime("image/svg+xml"), None);
        assert!(MediaKind::Video.max_bytes() <= UPLOAD_MAX_BYTES);
        assert!(MediaKind::Image.max_bytes() < MediaKind::Video.max_bytes());
    }
}
