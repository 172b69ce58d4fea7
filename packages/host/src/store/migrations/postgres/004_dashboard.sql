-- The dashboard's history of all runs: newest first across jobs, paged by (id, job_name).
CREATE INDEX runs_newest_first ON runs (id DESC, job_name DESC);
