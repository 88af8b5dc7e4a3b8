//! Ask a question: visitors create a thread (message, optional photo) and read the team's
//! replies with the thread's secret token; operators list open questions, reply and resolve.
//! Sensitive data and topics that belong to another channel are refused with 422.
//!
//! Where things live: the visitor's question (with the thread token's hash) and photo are
//! their KV records; asking sends one [`Message::Question`] (without the token) and the queue
//! consumer adds it to the `questions` table ([`plan_ingest`]), so the operators' inbox is
//! eventually consistent (a question shows up once the queue delivered it, seconds). The
//! team's replies (`replies`) and the resolution (`questions.resolved_at`, `category`) are
//! written to D1 by operators' requests.

use base64::Engine;
use glimpse_shared::guard;
use glimpse_shared::keys;
use glimpse_shared::question::{
    Created, FollowUp, ImageType, NewQuestion, Question, QuestionSummary, Reply, Resolution,
    Thread, preview,
};
use glimpse_shared::{ApiError, Millis, Site, SiteSnapshot};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::admin::constant_time_eq;
use crate::core::{Api, unavailable};
use crate::http::{ApiRequest, ApiResponse};
use crate::queue::Message;
use crate::sql::{Sql, Stmt, rows};
use crate::store::{KvStore, Put, StoreError};

/// Largest body a visitor may send with a question (the public write limit); operators' replies
/// and resolutions take the admin limit, so a 2,000-character reply fits however it is escaped.
const BODY_MAX: usize = 8 * 1024;

/// The site's channels for a topic, as "Email support (help@…)" for messages.
fn channels_text(site: &Site, topic: &str) -> String {
    let list: Vec<String> = site
        .channels_for(topic)
        .map(|c| format!("{} ({})", c.label, c.value))
        .collect();
    if list.is_empty() {
        "the site's support team".into()
    } else {
        list.join(", ")
    }
}

/// The sensitive-data guard on visitor text (`shared::guard`: card numbers, IBANs,
/// passwords): `422 sensitive_data` naming `field`, saying "the {what} seems to contain …:
/// never send it here; {advice}", or `Ok` when nothing was found. Questions, follow-ups and
/// live questions all pass through it.
pub(crate) fn refuse_sensitive(
    text: &str,
    field: &str,
    what: &str,
    advice: &str,
) -> Result<(), ApiError> {
    match guard::scan_with(text, &crate::TEXT).first() {
        Some(kind) => Err(ApiError::new(
            422,
            "sensitive_data",
            format!(
                "the {what} seems to contain {}: never send it here; {advice}",
                kind.describe()
            ),
        )
        .with_field(field)),
        None => Ok(()),
    }
}

/// `POST /v1/sites/{site}/questions` → 201 `{id, token}`.
pub async fn ask<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    snapshot: &SiteSnapshot,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let site = &snapshot.site;
    let body = req.read_valid(BODY_MAX, "question", NewQuestion::validate)?;
    let topic = site
        .topic(&body.topic)
        .ok_or_else(|| ApiError::new(400, "invalid", "unknown topic").with_field("topic"))?;
    if !topic.simple {
        return Err(ApiError::new(
            422,
            "wrong_channel",
            format!(
                "{} is not handled here; please contact {}",
                topic.label,
                channels_text(site, &topic.id)
            ),
        )
        .with_field("topic"));
    }
    refuse_sensitive(
        &body.message,
        "message",
        "message",
        &format!(
            "please remove it, or use {}",
            channels_text(site, &topic.id)
        ),
    )?;
    let id = crate::core::fresh_id(api)?;
    // The visitor gets the token once; only its hash is stored.
    let token = format!(
        "{}{}",
        crate::core::fresh_id(api)?,
        crate::core::fresh_id(api)?
    );
    let question = Question {
        id,
        topic: body.topic,
        message: body.message,
        visitor: body.visitor,
        token: crate::door::hash_token(&token),
        created_at: now_ms,
        email: body.email.filter(|_| body.email_consent),
    };
    let meta = QuestionSummary {
        id: question.id.clone(),
        topic: question.topic.clone(),
        preview: preview(&question.message),
        created_at: now_ms,
    };
    let value = serde_json::to_string(&question)
        .map_err(|_| ApiError::new(500, "internal", "question could not be encoded"))?;
    api.store
        .put(
            &keys::question(&site.id, &question.id),
            &value,
            Put {
                expires_at_ms: Some(site.retain_until(now_ms)),
                metadata: serde_json::to_value(&meta).ok(),
            },
        )
        .await
        .map_err(unavailable)?;
    // One message for the inbox, without the token's hash. If it cannot be sent the record
    // goes too (best effort: it expires with retention otherwise) and the visitor gets 503;
    // their retry asks again with a new id and sends again.
    let message = Message::Question {
        site: site.id.clone(),
        question: Question {
            token: String::new(),
            ..question.clone()
        },
    };
    if let Err(e) = api.queue.send(std::slice::from_ref(&message)).await {
        let _ = api
            .store
            .delete(&keys::question(&site.id, &question.id))
            .await;
        return Err(unavailable(e));
    }
    Ok(ApiResponse::json(
        201,
        &Created {
            id: question.id,
            token,
            expires_at: site.retain_until(now_ms),
        },
    ))
}

/// Question `id` while it is stored (it expires with the site's retention): one read.
pub(crate) async fn find<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    id: &str,
) -> Result<Option<Question>, ApiError> {
    match api
        .store
        .get(&keys::question(site, id))
        .await
        .map_err(unavailable)?
    {
        Some(raw) => crate::json::from_str(&raw)
            .map(Some)
            .map_err(|_| ApiError::new(500, "internal", "stored question is unreadable")),
        None => Ok(None),
    }
}

/// Question `id`, or 404.
async fn load<S: KvStore>(api: &Api<'_, S>, site: &str, id: &str) -> Result<Question, ApiError> {
    find(api, site, id)
        .await?
        .ok_or_else(|| ApiError::not_found("question"))
}

/// The question, if `req` carries its token (or the admin token). A wrong token counts as a
/// failed authentication of the client (the admin token is accepted here too, so guessing it
/// through a thread is throttled like the admin API).
async fn authorized<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &str,
    id: &str,
    now_ms: Millis,
) -> Result<Question, ApiError> {
    let client = crate::door::client_key(req.client_ip());
    api.auth_failures
        .check(&client, now_ms)
        .map_err(crate::door::throttled)?;
    // Without any token the answer is 401 whether or not the question exists: nothing is
    // read, and nothing is told about it.
    if req.bearer().is_none_or(str::is_empty) {
        return Err(ApiError::unauthorized(
            "send Authorization: Bearer <the thread's token>",
        ));
    }
    let given = req.bearer().unwrap_or("").as_bytes();
    let admin = api
        .admin_token
        .is_some_and(|t| !t.is_empty() && constant_time_eq(given, t.as_bytes()));
    // Only operators learn that a question does not exist: any other token gets the 401 a
    // wrong token gets, so tokens cannot probe for questions.
    let q = match load(api, site, id).await {
        Ok(q) => q,
        Err(e) if e.status == 404 && !admin => {
            api.auth_failures.fail(&client, now_ms);
            return Err(ApiError::unauthorized(
                "send Authorization: Bearer <the thread's token>",
            ));
        }
        Err(e) => return Err(e),
    };
    if admin || crate::door::token_matches(&q.token, req.bearer().unwrap_or("")) {
        Ok(q)
    } else {
        api.auth_failures.fail(&client, now_ms);
        Err(ApiError::unauthorized(
            "send Authorization: Bearer <the thread's token>",
        ))
    }
}

/// Most of a thread's legacy KV reply keys (written before 0.15) a deletion removes.
const LEGACY_REPLIES_MAX: usize = 200;

/// `DELETE /v1/sites/{site}/questions/{id}` with the thread's token → 204: the visitor
/// deletes their own conversation now: question and photo (KV), replies and the answer an
/// operator published from it (D1). The inbox row keeps only what is not theirs (id, topic,
/// times), marked closed, so the question's queue message, if still on its way, changes
/// nothing. The question key goes last, so a failure half-way leaves it, and a retry with the
/// same token finishes the job. Cost: 1 D1 call and at most a few KV operations.
pub async fn delete_thread<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &Site,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let q = authorized(api, req, &site.id, id, now_ms).await?;
    let entry = glimpse_shared::kb::KbSource::Question.entry_id(id);
    let mut stmts = ingest_stmts(&[IngestRow::of(&site.id, &q)]);
    stmts.extend([
        Stmt::new("DELETE FROM replies WHERE site = ?1 AND question = ?2")
            .bind(&site.id)
            .bind(id),
        Stmt::new("DELETE FROM followups WHERE site = ?1 AND question = ?2")
            .bind(&site.id)
            .bind(id),
        Stmt::new(
            "UPDATE questions SET visitor = '', message = '', has_photo = 0, email = NULL, \
             resolved_at = COALESCE(resolved_at, ?3) WHERE site = ?1 AND id = ?2",
        )
        .bind(&site.id)
        .bind(id)
        .bind(now_ms),
        Stmt::new("DELETE FROM kb WHERE site = ?1 AND id = ?2")
            .bind(&site.id)
            .bind(entry),
    ]);
    api.sql.batch(&stmts).await.map_err(unavailable)?;
    // Threads from versions before 0.15 kept replies and the resolution in KV.
    let legacy = api
        .store
        .list(&keys::replies_prefix(&site.id, id), None)
        .await
        .map_err(unavailable)?;
    let mut doomed: Vec<String> = legacy
        .keys
        .into_iter()
        .take(LEGACY_REPLIES_MAX)
        .map(|k| k.name)
        .collect();
    doomed.push(keys::question_photo(&site.id, id));
    doomed.push(keys::resolution(&site.id, id));
    doomed.push(keys::question(&site.id, id));
    for key in doomed {
        api.store.delete(&key).await.map_err(unavailable)?;
    }
    Ok(ApiResponse::empty(204).with_header("cache-control", "no-store"))
}

/// Most replies a thread shows (the team's; a conversation never gets near it).
const THREAD_REPLIES_MAX: i64 = 500;

#[derive(Deserialize)]
struct ReplyRow {
    body: String,
}

#[derive(Deserialize)]
struct ResolutionRow {
    resolved_at: Option<Millis>,
    category: Option<String>,
}

/// The whole thread: question (its KV record), replies (oldest first) and resolution from
/// D1 in one call, and whether a photo is stored (one KV read).
pub async fn build_thread<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    q: Question,
) -> Result<Thread, ApiError> {
    let stmts = [
        Stmt::new(
            "SELECT body FROM replies WHERE site = ?1 AND question = ?2 \
             ORDER BY at, id LIMIT ?3",
        )
        .bind(site)
        .bind(&q.id)
        .bind(THREAD_REPLIES_MAX),
        Stmt::new("SELECT resolved_at, category FROM questions WHERE site = ?1 AND id = ?2")
            .bind(site)
            .bind(&q.id),
        Stmt::new(
            "SELECT text, at FROM followups WHERE site = ?1 AND question = ?2 \
             ORDER BY at, id LIMIT ?3",
        )
        .bind(site)
        .bind(&q.id)
        .bind(THREAD_REPLIES_MAX),
    ];
    let mut out = api
        .sql
        .batch(&stmts)
        .await
        .map_err(unavailable)?
        .into_iter();
    let replies: Vec<Reply> = crate::sql::decode::<ReplyRow>(out.next().unwrap_or_default())
        .map_err(unavailable)?
        .into_iter()
        .filter_map(|r| crate::json::from_str(&r.body).ok())
        .collect();
    let resolved = crate::sql::decode::<ResolutionRow>(out.next().unwrap_or_default())
        .map_err(unavailable)?
        .into_iter()
        .next()
        .and_then(|r| match (r.resolved_at, r.category) {
            (Some(at), Some(category)) => Some(Resolution { category, at }),
            _ => None,
        });
    let followups: Vec<FollowUp> =
        crate::sql::decode::<FollowUp>(out.next().unwrap_or_default()).map_err(unavailable)?;
    let photo = api
        .store
        .get(&keys::question_photo(site, &q.id))
        .await
        .map_err(unavailable)?
        .is_some();
    Ok(Thread {
        followups,
        email: q.email,
        id: q.id,
        topic: q.topic,
        message: q.message,
        created_at: q.created_at,
        photo,
        replies,
        resolved,
    })
}

/// `GET /v1/sites/{site}/questions/{id}` with the thread's token.
pub async fn thread<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &Site,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let q = authorized(api, req, &site.id, id, now_ms).await?;
    Ok(ApiResponse::json(
        200,
        &build_thread(api, &site.id, q).await?,
    ))
}

/// `PUT …/questions/{id}/photo`: a JPEG, PNG or WebP of at most 1 MB, checked by its bytes.
pub async fn put_photo<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &Site,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let q = authorized(api, req, &site.id, id, now_ms).await?;
    if req.body.len() > ImageType::MAX_BYTES {
        return Err(ApiError::too_large(ImageType::MAX_BYTES));
    }
    let kind = req
        .get_header("content-type")
        .and_then(ImageType::from_mime)
        .filter(|k| k.matches(&req.body))
        .ok_or_else(|| {
            ApiError::new(
                415,
                "unsupported_media_type",
                "send a JPEG, PNG or WebP image with its content-type",
            )
        })?;
    let value = format!(
        "{};base64,{}",
        kind.mime(),
        base64::engine::general_purpose::STANDARD.encode(&req.body)
    );
    api.store
        .put(
            &keys::question_photo(&site.id, id),
            &value,
            Put::expiring(site.retain_until(q.created_at)),
        )
        .await
        .map_err(unavailable)?;
    Ok(ApiResponse::json(
        201,
        &json!({ "id": id, "bytes": req.body.len() }),
    ))
}

/// `GET /v1/admin/sites/{site}/questions/{id}`: the whole thread, for operators.
pub async fn admin_thread<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    id: &str,
) -> Result<ApiResponse, ApiError> {
    let q = load(api, site, id).await?;
    Ok(ApiResponse::json(200, &build_thread(api, site, q).await?)
        .with_header("cache-control", "no-store"))
}

/// `GET …/questions/{id}/photo` with the thread's (or the admin) token: the image itself.
pub async fn get_photo<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &Site,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    authorized(api, req, &site.id, id, now_ms).await?;
    photo(api, &site.id, id).await
}

/// A question's photo as its own answer (the caller has checked who may see it).
pub(crate) async fn photo<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    id: &str,
) -> Result<ApiResponse, ApiError> {
    let raw = api
        .store
        .get(&keys::question_photo(site, id))
        .await
        .map_err(unavailable)?
        .ok_or_else(|| ApiError::not_found("photo"))?;
    let (mime, data) = raw
        .split_once(";base64,")
        .ok_or_else(|| ApiError::new(500, "internal", "stored photo is unreadable"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| ApiError::new(500, "internal", "stored photo is unreadable"))?;
    let mut res = ApiResponse::empty(200)
        .with_header("content-type", mime)
        .with_header("cache-control", "private, no-store")
        // Opened directly, a photo is an inert image: no script, no same-origin, no download.
        .with_header("content-security-policy", "sandbox")
        .with_header("content-disposition", "inline");
    res.binary = Some(bytes);
    Ok(res)
}

/// A page of a list, newest first: at most `limit` rows strictly before `before`
/// (a time in ms and an id, from the previous page's `next`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    pub limit: usize,
    pub before: (Millis, String),
}

impl Page {
    /// Reads `limit` (1..=`max`, default `default`) and `before` (`{ms}:{id}`, as a previous
    /// page's `next` gave it) from the query; 400 for anything else.
    pub(crate) fn from_query(
        req: &ApiRequest,
        default: usize,
        max: usize,
    ) -> Result<Self, ApiError> {
        let limit = match req.query_param("limit") {
            None => default,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::new(400, "invalid", format!("limit is a number from 1 to {max}"))
                        .with_field("limit")
                })?,
        };
        let before = match req.query_param("before") {
            None => (Millis::MAX, String::new()),
            Some(v) => v
                .split_once(':')
                .and_then(|(at, id)| {
                    let at = at.parse::<Millis>().ok()?;
                    let ok = !id.is_empty()
                        && id.len() <= 200
                        && id
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                    ok.then(|| (at, id.to_string()))
                })
                .ok_or_else(|| {
                    ApiError::new(
                        400,
                        "invalid",
                        "before is the next value of a previous page",
                    )
                    .with_field("before")
                })?,
        };
        Ok(Self { limit, before })
    }

    /// The SQL `LIMIT` that also tells whether a next page exists (one more row).
    pub(crate) fn sql_limit(&self) -> i64 {
        i64::try_from(self.limit).unwrap_or(100) + 1
    }

    /// Cuts `rows` (read with [`Page::sql_limit`]) to the page; the cursor of the page after
    /// it, if any, made from the last row's time and id by `key`.
    pub(crate) fn cut<T>(&self, rows: &mut Vec<T>, key: impl Fn(&T) -> String) -> Option<String> {
        if rows.len() > self.limit {
            rows.truncate(self.limit);
            rows.last().map(key)
        } else {
            None
        }
    }
}

/// Open questions a page holds unless `limit` says otherwise, and at most.
pub const INBOX_PAGE: usize = 100;
pub const INBOX_PAGE_MAX: usize = 500;

#[derive(Deserialize)]
struct OpenRow {
    id: String,
    topic: String,
    message: String,
    created_at: Millis,
}

/// `GET /v1/admin/sites/{site}/questions?limit=&before=`: open questions, newest first, a
/// page at a time (`next`: the `before` of the page after it, or `null`). One indexed query
/// (`questions_open`), whatever the traffic.
pub async fn list_open<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &str,
) -> Result<ApiResponse, ApiError> {
    let page = Page::from_query(req, INBOX_PAGE, INBOX_PAGE_MAX)?;
    let mut found: Vec<OpenRow> = rows(
        api.sql,
        Stmt::new(
            "SELECT id, topic, message, created_at FROM questions \
             WHERE site = ?1 AND resolved_at IS NULL AND (created_at, id) < (?2, ?3) \
             ORDER BY created_at DESC, id DESC LIMIT ?4",
        )
        .bind(site)
        .bind(page.before.0)
        .bind(page.before.1.as_str())
        .bind(page.sql_limit()),
    )
    .await
    .map_err(unavailable)?;
    let next = page.cut(&mut found, |r| format!("{}:{}", r.created_at, r.id));
    let open: Vec<QuestionSummary> = found
        .into_iter()
        .map(|r| QuestionSummary {
            preview: preview(&r.message),
            id: r.id,
            topic: r.topic,
            created_at: r.created_at,
        })
        .collect();
    Ok(
        ApiResponse::json(200, &json!({ "questions": open, "next": next }))
            .with_header("cache-control", "no-store"),
    )
}

/// `POST …/questions/{id}/replies` → 201: one `replies` row, and the question's first-reply
/// time if it had none (its inbox row may not be there yet: the consumer then takes the
/// first reply's time from `replies`).
pub async fn reply<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    actor: &glimpse_shared::team::Actor,
    site_id: &str,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let mut r = req.read_valid(crate::admin::BODY_MAX, "reply", Reply::validate)?;
    r.at = now_ms;
    // Signed by the operator who wrote it, whatever the body said.
    r.author = (!actor.is_bootstrap()).then(|| actor.name.clone());
    let q = load(api, site_id, id).await?;
    let body = serde_json::to_string(&r)
        .map_err(|_| ApiError::new(500, "internal", "reply could not be encoded"))?;
    let reply_id = crate::core::fresh_id(api)?;
    let stmts = [
        Stmt::new("INSERT INTO replies (site, question, at, id, body) VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind(site_id)
            .bind(id)
            .bind(now_ms)
            .bind(reply_id.as_str())
            .bind(body),
        // The first reply's time, counted in its bucket for the expected reply time
        // (before the update below marks the question answered).
        Stmt::new(
            "INSERT INTO daily (site, day, metric, key, n) \
             SELECT ?1, ?3, ?4, ?5, 1 WHERE EXISTS (SELECT 1 FROM questions \
             WHERE site = ?1 AND id = ?2 AND first_reply_at IS NULL) \
             ON CONFLICT (site, day, metric, key) DO UPDATE SET n = n + 1",
        )
        .bind(site_id)
        .bind(id)
        .bind(glimpse_shared::time::utc_date(now_ms))
        .bind(glimpse_shared::question::FIRST_REPLY_METRIC)
        .bind(glimpse_shared::question::reply_bucket(now_ms - q.created_at).to_string()),
        Stmt::new(
            "UPDATE questions SET first_reply_at = COALESCE(first_reply_at, ?3) \
             WHERE site = ?1 AND id = ?2",
        )
        .bind(site_id)
        .bind(id)
        .bind(now_ms),
    ];
    api.sql.batch(&stmts).await.map_err(unavailable)?;
    crate::webhooks::emit(
        api.sql,
        api.queue,
        &[crate::alerts::question_replied(site_id, id, &reply_id, &r)],
    )
    .await;
    Ok(ApiResponse::json(201, &r))
}

/// `POST …/questions/{id}/resolve` with `{category}`: closes the question (200, the thread).
/// If the queue has not delivered it yet, its inbox row is made here (and counted once, as
/// the consumer would). It publishes nothing: an answer joins the knowledge base only when an
/// operator writes and publishes it (`PUT …/kb/questions/{id}`).
pub async fn resolve<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site_id: &str,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let mut r = req.read_valid(crate::admin::BODY_MAX, "resolution", Resolution::validate)?;
    r.at = now_ms;
    let q = load(api, site_id, id).await?;
    let mut stmts = ingest_stmts(&[IngestRow::of(site_id, &q)]);
    stmts.push(
        Stmt::new(
            "UPDATE questions SET resolved_at = ?3, category = ?4 WHERE site = ?1 AND id = ?2",
        )
        .bind(site_id)
        .bind(id)
        .bind(now_ms)
        .bind(r.category.as_str()),
    );
    api.sql.batch(&stmts).await.map_err(unavailable)?;
    crate::webhooks::emit(
        api.sql,
        api.queue,
        &[crate::alerts::question_resolved(site_id, id, &r)],
    )
    .await;
    let thread = build_thread(api, site_id, q).await?;
    Ok(ApiResponse::json(200, &thread))
}

/// One question as the consumer inserts it (a `json_each` row).
#[derive(Debug, Serialize)]
struct IngestRow<'a> {
    site: &'a str,
    id: &'a str,
    visitor: &'a str,
    topic: &'a str,
    message: &'a str,
    created_at: Millis,
    email: Option<&'a str>,
    /// UTC day of `created_at`, the `daily` counter's.
    day: String,
}

impl<'a> IngestRow<'a> {
    fn of(site: &'a str, q: &'a Question) -> Self {
        Self {
            site,
            id: &q.id,
            visitor: &q.visitor,
            topic: &q.topic,
            message: &q.message,
            created_at: q.created_at,
            email: q.email.as_deref(),
            day: glimpse_shared::time::utc_date(q.created_at),
        }
    }
}

/// The two statements that add `rows` (distinct questions) to the inbox, run in one
/// transaction: first each question not there yet is counted in `daily` (metric
/// [`glimpse_shared::question::DAILY_METRIC`], key its topic, its UTC day), then it is
/// inserted, with the first reply's time if the team already replied. A question already
/// there changes nothing: whoever inserts a question's row (the consumer, or a resolution
/// that came first) counts it, exactly once, decided inside the transaction.
fn ingest_stmts(rows: &[IngestRow<'_>]) -> Vec<Stmt> {
    const ROWS: &str = "SELECT json_extract(value, '$.site') AS site, \
         json_extract(value, '$.id') AS id, json_extract(value, '$.visitor') AS visitor, \
         json_extract(value, '$.topic') AS topic, json_extract(value, '$.message') AS message, \
         json_extract(value, '$.created_at') AS created_at, json_extract(value, '$.day') AS day, \
         json_extract(value, '$.email') AS email \
         FROM json_each(?1)";
    vec![
        Stmt::new(format!(
            "INSERT INTO daily (site, day, metric, key, n) \
             SELECT j.site, j.day, ?2, j.topic, COUNT(*) FROM ({ROWS}) j \
             WHERE NOT EXISTS (SELECT 1 FROM questions q WHERE q.site = j.site AND q.id = j.id) \
             GROUP BY j.site, j.day, j.topic \
             ON CONFLICT (site, day, metric, key) DO UPDATE SET n = n + excluded.n"
        ))
        .bind_json(rows)
        .bind(glimpse_shared::question::DAILY_METRIC),
        Stmt::new(format!(
            "INSERT INTO questions \
             (site, id, visitor, topic, message, has_photo, created_at, first_reply_at, email) \
             SELECT j.site, j.id, j.visitor, j.topic, j.message, 0, j.created_at, \
             (SELECT MIN(r.at) FROM replies r WHERE r.site = j.site AND r.question = j.id), \
             j.email FROM ({ROWS}) j WHERE true \
             ON CONFLICT (site, id) DO NOTHING"
        ))
        .bind_json(rows),
    ]
}

#[derive(Deserialize)]
struct Known {
    site: String,
    id: String,
}

/// The writes that apply the question messages among `messages` to the inbox: one read
/// (which of them are already there), then at most two statements for the consumer's
/// transaction ([`ingest_stmts`]); and the questions those writes add (for the
/// `question.created` webhooks). Duplicates in the batch, redeliveries and questions an
/// operator's resolution already added change nothing and are not returned.
pub async fn plan_ingest<'m>(
    sql: &dyn Sql,
    messages: &[&'m Message],
    _now_ms: Millis,
) -> Result<(Vec<Stmt>, Vec<(&'m str, &'m Question)>), StoreError> {
    let mut seen = std::collections::BTreeSet::new();
    let mut fresh: Vec<(&'m str, &'m Question)> = messages
        .iter()
        .filter_map(|m| match m {
            Message::Question { site, question } => Some((site.as_str(), question)),
            _ => None,
        })
        .filter(|(site, q)| seen.insert((*site, q.id.as_str())))
        .collect();
    if fresh.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let keys: Vec<[&str; 2]> = fresh.iter().map(|(s, q)| [*s, q.id.as_str()]).collect();
    let known: Vec<Known> = rows(
        sql,
        Stmt::new(
            "SELECT q.site, q.id FROM json_each(?1) j JOIN questions q \
             ON q.site = json_extract(j.value, '$[0]') AND q.id = json_extract(j.value, '$[1]')",
        )
        .bind_json(&keys),
    )
    .await?;
    fresh.retain(|(s, q)| !known.iter().any(|k| k.site == *s && k.id == q.id));
    if fresh.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let rows: Vec<IngestRow<'_>> = fresh.iter().map(|(s, q)| IngestRow::of(s, q)).collect();
    Ok((ingest_stmts(&rows), fresh))
}

/// `POST /v1/sites/{site}/questions/{id}/messages` with the thread's token and `{text}` →
/// 202 with the follow-up as it will show: one more message from the visitor in the same
/// thread (the sensitive-data guard as for questions). It reaches D1 through the queue
/// ([`plan_followups`]) and reopens a resolved question.
pub async fn follow_up<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &Site,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let q = authorized(api, req, &site.id, id, now_ms).await?;
    let mut f = req.read_valid(BODY_MAX, "message", FollowUp::validate)?;
    refuse_sensitive(
        &f.text,
        "text",
        "message",
        &format!("please remove it, or use {}", channels_text(site, &q.topic)),
    )?;
    f.at = now_ms;
    let message = Message::FollowUp {
        site: site.id.clone(),
        question: id.to_string(),
        visitor: q.visitor,
        id: crate::core::fresh_id(api)?,
        followup: f.clone(),
    };
    api.queue
        .send(std::slice::from_ref(&message))
        .await
        .map_err(unavailable)?;
    Ok(ApiResponse::json(202, &f).with_header("cache-control", "no-store"))
}

#[derive(Debug, Serialize)]
struct FollowUpRow<'a> {
    site: &'a str,
    question: &'a str,
    id: &'a str,
    text: &'a str,
    at: Millis,
}

/// The consumer's writes for the follow-ups among `messages` (one `json_each` insert, a
/// follow-up id once; and the questions they belong to reopened).
pub fn plan_followups(messages: &[&Message]) -> Vec<Stmt> {
    let rows: Vec<FollowUpRow<'_>> = messages
        .iter()
        .filter_map(|m| match m {
            Message::FollowUp {
                site,
                question,
                id,
                followup,
                ..
            } => Some(FollowUpRow {
                site,
                question,
                id,
                text: &followup.text,
                at: followup.at,
            }),
            _ => None,
        })
        .collect();
    if rows.is_empty() {
        return Vec::new();
    }
    const ROWS: &str = "SELECT json_extract(value, '$.site') AS site, \
         json_extract(value, '$.question') AS question, json_extract(value, '$.id') AS id, \
         json_extract(value, '$.text') AS text, json_extract(value, '$.at') AS at FROM json_each(?1)";
    vec![
        Stmt::new(format!(
            "INSERT INTO followups (site, question, at, id, text) \
             SELECT site, question, at, id, text FROM ({ROWS}) WHERE true \
             ON CONFLICT (site, question, at, id) DO NOTHING"
        ))
        .bind_json(&rows),
        Stmt::new(format!(
            "UPDATE questions SET resolved_at = NULL, category = NULL \
             WHERE resolved_at IS NOT NULL AND (site, id) IN \
             (SELECT site, question FROM ({ROWS}) j WHERE j.at > questions.resolved_at)"
        ))
        .bind_json(&rows),
    ]
}

/// Threads one status request may name.
pub const STATUS_MAX: usize = 10;

#[derive(Deserialize)]
struct StatusQuery {
    threads: Vec<ThreadRef>,
}

#[derive(Deserialize)]
struct ThreadRef {
    id: String,
    token: String,
}

#[derive(Deserialize)]
struct StatusRow {
    question: String,
    n: i64,
    last: Option<Millis>,
}

/// `POST /v1/sites/{site}/threads` with `{"threads": [{"id", "token"}, …]}` (at most
/// [`STATUS_MAX`], the visitor's own, each with its token) → for each thread the visitor still
/// has: `{id, replies, last_reply_at}`; a thread that is gone or whose token is wrong is
/// listed in `gone` (the widget forgets it). What the launcher's unread badge needs: one KV
/// read per thread and one D1 query.
pub async fn statuses<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &Site,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let client = crate::door::client_key(req.client_ip());
    api.auth_failures
        .check(&client, now_ms)
        .map_err(crate::door::throttled)?;
    let query: StatusQuery = req.read_json(BODY_MAX)?;
    if query.threads.len() > STATUS_MAX {
        return Err(
            ApiError::new(400, "invalid", format!("at most {STATUS_MAX} threads"))
                .with_field("threads"),
        );
    }
    for (i, t) in query.threads.iter().enumerate() {
        if !glimpse_shared::ids::is_slug(&t.id) || t.token.is_empty() || t.token.len() > 200 {
            return Err(ApiError::new(400, "invalid", "each thread is {id, token}")
                .with_field(format!("threads[{i}]")));
        }
    }
    let mut mine: Vec<&str> = Vec::new();
    let mut gone: Vec<&str> = Vec::new();
    for t in &query.threads {
        match find(api, &site.id, &t.id).await? {
            Some(q) if crate::door::token_matches(&q.token, &t.token) => mine.push(&t.id),
            Some(_) => {
                api.auth_failures.fail(&client, now_ms);
                gone.push(&t.id);
            }
            None => gone.push(&t.id),
        }
    }
    let counts: Vec<StatusRow> = if mine.is_empty() {
        Vec::new()
    } else {
        rows(
            api.sql,
            Stmt::new(
                "SELECT question, COUNT(*) AS n, MAX(at) AS last FROM replies \
                 WHERE site = ?1 AND question IN (SELECT value FROM json_each(?2)) \
                 GROUP BY question",
            )
            .bind(site.id.as_str())
            .bind_json(&mine),
        )
        .await
        .map_err(unavailable)?
    };
    let threads: Vec<serde_json::Value> = mine
        .iter()
        .map(|id| {
            let row = counts.iter().find(|r| r.question == *id);
            json!({
                "id": id,
                "replies": row.map_or(0, |r| r.n),
                "last_reply_at": row.and_then(|r| r.last),
            })
        })
        .collect();
    Ok(
        ApiResponse::json(200, &json!({ "threads": threads, "gone": gone }))
            .with_header("cache-control", "no-store"),
    )
}

#[derive(Deserialize)]
struct BucketRow {
    key: String,
    n: i64,
}

#[derive(Deserialize)]
struct ReplyMinutesRow {
    reply_minutes: Option<i64>,
}

/// The hourly tick's update of the site's expected reply time: the median of the last
/// [`glimpse_shared::question::REPLY_WINDOW_DAYS`] days' first-reply buckets (one D1 batch
/// over at most 70 counters); when it changed, the `sites` column and the feed snapshot
/// (rebuilt from D1, one query and one KV write). Unchanged: nothing is written.
pub async fn refresh_reply_time<S: KvStore>(
    store: &S,
    sql: &dyn Sql,
    site: &glimpse_shared::Site,
    now_ms: Millis,
) -> Result<(), StoreError> {
    use glimpse_shared::question::{FIRST_REPLY_METRIC, REPLY_WINDOW_DAYS, median_reply_minutes};
    let since = glimpse_shared::time::utc_date(now_ms - (REPLY_WINDOW_DAYS - 1) * 86_400_000);
    let out = sql
        .batch(&[
            Stmt::new(
                "SELECT key, SUM(n) AS n FROM daily WHERE site = ?1 AND metric = ?2 AND day >= ?3 \
                 GROUP BY key",
            )
            .bind(site.id.as_str())
            .bind(FIRST_REPLY_METRIC)
            .bind(since),
            Stmt::new("SELECT reply_minutes FROM sites WHERE site = ?1").bind(site.id.as_str()),
        ])
        .await?;
    let mut out = out.into_iter();
    let buckets: Vec<BucketRow> = crate::sql::decode(out.next().unwrap_or_default())
        .map_err(|e| StoreError(e.to_string()))?;
    let current: Option<ReplyMinutesRow> = crate::sql::decode(out.next().unwrap_or_default())
        .map_err(|e| StoreError(e.to_string()))?
        .into_iter()
        .next();
    let Some(current) = current else {
        return Ok(());
    };
    let counts: Vec<(u32, i64)> = buckets
        .iter()
        .filter_map(|b| b.key.parse().ok().map(|k| (k, b.n)))
        .collect();
    let median = median_reply_minutes(&counts);
    if median.map(i64::from) == current.reply_minutes {
        return Ok(());
    }
    sql.query(
        &Stmt::new("UPDATE sites SET reply_minutes = ?2 WHERE site = ?1")
            .bind(site.id.as_str())
            .bind(median.map(i64::from)),
    )
    .await?;
    crate::admin::rebuild_snapshot(store, sql, site, now_ms)
        .await
        .map_err(|e| StoreError(e.message))
}
