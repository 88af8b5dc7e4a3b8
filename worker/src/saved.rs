//! Saved replies: the team's ready answers per site, which agents insert into a reply and
//! edit before sending. D1 table `saved_replies`; at most
//! [`NewSavedReply::PER_SITE_MAX`] a site, listed whole (one query, bounded).

use glimpse_shared::question::{NewSavedReply, SavedReply};
use glimpse_shared::team::Actor;
use glimpse_shared::{ApiError, Millis};
use serde_json::json;

use crate::core::{Api, unavailable};
use crate::http::{ApiRequest, ApiResponse};
use crate::route::Method;
use crate::sql::{Stmt, first, rows};

const COLUMNS: &str = "id, title, text, updated_at, updated_by";

/// `GET` (all, by title) or `POST` (`{title, text}` → 201 with the saved reply; 409 when the
/// site has [`NewSavedReply::PER_SITE_MAX`]) `/v1/admin/sites/{site}/saved-replies`.
pub async fn collection<S: crate::store::KvStore>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    actor: &Actor,
    site: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    if req.method != Method::Post {
        let list: Vec<SavedReply> = rows(
            api.sql,
            Stmt::new(format!(
                "SELECT {COLUMNS} FROM saved_replies WHERE site = ?1 \
                 ORDER BY title COLLATE NOCASE, id LIMIT ?2"
            ))
            .bind(site)
            .bind(NewSavedReply::PER_SITE_MAX as i64),
        )
        .await
        .map_err(unavailable)?;
        return Ok(ApiResponse::json(200, &json!({ "saved_replies": list }))
            .with_header("cache-control", "no-store"));
    }
    crate::admin::load_site_pub(api, site).await?;
    let new = req.read_valid(
        crate::admin::BODY_MAX,
        "saved reply",
        NewSavedReply::validate,
    )?;
    let saved = SavedReply {
        id: crate::core::fresh_id(api)?,
        title: new.title.trim().to_string(),
        text: new.text,
        updated_at: now_ms,
        updated_by: actor.id.clone(),
    };
    // Inserted only while the site has fewer than the most it may keep: one statement, so
    // two agents adding at once cannot pass the limit together.
    let out = api
        .sql
        .batch(&[
            Stmt::new(
                "INSERT INTO saved_replies (site, id, title, text, updated_at, updated_by) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6 \
                 WHERE (SELECT COUNT(*) FROM saved_replies WHERE site = ?1) < ?7",
            )
            .bind(site)
            .bind(saved.id.as_str())
            .bind(saved.title.as_str())
            .bind(saved.text.as_str())
            .bind(now_ms)
            .bind(actor.id.as_str())
            .bind(NewSavedReply::PER_SITE_MAX as i64),
            Stmt::new("SELECT COUNT(*) AS n FROM saved_replies WHERE site = ?1 AND id = ?2")
                .bind(site)
                .bind(saved.id.as_str()),
        ])
        .await
        .map_err(unavailable)?;
    if !crate::sql::inserted(&out) {
        return Err(ApiError::new(
            409,
            "too_many",
            format!(
                "a site keeps at most {} saved replies; delete one first",
                NewSavedReply::PER_SITE_MAX
            ),
        ));
    }
    Ok(ApiResponse::json(201, &saved))
}

/// `GET`, `PUT` (`{title, text}`) or `DELETE` `/v1/admin/sites/{site}/saved-replies/{id}`;
/// 404 when there is no such saved reply.
pub async fn item<S>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    actor: &Actor,
    site: &str,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let found: Option<SavedReply> = first(
        api.sql,
        Stmt::new(format!(
            "SELECT {COLUMNS} FROM saved_replies WHERE site = ?1 AND id = ?2"
        ))
        .bind(site)
        .bind(id),
    )
    .await
    .map_err(unavailable)?;
    let Some(found) = found else {
        return Err(ApiError::not_found("saved reply"));
    };
    match req.method {
        Method::Put => {
            let new = req.read_valid(
                crate::admin::BODY_MAX,
                "saved reply",
                NewSavedReply::validate,
            )?;
            let saved = SavedReply {
                title: new.title.trim().to_string(),
                text: new.text,
                updated_at: now_ms,
                updated_by: actor.id.clone(),
                ..found
            };
            api.sql
                .query(
                    &Stmt::new(
                        "UPDATE saved_replies SET title = ?3, text = ?4, updated_at = ?5, \
                         updated_by = ?6 WHERE site = ?1 AND id = ?2",
                    )
                    .bind(site)
                    .bind(id)
                    .bind(saved.title.as_str())
                    .bind(saved.text.as_str())
                    .bind(now_ms)
                    .bind(actor.id.as_str()),
                )
                .await
                .map_err(unavailable)?;
            Ok(ApiResponse::json(200, &saved))
        }
        Method::Delete => {
            api.sql
                .query(
                    &Stmt::new("DELETE FROM saved_replies WHERE site = ?1 AND id = ?2")
                        .bind(site)
                        .bind(id),
                )
                .await
                .map_err(unavailable)?;
            Ok(ApiResponse::empty(204))
        }
        _ => Ok(ApiResponse::json(200, &found).with_header("cache-control", "no-store")),
    }
}
