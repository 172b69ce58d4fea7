-- PostgreSQL translation of sqlite/001_init.sql: instants are timestamptz, flags booleans,
-- counters bigint; the rules (keys, partial indexes) are the same. Names and ids sort byte by
-- byte (COLLATE "C"), as in SQLite, whatever the database's locale: run ids are ordered by them.
CREATE TABLE jobs (
  type TEXT NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  version TEXT NOT NULL,
  script TEXT,
  settings TEXT NOT NULL,
  error TEXT,
  desired_state TEXT NOT NULL DEFAULT 'running',
  source_fingerprint TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (type, name)
);

CREATE TABLE runs (
  job_name TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  trigger TEXT NOT NULL,
  arguments TEXT NOT NULL,
  version TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  start_time TIMESTAMPTZ NOT NULL,
  end_time TIMESTAMPTZ,
  exit_code INTEGER,
  signal TEXT,
  cpu_ms BIGINT,
  peak_rss_bytes BIGINT,
  pid INTEGER,
  PRIMARY KEY (job_name, id)
);
CREATE INDEX runs_active ON runs (status) WHERE status IN ('Initializing', 'Running');

CREATE TABLE processes (
  pid INTEGER NOT NULL,
  start_ticks TEXT NOT NULL,
  owner TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  PRIMARY KEY (instance_id, pid)
);

CREATE TABLE credentials (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  username TEXT COLLATE "C" NOT NULL,
  hash TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);
