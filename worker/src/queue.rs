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
    /// The cron's fan-out: start the per-site work of every site after `after` (in id
    /// order), a page at a time.
    Fanout {
        after: Option<String>,
        now_ms: Millis,
    },
    /// The cron's work for one site.
    Tick { site: String, now_ms: Millis },
}

impl Message {
    /// The site this message is about (`None` for the fan-out).
    pub fn site(&self) -> Option<&str> {
        match self {
            Self::Vote { site, .. }
            | Self::Events { site, .. }
            | Self::Question { site, .. }
            | Self::Tick { site, .. } => Some(site),
            Self::Fanout { .. } => None,
        }
    }
}

/// A queue producer. Object-safe, so the API core holds a `&dyn Queue`.
pub trait Queue {
    /// Sends `messages` (at most [`SEND_BATCH_MAX`]) in one call: all are accepted or the
    /// call fails.
    fn send<'a>(&'a self, messages: &'a [Message]) -> LocalFuture<'a, Result<(), StoreError>>;
}

/// Sends `messages` in as few calls as the batch limit allows.
pub async fn send_all(queue: &dyn Queue, messages: &[Message]) -> Result<(), StoreError> {
    for chunk in messages.chunks(SEND_BATCH_MAX) {
        queue.send(chunk).await?;
    }
    Ok(())
}

/// An in-memory queue for native tests and tools: messages wait until taken.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    pending: RefCell<Vec<Message>>,
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
            self.pending.borrow_mut().extend_from_slice(messages);
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
}
