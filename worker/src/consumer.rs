//! The queue consumer: applies one delivered batch of [`Message`]s. Ingestion (votes, event
//! batches, questions) reads what it needs from D1 in a few queries, decides its writes with
//! pure code, and writes them in **one D1 transaction** (`batch`) — all or nothing, so a
//! consumer that fails half-way leaves nothing behind and the redelivered batch applies
//! exactly once. Every write is idempotent by the facts' own ids (a vote's response id, a
//! batch id, a question id): a duplicate or late message changes nothing.
//!
//! The cron's work arrives here too: [`Message::Fanout`] pages through the sites table and
//! sends one [`Message::Tick`] per site, so no invocation walks every site.
//!
//! The consumer runs with `max_concurrency = 1` (wrangler.toml): reads and the transaction
//! that follows never race another consumer. Shards at scale are separate queues (see
//! ARCHITECTURE.md, capacity model).

use glimpse_shared::{Millis, keys};

use crate::queue::{Message, Queue, send_all};
use crate::sql::{Sql, Stmt, rows};
use crate::store::{KvStore, StoreError};

/// What the consumer works with: KV (the visitors' records), D1 and the queue itself.
pub struct Ports<'a, S> {
    pub store: &'a S,
    pub sql: &'a dyn Sql,
    pub queue: &'a dyn Queue,
    /// R2: the media library's files (the retention sweep deletes unused ones).
    pub blobs: &'a dyn crate::media::Blobs,
    /// Webhook receivers: one POST per [`Message::Webhook`].
    pub deliver: &'a dyn crate::webhooks::Deliver,
}

/// Sites one fan-out message starts (one queue send of that many ticks plus the next page).
pub const FANOUT_PAGE: usize = 99;

/// Applies `messages` (one delivered batch, any order, possibly repeated). `Err` means
/// nothing of the ingestion was written: the batch should be retried whole.
pub async fn consume<S: KvStore>(
    ports: &Ports<'_, S>,
    messages: &[Message],
    now_ms: Millis,
) -> Result<(), StoreError> {
    let ingest: Vec<&Message> = messages.iter().filter(|m| fact(m).is_some()).collect();
    let ingest = drop_deleted_sites(ports, ingest).await?;
    let ingest = drop_erased(ports, ingest).await?;
    let ingest = drop_deleted_questions(ports, ingest).await?;
    if !ingest.is_empty() {
        let mut writes: Vec<Stmt> = Vec::new();
        writes.extend(crate::ingest::plan(ports.sql, &ingest, now_ms).await?);
        let (question_writes, asked) =
            crate::questions::plan_ingest(ports.sql, &ingest, now_ms).await?;
        writes.extend(question_writes);
        writes.extend(crate::questions::plan_followups(&ingest));
        writes.extend(crate::live::plan_facts(&ingest));
        let events = crate::alerts::from_facts(ports.sql, &ingest, &asked, now_ms).await?;
        if !writes.is_empty() {
            ports.sql.batch(&writes).await?;
        }
        // After the facts are written: a retried batch finds them known and alerts nothing
        // twice.
        crate::webhooks::emit(ports.sql, ports.queue, &events).await;
    }
    for m in messages {
        match m {
            Message::Fanout { after, now_ms } => fanout(ports, after.as_deref(), *now_ms).await?,
            Message::Tick { site, now_ms } => crate::retention::tick(ports, site, *now_ms).await?,
            Message::Webhook {
                hook,
                event,
                attempt,
            } => {
                crate::webhooks::deliver(
                    ports.sql,
                    ports.queue,
                    ports.deliver,
                    hook,
                    event,
                    *attempt,
                    now_ms,
                )
                .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The visitor a visitor's message is about and when it was recorded, or `None` for the
/// cron's messages.
pub fn fact(m: &Message) -> Option<(&str, &str, Millis)> {
    match m {
        Message::Vote {
            site,
            visitor,
            vote,
            ..
        } => Some((site, visitor, vote.at)),
        Message::Events { site, batch, .. } => Some((site, &batch.visitor, batch.received_at)),
        Message::Question { site, question } => {
            Some((site, &question.visitor, question.created_at))
        }
        Message::FollowUp {
            site,
            visitor,
            followup,
            ..
        } => Some((site, visitor, followup.at)),
        Message::LiveQuestion {
            site, visitor, at, ..
        }
        | Message::LiveVote {
            site, visitor, at, ..
        } => Some((site, visitor, *at)),
        Message::Fanout { .. } | Message::Tick { .. } | Message::Webhook { .. } => None,
    }
}

#[derive(serde::Deserialize)]
struct ErasedRow {
    site: String,
    visitor: String,
    at: Millis,
}

/// Whether `m` was recorded before its visitor was erased (pure).
pub fn is_erased(m: &Message, erased: &[(String, String, Millis)]) -> bool {
    fact(m).is_some_and(|(site, visitor, at)| {
        erased
            .iter()
            .any(|(s, v, when)| s == site && v == visitor && at <= *when)
    })
}

/// Drops the visitors' messages of sites that no longer exist: deleting a site removes its
/// configuration key first (`crate::sites`), so a message still on its way when the operator
/// deleted the site cannot bring its rows back. One KV read per distinct site in the batch.
async fn drop_deleted_sites<'m, S: KvStore>(
    ports: &Ports<'_, S>,
    ingest: Vec<&'m Message>,
) -> Result<Vec<&'m Message>, StoreError> {
    let mut exists: std::collections::BTreeMap<&str, bool> = std::collections::BTreeMap::new();
    for m in &ingest {
        if let Some((site, _, _)) = fact(m)
            && !exists.contains_key(site)
        {
            let found = ports.store.get(&keys::site(site)).await?.is_some();
            exists.insert(site, found);
        }
    }
    Ok(ingest
        .into_iter()
        .filter(|m| fact(m).is_some_and(|(site, _, _)| exists.get(site) == Some(&true)))
        .collect())
}

/// Drops the messages of visitors erased after they were recorded (one query), and deletes
/// the KV records those messages name: an erasure that ran while they waited in the queue
/// could not see them. A vote record is deleted only if it still holds that message's
/// answer (the visitor may have answered again since).
async fn drop_erased<'m, S: KvStore>(
    ports: &Ports<'_, S>,
    ingest: Vec<&'m Message>,
) -> Result<Vec<&'m Message>, StoreError> {
    if ingest.is_empty() {
        return Ok(ingest);
    }
    let pairs: Vec<[&str; 2]> = ingest
        .iter()
        .filter_map(|m| fact(m).map(|(s, v, _)| [s, v]))
        .collect();
    let rows: Vec<ErasedRow> = rows(
        ports.sql,
        Stmt::new(
            "SELECT site, visitor, at FROM erased WHERE (site, visitor) IN \
             (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1))",
        )
        .bind_json(&pairs),
    )
    .await?;
    if rows.is_empty() {
        return Ok(ingest);
    }
    let erased: Vec<(String, String, Millis)> = rows
        .into_iter()
        .map(|r| (r.site, r.visitor, r.at))
        .collect();
    let mut keep = Vec::with_capacity(ingest.len());
    for m in ingest {
        if !is_erased(m, &erased) {
            keep.push(m);
            continue;
        }
        match m {
            Message::Vote {
                site,
                poll,
                visitor,
                vote,
            } => {
                ports
                    .store
                    .delete(&keys::response(site, poll, &vote.id))
                    .await?;
                // What versions before 0.17 wrote for the response (a message queued across
                // the upgrade): the visitor's vote key, if it still holds this response, and
                // the receipt.
                let key = keys::vote(site, poll, visitor);
                let current: Option<glimpse_shared::Vote> = ports
                    .store
                    .get(&key)
                    .await?
                    .and_then(|raw| crate::json::from_str(&raw).ok());
                if current.is_some_and(|c| c.id == vote.id) {
                    ports.store.delete(&key).await?;
                }
                ports
                    .store
                    .delete(&keys::receipt(site, poll, &vote.id))
                    .await?;
            }
            Message::Events { site, id, batch } => {
                let day = glimpse_shared::time::utc_date(batch.received_at);
                ports.store.delete(&keys::events(site, &day, id)).await?;
            }
            Message::Question { site, question } => {
                ports
                    .store
                    .delete(&keys::question(site, &question.id))
                    .await?;
                ports
                    .store
                    .delete(&keys::question_photo(site, &question.id))
                    .await?;
            }
            // The follow-up was never stored anywhere but in the message.
            Message::FollowUp { .. }
            | Message::LiveQuestion { .. }
            | Message::LiveVote { .. }
            | Message::Fanout { .. }
            | Message::Tick { .. }
            | Message::Webhook { .. } => {}
        }
    }
    Ok(keep)
}

/// Drops question and follow-up messages whose question's KV record is gone: the visitor
/// deleted the conversation (or it expired) while the message waited, and it must not
/// reappear in the inbox. One KV read per such message (at most 100 per batch).
async fn drop_deleted_questions<'m, S: KvStore>(
    ports: &Ports<'_, S>,
    ingest: Vec<&'m Message>,
) -> Result<Vec<&'m Message>, StoreError> {
    let mut keep = Vec::with_capacity(ingest.len());
    for m in ingest {
        let question = match m {
            Message::Question { site, question } => Some((site, question.id.as_str())),
            Message::FollowUp { site, question, .. } => Some((site, question.as_str())),
            _ => None,
        };
        if let Some((site, id)) = question
            && ports.store.get(&keys::question(site, id)).await?.is_none()
        {
            continue;
        }
        keep.push(m);
    }
    Ok(keep)
}

#[derive(serde::Deserialize)]
struct SiteRow {
    site: String,
}

/// One page of the fan-out: a tick for each of the next [`FANOUT_PAGE`] sites after `after`,
/// and, if the page was full, the fan-out message for the page after it.
async fn fanout<S: KvStore>(
    ports: &Ports<'_, S>,
    after: Option<&str>,
    now_ms: Millis,
) -> Result<(), StoreError> {
    let page: Vec<SiteRow> = rows(
        ports.sql,
        Stmt::new("SELECT site FROM sites WHERE site > ?1 ORDER BY site LIMIT ?2")
            .bind(after.unwrap_or(""))
            .bind(i64::try_from(FANOUT_PAGE).unwrap_or(99)),
    )
    .await?;
    let mut out: Vec<Message> = page
        .iter()
        .map(|r| Message::Tick {
            site: r.site.clone(),
            now_ms,
        })
        .collect();
    if page.len() == FANOUT_PAGE
        && let Some(last) = page.last()
    {
        out.push(Message::Fanout {
            after: Some(last.site.clone()),
            now_ms,
        });
    }
    send_all(ports.queue, &out).await
}
