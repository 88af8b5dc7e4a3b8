//! Live Q&A inside the widget: the room one Durable Object keeps per running session, as a
//! pure reducer. Visitors ask and upvote; the host answers, pins, hides and marks questions
//! done, sets a status line and ends the session. Every change is one [`Delta`] with the
//! room's next version, broadcast to everyone watching; a client that sees a gap in the
//! versions reads the whole room again ([`PublicRoom`]).
//!
//! Storage (the Durable Object's): one key per question ([`question_key`]), one per vote
//! ([`vote_key`], so "once each" is one read, never a growing set in memory) and one for the
//! room's own fields ([`META_KEY`]). A vote is counted only when its key did not exist: the
//! shell looks it up and passes `first` to [`Room::apply`].
//!
//! Privacy: a question is shown to everyone in the session (the ask form says so before it
//! is sent); the asker's visitor id never leaves the room's storage. A hidden question is
//! broadcast as a tombstone (id and state, no text) so its asker's panel can say "hidden".

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::kb::KbDraft;
use crate::session::LiveSession;
use crate::story::{Slide, Story};
use crate::validate::{Problem, Problems};

/// Longest question, in characters.
pub const QUESTION_MAX_CHARS: usize = 280;
/// Longest answer, in characters.
pub const ANSWER_MAX_CHARS: usize = 1_000;
/// Longest status line, in characters.
pub const STATUS_MAX_CHARS: usize = 140;
/// Questions a session accepts in all (the room, its storage and every join's state stay
/// bounded: about 500 × 1.5 KB).
pub const QUESTIONS_MAX: usize = 500;
/// Questions one visitor may have waiting at once.
pub const WAITING_PER_VISITOR_MAX: usize = 3;
/// Slides of a recap story at most (a title slide and the top answered questions).
pub const RECAP_SLIDES_MAX: usize = 9;
/// How long a recap story draft stays up once published as drafted, in ms (7 days).
pub const RECAP_STORY_MS: Millis = 7 * 86_400_000;
/// A polling viewer counts as watching this long after its last read, in ms.
pub const POLL_WATCH_MS: Millis = 15_000;
/// How often the widget polls when it cannot hold a WebSocket, in ms.
pub const POLL_EVERY_MS: u32 = 3_000;

/// The Durable Object storage key of the room's own fields ([`Meta`]).
pub const META_KEY: &str = "meta";

/// The storage key of question `id`.
pub fn question_key(id: &str) -> String {
    format!("q/{id}")
}

/// The storage key recording that `visitor` upvoted question `id`.
pub fn vote_key(id: &str, visitor: &str) -> String {
    format!("v/{id}/{visitor}")
}

/// The Durable Object's name for a session: one object per site and session.
pub fn room_name(site: &str, session: &str) -> String {
    format!("{site}/{session}")
}

/// Where a question is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum QuestionState {
    /// Asked, not answered yet.
    Waiting,
    /// The host answered it.
    Answered,
    /// The host hid it: nobody but its asker sees that it existed.
    Hidden,
    /// The host marked it done (answered out loud, on the stream).
    Done,
}

/// The host's answer to a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAnswer {
    /// Plain text, 1–[`ANSWER_MAX_CHARS`] characters, rendered as text.
    pub text: String,
    /// A story of the site that shows the fix (its id), opened from the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story: Option<String>,
    /// Unix ms.
    pub at: Millis,
}

/// A question as the room stores it (its asker included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredQuestion {
    pub id: String,
    pub text: String,
    /// The asker's visitor id: never broadcast, never in a recap.
    pub visitor: String,
    /// Unix ms.
    pub asked_at: Millis,
    pub votes: u32,
    pub state: QuestionState,
    #[serde(default)]
    pub pinned: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<LiveAnswer>,
}

/// A question as viewers see it. A hidden one is a tombstone: empty `text`, no answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicQuestion {
    pub id: String,
    pub text: String,
    /// Unix ms.
    pub asked_at: Millis,
    pub votes: u32,
    pub state: QuestionState,
    #[serde(default)]
    pub pinned: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<LiveAnswer>,
}

impl StoredQuestion {
    /// What viewers see of it (`host`: the host's view, which keeps a hidden question's text).
    pub fn public(&self, host: bool) -> PublicQuestion {
        let tombstone = self.state == QuestionState::Hidden && !host;
        PublicQuestion {
            id: self.id.clone(),
            text: if tombstone {
                String::new()
            } else {
                self.text.clone()
            },
            asked_at: self.asked_at,
            votes: self.votes,
            state: self.state,
            pinned: self.pinned && !tombstone,
            answer: if tombstone { None } else { self.answer.clone() },
        }
    }
}

/// The room's own fields, stored under [`META_KEY`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Incremented by every change; the first change makes it 1.
    pub version: u64,
    /// The host's status line ("Starting in 2 minutes", "On question 3"); empty when unset.
    #[serde(default)]
    pub status: String,
    /// Where the host streams (https), if anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_url: Option<String>,
    /// When the host ended it (unix ms); the session's own end also ends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Millis>,
}

/// What a command changed.
enum Changed {
    Question(usize),
    Status,
    Ended(Millis),
}

/// One running session's room: its fields and every question (as the Durable Object hands
/// it to the worker when the host ends the session, for the recap and the KB drafts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub meta: Meta,
    pub questions: Vec<StoredQuestion>,
}

/// The whole room as a viewer reads it on joining (and when polling).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicRoom {
    pub session: String,
    pub version: u64,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_url: Option<String>,
    /// Unix ms, once over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Millis>,
    /// In [`order`]; hidden ones as tombstones (the host's view keeps their text).
    pub questions: Vec<PublicQuestion>,
    /// People watching now (open sockets and recent polls).
    pub watching: u32,
}

/// A change, broadcast to everyone watching as one WebSocket message (JSON, `type` tagged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Delta {
    /// A question was asked or changed (votes, state, pin, answer).
    Question {
        version: u64,
        question: PublicQuestion,
    },
    /// The host's status line or stream link changed.
    Status {
        version: u64,
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stream_url: Option<String>,
    },
    /// The session is over.
    Ended { version: u64, ended_at: Millis },
}

impl Delta {
    pub fn version(&self) -> u64 {
        match self {
            Delta::Question { version, .. }
            | Delta::Status { version, .. }
            | Delta::Ended { version, .. } => *version,
        }
    }
}

/// A server → client WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The whole room: sent first on every connection.
    State { room: PublicRoom },
    /// One change ([`Delta`]'s fields, flattened).
    #[serde(untagged)]
    Delta(Delta),
}

/// The count of people watching, sent to the host's sockets when it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watching {
    /// Always `"watching"`.
    #[serde(rename = "type")]
    pub kind: WatchingTag,
    pub count: u32,
}

/// The tag of [`Watching`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchingTag {
    Watching,
}

/// `POST /v1/sites/{site}/live/{session}/questions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLiveQuestion {
    pub visitor: String,
    pub text: String,
}

impl NewLiveQuestion {
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.token("visitor", &self.visitor);
        p.text("text", &self.text, QUESTION_MAX_CHARS);
        p.into_vec()
    }
}

/// `POST /v1/sites/{site}/live/{session}/questions/{id}/votes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLiveVote {
    pub visitor: String,
}

impl NewLiveVote {
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.token("visitor", &self.visitor);
        p.into_vec()
    }
}

/// What the host does to a question: `POST /v1/admin/sites/{site}/live/{session}/questions/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum HostAction {
    /// Answer (or change the answer): the question becomes answered.
    Answer {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        story: Option<String>,
    },
    Pin,
    Unpin,
    /// Nobody but its asker sees it any more.
    Hide,
    /// Back to what it was before it was hidden or marked done.
    Restore,
    /// Answered out loud: marked done.
    Done,
}

impl HostAction {
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        if let HostAction::Answer { text, story } = self {
            p.text("text", text, ANSWER_MAX_CHARS);
            if let Some(story) = story {
                p.slug("story", story);
            }
        }
        p.into_vec()
    }
}

/// The host's status line and stream link: `PUT /v1/admin/sites/{site}/live/{session}/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostStatus {
    /// 0–[`STATUS_MAX_CHARS`] characters (empty clears it).
    #[serde(default)]
    pub status: String,
    /// https, or absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_url: Option<String>,
}

impl HostStatus {
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.optional_text("status", &self.status, STATUS_MAX_CHARS);
        if let Some(url) = &self.stream_url {
            p.https("stream_url", url);
        }
        p.into_vec()
    }
}

/// Everything that changes a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// A visitor asks; `id` is fresh (made by the worker).
    Ask {
        id: String,
        visitor: String,
        text: String,
    },
    /// A visitor upvotes question `question`; `first` is whether the vote's key was absent.
    Vote {
        question: String,
        visitor: String,
        first: bool,
    },
    /// The host acts on a question.
    Host {
        question: String,
        action: HostAction,
    },
    /// The host sets the status line and stream link.
    Status(HostStatus),
    /// The host ends the session.
    End,
}

/// Why a command changed nothing. Each is a 4xx for the client that sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 404: no such question (or hidden, for a visitor's vote).
    NoQuestion,
    /// 409: the session is over.
    Ended,
    /// 429: the session holds [`QUESTIONS_MAX`] questions.
    Full,
    /// 429: this visitor has [`WAITING_PER_VISITOR_MAX`] questions waiting.
    TooManyWaiting,
    /// 409: the question id exists already (a retried ask is answered with its first outcome).
    Duplicate,
}

impl Refusal {
    /// HTTP status, error code and message for the API's error body.
    pub fn http(&self) -> (u16, &'static str, &'static str) {
        match self {
            Refusal::NoQuestion => (404, "not_found", "no such question in this session"),
            Refusal::Ended => (409, "ended", "the session is over"),
            Refusal::Full => (429, "session_full", "this session takes no more questions"),
            Refusal::TooManyWaiting => (
                429,
                "too_many_waiting",
                "you have 3 questions waiting: wait for an answer before asking more",
            ),
            Refusal::Duplicate => (409, "duplicate", "this question exists already"),
        }
    }
}

/// What a command did: the change to broadcast, and what to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub delta: Delta,
    /// The question to store again (its key: [`question_key`]), if one changed.
    pub question: Option<StoredQuestion>,
    /// Whether [`Meta`] must be stored again (always: its version moved).
    pub meta: Meta,
    /// A vote key to store (only for a first vote).
    pub vote_key: Option<String>,
}

impl Room {
    /// Whether the session is over at `now_ms`: ended by the host, or past `ends_at`.
    pub fn is_over(&self, ends_at: Millis, now_ms: Millis) -> bool {
        self.meta.ended_at.is_some() || now_ms >= ends_at
    }

    fn find(&self, id: &str) -> Option<usize> {
        self.questions.iter().position(|q| q.id == id)
    }

    /// Applies `cmd` at `now_ms` to a session that ends at `ends_at`: the change to broadcast
    /// and store, or why nothing changed. Asking and voting stop when the session is over;
    /// the host can still answer, hide and mark done (the recap comes from that).
    pub fn apply(
        &mut self,
        cmd: Command,
        ends_at: Millis,
        now_ms: Millis,
    ) -> Result<Applied, Refusal> {
        let over = self.is_over(ends_at, now_ms);
        let mut vote_key_out = None;
        let changed = match cmd {
            Command::Ask { id, visitor, text } => {
                if over {
                    return Err(Refusal::Ended);
                }
                if self.find(&id).is_some() {
                    return Err(Refusal::Duplicate);
                }
                if self.questions.len() >= QUESTIONS_MAX {
                    return Err(Refusal::Full);
                }
                let waiting = self
                    .questions
                    .iter()
                    .filter(|q| q.visitor == visitor && q.state == QuestionState::Waiting)
                    .count();
                if waiting >= WAITING_PER_VISITOR_MAX {
                    return Err(Refusal::TooManyWaiting);
                }
                self.questions.push(StoredQuestion {
                    id,
                    text: text.trim().to_string(),
                    visitor,
                    asked_at: now_ms,
                    votes: 0,
                    state: QuestionState::Waiting,
                    pinned: false,
                    answer: None,
                });
                Changed::Question(self.questions.len() - 1)
            }
            Command::Vote {
                question,
                visitor,
                first,
            } => {
                if over {
                    return Err(Refusal::Ended);
                }
                let i = self
                    .find(&question)
                    .filter(|&i| self.questions[i].state != QuestionState::Hidden)
                    .ok_or(Refusal::NoQuestion)?;
                if !first {
                    // Counted already: an idempotent repeat, nothing changes.
                    return Err(Refusal::Duplicate);
                }
                self.questions[i].votes = self.questions[i].votes.saturating_add(1);
                vote_key_out = Some(vote_key(&question, &visitor));
                Changed::Question(i)
            }
            Command::Host { question, action } => {
                let i = self.find(&question).ok_or(Refusal::NoQuestion)?;
                let q = &mut self.questions[i];
                match action {
                    HostAction::Answer { text, story } => {
                        q.answer = Some(LiveAnswer {
                            text: text.trim().to_string(),
                            story,
                            at: now_ms,
                        });
                        q.state = QuestionState::Answered;
                    }
                    HostAction::Pin => q.pinned = true,
                    HostAction::Unpin => q.pinned = false,
                    HostAction::Hide => {
                        q.state = QuestionState::Hidden;
                        q.pinned = false;
                    }
                    HostAction::Done => q.state = QuestionState::Done,
                    HostAction::Restore => {
                        q.state = if q.answer.is_some() {
                            QuestionState::Answered
                        } else {
                            QuestionState::Waiting
                        };
                    }
                }
                Changed::Question(i)
            }
            Command::Status(s) => {
                self.meta.status = s.status.trim().to_string();
                self.meta.stream_url = s.stream_url;
                Changed::Status
            }
            Command::End => {
                if self.meta.ended_at.is_some() {
                    return Err(Refusal::Ended);
                }
                let ended_at = now_ms.min(ends_at);
                self.meta.ended_at = Some(ended_at);
                Changed::Ended(ended_at)
            }
        };
        self.meta.version += 1;
        let version = self.meta.version;
        let (delta, question) = match changed {
            Changed::Question(i) => {
                let q = self.questions[i].clone();
                (
                    Delta::Question {
                        version,
                        question: q.public(false),
                    },
                    Some(q),
                )
            }
            Changed::Status => (
                Delta::Status {
                    version,
                    status: self.meta.status.clone(),
                    stream_url: self.meta.stream_url.clone(),
                },
                None,
            ),
            Changed::Ended(ended_at) => (Delta::Ended { version, ended_at }, None),
        };
        Ok(Applied {
            delta,
            question,
            meta: self.meta.clone(),
            vote_key: vote_key_out,
        })
    }

    /// The room as viewers (`host: false`) or the host see it, questions in [`order`].
    pub fn view(&self, session: &str, host: bool, watching: u32) -> PublicRoom {
        let mut questions: Vec<PublicQuestion> =
            self.questions.iter().map(|q| q.public(host)).collect();
        order(&mut questions);
        PublicRoom {
            session: session.to_string(),
            version: self.meta.version,
            status: self.meta.status.clone(),
            stream_url: self.meta.stream_url.clone(),
            ended_at: self.meta.ended_at,
            questions,
            watching,
        }
    }

    /// The recap drafted when the session ends: a story (a title slide, then each answered
    /// question with its answer, most votes first) and a knowledge-base draft per answered
    /// question (`(question id, draft)`), for the operator to edit and publish. `None` when
    /// nothing was answered.
    pub fn recap(&self, session: &LiveSession, now_ms: Millis) -> Option<Recap> {
        let mut answered: Vec<&StoredQuestion> = self
            .questions
            .iter()
            .filter(|q| q.state != QuestionState::Hidden && q.answer.is_some())
            .collect();
        if answered.is_empty() {
            return None;
        }
        answered.sort_by(|a, b| {
            b.pinned
                .cmp(&a.pinned)
                .then(b.votes.cmp(&a.votes))
                .then(a.asked_at.cmp(&b.asked_at))
        });
        let slide = |text: String| Slide {
            text: clip(&text, Story::TEXT_MAX),
            media: None,
            duration_ms: Slide::DEFAULT_DURATION_MS,
            cta: None,
        };
        let mut slides = vec![slide(format!(
            "{} — the answers from the live session with {}",
            session.title, session.host
        ))];
        for q in answered.iter().take(RECAP_SLIDES_MAX - 1) {
            let answer = q.answer.as_ref().map(|a| a.text.as_str()).unwrap_or("");
            slides.push(slide(format!("Q: {}\n\nA: {}", q.text, answer)));
        }
        let story = Story {
            id: recap_story_id(&session.id),
            title: clip(&format!("{}: the answers", session.title), 120),
            topic: session.topic.clone(),
            slides,
            publish_at: now_ms,
            expires_at: now_ms + RECAP_STORY_MS,
            targeting: Default::default(),
            translations: Default::default(),
        };
        let kb = answered
            .iter()
            .map(|q| {
                (
                    q.id.clone(),
                    KbDraft {
                        topic: session.topic.clone(),
                        title: clip(&q.text, KbDraft::TITLE_MAX),
                        body: q
                            .answer
                            .as_ref()
                            .map(|a| clip(&a.text, KbDraft::BODY_MAX))
                            .unwrap_or_default(),
                        published: false,
                        translations: Default::default(),
                    },
                )
            })
            .collect();
        Some(Recap { story, kb })
    }
}

/// The id of a session's recap story: `{session}-recap`, cut to a slug's 63 characters.
pub fn recap_story_id(session: &str) -> String {
    let cut: String = session.chars().take(63 - "-recap".len()).collect();
    format!("{}-recap", cut.trim_end_matches('-'))
}

/// The knowledge-base source id of a live question (`live-{session}-{question}` is too long
/// for a slug; the question id is unique in the site, being random): `live-{question}`.
pub fn kb_source_id(question: &str) -> String {
    format!("live-{question}")
}

/// A session's recap: drafts only, nothing is published by making it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recap {
    pub story: Story,
    /// `(question id, draft)`, most votes first.
    pub kb: Vec<(String, KbDraft)>,
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Sorts questions as the panel and the console list them: pinned first, then waiting and
/// answered ones by votes (most first), then those marked done, then hidden ones; ties by
/// when they were asked (earliest first).
pub fn order(questions: &mut [PublicQuestion]) {
    let rank = |q: &PublicQuestion| match q.state {
        QuestionState::Waiting | QuestionState::Answered => 0,
        QuestionState::Done => 1,
        QuestionState::Hidden => 2,
    };
    questions.sort_by(|a, b| {
        b.pinned
            .cmp(&a.pinned)
            .then(rank(a).cmp(&rank(b)))
            .then(b.votes.cmp(&a.votes))
            .then(a.asked_at.cmp(&b.asked_at))
            .then(a.id.cmp(&b.id))
    });
}

/// A client's copy of the room, kept current by [`Delta`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    pub room: PublicRoom,
}

/// What a client does with a [`Delta`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Applied: show the room again.
    Applied,
    /// Older than what the client has (a late or repeated message): ignore it.
    Stale,
    /// A change was missed: read the whole room again.
    Gap,
}

impl Replica {
    /// Applies `delta` if it is the next version.
    pub fn merge(&mut self, delta: &Delta) -> Merge {
        let v = delta.version();
        if v <= self.room.version {
            return Merge::Stale;
        }
        if v != self.room.version + 1 {
            return Merge::Gap;
        }
        match delta {
            Delta::Question { question, .. } => {
                match self.room.questions.iter_mut().find(|q| q.id == question.id) {
                    Some(q) => *q = question.clone(),
                    None => self.room.questions.push(question.clone()),
                }
                order(&mut self.room.questions);
            }
            Delta::Status {
                status, stream_url, ..
            } => {
                self.room.status = status.clone();
                self.room.stream_url = stream_url.clone();
            }
            Delta::Ended { ended_at, .. } => self.room.ended_at = Some(*ended_at),
        }
        self.room.version = v;
        Merge::Applied
    }

    /// The questions a viewer sees: every question but hidden ones, except the viewer's own
    /// (`mine`), which stay with their state so the asker knows.
    pub fn visible<'a>(&'a self, mine: &'a [String]) -> impl Iterator<Item = &'a PublicQuestion> {
        self.room
            .questions
            .iter()
            .filter(move |q| q.state != QuestionState::Hidden || mine.contains(&q.id))
    }

    /// Once over, the panel shows the answered questions only.
    pub fn answered(&self) -> impl Iterator<Item = &PublicQuestion> {
        self.room.questions.iter().filter(|q| q.answer.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_800_000_000_000;
    const END: Millis = NOW + 3_600_000;

    fn ask(room: &mut Room, id: &str, visitor: &str, at: Millis) -> Applied {
        room.apply(
            Command::Ask {
                id: id.into(),
                visitor: visitor.into(),
                text: format!("  question {id}  "),
            },
            END,
            at,
        )
        .unwrap()
    }

    fn vote(room: &mut Room, id: &str, visitor: &str, first: bool) -> Result<Applied, Refusal> {
        room.apply(
            Command::Vote {
                question: id.into(),
                visitor: visitor.into(),
                first,
            },
            END,
            NOW + 10,
        )
    }

    fn host(room: &mut Room, id: &str, action: HostAction) -> Applied {
        room.apply(
            Command::Host {
                question: id.into(),
                action,
            },
            END,
            NOW + 20,
        )
        .unwrap()
    }

    #[test]
    fn questions_are_sorted_pinned_then_by_votes_and_hidden_ones_are_tombstones() {
        let mut room = Room::default();
        ask(&mut room, "a", "v1", NOW);
        ask(&mut room, "b", "v2", NOW + 1);
        ask(&mut room, "c", "v3", NOW + 2);
        vote(&mut room, "b", "v1", true).unwrap();
        vote(&mut room, "b", "v3", true).unwrap();
        vote(&mut room, "c", "v1", true).unwrap();
        let ids = |r: &PublicRoom| r.questions.iter().map(|q| q.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&room.view("s", false, 0)), ["b", "c", "a"]);
        host(&mut room, "a", HostAction::Pin);
        assert_eq!(ids(&room.view("s", false, 0)), ["a", "b", "c"]);
        let hidden = host(&mut room, "b", HostAction::Hide);
        let Delta::Question { question, .. } = &hidden.delta else {
            panic!("a question delta")
        };
        assert_eq!(
            question.text, "",
            "a hidden question's text is not broadcast"
        );
        assert_eq!(question.state, QuestionState::Hidden);
        let view = room.view("s", false, 0);
        assert_eq!(ids(&view), ["a", "c", "b"]);
        assert_eq!(view.questions[2].text, "");
        // The host still reads it.
        assert_eq!(room.view("s", true, 0).questions[2].text, "question b");
        // The asker's visitor id is in no view or delta.
        let json = serde_json::to_string(&room.view("s", true, 0)).unwrap();
        assert!(!json.contains("v1") && !json.contains("v2"), "{json}");
        // Restored, it is back with its votes.
        host(&mut room, "b", HostAction::Restore);
        assert_eq!(ids(&room.view("s", false, 0)), ["a", "b", "c"]);
    }

    #[test]
    fn a_vote_counts_once_and_never_on_hidden_or_ended() {
        let mut room = Room::default();
        ask(&mut room, "a", "v1", NOW);
        let applied = vote(&mut room, "a", "v2", true).unwrap();
        assert_eq!(applied.vote_key.as_deref(), Some("v/a/v2"));
        assert_eq!(vote(&mut room, "a", "v2", false), Err(Refusal::Duplicate));
        assert_eq!(room.questions[0].votes, 1);
        assert_eq!(vote(&mut room, "zz", "v2", true), Err(Refusal::NoQuestion));
        host(&mut room, "a", HostAction::Hide);
        assert_eq!(vote(&mut room, "a", "v3", true), Err(Refusal::NoQuestion));
        host(&mut room, "a", HostAction::Restore);
        room.apply(Command::End, END, NOW + 30).unwrap();
        assert_eq!(vote(&mut room, "a", "v3", true), Err(Refusal::Ended));
        assert_eq!(room.questions[0].votes, 1);
    }

    #[test]
    fn asking_is_bounded_per_visitor_and_per_session_and_stops_at_the_end() {
        let mut room = Room::default();
        for i in 0..WAITING_PER_VISITOR_MAX {
            ask(&mut room, &format!("q{i}"), "v1", NOW);
        }
        let again = |room: &mut Room, id: &str, at| {
            room.apply(
                Command::Ask {
                    id: id.into(),
                    visitor: "v1".into(),
                    text: "more".into(),
                },
                END,
                at,
            )
        };
        assert_eq!(again(&mut room, "x", NOW), Err(Refusal::TooManyWaiting));
        // Once one is answered the visitor may ask again.
        host(
            &mut room,
            "q0",
            HostAction::Answer {
                text: "yes".into(),
                story: None,
            },
        );
        assert!(again(&mut room, "x", NOW).is_ok());
        assert_eq!(again(&mut room, "x", NOW), Err(Refusal::Duplicate));
        // Past the session's end nobody asks, even without the host ending it.
        assert_eq!(again(&mut room, "y", END), Err(Refusal::Ended));
        let mut full = Room::default();
        for i in 0..QUESTIONS_MAX {
            ask(&mut full, &format!("q{i}"), &format!("v{i}"), NOW);
        }
        assert_eq!(
            full.apply(
                Command::Ask {
                    id: "last".into(),
                    visitor: "new".into(),
                    text: "t".into()
                },
                END,
                NOW
            ),
            Err(Refusal::Full)
        );
    }

    #[test]
    fn every_change_moves_the_version_by_one_and_a_replica_follows_or_asks_again() {
        let mut room = Room::default();
        let mut replica = Replica {
            room: room.view("s", false, 0),
        };
        let mut deltas = vec![ask(&mut room, "a", "v1", NOW).delta];
        deltas.push(vote(&mut room, "a", "v2", true).unwrap().delta);
        deltas.push(
            host(
                &mut room,
                "a",
                HostAction::Answer {
                    text: "Restart it".into(),
                    story: Some("reset".into()),
                },
            )
            .delta,
        );
        deltas.push(
            room.apply(
                Command::Status(HostStatus {
                    status: "On question 1".into(),
                    stream_url: Some("https://example.com/live".into()),
                }),
                END,
                NOW,
            )
            .unwrap()
            .delta,
        );
        deltas.push(room.apply(Command::End, END, NOW + 40).unwrap().delta);
        assert_eq!(
            deltas.iter().map(Delta::version).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(replica.merge(&deltas[0]), Merge::Applied);
        assert_eq!(replica.merge(&deltas[0]), Merge::Stale);
        assert_eq!(replica.merge(&deltas[2]), Merge::Gap);
        for d in &deltas[1..] {
            assert_eq!(replica.merge(d), Merge::Applied);
        }
        // The replica is what a fresh join reads.
        assert_eq!(replica.room, room.view("s", false, 0));
        assert_eq!(replica.room.ended_at, Some(NOW + 40));
        assert_eq!(replica.answered().count(), 1);
        assert!(matches!(deltas[4], Delta::Ended { .. }));
        assert_eq!(room.apply(Command::End, END, NOW + 50), Err(Refusal::Ended));
    }

    #[test]
    fn messages_have_the_documented_shape() {
        let delta = Delta::Ended {
            version: 3,
            ended_at: 7,
        };
        assert_eq!(
            serde_json::to_string(&ServerMessage::Delta(delta.clone())).unwrap(),
            r#"{"type":"ended","version":3,"ended_at":7}"#
        );
        let back: ServerMessage =
            serde_json::from_str(r#"{"type":"ended","version":3,"ended_at":7}"#).unwrap();
        assert_eq!(back, ServerMessage::Delta(delta));
        let state = ServerMessage::State {
            room: Room::default().view("s", false, 2),
        };
        let json = serde_json::to_string(&state).unwrap();
        assert!(
            json.starts_with(r#"{"type":"state","room":{"session":"s","#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<ServerMessage>(&json).unwrap(), state);
        assert_eq!(
            serde_json::to_string(&Watching {
                kind: WatchingTag::Watching,
                count: 4
            })
            .unwrap(),
            r#"{"type":"watching","count":4}"#
        );
        let action: HostAction =
            serde_json::from_str(r#"{"action":"answer","text":"Yes","story":"reset"}"#).unwrap();
        assert!(action.validate().is_empty());
        assert!(
            !serde_json::from_str::<HostAction>(r#"{"action":"answer","text":" "}"#)
                .unwrap()
                .validate()
                .is_empty()
        );
    }

    #[test]
    fn the_recap_drafts_a_story_and_kb_entries_from_answered_questions_only() {
        let session = crate::session::tests::session("ask-us", NOW - 10, NOW, END);
        let mut room = Room::default();
        assert_eq!(room.recap(&session, NOW), None);
        ask(&mut room, "a", "v1", NOW);
        ask(&mut room, "b", "v2", NOW + 1);
        ask(&mut room, "c", "v3", NOW + 2);
        ask(&mut room, "d", "v4", NOW + 3);
        vote(&mut room, "c", "v1", true).unwrap();
        let answer = |text: &str| HostAction::Answer {
            text: text.into(),
            story: None,
        };
        host(&mut room, "a", answer("Answer A"));
        host(&mut room, "c", answer("Answer C"));
        host(&mut room, "d", answer("Answer D"));
        host(&mut room, "d", HostAction::Hide);
        let recap = room.recap(&session, END).unwrap();
        assert!(
            recap.story.validate().is_empty(),
            "{:?}",
            recap.story.validate()
        );
        assert_eq!(recap.story.id, "ask-us-recap");
        assert_eq!(recap.story.slides.len(), 3);
        assert_eq!(recap.story.slides[1].text, "Q: question c\n\nA: Answer C");
        assert_eq!(recap.story.slides[2].text, "Q: question a\n\nA: Answer A");
        assert_eq!(
            recap
                .kb
                .iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>(),
            ["c", "a"]
        );
        assert!(!recap.kb[0].1.published, "drafts are not published");
        assert_eq!(recap.kb[0].1.body, "Answer C");
        assert!(recap.kb.iter().all(|(_, d)| d.validate().is_empty()));
        let long = "x".repeat(63);
        assert!(crate::ids::is_slug(&recap_story_id(&long)));
        assert!(crate::ids::is_slug(&kb_source_id("abcdef0123456789")));
    }
}
