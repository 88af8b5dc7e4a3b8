//! The permanent knowledge base: entries written when stories are published and questions
//! resolved (no expiration), an index rebuilt from them on every KB write (one read per
//! search), the search endpoint and a plain HTML page per site that needs no JavaScript.

use glimpse_shared::events::StoredBatch;
use glimpse_shared::kb::{KbEntry, KbSource, Popularity, popularity, search, with_popularity};
use glimpse_shared::question::{Question, Thread, preview};
use glimpse_shared::{ApiError, Millis, SiteSnapshot, Story, keys};
use serde_json::json;

use crate::core::unavailable;
use crate::http::{ApiRequest, ApiResponse};
use crate::store::{KvStore, Put, list_all};

/// The entry a story becomes.
pub fn from_story(story: &Story) -> KbEntry {
    KbEntry {
        id: format!("story-{}", story.id),
        source: KbSource::Story,
        topic: story.topic.clone(),
        title: story.title.clone(),
        body: story
            .slides
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        created_at: story.publish_at,
        views: 0,
        helped: 0,
    }
}

/// The entry a resolved question becomes, filed under its resolution category.
pub fn from_question(q: &Question, thread: &Thread, category: &str, now_ms: Millis) -> KbEntry {
    let mut body = q.message.clone();
    for r in &thread.replies {
        body.push('\n');
        body.push_str(&r.text);
    }
    KbEntry {
        id: format!("question-{}", q.id),
        source: KbSource::Question,
        topic: category.to_string(),
        title: preview(&q.message),
        body,
        created_at: now_ms,
        views: 0,
        helped: 0,
    }
}

/// Writes (`Some`) or removes (`None`) entry `id`, then rebuilds the index with that change
/// applied explicitly (a listing may lag a write).
pub async fn write<S: KvStore>(
    store: &S,
    site: &str,
    id: &str,
    entry: Option<&KbEntry>,
) -> Result<(), ApiError> {
    let key = keys::kb_entry(site, id);
    match entry {
        Some(e) => {
            let json = serde_json::to_string(e)
                .map_err(|_| ApiError::new(500, "internal", "entry could not be encoded"))?;
            store
                .put(&key, &json, Put::default())
                .await
                .map_err(unavailable)?;
        }
        None => store.delete(&key).await.map_err(unavailable)?,
    }
    let prefix = keys::kb_prefix(site);
    let mut all: Vec<KbEntry> = Vec::new();
    for k in list_all(store, &prefix, 20).await.map_err(unavailable)? {
        if k.name == key {
            continue;
        }
        if let Some(raw) = store.get(&k.name).await.map_err(unavailable)?
            && let Ok(e) = serde_json::from_str(&raw)
        {
            all.push(e);
        }
    }
    all.extend(entry.cloned());
    let json = serde_json::to_string(&all)
        .map_err(|_| ApiError::new(500, "internal", "index could not be encoded"))?;
    store
        .put(&keys::kb_index(site), &json, Put::default())
        .await
        .map_err(unavailable)
}

/// The index with the latest counted popularity applied (two reads).
async fn index<S: KvStore>(store: &S, site: &str) -> Result<Vec<KbEntry>, ApiError> {
    let entries: Vec<KbEntry> = store
        .get(&keys::kb_index(site))
        .await
        .map_err(unavailable)?
        .and_then(|raw| serde_json::from_str(&raw).ok())
        .unwrap_or_default();
    let pop: Popularity = store
        .get(&keys::kb_popularity(site))
        .await
        .map_err(unavailable)?
        .and_then(|raw| serde_json::from_str(&raw).ok())
        .unwrap_or_default();
    Ok(with_popularity(entries, &pop))
}

/// Most event batches read per recount (Workers allow about a thousand KV operations per
/// invocation).
const RECOUNT_BATCHES_MAX: usize = 900;

/// Recounts views and "helped" votes from the newest event batches into `kbpop` (a derived
/// value, written whole; nothing is incremented). Run hourly by the scheduled handler and on
/// demand by operators.
pub async fn recount<S: KvStore>(store: &S, site: &str) -> Result<Popularity, ApiError> {
    let mut listed = list_all(store, &keys::events_prefix(site, None), 50)
        .await
        .map_err(unavailable)?;
    // Keys sort by day: the newest batches are last.
    let skip = listed.len().saturating_sub(RECOUNT_BATCHES_MAX);
    listed.drain(..skip);
    let mut batches: Vec<StoredBatch> = Vec::with_capacity(listed.len());
    for k in listed {
        if let Some(raw) = store.get(&k.name).await.map_err(unavailable)?
            && let Ok(b) = serde_json::from_str(&raw)
        {
            batches.push(b);
        }
    }
    let pop = popularity(&batches);
    let json = serde_json::to_string(&pop)
        .map_err(|_| ApiError::new(500, "internal", "popularity could not be encoded"))?;
    store
        .put(&keys::kb_popularity(site), &json, Put::default())
        .await
        .map_err(unavailable)?;
    Ok(pop)
}

/// `GET /v1/sites/{site}/kb?q=&topic=` → ranked results.
pub async fn search_json<S: KvStore>(
    store: &S,
    req: &ApiRequest,
    snapshot: &SiteSnapshot,
) -> Result<ApiResponse, ApiError> {
    let q = req.query_param("q").unwrap_or_default();
    if q.chars().count() > 200 {
        return Err(ApiError::new(400, "invalid", "q is at most 200 characters").with_field("q"));
    }
    let topic = req.query_param("topic").filter(|t| !t.is_empty());
    if let Some(t) = &topic
        && !glimpse_shared::ids::is_slug(t)
    {
        return Err(ApiError::new(400, "invalid", "topic must be a slug").with_field("topic"));
    }
    let entries = index(store, &snapshot.site.id).await?;
    let hits = search(&entries, &q, topic.as_deref(), 20);
    Ok(
        ApiResponse::json(200, &json!({ "query": q, "results": hits }))
            .with_header("cache-control", "public, max-age=30"),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `GET /kb/{site}`: the knowledge base as a plain, permanent HTML page, searchable with an
/// ordinary form. Everything authored is escaped. All of it sits in one `main` landmark, with
/// the form as a named `search` landmark (axe-core checks it in e2e/tests/a11y.rs).
pub async fn page<S: KvStore>(
    store: &S,
    req: &ApiRequest,
    snapshot: &SiteSnapshot,
) -> Result<ApiResponse, ApiError> {
    let site = &snapshot.site;
    let q = req.query_param("q").unwrap_or_default();
    let q: String = q.chars().take(200).collect();
    let entries = index(store, &site.id).await?;
    let hits = search(&entries, &q, None, 200);
    let mut html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{name} — Help</title><style>body{{font-family:system-ui,sans-serif;max-width:760px;margin:0 auto;padding:24px;line-height:1.5;color:#1b1820}}\
         h2{{margin-top:32px;border-bottom:1px solid #ddd}}article{{margin:16px 0}}p{{white-space:pre-line;margin:4px 0}}</style></head>\
         <body><main><h1>{name} — Help</h1>\
         <form method=\"get\" role=\"search\" aria-label=\"Help articles\"><label>Search <input type=\"search\" name=\"q\" value=\"{qv}\"></label> \
         <button type=\"submit\">Search</button></form>",
        lang = escape(&site.language),
        name = escape(&site.name),
        qv = escape(&q),
    );
    if hits.is_empty() {
        html.push_str("<p>No articles found.</p>");
    }
    let mut topics: Vec<&str> = hits.iter().map(|h| h.entry.topic.as_str()).collect();
    topics.dedup();
    let mut seen_topics: Vec<&str> = Vec::new();
    for t in topics {
        if seen_topics.contains(&t) {
            continue;
        }
        seen_topics.push(t);
        let label = site.topic(t).map(|x| x.label.as_str()).unwrap_or(t);
        html.push_str(&format!("<section><h2>{}</h2>", escape(label)));
        for h in hits.iter().filter(|h| h.entry.topic == t) {
            html.push_str(&format!(
                "<article id=\"{}\"><h3>{}</h3><p>{}</p></article>",
                escape(&h.entry.id),
                escape(&h.entry.title),
                escape(&h.entry.body)
            ));
        }
        html.push_str("</section>");
    }
    html.push_str("</main></body></html>");
    Ok(ApiResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), "text/html; charset=utf-8".into()),
            ("cache-control".into(), "public, max-age=60".into()),
        ],
        body: html,
        binary: None,
    })
}
