//! The queue port: ingestion that must not cost the visitor's request. A vote, an event
//! batch or a question is written to KV as the visitor's record and sent as one
//! [`Message`]; the consumer ([`crate::consumer`]) applies message batches to D1. The edge
//! implements [`Queue`] over a Cloudflare Queue producer; tests use [`MemoryQueue`], which
//! can deliver twice, out of order and in any batch size.

use std::cell::RefCell;

use glimpse_shared::events::StoredBatch;
use glimpse_shared::question::Question;
use glimpse_shared::{Millis, Vote};
use serde::{Deserialize, Serialize};

use crate::sql::{Counts, LocalFuture};
use crate::store::StoreError;

/// Most messages in one send (Cloudflare Queues' `sendBatch` limit).
pub const SEND_BATCH_MAX: usize = 100;

/// One unit of deferred work. Delivery is at least once and in no particular order; every
/// consumer of these is idempotent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// A visitor's poll answer as recorded (the KV vote record).
    Vote {
        site: String,
        poll: String,
        visitor: String,
        vote: Vote,
    },
    /// An event batch as recorded, named by its client id.
    Events {
        site: String,
        id: String,
        batch: StoredBatch,
    },
    /// A question as recorded; `token` is never sent (the field is empty).
    Question { site: String, question: Question },
    /// A visitor's follow-up message in their thread `question`.
    FollowUp {
        site: String,
        question: String,
        visitor: String,
        id: String,
        followup: glimpse_shared::question::FollowUp,
    },
    /// A question asked in a live session, as the room recorded it.
    LiveQuestion {
        site: String,
        session: String,
        id: String,
        visitor: String,
        text: String,
        at: Millis,
    },
    /// A live question's counted upvote (each visitor's first only).
    LiveVote {
        site: String,
        session: String,
        question: String,
        visitor: String,
        at: Millis,
    },
    /// The cron's fan-out: start the per-site work of every site after `after` (in id
    /// order), a page at a time.
    Fanout {
        after: Option<String>,
        now_ms: Millis,
    },
    /// The cron's work for one site.
    Tick { site: String, now_ms: Millis },
    /// One attempt (1-based) at delivering `event` to webhook `hook` of the event's site
    /// ([`crate::webhooks::deliver`]). At the edge these go to their own queue, so a slow
    /// receiver never holds up ingestion.
    Webhook {
        hook: String,
        event: glimpse_shared::webhook::Envelope,
        attempt: u32,
    },
}

impl Message {
    /// The site this message is about (`None` for the fan-out).
    pub fn site(&self) -> Option<&str> {
        match self {
            Self::Vote { site, .. }
            | Self::Events { site, .. }
            | Self::Question { site, .. }
            | Self::FollowUp { site, .. }
            | Self::LiveQuestion { site, .. }
            | Self::LiveVote { site, .. }
            | Self::Tick { site, .. } => Some(site),
            Self::Webhook { event, .. } => Some(&event.site),
            Self::Fanout { .. } => None,
        }
    }
}

/// A queue producer. Object-safe, so the API core holds a `&dyn Queue`.
pub trait Queue {
    /// Sends `messages` (at most [`SEND_BATCH_MAX`]) in one call: all are accepted or the
    /// call fails.
    fn send<'a>(&'a self, messages: &'a [Message]) -> LocalFuture<'a, Result<(), StoreError>>;

    /// Sends one message to be delivered no sooner than `delay_s` seconds from now (at most
    /// 43,200: Cloudflare Queues' 12 hours).
    fn send_delayed<'a>(
        &'a self,
        message: &'a Message,
        delay_s: u32,
    ) -> LocalFuture<'a, Result<(), StoreError>>;
}

/// Most bytes of message bodies in one send (Cloudflare Queues: 256 KB per `sendBatch`,
/// with room for each message's ~100 bytes of metadata).
pub const SEND_BATCH_BYTES: usize = 240_000;

/// Splits `messages` into sends within both limits: at most [`SEND_BATCH_MAX`] messages and
/// [`SEND_BATCH_BYTES`] of JSON each (a single message is always its own send). Pure.
pub fn send_chunks(messages: &[Message]) -> Vec<&[Message]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, m) in messages.iter().enumerate() {
        let size = serde_json::to_string(m).map_or(0, |s| s.len());
        if i > start && (i - start >= SEND_BATCH_MAX || bytes + size > SEND_BATCH_BYTES) {
            out.push(&messages[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < messages.len() {
        out.push(&messages[start..]);
    }
    out
}

/// Sends `messages` in as few calls as the batch limits allow ([`send_chunks`]).
pub async fn send_all(queue: &dyn Queue, messages: &[Message]) -> Result<(), StoreError> {
    for chunk in send_chunks(messages) {
        queue.send(chunk).await?;
    }
    Ok(())
}

/// An in-memory queue for native tests and tools: messages wait until taken.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    pending: RefCell<Vec<Message>>,
    /// The delay of every [`Queue::send_delayed`], in order (the message is pending at once:
    /// tests deliver it when they choose).
    pub delays: RefCell<Vec<u32>>,
    /// Fail every send while set (a queue outage).
    pub failing: std::cell::Cell<bool>,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes up to `n` waiting messages, oldest first.
    pub fn take(&self, n: usize) -> Vec<Message> {
        let mut pending = self.pending.borrow_mut();
        let n = n.min(pending.len());
        pending.drain(..n).collect()
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.pending.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.borrow().is_empty()
    }

    /// A copy of what is waiting, to deliver again (duplicates) or reorder.
    pub fn peek(&self) -> Vec<Message> {
        self.pending.borrow().clone()
    }

    /// Puts messages back (a redelivery).
    pub fn push(&self, messages: impl IntoIterator<Item = Message>) {
        self.pending.borrow_mut().extend(messages);
    }
}

impl Queue for MemoryQueue {
    fn send<'a>(&'a self, messages: &'a [Message]) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if self.failing.get() {
                return Err(StoreError("queue send failed".into()));
            }
            if messages.len() > SEND_BATCH_MAX {
                return Err(StoreError(format!(
                    "{} messages in one send, over {SEND_BATCH_MAX}",
                    messages.len()
                )));
            }
            let bytes: usize = messages
                .iter()
                .map(|m| serde_json::to_string(m).map_or(0, |s| s.len()))
                .sum();
            if messages.len() > 1 && bytes > SEND_BATCH_BYTES {
                return Err(StoreError(format!(
                    "{bytes} bytes in one send, over {SEND_BATCH_BYTES}"
                )));
            }
            self.pending.borrow_mut().extend_from_slice(messages);
            Ok(())
        })
    }

    fn send_delayed<'a>(
        &'a self,
        message: &'a Message,
        delay_s: u32,
    ) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.send(std::slice::from_ref(message)).await?;
            self.delays.borrow_mut().push(delay_s);
            Ok(())
        })
    }
}

/// A [`Queue`] that counts what passes through it.
pub struct CountingQueue<'a> {
    pub inner: &'a dyn Queue,
    pub counts: &'a Counts,
}

impl Queue for CountingQueue<'_> {
    fn send<'a>(&'a self, messages: &'a [Message]) -> LocalFuture<'a, Result<(), StoreError>> {
        self.counts
            .queue_calls
            .set(self.counts.queue_calls.get().saturating_add(1));
        self.counts.queue_messages.set(
            self.counts
                .queue_messages
                .get()
                .saturating_add(messages.len()),
        );
        self.inner.send(messages)
    }

    fn send_delayed<'a>(
        &'a self,
        message: &'a Message,
        delay_s: u32,
    ) -> LocalFuture<'a, Result<(), StoreError>> {
        self.counts
            .queue_calls
            .set(self.counts.queue_calls.get().saturating_add(1));
        self.counts
            .queue_messages
            .set(self.counts.queue_messages.get().saturating_add(1));
        self.inner.send_delayed(message, delay_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glimpse_shared::events::{Event, EventKind};

    fn batch(n: usize, events: usize) -> Message {
        Message::Events {
            site: "demo".into(),
            id: format!("batch{n:020}"),
            batch: StoredBatch {
                visitor: "visitor0000000000001".into(),
                received_at: 0,
                events: (0..events)
                    .map(|_| Event {
                        kind: EventKind::StoryView {
                            story: "a-story-with-a-long-id-".repeat(2),
                        },
                        at: None,
                    })
                    .collect(),
            },
        }
    }

    #[test]
    fn sends_stay_within_the_count_and_byte_limits() {
        let small: Vec<Message> = (0..250).map(|n| batch(n, 1)).collect();
        let sizes: Vec<usize> = send_chunks(&small).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [100, 100, 50]);
        // Batches of 50 events are ~4 KB each: a send holds about 60 of them.
        let big: Vec<Message> = (0..250).map(|n| batch(n, 50)).collect();
        let chunks = send_chunks(&big);
        assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), 250);
        for c in &chunks {
            let bytes: usize = c
                .iter()
                .map(|m| serde_json::to_string(m).map_or(0, |s| s.len()))
                .sum();
            assert!(
                bytes <= SEND_BATCH_BYTES && c.len() <= SEND_BATCH_MAX,
                "{bytes}"
            );
        }
        assert!(chunks.len() >= 4, "{}", chunks.len());
        assert!(send_chunks(&[]).is_empty());
    }
}
