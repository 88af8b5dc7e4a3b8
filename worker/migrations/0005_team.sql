-- Glimpse's D1 schema, version 5 (issue 20): a team, not a token.
-- Operators (owner, editor, agent) with personal tokens, read-only API keys, and the audit
-- log of every operators' write. Tokens are never stored: only their SHA-256
-- (`sha256:<hex>`), looked up by that hash on each request.
CREATE TABLE operators (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,            -- owner | editor | agent
  sites TEXT NOT NULL,           -- JSON array of site ids, or ["*"]
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at INTEGER
) WITHOUT ROWID;

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  sites TEXT NOT NULL,           -- JSON array of site ids, or ["*"]
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at INTEGER
) WITHOUT ROWID;

-- Every operators' write: who (id and name then), what (method and path), when, outcome.
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  site TEXT,
  action TEXT NOT NULL,
  status INTEGER NOT NULL
);
CREATE INDEX audit_by_site ON audit (site, seq);

-- Webhooks per site: the receiver, the events it wants, its body format, and the HMAC
-- secret deliveries are signed with (shown to the owner once, kept to sign).
CREATE TABLE webhooks (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  events TEXT NOT NULL,          -- JSON array of event types
  format TEXT NOT NULL,          -- json | slack
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (site, id)
) WITHOUT ROWID;

-- The delivery log: one row per attempt (kept for the site's retention).
CREATE TABLE deliveries (
  seq INTEGER PRIMARY KEY,
  site TEXT NOT NULL,
  webhook TEXT NOT NULL,
  event TEXT NOT NULL,
  event_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status INTEGER NOT NULL,       -- the receiver's HTTP status; 0: no answer
  error TEXT,
  retry_at INTEGER               -- when the next attempt is due, if one will be made
);
CREATE INDEX deliveries_by_hook ON deliveries (site, webhook, seq);
CREATE INDEX deliveries_by_age ON deliveries (site, at);

-- Alerts already sent (a story's "expiring" once per expiry), so ticks tell each once.
CREATE TABLE notices (
  site TEXT NOT NULL,
  key TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (site, key)
) WITHOUT ROWID;

-- The address a visitor left for a follow-up by email (with consent), for the inbox and the
-- question.created webhook; blanked when the visitor deletes the thread, gone with erasure.
ALTER TABLE questions ADD COLUMN email TEXT;

-- A visitor's follow-up messages in their thread (private like the question: deleted with
-- the thread, erased with the visitor, gone with the question at retention).
CREATE TABLE followups (
  site TEXT NOT NULL,
  question TEXT NOT NULL,
  at INTEGER NOT NULL,
  id TEXT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (site, question, at, id)
) WITHOUT ROWID;

-- The team's saved replies per site (inserted into answers in the inbox).
CREATE TABLE saved_replies (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (site, id)
) WITHOUT ROWID;

-- The export pages responses by arrival (`GET /v1/admin/sites/{site}/export`).
CREATE INDEX responses_by_at ON responses (site, at);

-- The expected reply time the widget shows: the median first reply of the last 7 days, as
-- a bucket bound in minutes (shared::question::median_reply_minutes), set by the hourly
-- tick and copied into the feed snapshot; NULL with too few replies.
ALTER TABLE sites ADD COLUMN reply_minutes INTEGER;
