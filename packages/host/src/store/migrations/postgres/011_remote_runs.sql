-- Runs seen and controlled from every instance (issue 11): a cancel asked on one instance for a
-- run going on another is recorded on the run (set only while it is active), and the instance
-- running it acts on it; a run's log is shipped here in chunks, so that any instance serves it,
-- even after the instance that ran it died.
ALTER TABLE runs ADD COLUMN cancel_requested_at TIMESTAMPTZ;

CREATE TABLE run_log_chunks (
  job_name TEXT COLLATE "C" NOT NULL,
  run_id TEXT COLLATE "C" NOT NULL,
  -- 1, 2… in the order the instance running it wrote them.
  seq INTEGER NOT NULL CHECK (seq > 0),
  text TEXT NOT NULL,
  PRIMARY KEY (job_name, run_id, seq),
  -- A pruned or deleted run takes its log with it.
  FOREIGN KEY (job_name, run_id) REFERENCES runs (job_name, id) ON DELETE CASCADE
);
