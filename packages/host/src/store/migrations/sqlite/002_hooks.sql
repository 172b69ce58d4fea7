CREATE TABLE hooks (
  id TEXT PRIMARY KEY,
  event TEXT NOT NULL,
  url TEXT NOT NULL,
  insecure_ssl INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_status TEXT,
  last_datetime INTEGER,
  last_reason TEXT
);
CREATE UNIQUE INDEX hooks_event_url ON hooks (event, url);
