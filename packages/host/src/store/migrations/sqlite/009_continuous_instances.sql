-- Continuous jobs on several instances (issue 11): each instance's status of each continuous job
-- (Kudu's detailed_status), and the lease that keeps a singleton job on one instance. Instants
-- are ms since the epoch. Rows of dead instances stay until overwritten; readers leave them out.
CREATE TABLE continuous_statuses (
  job_name TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  status TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (job_name, instance_id)
);

CREATE TABLE singleton_leases (
  job_name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  acquired_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
