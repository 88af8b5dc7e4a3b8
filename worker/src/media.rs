//! The media library ([`glimpse_shared::media`]): operators upload pictures, short videos and
//! WebVTT captions; the bytes go to R2 (behind [`Blobs`]), one row per item to D1 (`media`),
//! and anyone may read an item at `/v1/sites/{site}/media/{id}` — with immutable caching
//! (the id is the bytes' digest), `ETag`/`If-None-Match`, and single `Range` requests, so
//! videos seek and start fast. Answered by the operators' worker (the visitors' worker hands
//! these paths over unread, like the knowledge base's). The core never holds a served file:
//! it answers with a [`BlobSlice`] the edge streams from R2 to the client.
//!
//! An item in use by any stored story, session or poll (expired ones too, until retention
//! removes them) or by a knowledge-base entry cannot be deleted (409 naming its users);
//! unused items older than the site's retention go with the hourly retention sweep
//! ([`sweep`]), and a site's deletion removes all of them ([`delete_some`]).

use glimpse_shared::media::{
    MediaItem, MediaKind, MediaType, is_media_id, is_webvtt, media_id, media_key, media_path,
};
use glimpse_shared::{ApiError, Millis};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::core::{Api, unavailable};
use crate::http::{ApiRequest, ApiResponse, BlobSlice};
use crate::route::Method;
use crate::sql::{LocalFuture, Sql, Stmt, rows};
use crate::store::{KvStore, StoreError};

/// R2, as the core needs it: what an object is, writing one, deleting some. Reading the
/// bytes is the edge's ([`BlobSlice`]).
pub trait Blobs {
    /// The stored size (bytes) and `Content-Type` of `key`, or `None` if there is none.
    fn head<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<Option<BlobMeta>, StoreError>>;
    /// Stores `bytes` at `key`, served as `content_type`.
    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: &'a [u8],
        content_type: &'a str,
    ) -> LocalFuture<'a, Result<(), StoreError>>;
    /// Deletes `keys` (at most [`DELETE_BATCH`]; missing ones are no error).
    fn delete<'a>(&'a self, keys: &'a [String]) -> LocalFuture<'a, Result<(), StoreError>>;
}

/// What [`Blobs::head`] knows of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    pub size: u64,
    pub content_type: String,
}

/// Most objects one call deletes (R2's `delete` takes up to 1,000 keys) and most items a
/// sweep or a site deletion step removes.
pub const DELETE_BATCH: usize = 100;

/// Items one listing page holds, unless `limit` says fewer.
pub const LIST_PAGE: i64 = 100;

/// How long browsers and caches keep an item: a year, never revalidated (its URL names its
/// bytes).
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The type of `bytes`, by their content alone.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    use infer::{image, video};
    let found = [
        (image::is_jpeg as fn(&[u8]) -> bool, MediaType::Jpeg),
        (image::is_png, MediaType::Png),
        (image::is_webp, MediaType::Webp),
        (image::is_gif, MediaType::Gif),
        (image::is_avif, MediaType::Avif),
        (video::is_webm, MediaType::Webm),
        (video::is_mp4, MediaType::Mp4),
    ]
    .into_iter()
    .find(|(is, _)| is(bytes))
    .map(|(_, t)| t);
    found.or_else(|| is_webvtt(bytes).then_some(MediaType::Vtt))
}

/// A `media` row.
#[derive(Debug, Deserialize)]
struct Row {
    id: String,
    kind: String,
    content_type: String,
    bytes: i64,
    name: String,
    created_at: Millis,
}

impl Row {
    fn item(self, site: &str) -> Option<MediaItem> {
        let kind = match self.kind.as_str() {
            "image" => MediaKind::Image,
            "video" => MediaKind::Video,
            "captions" => MediaKind::Captions,
            _ => return None,
        };
        Some(MediaItem {
            url: media_path(site, &self.id),
            id: self.id,
            kind,
            content_type: self.content_type,
            bytes: u64::try_from(self.bytes).unwrap_or(0),
            name: self.name,
            created_at: self.created_at,
        })
    }
}

const COLUMNS: &str = "id, kind, content_type, bytes, name, created_at";

/// Longest `?name=` an upload may give, in characters (400 above).
pub const NAME_PARAM_MAX: usize = 500;

/// The file name an upload gives in `?name=`: its last path segment, without control
/// characters, at most 120 characters kept; empty if none. `400` naming `name` over
/// [`NAME_PARAM_MAX`] characters.
fn upload_name(req: &ApiRequest) -> Result<String, ApiError> {
    let raw = req.query_param("name").unwrap_or_default();
    if raw.chars().count() > NAME_PARAM_MAX {
        return Err(ApiError::new(
            400,
            "invalid",
            format!("name must be at most {NAME_PARAM_MAX} characters"),
        )
        .with_field("name"));
    }
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    Ok(last
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect::<String>()
        .trim()
        .to_string())
}

/// `POST /v1/admin/sites/{site}/media?name=FILE` with the file as the body: `201` and the
/// [`MediaItem`], or `200` and the existing one when the same bytes are already in the
/// library. `415` unless the bytes are a JPEG, PNG, WebP, GIF, AVIF, MP4, WebM or WebVTT file
/// (whatever `Content-Type` says); `413` over the kind's limit ([`MediaKind::max_bytes`]);
/// `400` for an empty body; `404` for an unknown site.
pub async fn upload<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    crate::admin::load_site_pub(api, site).await?;
    let name = upload_name(req)?;
    let bytes = &req.body;
    if bytes.is_empty() {
        return Err(ApiError::new(
            400,
            "invalid",
            "the body is empty: send the file's bytes",
        ));
    }
    let Some(kind_of) = sniff(bytes) else {
        return Err(ApiError::new(
            415,
            "unsupported_media_type",
            "not a JPEG, PNG, WebP, GIF, AVIF, MP4, WebM or WebVTT file (checked by its bytes)",
        ));
    };
    let kind = kind_of.kind();
    if bytes.len() > kind.max_bytes() {
        return Err(ApiError::new(
            413,
            "payload_too_large",
            format!(
                "a {} may be at most {} MiB; this file is {:.1} MiB",
                kind.as_str(),
                kind.max_bytes() / (1024 * 1024),
                bytes.len() as f64 / (1024.0 * 1024.0)
            ),
        ));
    }
    let id = media_id(&Sha256::digest(bytes));
    if let Some(item) = find(api, site, &id).await? {
        return Ok(ApiResponse::json(200, &item));
    }
    let mime = kind_of.mime();
    api.blobs
        .put(&media_key(site, &id), bytes, mime)
        .await
        .map_err(unavailable)?;
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    api.sql
        .query(
            &Stmt::new(
                "INSERT INTO media (site, id, kind, content_type, bytes, name, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (site, id) DO NOTHING",
            )
            .bind(site)
            .bind(id.as_str())
            .bind(kind.as_str())
            .bind(mime)
            .bind(size)
            .bind(name.as_str())
            .bind(now_ms),
        )
        .await
        .map_err(unavailable)?;
    let item = MediaItem {
        url: media_path(site, &id),
        id,
        kind,
        content_type: mime.to_string(),
        bytes: bytes.len() as u64,
        name,
        created_at: now_ms,
    };
    Ok(ApiResponse::json(201, &item))
}

async fn find<S>(api: &Api<'_, S>, site: &str, id: &str) -> Result<Option<MediaItem>, ApiError> {
    let found: Vec<Row> = rows(
        api.sql,
        Stmt::new(format!(
            "SELECT {COLUMNS} FROM media WHERE site = ?1 AND id = ?2"
        ))
        .bind(site)
        .bind(id),
    )
    .await
    .map_err(unavailable)?;
    Ok(found.into_iter().next().and_then(|r| r.item(site)))
}

/// A page of the library.
#[derive(Debug, Serialize, Deserialize)]
pub struct MediaPage {
    /// Newest first.
    pub items: Vec<MediaItem>,
    /// Pass as `before` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `GET /v1/admin/sites/{site}/media?kind=image|video|captions&limit=N&before=CURSOR`: the
/// library, newest first, [`LIST_PAGE`] items a page (`limit` 1-100). `400` for an unknown
/// `kind`, a bad `limit` or `before`.
pub async fn list<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &str,
) -> Result<ApiResponse, ApiError> {
    crate::admin::load_site_pub(api, site).await?;
    let kind = match req.query_param("kind").as_deref() {
        None | Some("") => None,
        Some(k @ ("image" | "video" | "captions")) => Some(k.to_string()),
        Some(_) => {
            return Err(
                ApiError::new(400, "invalid", "kind must be image, video or captions")
                    .with_field("kind"),
            );
        }
    };
    let limit = match req.query_param("limit") {
        None => LIST_PAGE,
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=LIST_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::new(400, "invalid", "limit must be 1-100").with_field("limit")
            })?,
    };
    // The cursor is the last item's `created_at` and id: `{ms}-{id}`.
    let before = match req.query_param("before") {
        None => None,
        Some(c) => Some(
            c.split_once('-')
                .and_then(|(ms, id)| Some((ms.parse::<Millis>().ok()?, id.to_string())))
                .filter(|(_, id)| is_media_id(id))
                .ok_or_else(|| {
                    ApiError::new(400, "invalid", "before must be a cursor from `next`")
                        .with_field("before")
                })?,
        ),
    };
    let (at, after_id) = before.unwrap_or((Millis::MAX, String::new()));
    let found: Vec<Row> = rows(
        api.sql,
        Stmt::new(format!(
            "SELECT {COLUMNS} FROM media WHERE site = ?1 AND (?2 IS NULL OR kind = ?2) \
             AND (created_at < ?3 OR (created_at = ?3 AND id < ?4)) \
             ORDER BY created_at DESC, id DESC LIMIT ?5"
        ))
        .bind(site)
        .bind(kind)
        .bind(at)
        .bind(if after_id.is_empty() {
            "g".to_string()
        } else {
            after_id
        })
        .bind(limit + 1),
    )
    .await
    .map_err(unavailable)?;
    let more = found.len() as i64 > limit;
    let items: Vec<MediaItem> = found
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(0))
        .filter_map(|r| r.item(site))
        .collect();
    let next = more
        .then(|| items.last().map(|i| format!("{}-{}", i.created_at, i.id)))
        .flatten();
    Ok(ApiResponse::json(200, &MediaPage { items, next }))
}

/// Who uses an item: a stored story, session or poll, or a knowledge-base entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaUse {
    /// `story`, `session`, `poll` or `kb`.
    pub kind: String,
    pub id: String,
}

/// Most users [`users`] names.
const USERS_MAX: i64 = 10;

/// Up to [`USERS_MAX`] items of `site` whose stored JSON links to `id`: one query over the
/// site's content rows and one over its knowledge base (both bounded by what one site
/// stores).
async fn users<S>(api: &Api<'_, S>, site: &str, id: &str) -> Result<Vec<MediaUse>, ApiError> {
    let path = media_path(site, id);
    rows(
        api.sql,
        Stmt::new(
            "SELECT kind, id FROM content WHERE site = ?1 AND instr(body, ?2) > 0 \
             UNION ALL SELECT 'kb' AS kind, id FROM kb WHERE site = ?1 AND instr(entry, ?2) > 0 \
             LIMIT ?3",
        )
        .bind(site)
        .bind(path.as_str())
        .bind(USERS_MAX),
    )
    .await
    .map_err(unavailable)
}

/// An item with what uses it.
#[derive(Debug, Serialize, Deserialize)]
pub struct MediaDetail {
    #[serde(flatten)]
    pub item: MediaItem,
    /// Up to 10 users; deleting is refused while there is any.
    pub used_by: Vec<MediaUse>,
}

fn not_found_media() -> ApiError {
    ApiError::not_found("media")
}

/// `GET /v1/admin/sites/{site}/media/{id}`: the item and what uses it ([`MediaDetail`]),
/// or `404`.
pub async fn get<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    id: &str,
) -> Result<ApiResponse, ApiError> {
    let item = find(api, site, id).await?.ok_or_else(not_found_media)?;
    let used_by = users(api, site, id).await?;
    Ok(ApiResponse::json(200, &MediaDetail { item, used_by }))
}

/// `DELETE /v1/admin/sites/{site}/media/{id}`: `204`, or `409` naming what still uses it
/// (its `problems` list each user as `kind/id`), or `404`.
pub async fn delete<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    id: &str,
) -> Result<ApiResponse, ApiError> {
    find(api, site, id).await?.ok_or_else(not_found_media)?;
    let used_by = users(api, site, id).await?;
    if !used_by.is_empty() {
        let names: Vec<String> = used_by
            .iter()
            .map(|u| format!("{} {}", u.kind, u.id))
            .collect();
        let mut err = ApiError::new(
            409,
            "in_use",
            format!("still used by {}: change those first", names.join(", ")),
        );
        err.problems = used_by
            .iter()
            .map(|u| glimpse_shared::Problem::new(format!("{}/{}", u.kind, u.id), "uses this file"))
            .collect();
        return Err(err);
    }
    remove(api.sql, api.blobs, site, &[id.to_string()])
        .await
        .map_err(unavailable)?;
    Ok(ApiResponse::empty(204).with_header("cache-control", "no-store"))
}

/// Deletes `ids`' objects, then their rows (a failure in between leaves rows whose objects
/// are gone: the next attempt deletes them again, which is no error).
async fn remove(
    sql: &dyn Sql,
    blobs: &dyn Blobs,
    site: &str,
    ids: &[String],
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = ids.iter().map(|id| media_key(site, id)).collect();
    blobs.delete(&keys).await?;
    sql.query(
        &Stmt::new("DELETE FROM media WHERE site = ?1 AND id IN (SELECT value FROM json_each(?2))")
            .bind(site)
            .bind_json(ids),
    )
    .await?;
    Ok(())
}

#[derive(Deserialize)]
struct IdRow {
    id: String,
}

/// One step of deleting a site: up to [`DELETE_BATCH`] of its items, objects and rows.
/// `true` if more remain.
pub async fn delete_some<S>(api: &Api<'_, S>, site: &str) -> Result<bool, ApiError> {
    let batch = i64::try_from(DELETE_BATCH).unwrap_or(100);
    let found: Vec<IdRow> = rows(
        api.sql,
        Stmt::new("SELECT id FROM media WHERE site = ?1 LIMIT ?2")
            .bind(site)
            .bind(batch + 1),
    )
    .await
    .map_err(unavailable)?;
    let more = found.len() > DELETE_BATCH;
    let ids: Vec<String> = found.into_iter().take(DELETE_BATCH).map(|r| r.id).collect();
    remove(api.sql, api.blobs, site, &ids)
        .await
        .map_err(unavailable)?;
    Ok(more)
}

/// The retention sweep's share for one site: up to [`DELETE_BATCH`] items uploaded before
/// `cutoff_ms` (now minus the site's retention) that nothing stored links to are deleted.
/// Returns how many went (a full batch: more may remain). One query, one R2 call, one
/// delete.
pub async fn sweep(
    sql: &dyn Sql,
    blobs: &dyn Blobs,
    site: &str,
    cutoff_ms: Millis,
) -> Result<usize, StoreError> {
    let batch = i64::try_from(DELETE_BATCH).unwrap_or(100);
    let unused: Vec<IdRow> = rows(
        sql,
        Stmt::new(
            "SELECT m.id FROM media m WHERE m.site = ?1 AND m.created_at < ?2 \
             AND NOT EXISTS (SELECT 1 FROM content c WHERE c.site = ?1 \
               AND instr(c.body, '/v1/sites/' || ?1 || '/media/' || m.id) > 0) \
             AND NOT EXISTS (SELECT 1 FROM kb k WHERE k.site = ?1 \
               AND instr(k.entry, '/v1/sites/' || ?1 || '/media/' || m.id) > 0) \
             ORDER BY m.created_at LIMIT ?3",
        )
        .bind(site)
        .bind(cutoff_ms)
        .bind(batch),
    )
    .await?;
    let ids: Vec<String> = unused.into_iter().map(|r| r.id).collect();
    remove(sql, blobs, site, &ids).await?;
    Ok(ids.len())
}

/// `GET`/`HEAD /v1/sites/{site}/media/{id}`: the item's bytes, to anyone (`Access-Control-
/// Allow-Origin: *`: they are public, and captions tracks load in CORS mode). `200` with the
/// whole file, `206` with one `Range` (`bytes=a-b`, `a-`, `-n`; several ranges get the whole
/// file), `304` for a matching `If-None-Match`, `416` for a range past the end, `404` for an
/// unknown item. `OPTIONS` answers any origin's preflight.
pub async fn serve<S>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &str,
    id: &str,
) -> Result<ApiResponse, ApiError> {
    let public = |res: ApiResponse| {
        res.with_header("access-control-allow-origin", "*")
            .with_header(
                "access-control-expose-headers",
                "Content-Range, Content-Length, ETag",
            )
            .with_header("cross-origin-resource-policy", "cross-origin")
    };
    if !is_media_id(id) {
        return Err(not_found_media());
    }
    if req.method == Method::Options {
        return Ok(public(
            ApiResponse::empty(204)
                .with_header("access-control-allow-methods", "GET, HEAD")
                .with_header("access-control-allow-headers", "Range")
                .with_header("access-control-max-age", "86400"),
        ));
    }
    let key = media_key(site, id);
    let meta = api
        .blobs
        .head(&key)
        .await
        .map_err(unavailable)?
        .ok_or_else(not_found_media)?;
    let etag = format!("\"{id}\"");
    let base = |status: u16| {
        public(
            ApiResponse::empty(status)
                .with_header("cache-control", IMMUTABLE)
                .with_header("etag", &etag)
                .with_header("accept-ranges", "bytes"),
        )
    };
    if req
        .get_header("if-none-match")
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Ok(base(304));
    }
    let size = meta.size;
    let ranged = req
        .get_header("range")
        .map(|h| http_range_header::parse_range_header(h).and_then(|r| r.validate(size)));
    let (status, offset, length) = match ranged {
        Some(Ok(ranges)) if ranges.len() == 1 => {
            let r = &ranges[0];
            (206, *r.start(), r.end() - r.start() + 1)
        }
        Some(Err(_)) if size > 0 => {
            let mut res = ApiResponse::error(&ApiError::new(
                416,
                "range_not_satisfiable",
                format!("the range is outside the file's {size} bytes"),
            ));
            res = res.with_header("content-range", &format!("bytes */{size}"));
            return Ok(public(res));
        }
        _ => (200, 0, size),
    };
    let mut res = base(status)
        .with_header("content-type", &meta.content_type)
        .with_header("content-length", &length.to_string());
    if status == 206 {
        res = res.with_header(
            "content-range",
            &format!("bytes {offset}-{}/{size}", offset + length - 1),
        );
    }
    if req.method == Method::Get && length > 0 {
        res.blob = Some(BlobSlice {
            key,
            offset,
            length,
        });
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), Some(MediaType::Jpeg));
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(MediaType::Png)
        );
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(MediaType::Webp));
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Some(MediaType::Gif));
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom"),
            Some(MediaType::Mp4)
        );
        assert_eq!(
            sniff(b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\xF7\x81\x01\x42\xF2\x81\x04\x42\xF3\x81\x08\x42\x82\x84webm"),
            Some(MediaType::Webm)
        );
        assert_eq!(
            sniff(b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n"),
            Some(MediaType::Vtt)
        );
        assert_eq!(sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), None);
        assert_eq!(sniff(b"<html><script>alert(1)</script>"), None);
        assert_eq!(sniff(b""), None);
    }
}

/// [`Blobs`] in memory, for tests and tools: a map of key → (bytes, content type), with the
/// operations counted.
#[derive(Default)]
pub struct MemoryBlobs {
    objects: std::cell::RefCell<std::collections::BTreeMap<String, (Vec<u8>, String)>>,
    ops: std::cell::Cell<usize>,
}

impl MemoryBlobs {
    /// Bytes `slice` names, as the edge would stream them; `None` if there is no object.
    pub fn read(&self, slice: &BlobSlice) -> Option<Vec<u8>> {
        let objects = self.objects.borrow();
        let (bytes, _) = objects.get(&slice.key)?;
        let start = usize::try_from(slice.offset).ok()?;
        let end = start.checked_add(usize::try_from(slice.length).ok()?)?;
        bytes.get(start..end).map(<[u8]>::to_vec)
    }

    /// The stored keys, in order.
    pub fn keys(&self) -> Vec<String> {
        self.objects.borrow().keys().cloned().collect()
    }

    /// Operations so far (each head, put and delete call counts one).
    pub fn ops(&self) -> usize {
        self.ops.get()
    }
}

impl Blobs for MemoryBlobs {
    fn head<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<Option<BlobMeta>, StoreError>> {
        self.ops.set(self.ops.get() + 1);
        let meta = self.objects.borrow().get(key).map(|(b, t)| BlobMeta {
            size: b.len() as u64,
            content_type: t.clone(),
        });
        Box::pin(async move { Ok(meta) })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: &'a [u8],
        content_type: &'a str,
    ) -> LocalFuture<'a, Result<(), StoreError>> {
        self.ops.set(self.ops.get() + 1);
        self.objects
            .borrow_mut()
            .insert(key.to_string(), (bytes.to_vec(), content_type.to_string()));
        Box::pin(async { Ok(()) })
    }

    fn delete<'a>(&'a self, keys: &'a [String]) -> LocalFuture<'a, Result<(), StoreError>> {
        self.ops.set(self.ops.get() + 1);
        let mut objects = self.objects.borrow_mut();
        for k in keys {
            objects.remove(k);
        }
        Box::pin(async { Ok(()) })
    }
}
