-- Site deployments (zip deploy, OneDeploy, git push, client-recorded), Kudu's deployment records.
CREATE TABLE deployments (
  id TEXT COLLATE "C" PRIMARY KEY,
  status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),
  status_text TEXT NOT NULL DEFAULT '',
  author TEXT,
  author_email TEXT,
  deployer TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  progress TEXT NOT NULL DEFAULT '',
  received_time TIMESTAMPTZ NOT NULL,
  start_time TIMESTAMPTZ NOT NULL,
  end_time TIMESTAMPTZ,
  complete BOOLEAN NOT NULL DEFAULT FALSE,
  is_readonly BOOLEAN NOT NULL DEFAULT FALSE,
  -- Insertion order: several deployments can share one millisecond. A sequence rather than
  -- MAX(seq) + 1, which two instances inserting at once would both compute.
  seq BIGSERIAL NOT NULL
);
CREATE UNIQUE INDEX deployments_seq ON deployments (seq);
-- At most one deployment is in progress at a time: deploys of the site are serialised.
CREATE UNIQUE INDEX deployments_one_in_progress ON deployments (complete) WHERE NOT complete;

CREATE TABLE deployment_log (
  deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  -- Order of entries: one sequence for all deployments (gaps within one are harmless).
  seq BIGSERIAL NOT NULL,
  id TEXT NOT NULL,
  log_time TIMESTAMPTZ NOT NULL,
  message TEXT NOT NULL,
  type INTEGER NOT NULL,
  parent_id TEXT,
  PRIMARY KEY (deployment_id, seq)
);
