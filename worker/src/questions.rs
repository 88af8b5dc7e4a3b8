//! Ask a question: visitors create a thread (message, optional photo) and read the team's
//! replies with the thread's secret token; operators list open questions, reply and resolve.
//! Sensitive data and topics that belong to another channel are refused with 422.

use base64::Engine;
use glimpse_shared::guard;
use glimpse_shared::keys;
use glimpse_shared::question::{
    Created, ImageType, NewQuestion, Question, QuestionSummary, Reply, Resolution, Thread, preview,
};
use glimpse_shared::{ApiError, Millis, Site, SiteSnapshot};
use serde_json::json;

use crate::admin::constant_time_eq;
use crate::core::{Api, unavailable};
use crate::http::{ApiRequest, ApiResponse};
use crate::store::{KvStore, Put, list_all};

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
    if let Some(kind) = guard::scan(&body.message).first() {
        return Err(ApiError::new(
            422,
            "sensitive_data",
            format!(
                "the message seems to contain {}: never send it here; please remove it, or use {}",
                kind.describe(),
                channels_text(site, &topic.id)
            ),
        )
        .with_field("message"));
    }
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
        Some(raw) => serde_json::from_str(&raw)
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
    let q = load(api, site, id).await?;
    let given = req.bearer().unwrap_or("").as_bytes();
    let admin = api
        .admin_token
        .is_some_and(|t| !t.is_empty() && constant_time_eq(given, t.as_bytes()));
    if admin || crate::door::token_matches(&q.token, req.bearer().unwrap_or("")) {
        Ok(q)
    } else {
        api.auth_failures.fail(&client, now_ms);
        Err(ApiError::unauthorized(
            "send Authorization: Bearer <the thread's token>",
        ))
    }
}

/// `DELETE /v1/sites/{site}/questions/{id}` with the thread's token → 204: the visitor
/// deletes their own conversation now (question, photo, replies and resolution). The
/// question key goes last, so a failure half-way leaves it, and a retry with the same token
/// finishes the job.
pub async fn delete_thread<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &Site,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    authorized(api, req, &site.id, id, now_ms).await?;
    let mut doomed: Vec<String> = list_all(api.store, &keys::replies_prefix(&site.id, id), 10)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|k| k.name)
        .collect();
    doomed.push(keys::question_photo(&site.id, id));
    doomed.push(keys::resolution(&site.id, id));
    doomed.push(keys::question(&site.id, id));
    for key in doomed {
        api.store.delete(&key).await.map_err(unavailable)?;
    }
    // An answer an operator published from this question goes with it, as when the visitor
    // is erased.
    let entry = glimpse_shared::kb::KbSource::Question.entry_id(id);
    if api
        .store
        .get(&keys::kb_entry(&site.id, &entry))
        .await
        .map_err(unavailable)?
        .is_some()
    {
        crate::kb::write(api.store, &site.id, &[(&entry, None)]).await?;
    }
    Ok(ApiResponse::empty(204).with_header("cache-control", "no-store"))
}

/// The whole thread: question, replies (oldest first) and resolution.
pub async fn build_thread<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    q: Question,
) -> Result<Thread, ApiError> {
    let listed = list_all(api.store, &keys::replies_prefix(site, &q.id), 10)
        .await
        .map_err(unavailable)?;
    let mut replies = Vec::new();
    for key in listed {
        if let Some(raw) = api.store.get(&key.name).await.map_err(unavailable)?
            && let Ok(r) = serde_json::from_str::<Reply>(&raw)
        {
            replies.push(r);
        }
    }
    let resolved = api
        .store
        .get(&keys::resolution(site, &q.id))
        .await
        .map_err(unavailable)?
        .and_then(|raw| serde_json::from_str(&raw).ok());
    let photo = api
        .store
        .get(&keys::question_photo(site, &q.id))
        .await
        .map_err(unavailable)?
        .is_some();
    Ok(Thread {
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

/// `GET …/questions/{id}/photo` with the thread's (or the admin) token: the image itself.
pub async fn get_photo<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site: &Site,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    authorized(api, req, &site.id, id, now_ms).await?;
    let raw = api
        .store
        .get(&keys::question_photo(&site.id, id))
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

/// `GET /v1/admin/sites/{site}/questions`: open questions, newest first, from one listing.
pub async fn list_open<S: KvStore>(api: &Api<'_, S>, site: &str) -> Result<ApiResponse, ApiError> {
    let questions = list_all(api.store, &keys::questions_prefix(site), 50)
        .await
        .map_err(unavailable)?;
    let resolved_prefix = format!("site/{site}/resolved/");
    let resolved: Vec<String> = list_all(api.store, &resolved_prefix, 50)
        .await
        .map_err(unavailable)?
        .into_iter()
        .filter_map(|k| k.name.strip_prefix(&resolved_prefix).map(String::from))
        .collect();
    let mut open: Vec<QuestionSummary> = questions
        .into_iter()
        .filter_map(|k| k.metadata.and_then(|m| serde_json::from_value(m).ok()))
        .filter(|q: &QuestionSummary| !resolved.contains(&q.id))
        .collect();
    open.sort_by_key(|q| std::cmp::Reverse(q.created_at));
    Ok(ApiResponse::json(200, &json!({ "questions": open })))
}

/// Stores an operator's addition to question `id` (a reply or the resolution) under `key`,
/// expiring with the thread. Returns the question.
async fn add_to_thread<S: KvStore, T: serde::Serialize>(
    api: &Api<'_, S>,
    site_id: &str,
    id: &str,
    key: &str,
    value: &T,
    now_ms: Millis,
) -> Result<Question, ApiError> {
    let q = load(api, site_id, id).await?;
    let site = crate::admin::load_site_pub(api, site_id).await?;
    let json = serde_json::to_string(value)
        .map_err(|_| ApiError::new(500, "internal", "value could not be encoded"))?;
    api.store
        .put(
            key,
            &json,
            Put::expiring(site.retain_until(q.created_at.max(now_ms))),
        )
        .await
        .map_err(unavailable)?;
    Ok(q)
}

/// `POST …/questions/{id}/replies` → 201: one key per reply.
pub async fn reply<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site_id: &str,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let mut r = req.read_valid(BODY_MAX, "reply", Reply::validate)?;
    r.at = now_ms;
    let key = keys::reply(site_id, id, now_ms, &crate::core::fresh_id(api)?);
    add_to_thread(api, site_id, id, &key, &r, now_ms).await?;
    Ok(ApiResponse::json(201, &r))
}

/// `POST …/questions/{id}/resolve` with `{category}`: closes the question. It publishes
/// nothing: an answer joins the knowledge base only when an operator writes and publishes it
/// (`PUT …/kb/questions/{id}`).
pub async fn resolve<S: KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    site_id: &str,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let mut r = req.read_valid(BODY_MAX, "resolution", Resolution::validate)?;
    r.at = now_ms;
    let q = add_to_thread(api, site_id, id, &keys::resolution(site_id, id), &r, now_ms).await?;
    let thread = build_thread(api, site_id, q).await?;
    Ok(ApiResponse::json(200, &thread))
}

/// The writes that apply the question messages among `messages` to the inbox (reads D1
/// first). Filled in by issue 15's questions work.
pub async fn plan_ingest(
    _sql: &dyn crate::sql::Sql,
    _messages: &[&crate::queue::Message],
    _now_ms: Millis,
) -> Result<Vec<crate::sql::Stmt>, crate::store::StoreError> {
    Ok(Vec::new())
}
