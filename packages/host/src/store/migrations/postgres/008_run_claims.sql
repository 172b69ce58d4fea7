-- Runs placed on the least-loaded instance (issue 11): a run inserted for another instance waits,
-- unclaimed, until that instance claims it (a conditional write, once) and starts its process.
-- Runs an instance inserts for itself are claimed from the start, hence the default.
ALTER TABLE runs ADD COLUMN claimed BOOLEAN NOT NULL DEFAULT true;
-- When the assigned instance claimed it (the database's now()); null for runs claimed at insert.
ALTER TABLE runs ADD COLUMN claimed_at TIMESTAMPTZ;
CREATE INDEX runs_unclaimed ON runs (instance_id) WHERE NOT claimed;
