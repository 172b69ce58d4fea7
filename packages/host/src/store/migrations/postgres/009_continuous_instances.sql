-- Continuous jobs on several instances (issue 11): each instance's status of each continuous job
-- (Kudu's detailed_status), and the lease that keeps a singleton job on one instance. Expiries
-- are compared with the database's now(), never with a machine's clock. Rows of dead instances
-- stay until overwritten; readers leave them out.
CREATE TABLE continuous_statuses (
  job_name TEXT COLLATE "C" NOT NULL,
  instance_id TEXT COLLATE "C" NOT NULL,
  status TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (job_name, instance_id)
);

CREATE TABLE singleton_leases (
  job_name TEXT COLLATE "C" PRIMARY KEY,
  holder TEXT NOT NULL,
  acquired_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);
