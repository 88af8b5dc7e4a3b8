-- Glimpse's D1 schema, version 6 (issue 21): live Q&A facts. The running room lives in its
-- Durable Object; what visitors asked and upvoted is recorded here like every other
-- response (queried and aggregated, exported and erased with the visitor, deleted past the
-- site's retention by the cron).
CREATE TABLE live_questions (
  site TEXT NOT NULL,
  session TEXT NOT NULL,
  id TEXT NOT NULL,
  visitor TEXT NOT NULL,
  text TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (site, session, id)
);
CREATE INDEX live_questions_visitor ON live_questions (site, visitor);
CREATE INDEX live_questions_at ON live_questions (site, at);

-- One row per counted upvote: a visitor's first vote on a question.
CREATE TABLE live_votes (
  site TEXT NOT NULL,
  session TEXT NOT NULL,
  question TEXT NOT NULL,
  visitor TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (site, session, question, visitor)
);
CREATE INDEX live_votes_visitor ON live_votes (site, visitor);
CREATE INDEX live_votes_at ON live_votes (site, at);
