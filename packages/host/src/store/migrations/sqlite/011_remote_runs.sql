-- Runs seen and controlled from every instance (issue 11). On SQLite (one machine) the run's log
-- file stays its only copy and no chunk is written; the table exists so that both stores keep the
-- same rules (the Store contract suite runs on both).
ALTER TABLE runs ADD COLUMN cancel_requested_at INTEGER;

CREATE TABLE run_log_chunks (
  job_name TEXT NOT NULL,
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL CHECK (seq > 0),
  text TEXT NOT NULL,
  PRIMARY KEY (job_name, run_id, seq)
);

-- Foreign keys are not enforced on this connection: a pruned or deleted run takes its log with it here.
CREATE TRIGGER runs_delete_log_chunks AFTER DELETE ON runs
BEGIN
  DELETE FROM run_log_chunks WHERE job_name = OLD.job_name AND run_id = OLD.id;
END;
