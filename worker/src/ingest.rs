//! Ingestion of votes and event batches into D1: each visitor's current answer (`votes`)
//! with exact `tallies`, applied batch ids (`batches`), per-day counters (`daily`, each
//! visitor counted once a day per metric and key through `seen`) and all-time story
//! `popularity`.
//!
//! [`plan`] reads what the delivery touches in four queries (the stored votes of its
//! (poll, visitor) pairs, which of its response ids were seen, which of its batch ids were
//! applied, which of its once-a-day marks exist), [`decide`] is the pure decision, and
//! [`Planned::statements`] turns it into at most seven writes of one JSON parameter each,
//! which the consumer runs in one transaction.
//!
//! Rules: a response id seen before (in `responses`, or earlier in the same delivery) is a
//! replay and changes nothing, even when the visitor has answered differently since; every
//! new response id is recorded in `responses`. A vote older than the stored one (by `at`,
//! then response id) changes nothing; a newer one replaces the answer (its tally and its day's
//! counters move from the old answer to the new one); several votes of one (poll, visitor)
//! in a delivery apply in `at` order. A batch id already applied, or seen earlier in the same
//! delivery, changes nothing. The counts are `shared::rollup::counts` and `vote_counts`, so
//! the report reads exactly what `shared::rollup::rollup` would count from the same facts.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use glimpse_shared::events::StoredBatch;
use glimpse_shared::rollup::{answer_key, counts, metric, vote_counts};
use glimpse_shared::time::utc_date;
use glimpse_shared::{Answer, Millis, Vote};
use serde::Deserialize;

use crate::queue::Message;
use crate::sql::{Sql, Stmt, rows};
use crate::store::StoreError;

/// (site, poll, visitor).
pub type VoteKey = (String, String, String);
/// (site, day, metric, mark, visitor): one visitor counted once that day.
pub type Mark = (String, String, String, String, String);
/// (site, day, metric, key): one per-day counter.
pub type Counter = (String, String, String, String);

/// A visitor's current answer as stored in `votes`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredVote {
    pub site: String,
    pub poll: String,
    pub visitor: String,
    pub response: String,
    /// The Answer's JSON.
    pub value: String,
    pub at: Millis,
}

impl StoredVote {
    fn answer(&self) -> Option<Answer> {
        crate::json::from_str(&self.value).ok()
    }
}

/// What D1 holds of what a delivery touches.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub votes: HashMap<VoteKey, StoredVote>,
    /// (site, poll, response id) of the delivery's responses already seen (`responses`).
    pub responses: HashSet<(String, String, String)>,
    /// (site, batch id) already applied.
    pub batches: HashSet<(String, String)>,
    pub seen: HashSet<Mark>,
}

/// An applied batch, for `batches`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    pub site: String,
    pub id: String,
    pub visitor: String,
    pub day: String,
    pub received_at: Millis,
}

/// The writes one delivery makes. Counter changes are deltas (a replaced answer moves −1/+1),
/// one per row, zeros left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Planned {
    /// The new current answers, one per (site, poll, visitor).
    pub votes: BTreeMap<VoteKey, StoredVote>,
    /// Every response id the delivery brings that was not seen before, current or not.
    pub responses: Vec<StoredVote>,
    /// (site, poll, answer key) → change.
    pub tallies: BTreeMap<(String, String, String), i64>,
    pub batches: Vec<BatchRow>,
    pub seen: BTreeSet<Mark>,
    pub daily: BTreeMap<Counter, i64>,
    /// (site, story) → (views, helped) added.
    pub popularity: BTreeMap<(String, String), (i64, i64)>,
}

fn vote_key(site: &str, poll: &str, visitor: &str) -> VoteKey {
    (site.into(), poll.into(), visitor.into())
}

/// The once-a-day marks and counters one batch makes (before deduplication).
fn batch_counts<'a>(
    site: &'a str,
    batch: &'a StoredBatch,
) -> impl Iterator<Item = (Counter, Option<Mark>)> + 'a {
    let day = utc_date(batch.received_at);
    counts(batch).into_iter().map(move |c| {
        let mark = c.once.map(|m| {
            (
                site.to_string(),
                day.clone(),
                c.metric.to_string(),
                m,
                batch.visitor.clone(),
            )
        });
        (
            (site.to_string(), day.clone(), c.metric.to_string(), c.key),
            mark,
        )
    })
}

/// Every once-a-day mark the event batches among `messages` could set (what to look up).
pub fn candidate_marks(messages: &[&Message]) -> BTreeSet<Mark> {
    messages
        .iter()
        .filter_map(|m| match m {
            Message::Events { site, batch, .. } => Some(batch_counts(site, batch)),
            _ => None,
        })
        .flatten()
        .filter_map(|(_, mark)| mark)
        .collect()
}

fn add(map: &mut BTreeMap<Counter, i64>, site: &str, at: Millis, m: &str, key: String, n: i64) {
    *map.entry((site.into(), utc_date(at), m.into(), key))
        .or_default() += n;
}

/// Decides the writes that apply `messages` over what D1 holds (`known`). Pure: the same
/// inputs give the same writes; messages other than votes and events are ignored.
pub fn decide(known: &Known, messages: &[&Message]) -> Planned {
    let mut out = Planned::default();

    // Votes, oldest first, so a delivery holding a change of mind applies in order.
    let mut votes: Vec<(&str, &str, &str, &Vote)> = messages
        .iter()
        .filter_map(|m| match m {
            Message::Vote {
                site,
                poll,
                visitor,
                vote,
            } => Some((site.as_str(), poll.as_str(), visitor.as_str(), vote)),
            _ => None,
        })
        .collect();
    votes.sort_by(|a, b| (a.3.at, &a.3.id).cmp(&(b.3.at, &b.3.id)));
    let mut new_ids: HashSet<(&str, &str, &str)> = HashSet::new();
    for (site, poll, visitor, vote) in votes {
        // A response id seen before (stored, or earlier in this delivery) is a replay: it
        // changes nothing, even if the visitor has answered differently since.
        let id = (site.to_string(), poll.to_string(), vote.id.clone());
        if known.responses.contains(&id) || !new_ids.insert((site, poll, vote.id.as_str())) {
            continue;
        }
        let stored = StoredVote {
            site: site.into(),
            poll: poll.into(),
            visitor: visitor.into(),
            response: vote.id.clone(),
            value: serde_json::to_string(&vote.answer).unwrap_or_default(),
            at: vote.at,
        };
        out.responses.push(stored.clone());
        let key = vote_key(site, poll, visitor);
        let current = out.votes.get(&key).or_else(|| known.votes.get(&key));
        if let Some(cur) = current
            && (cur.response == vote.id || (vote.at, &vote.id) < (cur.at, &cur.response))
        {
            continue;
        }
        if let Some(cur) = current
            && let Some(old) = cur.answer()
        {
            *out.tallies
                .entry((site.into(), poll.into(), answer_key(&old)))
                .or_default() -= 1;
            for (m, k) in vote_counts(poll, &old) {
                add(&mut out.daily, site, cur.at, m, k, -1);
            }
        }
        *out.tallies
            .entry((site.into(), poll.into(), answer_key(&vote.answer)))
            .or_default() += 1;
        for (m, k) in vote_counts(poll, &vote.answer) {
            add(&mut out.daily, site, vote.at, m, k, 1);
        }
        out.votes.insert(key, stored);
    }

    // Event batches, each id once.
    let mut applied: HashSet<(&str, &str)> = HashSet::new();
    for m in messages {
        let Message::Events { site, id, batch } = m else {
            continue;
        };
        if known.batches.contains(&(site.clone(), id.clone()))
            || !applied.insert((site.as_str(), id.as_str()))
        {
            continue;
        }
        out.batches.push(BatchRow {
            site: site.clone(),
            id: id.clone(),
            visitor: batch.visitor.clone(),
            day: utc_date(batch.received_at),
            received_at: batch.received_at,
        });
        for (counter, mark) in batch_counts(site, batch) {
            if let Some(mark) = mark {
                if known.seen.contains(&mark) || !out.seen.insert(mark) {
                    continue;
                }
                let pop = match counter.2.as_str() {
                    metric::STORY_VIEW => Some((1, 0)),
                    metric::HELPED => Some((0, 1)),
                    _ => None,
                };
                if let Some((views, helped)) = pop {
                    let p = out
                        .popularity
                        .entry((site.clone(), counter.3.clone()))
                        .or_default();
                    p.0 += views;
                    p.1 += helped;
                }
            }
            *out.daily.entry(counter).or_default() += 1;
        }
    }
    out.tallies.retain(|_, n| *n != 0);
    out.daily.retain(|_, n| *n != 0);
    out
}

impl Planned {
    /// The writes, each one statement taking one JSON parameter (none for an empty part).
    pub fn statements(&self) -> Vec<Stmt> {
        let mut out = Vec::new();
        if !self.responses.is_empty() {
            let rows: Vec<_> = self
                .responses
                .iter()
                .map(|v| serde_json::json!([v.site, v.poll, v.response, v.visitor, v.value, v.at]))
                .collect();
            out.push(
                Stmt::new(
                    "INSERT INTO responses (site, poll, response, visitor, value, at) \
                     SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
                     json_extract(value, '$[2]'), json_extract(value, '$[3]'), \
                     json_extract(value, '$[4]'), json_extract(value, '$[5]') \
                     FROM json_each(?1) WHERE true \
                     ON CONFLICT (site, poll, response) DO NOTHING",
                )
                .bind_json(&rows),
            );
        }
        if !self.votes.is_empty() {
            let rows: Vec<_> = self
                .votes
                .values()
                .map(|v| {
                    serde_json::json!([
                        v.site,
                        v.poll,
                        v.visitor,
                        v.response,
                        answer_key_of(&v.value),
                        v.value,
                        v.at
                    ])
                })
                .collect();
            out.push(
                Stmt::new(
                    "INSERT INTO votes (site, poll, visitor, response, answer, value, at) \
                     SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
                     json_extract(value, '$[2]'), json_extract(value, '$[3]'), \
                     json_extract(value, '$[4]'), json_extract(value, '$[5]'), \
                     json_extract(value, '$[6]') FROM json_each(?1) WHERE true \
                     ON CONFLICT (site, poll, visitor) DO UPDATE SET \
                     response = excluded.response, answer = excluded.answer, \
                     value = excluded.value, at = excluded.at",
                )
                .bind_json(&rows),
            );
        }
        if !self.tallies.is_empty() {
            let rows: Vec<_> = self
                .tallies
                .iter()
                .map(|((s, p, a), n)| serde_json::json!([s, p, a, n]))
                .collect();
            out.push(
                Stmt::new(
                    "INSERT INTO tallies (site, poll, answer, n) \
                     SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
                     json_extract(value, '$[2]'), json_extract(value, '$[3]') \
                     FROM json_each(?1) WHERE true \
                     ON CONFLICT (site, poll, answer) DO UPDATE SET n = tallies.n + excluded.n",
                )
                .bind_json(&rows),
            );
        }
        if !self.batches.is_empty() {
            let rows: Vec<_> = self
                .batches
                .iter()
                .map(|b| serde_json::json!([b.site, b.id, b.visitor, b.day, b.received_at]))
                .collect();
            out.push(
                Stmt::new(
                    "INSERT INTO batches (site, id, visitor, day, received_at) \
                     SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
                     json_extract(value, '$[2]'), json_extract(value, '$[3]'), \
                     json_extract(value, '$[4]') FROM json_each(?1) WHERE true \
                     ON CONFLICT (site, id) DO NOTHING",
                )
                .bind_json(&rows),
            );
        }
        if !self.seen.is_empty() {
            out.push(
                Stmt::new(
                    "INSERT INTO seen (site, day, metric, key, visitor) \
                     SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
                     json_extract(value, '$[2]'), json_extract(value, '$[3]'), \
                     json_extract(value, '$[4]') FROM json_each(?1) WHERE true \
                     ON CONFLICT (site, day, metric, key, visitor) DO NOTHING",
                )
                .bind_json(&self.seen),
            );
        }
        if !self.daily.is_empty() {
            let rows: Vec<_> = self
                .daily
                .iter()
                .map(|((s, d, m, k), n)| serde_json::json!([s, d, m, k, n]))
                .collect();
            out.push(
                Stmt::new(
                    "INSERT INTO daily (site, day, metric, key, n) \
                     SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
                     json_extract(value, '$[2]'), json_extract(value, '$[3]'), \
                     json_extract(value, '$[4]') FROM json_each(?1) WHERE true \
                     ON CONFLICT (site, day, metric, key) DO UPDATE SET n = daily.n + excluded.n",
                )
                .bind_json(&rows),
            );
        }
        if !self.popularity.is_empty() {
            let rows: Vec<_> = self
                .popularity
                .iter()
                .map(|((s, story), (v, h))| serde_json::json!([s, story, v, h]))
                .collect();
            out.push(
                Stmt::new(
                    "INSERT INTO popularity (site, story, views, helped) \
                     SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
                     json_extract(value, '$[2]'), json_extract(value, '$[3]') \
                     FROM json_each(?1) WHERE true \
                     ON CONFLICT (site, story) DO UPDATE SET \
                     views = popularity.views + excluded.views, \
                     helped = popularity.helped + excluded.helped",
                )
                .bind_json(&rows),
            );
        }
        out
    }
}

fn answer_key_of(value: &str) -> String {
    crate::json::from_str::<Answer>(value)
        .map(|a| answer_key(&a))
        .unwrap_or_default()
}

/// Statements (one transaction) that remove `visitor`'s current answers on `site` from
/// `votes` and take them out of `tallies` and their days' vote and CSAT counters, as if
/// never given. Bounded by the visitor's votes (indexed by visitor). For erasure.
pub fn erase_votes(site: &str, visitor: &str) -> Vec<Stmt> {
    let on = |sql: &'static str| Stmt::new(sql).bind(site).bind(visitor);
    vec![
        on(
            "UPDATE tallies SET n = n - 1 WHERE site = ?1 AND (poll, answer) IN \
            (SELECT poll, answer FROM votes WHERE site = ?1 AND visitor = ?2)",
        ),
        on(
            "UPDATE daily SET n = n - (SELECT COUNT(*) FROM votes v WHERE v.site = ?1 \
            AND v.visitor = ?2 AND date(v.at / 1000, 'unixepoch') = daily.day \
            AND v.poll || '/' || v.answer = daily.key) \
            WHERE site = ?1 AND metric = 'vote' AND (day, key) IN \
            (SELECT date(at / 1000, 'unixepoch'), poll || '/' || answer FROM votes \
            WHERE site = ?1 AND visitor = ?2)",
        ),
        on(
            "UPDATE daily SET n = n - (SELECT COUNT(*) FROM votes v WHERE v.site = ?1 \
            AND v.visitor = ?2 AND date(v.at / 1000, 'unixepoch') = daily.day \
            AND CAST(json_extract(v.value, '$.rating') AS TEXT) = daily.key) \
            WHERE site = ?1 AND metric = 'csat' AND (day, key) IN \
            (SELECT date(at / 1000, 'unixepoch'), CAST(json_extract(value, '$.rating') AS TEXT) \
            FROM votes WHERE site = ?1 AND visitor = ?2 \
            AND json_extract(value, '$.rating') IS NOT NULL)",
        ),
        on("DELETE FROM votes WHERE site = ?1 AND visitor = ?2"),
    ]
}

#[derive(Deserialize)]
struct ResponseId {
    site: String,
    poll: String,
    response: String,
}

#[derive(Deserialize)]
struct BatchId {
    site: String,
    id: String,
}

#[derive(Deserialize)]
struct SeenRow {
    site: String,
    day: String,
    metric: String,
    key: String,
    visitor: String,
}

/// Reads what D1 holds of what `messages` touch (at most three queries, none when there is
/// nothing to look up).
pub async fn known(sql: &dyn Sql, messages: &[&Message]) -> Result<Known, StoreError> {
    let mut out = Known::default();
    let pairs: BTreeSet<VoteKey> = messages
        .iter()
        .filter_map(|m| match m {
            Message::Vote {
                site,
                poll,
                visitor,
                ..
            } => Some(vote_key(site, poll, visitor)),
            _ => None,
        })
        .collect();
    if !pairs.is_empty() {
        let found: Vec<StoredVote> = rows(
            sql,
            Stmt::new(
                "SELECT site, poll, visitor, response, value, at FROM votes \
                 WHERE (site, poll, visitor) IN (SELECT json_extract(value, '$[0]'), \
                 json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?1))",
            )
            .bind_json(&pairs),
        )
        .await?;
        out.votes = found
            .into_iter()
            .map(|v| (vote_key(&v.site, &v.poll, &v.visitor), v))
            .collect();
        let ids: BTreeSet<(&str, &str, &str)> = messages
            .iter()
            .filter_map(|m| match m {
                Message::Vote {
                    site, poll, vote, ..
                } => Some((site.as_str(), poll.as_str(), vote.id.as_str())),
                _ => None,
            })
            .collect();
        let seen: Vec<ResponseId> = rows(
            sql,
            Stmt::new(
                "SELECT site, poll, response FROM responses \
                 WHERE (site, poll, response) IN (SELECT json_extract(value, '$[0]'), \
                 json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?1))",
            )
            .bind_json(&ids),
        )
        .await?;
        out.responses = seen
            .into_iter()
            .map(|r| (r.site, r.poll, r.response))
            .collect();
    }
    let ids: BTreeSet<(&str, &str)> = messages
        .iter()
        .filter_map(|m| match m {
            Message::Events { site, id, .. } => Some((site.as_str(), id.as_str())),
            _ => None,
        })
        .collect();
    if !ids.is_empty() {
        let found: Vec<BatchId> = rows(
            sql,
            Stmt::new(
                "SELECT site, id FROM batches WHERE (site, id) IN \
                 (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') \
                 FROM json_each(?1))",
            )
            .bind_json(&ids),
        )
        .await?;
        out.batches = found.into_iter().map(|b| (b.site, b.id)).collect();
    }
    let marks = candidate_marks(messages);
    if !marks.is_empty() {
        let found: Vec<SeenRow> = rows(
            sql,
            Stmt::new(
                "SELECT site, day, metric, key, visitor FROM seen \
                 WHERE (site, day, metric, key, visitor) IN (SELECT json_extract(value, '$[0]'), \
                 json_extract(value, '$[1]'), json_extract(value, '$[2]'), \
                 json_extract(value, '$[3]'), json_extract(value, '$[4]') FROM json_each(?1))",
            )
            .bind_json(&marks),
        )
        .await?;
        out.seen = found
            .into_iter()
            .map(|r| (r.site, r.day, r.metric, r.key, r.visitor))
            .collect();
    }
    Ok(out)
}

/// The writes that apply the vote and event messages among `messages`: reads D1 ([`known`]),
/// decides ([`decide`]) and returns the statements for the consumer's one transaction.
pub async fn plan(
    sql: &dyn Sql,
    messages: &[&Message],
    _now_ms: Millis,
) -> Result<Vec<Stmt>, StoreError> {
    let ours: Vec<&Message> = messages
        .iter()
        .copied()
        .filter(|m| matches!(m, Message::Vote { .. } | Message::Events { .. }))
        .collect();
    if ours.is_empty() {
        return Ok(Vec::new());
    }
    let known = known(sql, &ours).await?;
    Ok(decide(&known, &ours).statements())
}

#[cfg(test)]
mod tests {
    use super::*;
    use glimpse_shared::events::{Event, EventKind};

    const DAY: Millis = 1_795_305_600_000; // 2026-11-22T00:00:00Z

    fn vote(visitor: &str, id: &str, answer: Answer, at: Millis) -> Message {
        Message::Vote {
            site: "s".into(),
            poll: "p".into(),
            visitor: visitor.into(),
            vote: Vote {
                id: id.into(),
                answer,
                at,
            },
        }
    }

    fn events(id: &str, visitor: &str, at: Millis, kinds: Vec<EventKind>) -> Message {
        Message::Events {
            site: "s".into(),
            id: id.into(),
            batch: StoredBatch {
                visitor: visitor.into(),
                received_at: at,
                events: kinds
                    .into_iter()
                    .map(|kind| Event { kind, at: None })
                    .collect(),
            },
        }
    }

    fn view(story: &str) -> EventKind {
        EventKind::StoryView {
            story: story.into(),
        }
    }

    /// Applies `planned` to `known` as D1 would, for multi-delivery tests.
    fn apply(known: &mut Known, planned: &Planned, daily: &mut BTreeMap<Counter, i64>) {
        for (k, v) in &planned.votes {
            known.votes.insert(k.clone(), v.clone());
        }
        for r in &planned.responses {
            known
                .responses
                .insert((r.site.clone(), r.poll.clone(), r.response.clone()));
        }
        for b in &planned.batches {
            known.batches.insert((b.site.clone(), b.id.clone()));
        }
        known.seen.extend(planned.seen.iter().cloned());
        for (k, n) in &planned.daily {
            *daily.entry(k.clone()).or_default() += n;
        }
    }

    fn counter(day: &str, m: &str, key: &str) -> Counter {
        ("s".into(), day.into(), m.into(), key.into())
    }

    #[test]
    fn a_changed_answer_moves_its_tally_and_its_day() {
        let mut known = Known::default();
        let mut daily = BTreeMap::new();
        let first = vote("v", "r1", Answer::Rating(2), DAY);
        let p = decide(&known, &[&first]);
        assert_eq!(
            p.tallies,
            BTreeMap::from([(("s".into(), "p".into(), "2".into()), 1)])
        );
        apply(&mut known, &p, &mut daily);
        // The next day the visitor changes their mind.
        let second = vote("v", "r2", Answer::Rating(5), DAY + 86_400_000);
        let p = decide(&known, &[&second]);
        assert_eq!(
            p.tallies,
            BTreeMap::from([
                (("s".into(), "p".into(), "2".into()), -1),
                (("s".into(), "p".into(), "5".into()), 1)
            ])
        );
        apply(&mut known, &p, &mut daily);
        daily.retain(|_, n| *n != 0);
        assert_eq!(
            daily,
            BTreeMap::from([
                (counter("2026-11-23", metric::VOTE, "p/5"), 1),
                (counter("2026-11-23", metric::CSAT, "5"), 1)
            ])
        );
        // A late replay of the replaced answer, and the same answer again, change nothing;
        // nor does a retry of the replaced response sent after the change (the edge stamps
        // it with its own, later, arrival time).
        assert_eq!(decide(&known, &[&first]), Planned::default());
        assert_eq!(decide(&known, &[&second]), Planned::default());
        let retried = vote("v", "r1", Answer::Rating(2), DAY + 2 * 86_400_000);
        assert_eq!(decide(&known, &[&retried]), Planned::default());
        // Twice in one delivery, the second copy later: applied once.
        let third = vote("v", "r3", Answer::Rating(4), DAY + 3 * 86_400_000);
        let third_again = vote("v", "r3", Answer::Rating(4), DAY + 3 * 86_400_000 + 9);
        let p = decide(&known, &[&third_again, &third]);
        assert_eq!(p.responses.len(), 1);
        assert_eq!(
            p.tallies,
            BTreeMap::from([
                (("s".into(), "p".into(), "4".into()), 1),
                (("s".into(), "p".into(), "5".into()), -1)
            ])
        );
    }

    #[test]
    fn votes_in_one_delivery_apply_in_time_order() {
        let a = vote("v", "r1", Answer::Choice(0), DAY);
        let b = vote("v", "r2", Answer::Choice(1), DAY + 5);
        let c = vote("w", "r3", Answer::Choice(1), DAY + 1);
        let forward = decide(&Known::default(), &[&a, &b, &c]);
        let backward = decide(&Known::default(), &[&c, &b, &a, &b]);
        assert_eq!(forward, backward);
        assert_eq!(
            forward.tallies,
            BTreeMap::from([(("s".into(), "p".into(), "1".into()), 2)])
        );
        assert_eq!(forward.votes.len(), 2);
        let v = &forward.votes[&vote_key("s", "p", "v")];
        assert_eq!((v.response.as_str(), v.at), ("r2", DAY + 5));
    }

    #[test]
    fn batches_count_once_and_visitors_once_a_day() {
        let one = events("b1", "v", DAY, vec![view("reset"), view("reset")]);
        let again = events("b2", "v", DAY + 1000, vec![view("reset")]);
        let p = decide(&Known::default(), &[&one, &one, &again]);
        assert_eq!(p.batches.len(), 2);
        assert_eq!(
            p.daily,
            BTreeMap::from([
                (counter("2026-11-22", metric::STORY_VIEW, "reset"), 1),
                (counter("2026-11-22", metric::VISITORS, ""), 1)
            ])
        );
        assert_eq!(
            p.popularity,
            BTreeMap::from([(("s".into(), "reset".into()), (1, 0))])
        );
        let mut known = Known::default();
        apply(&mut known, &p, &mut BTreeMap::new());
        // Redelivered: nothing. A new batch the same day: still nothing new to count.
        assert_eq!(decide(&known, &[&one]), Planned::default());
        let later = events("b3", "v", DAY + 2000, vec![view("reset")]);
        let p = decide(&known, &[&later]);
        assert!(p.daily.is_empty() && p.popularity.is_empty());
        assert_eq!(p.batches.len(), 1);
        // The next day counts again.
        let tomorrow = events("b4", "v", DAY + 86_400_000, vec![view("reset")]);
        assert_eq!(decide(&known, &[&tomorrow]).daily.len(), 2);
    }

    #[test]
    fn statements_are_few_and_take_one_parameter() {
        let msgs = [
            vote("v", "r1", Answer::Choice(0), DAY),
            events(
                "b1",
                "v",
                DAY,
                vec![
                    view("reset"),
                    EventKind::Helpful {
                        story: "reset".into(),
                    },
                ],
            ),
        ];
        let refs: Vec<&Message> = msgs.iter().collect();
        let stmts = decide(&Known::default(), &refs).statements();
        assert_eq!(stmts.len(), 7);
        assert!(stmts.iter().all(|s| s.params.len() == 1));
        assert!(decide(&Known::default(), &[]).statements().is_empty());
    }
}
