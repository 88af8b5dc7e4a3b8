-- Glimpse's D1 schema, version 1: sites and their content.
-- Migrations are applied in file-name order by `wrangler d1 migrations apply DB`
-- (`cargo xtask dev` and `cargo xtask test` apply them to the local D1; deploys run it with
-- `--remote`, see the README). Every row belongs to one site; every query names it first.

-- The sites that exist; the hourly cron pages through it (never all at once). The
-- configuration itself is in KV (site/{site}/config), what the edge reads.
CREATE TABLE sites (
  site TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '', -- the site's name, for the console's site list
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Stories, live sessions and polls as the admin API stored them. The snapshot the feed
-- reads from KV is rebuilt from this table with one query.
CREATE TABLE content (
  site TEXT NOT NULL,
  kind TEXT NOT NULL,            -- 'story' | 'session' | 'poll'
  id TEXT NOT NULL,
  body TEXT NOT NULL,            -- the item's JSON
  over_at INTEGER NOT NULL,      -- expires_at (stories, polls) or ends_at (sessions), ms
  purge_at INTEGER NOT NULL,     -- over_at + the site's retention: the cron deletes it then
  PRIMARY KEY (site, kind, id)
) WITHOUT ROWID;
CREATE INDEX content_by_over ON content (site, over_at);
