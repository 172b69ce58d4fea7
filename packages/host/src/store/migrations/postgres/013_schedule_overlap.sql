-- Overlap policies across instances (schedule-reference.md §7, issue 11).
-- `replace` stops a run going on another instance through a cancel request: the reason it is
-- recorded with ("replaced by schedule") travels with the request.
ALTER TABLE runs ADD COLUMN cancel_reason TEXT;

-- `queue`: the run a queued occurrence waits for. One occurrence waits per run in progress, on
-- whichever instance recorded it; a queued one whose holder died does not count for the next run.
ALTER TABLE fires ADD COLUMN waiting_for TEXT;
CREATE INDEX fires_waiting ON fires (job_name, waiting_for) WHERE outcome = 'queued';
