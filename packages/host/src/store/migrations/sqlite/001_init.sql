CREATE TABLE jobs (
  type TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  script TEXT,
  settings TEXT NOT NULL,
  error TEXT,
  desired_state TEXT NOT NULL DEFAULT 'running',
  source_fingerprint TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (type, name)
);

CREATE TABLE runs (
  job_name TEXT NOT NULL,
  id TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  trigger TEXT NOT NULL,
  arguments TEXT NOT NULL,
  version TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  exit_code INTEGER,
  signal TEXT,
  cpu_ms INTEGER,
  peak_rss_bytes INTEGER,
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
  username TEXT NOT NULL,
  hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
