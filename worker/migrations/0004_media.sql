-- The media library (worker/src/media.rs): one row per file an operator uploaded. The bytes
-- are in R2 at site/{site}/media/{id}; `id` is the first 32 hex digits of their SHA-256, so
-- the same file uploaded twice is one row. Listed newest first; the retention sweep takes
-- the oldest unused ones.
CREATE TABLE media (
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,            -- 'image' | 'video' | 'captions'
  content_type TEXT NOT NULL,    -- as served, decided from the bytes
  bytes INTEGER NOT NULL,
  name TEXT NOT NULL DEFAULT '', -- the uploaded file's name (for the library only)
  created_at INTEGER NOT NULL,   -- unix ms of the first upload
  PRIMARY KEY (site, id)
) WITHOUT ROWID;
CREATE INDEX media_by_created ON media (site, created_at);
