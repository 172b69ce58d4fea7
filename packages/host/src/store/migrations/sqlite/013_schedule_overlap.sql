-- Overlap policies across instances (schedule-reference.md §7, issue 11). On SQLite (one machine)
-- the scheduler sees every run in memory; the columns keep both stores to the same rules.
-- `replace`: the reason a cancel request is recorded with.
ALTER TABLE runs ADD COLUMN cancel_reason TEXT;

-- `queue`: the run a queued occurrence waits for.
ALTER TABLE fires ADD COLUMN waiting_for TEXT;
CREATE INDEX fires_waiting ON fires (job_name, waiting_for) WHERE outcome = 'queued';
