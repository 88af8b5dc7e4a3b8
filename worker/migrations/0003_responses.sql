-- Glimpse's D1 schema, version 3 (0.17): every poll response id the queue consumer has seen.
-- A vote request makes no KV read: it writes its response's own record
-- (site/{site}/response/{poll}/{response}) and sends one message. The consumer decides here
-- whether a response id is new: a replay of any earlier response of the visitor (current or
-- replaced) changes nothing. Erasure finds each response's KV record through these rows.
CREATE TABLE responses (
  site TEXT NOT NULL,
  poll TEXT NOT NULL,
  response TEXT NOT NULL,        -- the client's response id
  visitor TEXT NOT NULL,
  value TEXT NOT NULL,           -- the Answer's JSON
  at INTEGER NOT NULL,           -- server time the response arrived, ms
  PRIMARY KEY (site, poll, response)
) WITHOUT ROWID;
CREATE INDEX responses_by_visitor ON responses (site, visitor);

-- The current answers are responses the consumer has seen.
INSERT INTO responses (site, poll, response, visitor, value, at)
  SELECT site, poll, response, visitor, value, at FROM votes;
