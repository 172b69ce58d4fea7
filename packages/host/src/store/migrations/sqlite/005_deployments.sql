-- Site deployments (zip deploy, OneDeploy, git push, client-recorded), Kudu's deployment records.
CREATE TABLE deployments (
  id TEXT PRIMARY KEY,
  status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),
  status_text TEXT NOT NULL DEFAULT '',
  author TEXT,
  author_email TEXT,
  deployer TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  progress TEXT NOT NULL DEFAULT '',
  received_time INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  complete INTEGER NOT NULL DEFAULT 0,
  is_readonly INTEGER NOT NULL DEFAULT 0,
  -- Insertion order: several deployments can share one millisecond.
  seq INTEGER NOT NULL
);
CREATE UNIQUE INDEX deployments_seq ON deployments (seq);
-- At most one deployment is in progress at a time: deploys of the site are serialised.
CREATE UNIQUE INDEX deployments_one_in_progress ON deployments (complete) WHERE complete = 0;

CREATE TABLE deployment_log (
  deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  log_time INTEGER NOT NULL,
  message TEXT NOT NULL,
  type INTEGER NOT NULL,
  parent_id TEXT,
  PRIMARY KEY (deployment_id, seq)
);
