//! The team's API: who is asking ([`authenticate`]: the `ADMIN_TOKEN` bootstrap owner, an
//! operator's personal token or a read-only API key, looked up by its SHA-256 in D1), the
//! owners' endpoints for operators, API keys and the audit log, and the audit record of
//! every operators' write ([`audit`]). Tokens are made here, shown once, and stored only as
//! their hash (`sha256:<hex>`, [`crate::door::hash_token`]).

use glimpse_shared::team::{
    ALL_SITES, Actor, ApiKey, AuditEntry, Issued, NewApiKey, NewOperator, Operator, Role,
    TokenKind, token_kind,
};
use glimpse_shared::{ApiError, Millis};
use serde::Deserialize;
use serde_json::json;

use crate::core::{Api, unavailable};
use crate::http::{ApiRequest, ApiResponse};
use crate::route::Method;
use crate::sql::{Stmt, first, rows};

/// Most operators or keys one listing returns (a team is people: far fewer).
pub const LIST_MAX: i64 = 500;

#[derive(Deserialize)]
struct ActorRow {
    id: String,
    name: String,
    role: String,
    sites: String,
}

fn role_of(s: &str) -> Option<Role> {
    match s {
        "owner" => Some(Role::Owner),
        "editor" => Some(Role::Editor),
        "agent" => Some(Role::Agent),
        "reader" => Some(Role::Reader),
        _ => None,
    }
}

fn sites_of(raw: &str) -> Vec<String> {
    crate::json::from_str(raw).unwrap_or_default()
}

/// Who sent `req`: the bootstrap owner (`ADMIN_TOKEN`, compared in constant time), an
/// operator whose personal token is not revoked, or an unrevoked read-only API key (one D1
/// query by the token's hash; the `ADMIN_TOKEN` costs none). Any other token, or none, is
/// the one 401 of [`crate::door::UNAUTHORIZED`], counted against the client's failures.
pub async fn authenticate<S>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    now_ms: Millis,
) -> Result<Actor, ApiError> {
    let client = crate::door::client_key(req.client_ip());
    api.auth_failures
        .check(&client, now_ms)
        .map_err(crate::door::throttled)?;
    let refused = || {
        api.auth_failures.fail(&client, now_ms);
        ApiError::unauthorized(crate::door::UNAUTHORIZED)
    };
    let header = req.get_header("authorization");
    if crate::admin::authorize(api.admin_token, header).is_ok() {
        return Ok(Actor::bootstrap());
    }
    let Some(token) = req.bearer().filter(|t| !t.is_empty()) else {
        return Err(refused());
    };
    let table = match token_kind(token) {
        TokenKind::Operator => "operators",
        TokenKind::ApiKey => "api_keys",
        TokenKind::Other => return Err(refused()),
    };
    let role = if table == "api_keys" {
        "'reader' AS role"
    } else {
        "role"
    };
    let found: Option<ActorRow> = first(
        api.sql,
        Stmt::new(format!(
            "SELECT id, name, {role}, sites FROM {table} \
             WHERE token_hash = ?1 AND revoked_at IS NULL"
        ))
        .bind(crate::door::hash_token(token)),
    )
    .await
    .map_err(unavailable)?;
    let Some(row) = found else {
        return Err(refused());
    };
    let Some(role) = role_of(&row.role) else {
        return Err(refused());
    };
    Ok(Actor {
        id: row.id,
        name: row.name,
        role,
        sites: sites_of(&row.sites),
    })
}

/// Records one operators' write in the audit log (one D1 statement). A failure is logged,
/// not answered: the write it describes has already happened.
pub async fn audit<S>(
    api: &Api<'_, S>,
    actor: &Actor,
    req: &ApiRequest,
    site: Option<&str>,
    status: u16,
    now_ms: Millis,
) {
    let stmt = Stmt::new(
        "INSERT INTO audit (at, actor, actor_name, site, action, status) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(now_ms)
    .bind(actor.id.as_str())
    .bind(actor.name.as_str())
    .bind(site.map(str::to_string))
    .bind(format!("{} {}", req.method.as_str(), req.path))
    .bind(i64::from(status));
    if let Err(e) = api.sql.query(&stmt).await {
        crate::log(&format!("audit: could not record {}: {e}", req.path));
    }
}

/// Whether `actor` may grant (or manage a holder of) `sites`: within their own scope, and
/// `"*"` only if they have it.
fn covers(actor: &Actor, sites: &[String]) -> bool {
    actor.all_sites() || sites.iter().all(|s| s != ALL_SITES && actor.has_site(s))
}

fn outside_scope() -> ApiError {
    ApiError::new(
        403,
        "forbidden",
        "you may only grant or manage the sites your own token is for",
    )
    .with_field("sites")
}

/// A new secret token: `prefix` and 52 characters of `[a-z0-9]` (≈ 268 bits).
fn new_token<S>(api: &Api<'_, S>, prefix: &str) -> Result<String, ApiError> {
    Ok(format!(
        "{prefix}{}{}",
        crate::core::fresh_id(api)?,
        crate::core::fresh_id(api)?
    ))
}

#[derive(Deserialize)]
struct OperatorRow {
    id: String,
    name: String,
    role: String,
    sites: String,
    created_at: Millis,
    created_by: String,
    revoked_at: Option<Millis>,
}

impl OperatorRow {
    fn into_operator(self) -> Operator {
        Operator {
            role: role_of(&self.role).unwrap_or(Role::Agent),
            sites: sites_of(&self.sites),
            id: self.id,
            name: self.name,
            created_at: self.created_at,
            created_by: self.created_by,
            revoked_at: self.revoked_at,
        }
    }

    fn into_key(self) -> ApiKey {
        ApiKey {
            sites: sites_of(&self.sites),
            id: self.id,
            name: self.name,
            created_at: self.created_at,
            created_by: self.created_by,
            revoked_at: self.revoked_at,
        }
    }
}

const OPERATOR_COLUMNS: &str = "id, name, role, sites, created_at, created_by, revoked_at";
const KEY_COLUMNS: &str = "id, name, 'reader' AS role, sites, created_at, created_by, revoked_at";

async fn load_operator<S>(api: &Api<'_, S>, id: &str) -> Result<Operator, ApiError> {
    first::<OperatorRow>(
        api.sql,
        Stmt::new(format!(
            "SELECT {OPERATOR_COLUMNS} FROM operators WHERE id = ?1"
        ))
        .bind(id),
    )
    .await
    .map_err(unavailable)?
    .map(OperatorRow::into_operator)
    .ok_or_else(|| ApiError::not_found("operator"))
}

/// `GET /v1/admin/me`: who the token belongs to (id, name, role, sites), for the console to
/// show only what the role can do.
pub fn me(actor: &Actor) -> ApiResponse {
    ApiResponse::json(200, actor).with_header("cache-control", "no-store")
}

/// `GET /v1/admin/operators`: every operator (revoked ones too, marked), oldest first; an
/// owner of some sites sees those whose sites are within theirs.
pub async fn list_operators<S>(api: &Api<'_, S>, actor: &Actor) -> Result<ApiResponse, ApiError> {
    let found: Vec<OperatorRow> = rows(
        api.sql,
        Stmt::new(format!(
            "SELECT {OPERATOR_COLUMNS} FROM operators ORDER BY created_at, id LIMIT ?1"
        ))
        .bind(LIST_MAX),
    )
    .await
    .map_err(unavailable)?;
    let operators: Vec<Operator> = found
        .into_iter()
        .map(OperatorRow::into_operator)
        .filter(|o| covers(actor, &o.sites))
        .collect();
    Ok(ApiResponse::json(200, &json!({ "operators": operators }))
        .with_header("cache-control", "no-store"))
}

/// `POST /v1/admin/operators` `{name, role, sites}` → 201 with the operator and their
/// `token`, shown this once.
pub async fn create_operator<S>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    actor: &Actor,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let new = req.read_valid(crate::admin::BODY_MAX, "operator", NewOperator::validate)?;
    if !covers(actor, &new.sites) {
        return Err(outside_scope());
    }
    let token = new_token(api, glimpse_shared::team::OPERATOR_TOKEN_PREFIX)?;
    let op = Operator {
        id: crate::core::fresh_id(api)?,
        name: new.name.trim().to_string(),
        role: new.role,
        sites: new.sites,
        created_at: now_ms,
        created_by: actor.id.clone(),
        revoked_at: None,
    };
    api.sql
        .query(
            &Stmt::new(
                "INSERT INTO operators (id, name, role, sites, token_hash, created_at, created_by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .bind(op.id.as_str())
            .bind(op.name.as_str())
            .bind(op.role.as_str())
            .bind_json(&op.sites)
            .bind(crate::door::hash_token(&token))
            .bind(now_ms)
            .bind(actor.id.as_str()),
        )
        .await
        .map_err(unavailable)?;
    Ok(
        ApiResponse::json(201, &Issued { item: op, token })
            .with_header("cache-control", "no-store"),
    )
}

/// `GET`, `PUT` (`{name, role, sites}`: the token stays) or `DELETE` (revokes the token at
/// once; the operator stays listed, revoked, so the audit log keeps its names)
/// `/v1/admin/operators/{id}`.
pub async fn operator<S>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    actor: &Actor,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let current = load_operator(api, id).await?;
    if !covers(actor, &current.sites) {
        return Err(outside_scope());
    }
    match req.method {
        Method::Put => {
            if current.revoked_at.is_some() {
                return Err(ApiError::new(
                    409,
                    "revoked",
                    "this operator's token is revoked; create a new operator",
                ));
            }
            let new = req.read_valid(crate::admin::BODY_MAX, "operator", NewOperator::validate)?;
            if !covers(actor, &new.sites) {
                return Err(outside_scope());
            }
            api.sql
                .query(
                    &Stmt::new(
                        "UPDATE operators SET name = ?2, role = ?3, sites = ?4 WHERE id = ?1",
                    )
                    .bind(id)
                    .bind(new.name.trim())
                    .bind(new.role.as_str())
                    .bind_json(&new.sites),
                )
                .await
                .map_err(unavailable)?;
            Ok(ApiResponse::json(
                200,
                &Operator {
                    name: new.name.trim().to_string(),
                    role: new.role,
                    sites: new.sites,
                    ..current
                },
            ))
        }
        Method::Delete => {
            api.sql
                .query(
                    &Stmt::new(
                        "UPDATE operators SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
                    )
                    .bind(id)
                    .bind(now_ms),
                )
                .await
                .map_err(unavailable)?;
            Ok(ApiResponse::empty(204))
        }
        _ => Ok(ApiResponse::json(200, &current).with_header("cache-control", "no-store")),
    }
}

/// `GET /v1/admin/keys`: every read-only API key (revoked ones too), oldest first.
pub async fn list_keys<S>(api: &Api<'_, S>, actor: &Actor) -> Result<ApiResponse, ApiError> {
    let found: Vec<OperatorRow> = rows(
        api.sql,
        Stmt::new(format!(
            "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id LIMIT ?1"
        ))
        .bind(LIST_MAX),
    )
    .await
    .map_err(unavailable)?;
    let keys: Vec<ApiKey> = found
        .into_iter()
        .map(OperatorRow::into_key)
        .filter(|k| covers(actor, &k.sites))
        .collect();
    Ok(ApiResponse::json(200, &json!({ "keys": keys })).with_header("cache-control", "no-store"))
}

/// `POST /v1/admin/keys` `{name, sites}` → 201 with the key and its `token`, shown once.
pub async fn create_key<S>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    actor: &Actor,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let new = req.read_valid(crate::admin::BODY_MAX, "API key", NewApiKey::validate)?;
    if !covers(actor, &new.sites) {
        return Err(outside_scope());
    }
    let token = new_token(api, glimpse_shared::team::API_KEY_PREFIX)?;
    let key = ApiKey {
        id: crate::core::fresh_id(api)?,
        name: new.name.trim().to_string(),
        sites: new.sites,
        created_at: now_ms,
        created_by: actor.id.clone(),
        revoked_at: None,
    };
    api.sql
        .query(
            &Stmt::new(
                "INSERT INTO api_keys (id, name, sites, token_hash, created_at, created_by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(key.id.as_str())
            .bind(key.name.as_str())
            .bind_json(&key.sites)
            .bind(crate::door::hash_token(&token))
            .bind(now_ms)
            .bind(actor.id.as_str()),
        )
        .await
        .map_err(unavailable)?;
    Ok(ApiResponse::json(201, &Issued { item: key, token })
        .with_header("cache-control", "no-store"))
}

/// `GET` or `DELETE` (revoke at once) `/v1/admin/keys/{id}`.
pub async fn key<S>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    actor: &Actor,
    id: &str,
    now_ms: Millis,
) -> Result<ApiResponse, ApiError> {
    let current = first::<OperatorRow>(
        api.sql,
        Stmt::new(format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1")).bind(id),
    )
    .await
    .map_err(unavailable)?
    .map(OperatorRow::into_key)
    .ok_or_else(|| ApiError::not_found("API key"))?;
    if !covers(actor, &current.sites) {
        return Err(outside_scope());
    }
    if req.method == Method::Delete {
        api.sql
            .query(
                &Stmt::new(
                    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
                )
                .bind(id)
                .bind(now_ms),
            )
            .await
            .map_err(unavailable)?;
        return Ok(ApiResponse::empty(204));
    }
    Ok(ApiResponse::json(200, &current).with_header("cache-control", "no-store"))
}

/// Audit entries a page holds unless `limit` says otherwise, and at most.
pub const AUDIT_PAGE: usize = 100;
pub const AUDIT_PAGE_MAX: usize = 500;

#[derive(Deserialize)]
struct AuditRow {
    seq: i64,
    at: Millis,
    actor: String,
    actor_name: String,
    site: Option<String>,
    action: String,
    status: i64,
}

/// `GET /v1/admin/audit?site=&limit=&before=`: the audit log, newest first, a page at a time
/// (`next`: the `before` of the page after it, or `null`); with `site`, that site's writes
/// only. An owner of some sites must name one of theirs. One indexed query.
pub async fn list_audit<S>(
    api: &Api<'_, S>,
    req: &ApiRequest,
    actor: &Actor,
) -> Result<ApiResponse, ApiError> {
    let limit = match req.query_param("limit") {
        None => AUDIT_PAGE,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=AUDIT_PAGE_MAX).contains(n))
            .ok_or_else(|| {
                ApiError::new(
                    400,
                    "invalid",
                    format!("limit is a number from 1 to {AUDIT_PAGE_MAX}"),
                )
                .with_field("limit")
            })?,
    };
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
    let site = req.query_param("site");
    if let Some(s) = &site
        && !glimpse_shared::ids::is_slug(s)
    {
        return Err(
            ApiError::new(400, "invalid", "site must match [a-z0-9][a-z0-9-]{0,62}")
                .with_field("site"),
        );
    }
    match &site {
        Some(s) if !actor.has_site(s) => {
            return Err(ApiError::new(
                403,
                "forbidden",
                format!("your token is not for site {s}"),
            ));
        }
        None if !actor.all_sites() => {
            return Err(
                ApiError::new(400, "invalid", "name one of your sites: ?site=<id>")
                    .with_field("site"),
            );
        }
        _ => {}
    }
    let sql_limit = i64::try_from(limit).unwrap_or(100) + 1;
    let stmt = match &site {
        Some(s) => Stmt::new(
            "SELECT seq, at, actor, actor_name, site, action, status FROM audit \
             WHERE site = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
        )
        .bind(s.as_str())
        .bind(before)
        .bind(sql_limit),
        None => Stmt::new(
            "SELECT seq, at, actor, actor_name, site, action, status FROM audit \
             WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
        )
        .bind(before)
        .bind(sql_limit),
    };
    let mut found: Vec<AuditRow> = rows(api.sql, stmt).await.map_err(unavailable)?;
    let next = if found.len() > limit {
        found.truncate(limit);
        found.last().map(|r| r.seq.to_string())
    } else {
        None
    };
    let entries: Vec<AuditEntry> = found
        .into_iter()
        .map(|r| AuditEntry {
            at: r.at,
            actor: r.actor,
            actor_name: r.actor_name,
            site: r.site,
            action: r.action,
            status: u16::try_from(r.status).unwrap_or(0),
        })
        .collect();
    Ok(
        ApiResponse::json(200, &json!({ "entries": entries, "next": next }))
            .with_header("cache-control", "no-store"),
    )
}
