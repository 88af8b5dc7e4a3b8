-- Glimpse's D1 schema, version 2: what the queue consumer ingests and what operators query.
-- Rows are written by the consumer (worker/src/consumer.rs, one transaction per message
-- batch) or by operators' requests; visitors' requests never write D1 directly.

-- Each visitor's current answer per poll, applied from the KV vote records.
CREATE TABLE votes (
  site TEXT NOT NULL,
  poll TEXT NOT NULL,
  visitor TEXT NOT NULL,
  response TEXT NOT NULL,        -- the response id that set this answer
  answer TEXT NOT NULL,          -- shared::rollup::answer_key (the tally's key)
  value TEXT NOT NULL,           -- the Answer's JSON
  at INTEGER NOT NULL,           -- server time it was recorded, ms
  PRIMARY KEY (site, poll, visitor)
) WITHOUT ROWID;
CREATE INDEX votes_by_visitor ON votes (site, visitor);
-- A poll's newest text answers (operators' results), without reading every vote.
CREATE INDEX votes_by_answer ON votes (site, poll, answer, at);

-- Exact answer counts per poll, changed in the same transaction as `votes`.
CREATE TABLE tallies (
  site TEXT NOT NULL,
  poll TEXT NOT NULL,
  answer TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (site, poll, answer)
) WITHOUT ROWID;

-- Event batches applied: the id makes a redelivered batch change nothing; also the index
-- of each visitor's KV batch records (site/{site}/events/{day}/{id}).
CREATE TABLE batches (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  visitor TEXT NOT NULL,
  day TEXT NOT NULL,             -- YYYY-MM-DD (UTC) of received_at
  received_at INTEGER NOT NULL,
  PRIMARY KEY (site, id)
) WITHOUT ROWID;
CREATE INDEX batches_by_visitor ON batches (site, visitor);
CREATE INDEX batches_by_received ON batches (site, received_at);

-- What each visitor was already counted for that day, so each counts once a day per
-- (metric, key), as the reports have always counted.
CREATE TABLE seen (
  site TEXT NOT NULL,
  day TEXT NOT NULL,
  metric TEXT NOT NULL,
  key TEXT NOT NULL,
  visitor TEXT NOT NULL,
  PRIMARY KEY (site, day, metric, key, visitor)
) WITHOUT ROWID;
CREATE INDEX seen_by_visitor ON seen (site, visitor);

-- Per-day counters per site and (metric, key): story views/completions/slides/CTAs/helpful
-- per story, session joins, escalations per channel and topic, unique visitors, votes per
-- poll answer, CSAT stars, questions per topic. Never per visitor.
CREATE TABLE daily (
  site TEXT NOT NULL,
  day TEXT NOT NULL,
  metric TEXT NOT NULL,
  key TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (site, day, metric, key)
) WITHOUT ROWID;

-- All-time views and "helped" per story (each visitor once a day), for knowledge-base
-- ranking.
CREATE TABLE popularity (
  site TEXT NOT NULL,
  story TEXT NOT NULL,
  views INTEGER NOT NULL DEFAULT 0,
  helped INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site, story)
) WITHOUT ROWID;

-- The questions inbox and each question's timings. The visitor's own record (message and
-- thread-token hash) stays in KV; here is what operators list and measure.
CREATE TABLE questions (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  visitor TEXT NOT NULL,
  topic TEXT NOT NULL,
  message TEXT NOT NULL,
  has_photo INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  first_reply_at INTEGER,        -- the team's first reply, ms
  resolved_at INTEGER,
  category TEXT,                 -- the resolution's category
  PRIMARY KEY (site, id)
) WITHOUT ROWID;
CREATE INDEX questions_open ON questions (site, resolved_at, created_at);
CREATE INDEX questions_by_created ON questions (site, created_at);
CREATE INDEX questions_by_visitor ON questions (site, visitor);

-- The team's replies, one row each.
CREATE TABLE replies (
  site TEXT NOT NULL,
  question TEXT NOT NULL,
  at INTEGER NOT NULL,
  id TEXT NOT NULL,
  body TEXT NOT NULL,            -- the Reply's JSON
  PRIMARY KEY (site, question, at, id)
) WITHOUT ROWID;

-- The permanent knowledge base (no expiry): stories' entries and operators' answers.
CREATE TABLE kb (
  rowid INTEGER PRIMARY KEY,
  site TEXT NOT NULL,
  id TEXT NOT NULL,              -- KbSource::entry_id
  visitor TEXT,                  -- the asking visitor (never public; export and erasure)
  topic TEXT NOT NULL,
  title TEXT NOT NULL,           -- what search indexes: the text public now and next
  body TEXT NOT NULL,
  entry TEXT NOT NULL,           -- the KbEntry's JSON
  updated_at INTEGER NOT NULL,   -- last change or publication, ms (the console's order)
  public_from INTEGER,           -- published_at if published and not awaiting review, else NULL
  UNIQUE (site, id)
);
CREATE INDEX kb_by_visitor ON kb (site, visitor);
CREATE INDEX kb_by_updated ON kb (site, updated_at, id);
CREATE INDEX kb_public ON kb (site, public_from);

-- Full-text index over the knowledge base (external content: kb), kept by triggers. The
-- site is indexed too, so a search matches `site : "…"` and reads one site's postings.
-- Porter stems and unicode61 without diacritics, so "payments" finds "payment" and
-- "reembolso" finds "reembolsó".
CREATE VIRTUAL TABLE kb_fts USING fts5(
  site, title, body,
  content = 'kb', content_rowid = 'rowid',
  tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER kb_ai AFTER INSERT ON kb BEGIN
  INSERT INTO kb_fts (rowid, site, title, body) VALUES (new.rowid, new.site, new.title, new.body);
END;
CREATE TRIGGER kb_ad AFTER DELETE ON kb BEGIN
  INSERT INTO kb_fts (kb_fts, rowid, site, title, body)
    VALUES ('delete', old.rowid, old.site, old.title, old.body);
END;
CREATE TRIGGER kb_au AFTER UPDATE ON kb BEGIN
  INSERT INTO kb_fts (kb_fts, rowid, site, title, body)
    VALUES ('delete', old.rowid, old.site, old.title, old.body);
  INSERT INTO kb_fts (rowid, site, title, body) VALUES (new.rowid, new.site, new.title, new.body);
END;

-- Visitors erased, and when: a queued message of theirs from before that instant is
-- dropped by the consumer (and its KV record deleted), never applied.
CREATE TABLE erased (
  site TEXT NOT NULL,
  visitor TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (site, visitor)
) WITHOUT ROWID;
