//! Webhooks: owners' endpoints for a site's receivers, the fan-out of an event to the hooks
//! subscribed to it ([`emit`]: one D1 query and one queue send, never a request to a
//! receiver on the path of the write that caused it), and delivery by the queue consumer
//! ([`deliver`]): signed, logged, and tried again with backoff
//! ([`glimpse_shared::webhook::retry_delay_s`]) by sending the message again with a delay.
//!
//! Signature: `Glimpse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
//! (the scheme Stripe uses), with the hook's secret shown once when it is made.

use glimpse_shared::team::Actor;
use glimpse_shared::webhook::{
    Envelope, EventType, Format, MAX_ATTEMPTS, NewWebhook, Webhook, delivered, retry_delay_s,
    slack_text,
};
use glimpse_shared::{ApiError, Millis};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;

use crate::core::{Api, unavailable};
use crate::http::{ApiRequest, ApiResponse};
use crate::queue::{Message, Queue};
use crate::route::Method;
use crate::sql::{LocalFuture, Sql, Stmt, first, rows};
use crate::store::StoreError;

/// Most hooks one site may have.
pub const HOOKS_MAX: i64 = 20;
/// Deliveries one page of the log shows.
pub const LOG_PAGE: i64 = 50;
/// Longest a receiver may take to answer, in ms (then: no answer, tried again later).
pub const TIMEOUT_MS: u32 = 10_000;
/// Bytes of a receiver's answer or error kept in the delivery log.
const ERROR_MAX: usize = 300;

/// The outside world, as the consumer reaches it: one HTTP POST.
pub trait Deliver {
    /// POSTs `body` to `url` with `headers`; the answer's status and up to a few hundred
    /// bytes of its body, or why there was no answer (network, timeout).
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: &'a [(String, String)],
        body: &'a str,
    ) -> LocalFuture<'a, Result<(u16, String), String>>;
}

/// A [`Deliver`] for native tests: records each request and answers from a script (the
/// last entry repeats; empty: 204).
#[derive(Debug, Default)]
pub struct MemoryDeliver {
    pub sent: std::cell::RefCell<Vec<Sent>>,
    pub script: std::cell::RefCell<Vec<Result<u16, String>>>,
}

/// One request a [`MemoryDeliver`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Deliver for MemoryDeliver {
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: &'a [(String, String)],
        body: &'a str,
    ) -> LocalFuture<'a, Result<(u16, String), String>> {
        Box::pin(async move {
            self.sent.borrow_mut().push(Sent {
                url: url.into(),
                headers: headers.to_vec(),
                body: body.into(),
            });
            let mut script = self.script.borrow_mut();
            let next = if script.len() > 1 {
                script.remove(0)
            } else {
                script.first().cloned().unwrap_or(Ok(204))
            };
            next.map(|s| (s, String::new()))
        })
    }
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, unix_s: i64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length; this arm is never taken.
        Err(_) => return String::new(),
    };
    mac.update(format!("{unix_s}.").as_bytes());
    mac.update(body.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    format!("t={unix_s},v1={hex}")
}

#[derive(Deserialize)]
struct HookRow {
    id: String,
    url: String,
    secret: String,
    events: String,
    format: String,
    created_at: Millis,
    created_by: String,
}

impl HookRow {
    fn webhook(&self) -> Webhook {
        Webhook {
            id: self.id.clone(),
            url: self.url.clone(),
            events: crate::json::from_str(&self.events).unwrap_or_default(),
            format: if self.format == "slack" {
                Format::Slack
            } else {
                Format::Json
            },
            created_at: self.created_at,
            created_by: self.created_by.clone(),
        }
    }
}

const HOOK_COLUMNS: &str = "id, url, secret, events, format, created_at, created_by";

fn format_str(f: Format) -> &'static str {
    match f {
        Format::Json => "json",
        Format::Slack => "slack",
    }
}

async fn load<S>(api: &Api<'_, S>, site: &str, id: &str) -> Result<HookRow, ApiError> {
    first::<HookRow>(
        api.sql,
        Stmt::new(format!(
            "SELECT {HOOK_COLUMNS} FROM webhooks WHERE site = ?1 AND id = ?2"
        ))
        .bind(site)
        .bind(id),
    )
    .await
    .map_err(unavailable)?
    .ok_or_else(|| ApiError::not_found("webhook"))
}

/// `GET /v1/admin/sites/{site}/webhooks` (the site's hooks, oldest first) and `POST` (a new
/// hook → 201 with its `secret`, shown this once). At most [`HOOKS_MAX`] per site.
pub async fn collection<S: crate::store::KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    actor: &Actor,
    site: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    if req.method != Method::Post {
        let found: Vec<HookRow> = rows(
            api.sql,
            Stmt::new(format!(
                "SELECT {HOOK_COLUMNS} FROM webhooks WHERE site = ?1 ORDER BY created_at, id LIMIT ?2"
            ))
            .bind(site)
            .bind(HOOKS_MAX),
        )
        .await
        .map_err(unavailable)?;
        let hooks: Vec<Webhook> = found.iter().map(HookRow::webhook).collect();
        return Ok(ApiResponse::json(200, &json!({ "webhooks": hooks }))
            .with_header("cache-control", "no-store"));
    }
    crate::admin::load_site_pub(api, site).await?;
    let loopback = api.local;
    let new = req.read_valid(crate::admin::BODY_MAX, "webhook", |h: &NewWebhook| {
        h.validate(loopback)
    })?;
    let secret = format!(
        "whsec_{}{}",
        crate::core::fresh_id(api)?,
        crate::core::fresh_id(api)?
    );
    let hook = Webhook {
        id: crate::core::fresh_id(api)?,
        url: new.url,
        events: new.events,
        format: new.format,
        created_at: now_ms,
        created_by: actor.id.clone(),
    };
    // Inserted only while the site has fewer than it may: one statement, so two owners
    // adding at once cannot pass the limit together.
    let out = api
        .sql
        .batch(&[
            Stmt::new(
                "INSERT INTO webhooks (site, id, url, secret, events, format, created_at, created_by) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 \
                 WHERE (SELECT COUNT(*) FROM webhooks WHERE site = ?1) < ?9",
            )
            .bind(site)
            .bind(hook.id.as_str())
            .bind(hook.url.as_str())
            .bind(secret.as_str())
            .bind_json(&hook.events)
            .bind(format_str(hook.format))
            .bind(now_ms)
            .bind(actor.id.as_str())
            .bind(HOOKS_MAX),
            Stmt::new("SELECT COUNT(*) AS n FROM webhooks WHERE site = ?1 AND id = ?2")
                .bind(site)
                .bind(hook.id.as_str()),
        ])
        .await
        .map_err(unavailable)?;
    if !crate::sql::inserted(&out) {
        return Err(ApiError::new(
            409,
            "too_many",
            format!("a site has at most {HOOKS_MAX} webhooks; delete one first"),
        ));
    }
    let mut body = serde_json::to_value(&hook).unwrap_or_default();
    body["secret"] = json!(secret);
    Ok(ApiResponse::json(201, &body).with_header("cache-control", "no-store"))
}

/// `GET`, `PUT` (`{url, events, format}`; the secret stays) or `DELETE`
/// `/v1/admin/sites/{site}/webhooks/{id}`.
pub async fn item<S>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &str,
    id: &str,
) -> Result<ApiResponse, ApiError> {
    let row = load(api, site, id).await?;
    match req.method {
        Method::Put => {
            let loopback = api.local;
            let new = req.read_valid(crate::admin::BODY_MAX, "webhook", |h: &NewWebhook| {
                h.validate(loopback)
            })?;
            api.sql
                .query(
                    &Stmt::new(
                        "UPDATE webhooks SET url = ?3, events = ?4, format = ?5 \
                         WHERE site = ?1 AND id = ?2",
                    )
                    .bind(site)
                    .bind(id)
                    .bind(new.url.as_str())
                    .bind_json(&new.events)
                    .bind(format_str(new.format)),
                )
                .await
                .map_err(unavailable)?;
            Ok(ApiResponse::json(
                200,
                &Webhook {
                    url: new.url,
                    events: new.events,
                    format: new.format,
                    ..row.webhook()
                },
            ))
        }
        Method::Delete => {
            api.sql
                .batch(&[
                    Stmt::new("DELETE FROM webhooks WHERE site = ?1 AND id = ?2")
                        .bind(site)
                        .bind(id),
                    Stmt::new("DELETE FROM deliveries WHERE site = ?1 AND webhook = ?2")
                        .bind(site)
                        .bind(id),
                ])
                .await
                .map_err(unavailable)?;
            Ok(ApiResponse::empty(204))
        }
        _ => Ok(ApiResponse::json(200, &row.webhook()).with_header("cache-control", "no-store")),
    }
}

/// `POST …/webhooks/{id}/test` → 202: a `test` event queued for this hook alone, delivered
/// (and logged, and retried) like any other.
pub async fn test<S>(
    api: &Api<'_, S>,
    site: &str,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    load(api, site, id).await?;
    let event = Envelope {
        id: crate::core::fresh_id(api)?,
        kind: EventType::Test,
        site: site.into(),
        created_at: now_ms,
        data: json!({ "message": "This is a test delivery from the Glimpse console." }),
    };
    api.queue
        .send(&[Message::Webhook {
            hook: id.into(),
            event: event.clone(),
            attempt: 1,
        }])
        .await
        .map_err(unavailable)?;
    Ok(ApiResponse::json(202, &json!({ "event": event.id })))
}

/// One attempt in the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub event: String,
    pub event_id: String,
    pub attempt: u32,
    pub at: Millis,
    /// The receiver's HTTP status; 0 when it did not answer.
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it will be tried again, if it will.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<Millis>,
}

#[derive(Deserialize)]
struct DeliveryRow {
    seq: i64,
    event: String,
    event_id: String,
    attempt: i64,
    at: Millis,
    status: i64,
    error: Option<String>,
    retry_at: Option<Millis>,
}

/// `GET …/webhooks/{id}/deliveries?before=`: the hook's delivery log, newest first, a page
/// of [`LOG_PAGE`] at a time (`next`: the `before` of the next page).
pub async fn deliveries<S>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &str,
    id: &str,
) -> Result<ApiResponse, ApiError> {
    load(api, site, id).await?;
    let before = match req.query_param("before") {
        None => i64::MAX,
        Some(v) => v.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::new(
                400,
                "invalid",
                "before is the next value of a previous page",
            )
            .with_field("before")
        })?,
    };
    let mut found: Vec<DeliveryRow> = rows(
        api.sql,
        Stmt::new(
            "SELECT seq, event, event_id, attempt, at, status, error, retry_at FROM deliveries \
             WHERE site = ?1 AND webhook = ?2 AND seq < ?3 ORDER BY seq DESC LIMIT ?4",
        )
        .bind(site)
        .bind(id)
        .bind(before)
        .bind(LOG_PAGE + 1),
    )
    .await
    .map_err(unavailable)?;
    let next = if found.len() > LOG_PAGE as usize {
        found.truncate(LOG_PAGE as usize);
        found.last().map(|r| r.seq.to_string())
    } else {
        None
    };
    let list: Vec<Delivery> = found
        .into_iter()
        .map(|r| Delivery {
            event: r.event,
            event_id: r.event_id,
            attempt: u32::try_from(r.attempt).unwrap_or(0),
            at: r.at,
            status: u16::try_from(r.status).unwrap_or(0),
            error: r.error,
            retry_at: r.retry_at,
        })
        .collect();
    Ok(
        ApiResponse::json(200, &json!({ "deliveries": list, "next": next }))
            .with_header("cache-control", "no-store"),
    )
}

#[derive(Deserialize)]
struct Subscribed {
    site: String,
    id: String,
    events: String,
}

/// The messages that deliver `events` to every hook of their sites subscribed to their
/// type: one D1 query for all of them (at most [`HOOKS_MAX`] hooks per site).
pub async fn plan(sql: &dyn Sql, events: &[Envelope]) -> Result<Vec<Message>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut sites: Vec<&str> = events.iter().map(|e| e.site.as_str()).collect();
    sites.sort_unstable();
    sites.dedup();
    let hooks: Vec<Subscribed> = rows(
        sql,
        Stmt::new(
            "SELECT site, id, events FROM webhooks \
             WHERE site IN (SELECT value FROM json_each(?1)) ORDER BY site, created_at, id",
        )
        .bind_json(&sites),
    )
    .await?;
    let mut out = Vec::new();
    for e in events {
        for h in hooks.iter().filter(|h| h.site == e.site) {
            let wants: Vec<EventType> = crate::json::from_str(&h.events).unwrap_or_default();
            if wants.contains(&e.kind) {
                out.push(Message::Webhook {
                    hook: h.id.clone(),
                    event: e.clone(),
                    attempt: 1,
                });
            }
        }
    }
    Ok(out)
}

/// Queues `events` for the hooks subscribed to them ([`plan`], then one send per 100). A
/// failure is logged, not answered: the write that caused the events has happened, and the
/// event is lost to the hooks (their delivery log shows nothing of it).
pub async fn emit(sql: &dyn Sql, queue: &dyn Queue, events: &[Envelope]) {
    let messages = match plan(sql, events).await {
        Ok(m) => m,
        Err(e) => {
            crate::log(&format!("webhooks: subscribers not read: {e}"));
            return;
        }
    };
    if let Err(e) = crate::queue::send_all(queue, &messages).await {
        crate::log(&format!(
            "webhooks: {} deliveries not queued: {e}",
            messages.len()
        ));
    }
}

/// An event about `site` now, with a fresh id (no secure random source: none is made).
pub fn event(
    random: &dyn Fn() -> Option<String>,
    kind: EventType,
    site: &str,
    now_ms: Millis,
    data: serde_json::Value,
) -> Option<Envelope> {
    random().map(|id| Envelope {
        id,
        kind,
        site: site.into(),
        created_at: now_ms,
        data,
    })
}

#[derive(Deserialize)]
struct SiteName {
    name: String,
}

/// Delivers one attempt of `event` to hook `hook` (the consumer's work for a
/// [`Message::Webhook`]): signs and POSTs it, logs the attempt, and if it failed and
/// attempts remain, sends the message again to arrive after the backoff delay. A hook
/// deleted meanwhile gets nothing. `Err` only when storage failed (the queue then retries
/// the message; the receiver may see the event twice and deduplicates by its id).
pub async fn deliver(
    sql: &dyn Sql,
    queue: &dyn Queue,
    out: &dyn Deliver,
    hook: &str,
    event: &Envelope,
    attempt: u32,
    now_ms: Millis,
) -> Result<(), StoreError> {
    let Some(row) = first::<HookRow>(
        sql,
        Stmt::new(format!(
            "SELECT {HOOK_COLUMNS} FROM webhooks WHERE site = ?1 AND id = ?2"
        ))
        .bind(event.site.as_str())
        .bind(hook),
    )
    .await?
    else {
        return Ok(());
    };
    let body = if row.format == "slack" {
        let name = first::<SiteName>(
            sql,
            Stmt::new("SELECT name FROM sites WHERE site = ?1").bind(event.site.as_str()),
        )
        .await?
        .map_or_else(|| event.site.clone(), |s| s.name);
        json!({ "text": slack_text(&name, event) }).to_string()
    } else {
        serde_json::to_string(event).unwrap_or_default()
    };
    let headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("user-agent".to_string(), "Glimpse-Webhooks/1".to_string()),
        ("glimpse-event".to_string(), event.kind.as_str().to_string()),
        ("glimpse-delivery".to_string(), event.id.clone()),
        (
            "glimpse-signature".to_string(),
            signature(&row.secret, now_ms.div_euclid(1000), &body),
        ),
    ];
    let (status, error) = match out.post(&row.url, &headers, &body).await {
        Ok((s, _)) if delivered(s) => (s, None),
        Ok((s, text)) if text.trim().is_empty() => (s, Some(format!("answered {s}"))),
        Ok((s, text)) => (s, Some(format!("answered {s}: {}", cut(text.trim())))),
        Err(e) => (0, Some(cut(&e))),
    };
    let retry = if error.is_some() {
        retry_delay_s(attempt)
    } else {
        None
    };
    let retry_at = retry.map(|d| now_ms + i64::from(d) * 1000);
    sql.query(
        &Stmt::new(
            "INSERT INTO deliveries (site, webhook, event, event_id, attempt, at, status, error, retry_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(event.site.as_str())
        .bind(hook)
        .bind(event.kind.as_str())
        .bind(event.id.as_str())
        .bind(i64::from(attempt))
        .bind(now_ms)
        .bind(i64::from(status))
        .bind(error)
        .bind(retry_at),
    )
    .await?;
    if let Some(delay) = retry
        && attempt < MAX_ATTEMPTS
    {
        queue
            .send_delayed(
                &Message::Webhook {
                    hook: hook.into(),
                    event: event.clone(),
                    attempt: attempt + 1,
                },
                delay,
            )
            .await?;
    }
    Ok(())
}

fn cut(s: &str) -> String {
    s.chars().take(ERROR_MAX).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_time_and_body() {
        let sig = signature("Jefe", 0, "what do ya want for nothing?");
        // HMAC-SHA256("Jefe", "0.what do ya want for nothing?"), computed independently:
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"Jefe",b"0.what do ya want for
        // nothing?",hashlib.sha256).hexdigest())'
        assert_eq!(
            sig,
            "t=0,v1=37f471929915ccd2cbbe79feb84ffcff4f2bb25e15fc41c2506687331ae179cc"
        );
        assert_ne!(signature("Jefe", 1, "x"), signature("Jefe", 2, "x"));
        assert_ne!(signature("a", 1, "x"), signature("b", 1, "x"));
    }
}
