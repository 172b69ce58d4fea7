CREATE TABLE hooks (
  id TEXT PRIMARY KEY,
  event TEXT NOT NULL,
  url TEXT NOT NULL,
  insecure_ssl BOOLEAN NOT NULL DEFAULT FALSE,
  created_at TIMESTAMPTZ NOT NULL,
  last_status TEXT,
  last_datetime TIMESTAMPTZ,
  last_reason TEXT
);
CREATE UNIQUE INDEX hooks_event_url ON hooks (event, url);
