//! The media library: operators upload real pictures, videos and captions (types by their
//! bytes, limits per kind); anyone reads them with immutable caching, ETags and Range
//! requests; files in use cannot be deleted; unused old ones go with retention; a site's
//! deletion removes them all.

#![allow(clippy::panic)] // test helpers outside #[test] fns report failures by panicking

mod common;

use common::*;
use glimpse_worker::http::{ApiRequest, ApiResponse};
use glimpse_worker::route::Method;
use glimpse_worker::store::MemoryKv;
use serde_json::{Value, json};

const PNG: &[u8] = include_bytes!("fixtures/step.png");
const WEBM: &[u8] = include_bytes!("fixtures/tap.webm");
const MP4: &[u8] = include_bytes!("fixtures/tap.mp4");
const VTT: &[u8] = include_bytes!("fixtures/tap.vtt");

fn seeded() -> H<MemoryKv> {
    let h = H::with(MemoryKv::new());
    h.kv.set_now(T0);
    h.seed();
    h
}

fn upload(h: &H<MemoryKv>, name: &str, claimed: &str, bytes: &[u8], now: i64) -> ApiResponse {
    let mut req = ApiRequest::new(
        Method::Post,
        &format!("/v1/admin/sites/demo/media?name={name}"),
    )
    .header("authorization", &format!("Bearer {TOKEN}"))
    .header("content-type", claimed);
    req.body = bytes.to_vec();
    h.call(req, now)
}

fn uploaded(h: &H<MemoryKv>, name: &str, claimed: &str, bytes: &[u8]) -> Value {
    let res = upload(h, name, claimed, bytes, T0);
    assert_eq!(res.status, 201, "{name}: {}", res.body);
    body(&res)
}

/// The hourly cron's work for the demo site at `now` (retention, the media sweep), to the end.
fn tick(h: &H<MemoryKv>, now: i64) {
    let tick = glimpse_worker::queue::Message::Tick {
        site: "demo".into(),
        now_ms: now,
    };
    if let Err(e) = h.consume(&[tick], now) {
        panic!("tick: {e}");
    }
    h.drain(now);
}

/// `GET url` with `headers`, and the bytes the edge would stream.
fn fetch(h: &H<MemoryKv>, url: &str, headers: &[(&str, &str)]) -> (ApiResponse, Vec<u8>) {
    let mut req = ApiRequest::new(Method::Get, url);
    for (n, v) in headers {
        req = req.header(n, v);
    }
    let res = h.call(req, T0 + HOUR);
    let bytes = res
        .blob
        .as_ref()
        .map(|s| {
            h.blobs
                .read(s)
                .unwrap_or_else(|| panic!("no object for {s:?}"))
        })
        .unwrap_or_default();
    (res, bytes)
}

#[test]
fn uploads_are_typed_by_their_bytes_and_served_whole_or_by_range() {
    let h = seeded();
    let png = uploaded(&h, "step.png", "image/png", PNG);
    assert_eq!(png["kind"], "image");
    assert_eq!(png["content_type"], "image/png");
    assert_eq!(png["bytes"], PNG.len());
    assert_eq!(png["name"], "step.png");
    let url = png["url"].as_str().unwrap_or_default().to_string();
    assert!(url.starts_with("/v1/sites/demo/media/"), "{url}");
    // The same bytes again are the same item (200, not a second copy).
    let again = upload(&h, "copy.png", "image/png", PNG, T0 + 1);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(body(&again)["url"], png["url"]);
    assert_eq!(h.blobs.keys().len(), 1);

    // A claimed type counts for nothing: the WebM says it is a PNG.
    let video = uploaded(&h, "tap.webm", "image/png", WEBM);
    assert_eq!(video["kind"], "video");
    assert_eq!(video["content_type"], "video/webm");
    assert_eq!(
        uploaded(&h, "tap.mp4", "video/mp4", MP4)["content_type"],
        "video/mp4"
    );
    let vtt = uploaded(&h, "tap.vtt", "text/plain", VTT);
    assert_eq!(vtt["kind"], "captions");

    // Whole, cached for a year, readable from any page.
    let (res, bytes) = fetch(&h, &url, &[]);
    assert_eq!(res.status, 200);
    assert_eq!(bytes, PNG);
    assert_eq!(res.get_header("content-type"), Some("image/png"));
    assert_eq!(
        res.get_header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(res.get_header("access-control-allow-origin"), Some("*"));
    assert_eq!(res.get_header("accept-ranges"), Some("bytes"));
    assert_eq!(res.get_header("x-content-type-options"), Some("nosniff"));
    let etag = res.get_header("etag").unwrap_or_default().to_string();
    let (res, bytes) = fetch(&h, &url, &[("if-none-match", &etag)]);
    assert_eq!(res.status, 304);
    assert!(bytes.is_empty());

    // Ranges, as a video element asks for them.
    let webm = video["url"].as_str().unwrap_or_default();
    let n = WEBM.len();
    let (res, bytes) = fetch(&h, webm, &[("range", "bytes=0-99")]);
    assert_eq!(res.status, 206);
    assert_eq!(bytes, &WEBM[..100]);
    assert_eq!(
        res.get_header("content-range"),
        Some(format!("bytes 0-99/{n}").as_str())
    );
    assert_eq!(res.get_header("content-length"), Some("100"));
    let (res, bytes) = fetch(&h, webm, &[("range", "bytes=100-")]);
    assert_eq!(res.status, 206);
    assert_eq!(bytes, &WEBM[100..]);
    let (res, bytes) = fetch(&h, webm, &[("range", "bytes=-10")]);
    assert_eq!(res.status, 206);
    assert_eq!(bytes, &WEBM[n - 10..]);
    let (res, _) = fetch(&h, webm, &[("range", &format!("bytes={n}-"))]);
    assert_eq!(res.status, 416);
    assert_eq!(
        res.get_header("content-range"),
        Some(format!("bytes */{n}").as_str())
    );
    // A HEAD says everything but sends nothing.
    let res = h.call(ApiRequest::new(Method::Head, webm), T0);
    assert_eq!(res.status, 200);
    assert_eq!(
        res.get_header("content-length"),
        Some(n.to_string().as_str())
    );
    assert!(res.blob.is_none());
    // A preflight from any page, for a real id only.
    let res = h.call(ApiRequest::new(Method::Options, webm), T0);
    assert_eq!(res.status, 204);
    assert_eq!(res.get_header("access-control-allow-origin"), Some("*"));
    let res = h.call(
        ApiRequest::new(Method::Options, "/v1/sites/demo/media/null"),
        T0,
    );
    assert_eq!(res.status, 404);
    // Unknown items and ids of the wrong shape: 404.
    for path in [
        "/v1/sites/demo/media/00000000000000000000000000000000",
        "/v1/sites/demo/media/not-an-id",
        "/v1/sites/other/media/00000000000000000000000000000000",
    ] {
        assert_eq!(fetch(&h, path, &[]).0.status, 404, "{path}");
    }
}

#[test]
fn what_is_not_media_or_too_big_is_refused_and_nothing_is_stored() {
    let h = seeded();
    for (what, bytes, status) in [
        (
            "svg",
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"[..],
            415,
        ),
        (
            "html",
            &b"<!doctype html><script>alert(1)</script>"[..],
            415,
        ),
        ("srt", &b"1\n00:00:00,000 --> 00:00:01,000\nHi\n"[..], 415),
        ("empty", &b""[..], 400),
    ] {
        let res = upload(&h, what, "image/png", bytes, T0);
        assert_eq!(res.status, status, "{what}: {}", res.body);
    }
    // Captions over 256 KiB (a kind's own limit, under the route's).
    let mut big = b"WEBVTT\n\n".to_vec();
    big.resize(300 * 1024, b'x');
    let res = upload(&h, "big.vtt", "text/vtt", &big, T0);
    assert_eq!(res.status, 413, "{}", res.body);
    assert!(
        body(&res)["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("captions")
    );
    // A name no file has.
    let res = upload(&h, &"n".repeat(501), "image/png", PNG, T0);
    assert_eq!(
        (res.status, field(&res)),
        (400, "name".to_string()),
        "{}",
        res.body
    );
    // An unknown site.
    let mut req = ApiRequest::new(Method::Post, "/v1/admin/sites/nope/media")
        .header("authorization", &format!("Bearer {TOKEN}"));
    req.body = PNG.to_vec();
    assert_eq!(h.call(req, T0).status, 404);
    // Without the token.
    let mut req = ApiRequest::new(Method::Post, "/v1/admin/sites/demo/media");
    req.body = PNG.to_vec();
    assert_eq!(h.call(req, T0).status, 401);
    assert!(h.blobs.keys().is_empty());
    let list = h.admin(Method::Get, "/v1/admin/sites/demo/media", None, T0);
    assert_eq!(body(&list)["items"], json!([]));
}

#[test]
fn the_library_lists_newest_first_by_kind_a_page_at_a_time() {
    let h = seeded();
    let mut vtts = Vec::new();
    for i in 0..5 {
        let text = format!("WEBVTT\n\n00:00.000 --> 00:01.000\nLine {i}\n");
        let res = upload(
            &h,
            &format!("c{i}.vtt"),
            "text/vtt",
            text.as_bytes(),
            T0 + i,
        );
        assert_eq!(res.status, 201);
        vtts.push(body(&res)["id"].as_str().unwrap_or_default().to_string());
    }
    upload(&h, "step.png", "image/png", PNG, T0 + 10);
    let all = body(&h.admin(Method::Get, "/v1/admin/sites/demo/media", None, T0));
    assert_eq!(all["items"].as_array().map(Vec::len), Some(6));
    assert_eq!(all["items"][0]["kind"], "image");
    let page = body(&h.admin(
        Method::Get,
        "/v1/admin/sites/demo/media?kind=captions&limit=2",
        None,
        T0,
    ));
    assert_eq!(ids(&page["items"]), [vtts[4].clone(), vtts[3].clone()]);
    let next = page["next"].as_str().unwrap_or_default();
    let page = body(&h.admin(
        Method::Get,
        &format!("/v1/admin/sites/demo/media?kind=captions&limit=2&before={next}"),
        None,
        T0,
    ));
    assert_eq!(ids(&page["items"]), [vtts[2].clone(), vtts[1].clone()]);
    for bad in ["kind=audio", "limit=0", "limit=101", "before=yesterday"] {
        let res = h.admin(
            Method::Get,
            &format!("/v1/admin/sites/demo/media?{bad}"),
            None,
            T0,
        );
        assert_eq!(res.status, 400, "{bad}: {}", res.body);
    }
}

#[test]
fn media_in_use_cannot_be_deleted_and_unused_media_goes() {
    let h = seeded();
    let video = uploaded(&h, "tap.webm", "video/webm", WEBM);
    let poster = uploaded(&h, "step.png", "image/png", PNG);
    let captions = uploaded(&h, "tap.vtt", "text/vtt", VTT);
    let unused = uploaded(&h, "tap.mp4", "video/mp4", MP4);
    let mut s = story("with-video", T0, T0 + 48 * HOUR);
    s["slides"][0]["media"] = json!({
        "kind": "video", "url": video["url"], "alt": "A finger taps Forgot password",
        "poster": poster["url"], "captions": captions["url"],
    });
    let res = h.put("/v1/admin/sites/demo/stories/with-video", s, T0);
    assert_eq!(res.status, 201, "{}", res.body);
    // The feed carries the slide's poster and captions as written.
    let feed = h.feed(T0 + 1);
    let slide = feed["stories"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["id"] == "with-video"))
        .map(|s| s["slides"][0]["media"].clone())
        .unwrap_or_default();
    assert_eq!(slide["poster"], poster["url"]);
    assert_eq!(slide["captions"], captions["url"]);

    for item in [&video, &poster, &captions] {
        let path = format!(
            "/v1/admin/sites/demo/media/{}",
            item["id"].as_str().unwrap_or("")
        );
        let detail = body(&h.admin(Method::Get, &path, None, T0));
        // The poster is also the picture of the story's knowledge-base entry.
        let users = if item["id"] == poster["id"] {
            json!([{"kind": "story", "id": "with-video"}, {"kind": "kb", "id": "story-with-video"}])
        } else {
            json!([{"kind": "story", "id": "with-video"}])
        };
        assert_eq!(detail["used_by"], users);
        let res = h.admin(Method::Delete, &path, None, T0);
        assert_eq!(res.status, 409, "{}", res.body);
        assert_eq!(code(&res), "in_use");
        assert!(
            body(&res)["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("with-video")
        );
    }
    // Unused: deleted, and then gone for everyone.
    let path = format!(
        "/v1/admin/sites/demo/media/{}",
        unused["id"].as_str().unwrap_or("")
    );
    assert_eq!(h.admin(Method::Delete, &path, None, T0).status, 204);
    assert_eq!(h.admin(Method::Delete, &path, None, T0).status, 404);
    assert_eq!(
        fetch(&h, unused["url"].as_str().unwrap_or(""), &[])
            .0
            .status,
        404
    );
    assert_eq!(h.blobs.keys().len(), 3);

    // The story goes; retention keeps its rows (and so its media) until they are purged,
    // then the hourly sweep removes the media uploaded before the retention window.
    h.admin(
        Method::Delete,
        "/v1/admin/sites/demo/stories/with-video",
        None,
        T0,
    );
    let later = T0 + 31 * 24 * HOUR;
    tick(&h, later);
    assert!(h.blobs.keys().is_empty(), "{:?}", h.blobs.keys());
    let list = body(&h.admin(Method::Get, "/v1/admin/sites/demo/media", None, later));
    assert_eq!(list["items"], json!([]));
}

#[test]
fn a_fresh_upload_survives_the_sweep_and_a_site_deletion_removes_its_media() {
    let h = seeded();
    let png = uploaded(&h, "step.png", "image/png", PNG);
    tick(&h, T0 + HOUR);
    assert_eq!(
        fetch(&h, png["url"].as_str().unwrap_or(""), &[]).0.status,
        200
    );
    uploaded(&h, "tap.webm", "video/webm", WEBM);
    let mut res = h.admin(Method::Delete, "/v1/admin/sites/demo", None, T0);
    while res.status == 202 {
        res = h.admin(Method::Delete, "/v1/admin/sites/demo", None, T0);
    }
    assert_eq!(res.status, 204, "{}", res.body);
    assert!(h.blobs.keys().is_empty(), "{:?}", h.blobs.keys());
}
