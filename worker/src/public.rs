//! The public API the widget calls from visitors' browsers: the feed, poll responses and
//! event batches, CORS-checked against the site's exact origins. Never cookies or
//! credentials; the server's clock decides what is live.

use glimpse_shared::events::StoredBatch;
use glimpse_shared::poll::PublicResults;
use glimpse_shared::time::utc_date;
use glimpse_shared::{
    ApiError, EventBatch, Millis, PollResponse, ResponseRecord, SiteSnapshot, Vote, keys,
};
use serde::Serialize;

use crate::core::{Api, load_snapshot, unavailable};
use crate::http::{ApiRequest, ApiResponse};
use crate::queue::Message;
use crate::route::{Method, Route};
use crate::sql::{Stmt, rows};
use crate::store::{KvStore, Put};

/// Largest body a public endpoint reads.
pub const BODY_MAX: usize = crate::route::PUBLIC_BODY_MAX;

/// How long browsers and caches may reuse a feed before revalidating with its ETag.
pub const FEED_CACHE_CONTROL: &str = "public, max-age=10";

pub(crate) async fn handle<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    route: &Route,
    now_ms: Millis,
) -> ApiResponse {
    let Some(site) = route.site() else {
        return ApiResponse::error(&ApiError::not_found("route"));
    };
    let snapshot = match load_snapshot(api, site).await {
        Ok(s) => s,
        Err(e) => return ApiResponse::error(&e),
    };
    let origin = req.get_header("origin");
    let allowed = origin.filter(|o| snapshot.allows_origin(o));
    // Pages Glimpse serves itself (the demo page) are same-origin, never cross-site.
    let same_origin = origin == Some(req.origin.as_str());
    let res = if req.method == Method::Options {
        preflight(route, allowed.is_some())
    } else if origin.is_some()
        && allowed.is_none()
        && !same_origin
        && matches!(req.method, Method::Post | Method::Put | Method::Delete)
    {
        // A page the site did not allow may not write anything on its behalf.
        Err(ApiError::forbidden_origin())
    } else if let Err(e) = req.body_fits(route) {
        // Decided from Content-Length (or the edge's bounded read) before any write.
        Err(e)
    } else if let Err(e) = rate_limit(api, req, route, now_ms) {
        Err(e)
    } else {
        match route {
            Route::Feed { .. } => Ok(feed(api, req, &snapshot, now_ms)),
            Route::PollResponses { poll, .. } => respond(api, req, &snapshot, poll, now_ms).await,
            Route::Events { .. } => events(api, req, &snapshot, now_ms).await,
            Route::PublicResults { poll, .. } => public_results(api, &snapshot, poll, now_ms).await,
            // The operators' worker answers the knowledge base's reads
            // ([`crate::route::is_operators_path`]).
            #[cfg(feature = "operators")]
            Route::Kb { .. } => crate::kb::search_json(api, req, &snapshot, now_ms).await,
            #[cfg(feature = "operators")]
            Route::KbPage { .. } => crate::help::index(api, req, &snapshot, now_ms).await,
            #[cfg(feature = "operators")]
            Route::KbEntryPage { source, id, .. } => {
                crate::help::entry(api, req, &snapshot, *source, id, now_ms).await
            }
            #[cfg(feature = "operators")]
            Route::KbFeedback { id, .. } => {
                crate::help::feedback(api, req, &snapshot, id, now_ms).await
            }
            // Questions and their threads are answered by the operators' worker, like the
            // knowledge base ([`crate::route::is_operators_path`]): their code (the guard,
            // threads, photos, operators' tokens) is not in the visitors' upload.
            #[cfg(feature = "operators")]
            Route::Ask { .. } => crate::questions::ask(api, req, &snapshot, now_ms).await,
            #[cfg(feature = "operators")]
            Route::LiveRoom { .. } | Route::LiveAsk { .. } | Route::LiveVote { .. } => {
                crate::live::visitor(api, req, route, &snapshot, now_ms).await
            }
            #[cfg(feature = "operators")]
            Route::Thread { id, .. } if req.method == Method::Delete => {
                crate::questions::delete_thread(api, req, &snapshot.site, id, now_ms).await
            }
            #[cfg(feature = "operators")]
            Route::Thread { id, .. } => {
                crate::questions::thread(api, req, &snapshot.site, id, now_ms).await
            }
            #[cfg(feature = "operators")]
            Route::FollowUp { id, .. } => {
                crate::questions::follow_up(api, req, &snapshot.site, id, now_ms).await
            }
            #[cfg(feature = "operators")]
            Route::ThreadStatus { .. } => {
                crate::questions::statuses(api, req, &snapshot.site, now_ms).await
            }
            #[cfg(feature = "operators")]
            Route::Photo { id, .. } if req.method == Method::Put => {
                crate::questions::put_photo(api, req, &snapshot.site, id, now_ms).await
            }
            #[cfg(feature = "operators")]
            Route::Photo { id, .. } => {
                crate::questions::get_photo(api, req, &snapshot.site, id, now_ms).await
            }
            _ => Err(ApiError::not_found("route")),
        }
    };
    let res = res.unwrap_or_else(|e| ApiResponse::error(&e));
    cors(res, allowed)
}

/// Adds the CORS headers for an allowed origin (credentials are never allowed).
fn cors(res: ApiResponse, allowed: Option<&str>) -> ApiResponse {
    let res = res.with_header("vary", "Origin");
    match allowed {
        Some(origin) => res
            .with_header("access-control-allow-origin", origin)
            .with_header(
                "access-control-expose-headers",
                "ETag, Retry-After, Glimpse-Now",
            ),
        None => res,
    }
}

/// `OPTIONS`: a preflight, answered only for the site's allowed origins.
fn preflight(route: &Route, allowed: bool) -> Result<ApiResponse, ApiError> {
    if !allowed {
        return Err(ApiError::forbidden_origin());
    }
    let methods = match route {
        Route::Thread { .. } => "GET, HEAD, DELETE",
        Route::Feed { .. }
        | Route::LiveRoom { .. }
        | Route::PublicResults { .. }
        | Route::Kb { .. }
        | Route::KbPage { .. } => "GET, HEAD",
        Route::Photo { .. } => "GET, HEAD, PUT",
        _ => "POST",
    };
    Ok(ApiResponse::empty(204)
        .with_header("access-control-allow-methods", methods)
        .with_header(
            "access-control-allow-headers",
            "Content-Type, Authorization",
        )
        .with_header("access-control-max-age", "86400")
        .with_header("cache-control", "no-store"))
}

/// The header carrying the server's clock (unix ms) on every feed answer, `200` and `304`
/// alike. A browser that revalidates a cached feed gets the `304`'s headers merged into the
/// cached response, so this is fresh even when the body (and its `now`) comes from the cache.
pub const NOW_HEADER: &str = "glimpse-now";

/// `GET /v1/sites/{site}/feed`: what is live now, with an ETag over the content (not over
/// `now`), so an unchanged feed revalidates as 304. The server's clock is in the body's `now`
/// and in the [`NOW_HEADER`] header.
fn feed<S>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    snapshot: &std::rc::Rc<SiteSnapshot>,
    now_ms: Millis,
) -> ApiResponse {
    let memo = api
        .memo
        .feed(&snapshot.site.id, snapshot, api.zones, now_ms);
    let fresh = req
        .get_header("if-none-match")
        .is_some_and(|inm| etag_matches(inm, &memo.etag));
    let res = if fresh {
        ApiResponse::empty(304)
    } else {
        ApiResponse::json_text(200, memo.body(now_ms))
    };
    res.with_header("etag", &memo.etag)
        .with_header("cache-control", FEED_CACHE_CONTROL)
        .with_header(NOW_HEADER, &now_ms.to_string())
}

/// How long browsers and the edge cache may keep a public tally.
pub const RESULTS_CACHE_CONTROL: &str = "public, max-age=5";

/// `GET /v1/sites/{site}/polls/{poll}/results`: what visitors see after voting, only for
/// polls that show results. Text answers stay private: visitors get counts only. Exact
/// counts from D1's `tallies` (one query after the snapshot read), eventually consistent:
/// a vote counts once the queue has delivered it, typically within about a second. Browsers
/// and the edge may reuse an answer for [`RESULTS_CACHE_CONTROL`]'s five seconds.
async fn public_results<S: KvStore>(
    api: &Api<'_, S>,
    snapshot: &SiteSnapshot,
    poll_id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let poll = snapshot
        .poll(poll_id)
        .filter(|p| p.publish_at <= now_ms)
        .ok_or_else(|| ApiError::not_found("poll"))?;
    if !poll.show_results {
        return Err(ApiError::new(
            403,
            "results_private",
            "this poll does not show its results to visitors",
        ));
    }
    #[derive(serde::Deserialize)]
    struct Row {
        answer: String,
        n: i64,
    }
    let counts: Vec<Row> = rows(
        api.sql,
        Stmt::new("SELECT answer, n FROM tallies WHERE site = ?1 AND poll = ?2")
            .bind(snapshot.site.id.as_str())
            .bind(poll_id),
    )
    .await
    .map_err(unavailable)?;
    let results = poll.results_from_counts(
        counts
            .iter()
            .map(|r| (r.answer.as_str(), u64::try_from(r.n).unwrap_or(0))),
        Vec::new(),
    );
    let tally = PublicResults {
        results,
        computed_at: now_ms,
        complete: true,
    };
    Ok(ApiResponse::json(200, &tally).with_header("cache-control", RESULTS_CACHE_CONTROL))
}

/// `If-None-Match` uses weak comparison: `*`, or any listed tag equal ignoring `W/`.
fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.trim() == "*"
        || if_none_match
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag)
}

/// Refuses the request with 429 if this client has written (or read its thread) too much on
/// this site lately: counted per visitor and per address, see [`crate::limit`].
pub(crate) fn rate_limit<S>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    route: &Route,
    now_ms: Millis,
) -> Result<(), ApiError> {
    if !api.limiter.enabled() {
        return Ok(());
    }
    match crate::limit::keys_for(route, req) {
        Some(keys) => api
            .limiter
            .check_keys(&keys, now_ms)
            .map_err(ApiError::rate_limited),
        None => Ok(()),
    }
}

/// What a poll response answers: `202 {id, poll, answer}`.
#[derive(Debug, Serialize)]
struct Accepted<'a> {
    id: &'a str,
    poll: &'a str,
    answer: &'a glimpse_shared::Answer,
}

/// `POST /v1/sites/{site}/polls/{poll}/responses`: one queue message carrying the vote, then
/// the response's own KV record (`keys::response`), and `202`. No KV read: whether the
/// response is new, replaces the visitor's earlier answer or replays one already seen is
/// decided by the queue consumer from D1 (`responses`, `votes`), so a retry of any response
/// id — even after the visitor has changed their answer since — changes nothing. The send
/// comes first: a failed send or put is a 503 whose retry sends again, and no record exists
/// that D1 will not index (erasure finds records through D1).
async fn respond<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    snapshot: &SiteSnapshot,
    poll_id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let site = &snapshot.site;
    let body = req.read_valid(BODY_MAX, "response", PollResponse::validate)?;
    let poll = match snapshot.poll(poll_id) {
        Some(p) if p.publish_at > now_ms => return Err(ApiError::not_found("poll")),
        Some(p) if p.expires_at <= now_ms => return Err(ApiError::gone("poll")),
        Some(p) => p,
        // Not in the snapshot: either it never existed or it closed and was pruned.
        // One D1 query, on this error path only.
        None => {
            let stored =
                crate::admin::item_json(api.sql, &site.id, keys::ContentKind::Poll, poll_id)
                    .await?;
            return Err(match stored {
                Some(_) => ApiError::gone("poll"),
                None => ApiError::not_found("poll"),
            });
        }
    };
    poll.check_answer(&body.answer)
        .map_err(|p| ApiError::invalid("answer", vec![p]))?;

    let record = ResponseRecord {
        visitor: body.visitor,
        id: body.id,
        answer: body.answer,
        at: now_ms,
    };
    let json = serde_json::to_string(&record)
        .map_err(|_| ApiError::new(500, "internal", "response could not be encoded"))?;
    api.queue
        .send(&[Message::Vote {
            site: site.id.clone(),
            poll: poll_id.to_string(),
            visitor: record.visitor.clone(),
            vote: Vote {
                id: record.id.clone(),
                answer: record.answer.clone(),
                at: record.at,
            },
        }])
        .await
        .map_err(unavailable)?;
    api.store
        .put(
            &keys::response(&site.id, poll_id, &record.id),
            &json,
            Put::expiring(site.retain_until(poll.expires_at)),
        )
        .await
        .map_err(unavailable)?;
    Ok(ApiResponse::json(
        202,
        &Accepted {
            id: &record.id,
            poll: poll_id,
            answer: &record.answer,
        },
    ))
}

/// `POST /v1/sites/{site}/events`: a batch sent as one queue message, then stored as one KV
/// write keyed by its id under the day it arrived; the consumer counts a batch id once, so
/// a resent batch never counts twice. A failed send or put is a 503 (the client resends).
async fn events<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    snapshot: &SiteSnapshot,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let site = &snapshot.site;
    let batch = req.read_valid(BODY_MAX, "event batch", EventBatch::validate)?;
    let accepted = batch.events.len();
    let stored = StoredBatch {
        visitor: batch.visitor,
        received_at: now_ms,
        events: batch.events,
    };
    let json = serde_json::to_string(&stored)
        .map_err(|_| ApiError::new(500, "internal", "events could not be encoded"))?;
    let key = keys::events(&site.id, &utc_date(now_ms), &batch.id);
    // The send first, as for a vote: no record exists that D1 will not index.
    api.queue
        .send(&[Message::Events {
            site: site.id.clone(),
            id: batch.id,
            batch: stored,
        }])
        .await
        .map_err(unavailable)?;
    api.store
        .put(&key, &json, Put::expiring(site.retain_until(now_ms)))
        .await
        .map_err(unavailable)?;
    Ok(ApiResponse::json(202, &Counted { accepted }))
}

/// What an event batch answers: `202 {accepted}`, the number of events in it.
#[derive(Debug, Serialize)]
struct Counted {
    accepted: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_comparison() {
        let tag = "\"00000000000000ab\"";
        assert!(etag_matches(tag, tag));
        assert!(etag_matches(&format!("W/{tag}"), tag));
        assert!(etag_matches(&format!("\"x\", {tag}"), tag));
        assert!(etag_matches("*", tag));
        assert!(!etag_matches("\"00000000000000ac\"", tag));
        assert!(!etag_matches("", tag));
    }
}
