//! Privacy: everything stored about one anonymous visitor id, exported as JSON or erased.
//! Visitors are only ever identified by the random id their browser made; no cookies. The
//! knowledge base holds a visitor's words only when an operator published an answer they
//! wrote to that visitor's question; such entries remember the visitor, are listed in the
//! export and removed by the erasure.

use glimpse_shared::events::StoredBatch;
use glimpse_shared::kb::KbEntry;
use glimpse_shared::question::Question;
use glimpse_shared::{ApiError, Vote, keys};
use serde::Serialize;

use crate::core::{Api, unavailable};
use crate::http::ApiResponse;
use crate::store::{KvStore, list_all};

const PAGES: usize = 100;

/// What is stored for a visitor, with the KV keys that hold it.
#[derive(Debug, Default, Serialize)]
pub struct VisitorData {
    pub visitor: String,
    /// `(poll, vote)`.
    pub votes: Vec<(String, Vote)>,
    pub event_batches: Vec<StoredBatch>,
    pub questions: Vec<Question>,
    /// Knowledge-base entries an operator published in answer to the visitor's questions.
    pub knowledge_base: Vec<KbEntry>,
    #[serde(skip)]
    keys: Vec<String>,
}

async fn collect<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    visitor: &str,
) -> Result<VisitorData, ApiError> {
    let mut out = VisitorData {
        visitor: visitor.to_string(),
        ..VisitorData::default()
    };
    // Votes: one key per (poll, visitor); the visitor id is the key's last segment.
    let votes_prefix = format!("site/{site}/vote/");
    for k in list_all(api.store, &votes_prefix, PAGES)
        .await
        .map_err(unavailable)?
    {
        let rest = k.name.strip_prefix(&votes_prefix).unwrap_or("");
        if let Some((poll, v)) = rest.split_once('/')
            && v == visitor
        {
            if let Some(vote) = k.metadata.and_then(|m| serde_json::from_value(m).ok()) {
                out.votes.push((poll.to_string(), vote));
            }
            out.keys.push(k.name.clone());
        }
    }
    // Event batches carry their visitor.
    for k in list_all(api.store, &keys::events_prefix(site, None), PAGES)
        .await
        .map_err(unavailable)?
    {
        if let Some(raw) = api.store.get(&k.name).await.map_err(unavailable)?
            && let Ok(b) = serde_json::from_str::<StoredBatch>(&raw)
            && b.visitor == visitor
        {
            out.event_batches.push(b);
            out.keys.push(k.name);
        }
    }
    // Questions, with their photo, replies and resolution.
    for k in list_all(api.store, &keys::questions_prefix(site), PAGES)
        .await
        .map_err(unavailable)?
    {
        if let Some(raw) = api.store.get(&k.name).await.map_err(unavailable)?
            && let Ok(q) = serde_json::from_str::<Question>(&raw)
            && q.visitor == visitor
        {
            out.keys.push(k.name);
            out.keys.push(keys::question_photo(site, &q.id));
            out.keys.push(keys::resolution(site, &q.id));
            for r in list_all(api.store, &keys::replies_prefix(site, &q.id), PAGES)
                .await
                .map_err(unavailable)?
            {
                out.keys.push(r.name);
            }
            // Never exported: not even the token's hash leaves storage.
            out.questions.push(Question {
                token: String::new(),
                ..q
            });
        }
    }
    out.knowledge_base = crate::kb::of_visitor(api.sql, site, visitor).await?;
    Ok(out)
}

/// `GET /v1/admin/sites/{site}/visitors/{visitor}`: everything stored for that visitor.
pub async fn export<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    visitor: &str,
) -> Result<ApiResponse, ApiError> {
    let data = collect(api, site, visitor).await?;
    Ok(ApiResponse::json(200, &data))
}

/// `DELETE /v1/admin/sites/{site}/visitors/{visitor}`: erases it all; safe to repeat.
pub async fn erase<S: KvStore>(
    api: &Api<'_, S>,
    site: &str,
    visitor: &str,
) -> Result<ApiResponse, ApiError> {
    let data = collect(api, site, visitor).await?;
    // The visitor's current answers leave the tallies and day counters with their rows.
    api.sql
        .batch(&crate::ingest::erase_votes(site, visitor))
        .await
        .map_err(unavailable)?;
    for key in &data.keys {
        api.store.delete(key).await.map_err(unavailable)?;
    }
    if !data.knowledge_base.is_empty() {
        let removals: Vec<(&str, Option<&KbEntry>)> = data
            .knowledge_base
            .iter()
            .map(|e| (e.id.as_str(), None))
            .collect();
        crate::kb::write(api.sql, site, &removals).await?;
    }
    Ok(ApiResponse::json(
        200,
        &serde_json::json!({
            "visitor": visitor,
            "erased": {
                "votes": data.votes.len(),
                "event_batches": data.event_batches.len(),
                "questions": data.questions.len(),
                "knowledge_base": data.knowledge_base.len(),
            }
        }),
    ))
}
