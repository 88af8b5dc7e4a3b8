//! What the widget could not deliver yet (poll answers while offline or while the API
//! answers 429/5xx), kept in localStorage and retried with the same idempotency id and
//! exponential backoff until the API accepts or definitively refuses it.

use serde::{Deserialize, Serialize};

use crate::{Millis, PollResponse};

/// One undelivered poll answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub site: String,
    pub poll: String,
    pub response: PollResponse,
    pub attempts: u32,
    /// Not before this instant (visitor's clock: retries are local).
    pub next_at: Millis,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: recorded (or already recorded).
    Accepted,
    /// Network failure, 429, 5xx: try again later.
    Retry,
    /// Any other 4xx (poll closed, invalid): retrying cannot help.
    Refused,
}

impl Outcome {
    /// Classifies an HTTP status; `None` is a network failure.
    pub fn of_status(status: Option<u16>) -> Self {
        match status {
            Some(200..=299) => Outcome::Accepted,
            Some(429) | Some(500..=599) | Some(408) | None => Outcome::Retry,
            Some(_) => Outcome::Refused,
        }
    }
}

/// Delay before retry number `attempts` (1-based): 2 s, 4 s, 8 s … capped at 5 minutes.
pub fn backoff_ms(attempts: u32) -> Millis {
    let exp = attempts.clamp(1, 20) - 1;
    (2_000i64 << exp.min(8)).min(300_000)
}

/// The visitor's undelivered answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbox {
    pub pending: Vec<Pending>,
}

impl Outbox {
    /// The most answers kept; the oldest are dropped beyond this.
    pub const MAX: usize = 50;

    /// Queues an answer for delivery now. A newer answer to the same poll replaces an older
    /// undelivered one (one answer per visitor per poll).
    pub fn push(&mut self, site: &str, poll: &str, response: PollResponse, now_ms: Millis) {
        self.pending.retain(|p| !(p.site == site && p.poll == poll));
        self.pending.push(Pending {
            site: site.into(),
            poll: poll.into(),
            response,
            attempts: 0,
            next_at: now_ms,
        });
        if self.pending.len() > Self::MAX {
            let extra = self.pending.len() - Self::MAX;
            self.pending.drain(..extra);
        }
    }

    /// Answers whose time has come.
    pub fn due(&self, now_ms: Millis) -> Vec<Pending> {
        self.pending
            .iter()
            .filter(|p| p.next_at <= now_ms)
            .cloned()
            .collect()
    }

    /// Records how delivering response `id` ended.
    pub fn settle(&mut self, id: &str, outcome: Outcome, now_ms: Millis) {
        match outcome {
            Outcome::Accepted | Outcome::Refused => self.pending.retain(|p| p.response.id != id),
            Outcome::Retry => {
                for p in self.pending.iter_mut().filter(|p| p.response.id == id) {
                    p.attempts += 1;
                    p.next_at = now_ms + backoff_ms(p.attempts);
                }
            }
        }
    }

    /// When the next retry is due, if any.
    pub fn next_due(&self) -> Option<Millis> {
        self.pending.iter().map(|p| p.next_at).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Answer;

    fn response(id: &str) -> PollResponse {
        PollResponse {
            id: id.into(),
            visitor: "v".repeat(16),
            answer: Answer::Rating(5),
        }
    }

    #[test]
    fn retries_with_the_same_id_and_growing_delays() {
        let mut o = Outbox::default();
        o.push("demo", "csat", response("r1"), 1_000);
        assert_eq!(o.due(1_000).len(), 1);
        o.settle("r1", Outcome::Retry, 1_000);
        assert!(o.due(2_999).is_empty());
        assert_eq!(o.due(3_000)[0].response.id, "r1");
        o.settle("r1", Outcome::Retry, 3_000);
        assert_eq!(o.next_due(), Some(7_000));
        o.settle("r1", Outcome::Accepted, 7_000);
        assert!(o.pending.is_empty());
        assert_eq!(o.next_due(), None);
    }

    #[test]
    fn statuses() {
        assert_eq!(Outcome::of_status(Some(201)), Outcome::Accepted);
        assert_eq!(Outcome::of_status(Some(200)), Outcome::Accepted);
        assert_eq!(Outcome::of_status(None), Outcome::Retry);
        assert_eq!(Outcome::of_status(Some(429)), Outcome::Retry);
        assert_eq!(Outcome::of_status(Some(503)), Outcome::Retry);
        assert_eq!(Outcome::of_status(Some(410)), Outcome::Refused);
        assert_eq!(Outcome::of_status(Some(400)), Outcome::Refused);
    }

    #[test]
    fn backoff_is_capped() {
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(2), 4_000);
        assert_eq!(backoff_ms(8), 256_000);
        assert_eq!(backoff_ms(9), 300_000);
        assert_eq!(backoff_ms(1_000), 300_000);
    }

    #[test]
    fn a_newer_answer_replaces_an_undelivered_one_and_the_queue_is_bounded() {
        let mut o = Outbox::default();
        o.push("demo", "csat", response("r1"), 0);
        o.push("demo", "csat", response("r2"), 0);
        o.push("demo", "other", response("r3"), 0);
        let ids: Vec<_> = o.pending.iter().map(|p| p.response.id.as_str()).collect();
        assert_eq!(ids, ["r2", "r3"]);
        for i in 0..60 {
            o.push("demo", &format!("p{i}"), response(&format!("x{i}")), 0);
        }
        assert_eq!(o.pending.len(), Outbox::MAX);
        assert_eq!(
            o.pending.last().map(|p| p.response.id.as_str()),
            Some("x59")
        );
    }
}
