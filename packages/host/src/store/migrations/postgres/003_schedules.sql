-- Scheduled jobs (schedule-reference.md).

-- One active run per job, enforced by the database rather than by one host's memory.
CREATE UNIQUE INDEX runs_one_active_per_job ON runs (job_name) WHERE status IN ('Initializing', 'Running');

-- Runs started by a schedule: the due instant they serve and the attempt (1, then 2… for retries).
ALTER TABLE runs ADD COLUMN scheduled_time TIMESTAMPTZ;
ALTER TABLE runs ADD COLUMN attempt INTEGER;

-- Per job: the schedule it is armed with, and the last occurrence processed under it.
CREATE TABLE schedule_state (
  job_name TEXT COLLATE "C" PRIMARY KEY,
  -- The schedule and zone as armed (canonical JSON): a change resets what follows.
  schedule_key TEXT NOT NULL,
  -- When this schedule was first armed: the start of a recurrence that has no startTime.
  armed_at TIMESTAMPTZ NOT NULL,
  -- L: the newest occurrence that ran, was skipped or was declared missed.
  last_processed TIMESTAMPTZ,
  -- Occurrences up to here fell while the schedule could not fire (paused, WEBJOBS_STOPPED,
  -- WEBJOBS_DISABLE_SCHEDULE): neither run nor missed.
  suppressed_until TIMESTAMPTZ,
  paused BOOLEAN NOT NULL DEFAULT FALSE
);

-- One row per (job, due instant): the key that makes each occurrence fire at most once, however
-- many instances compute the same schedule; written before its run starts.
CREATE TABLE fires (
  job_name TEXT COLLATE "C" NOT NULL,
  scheduled_time TIMESTAMPTZ NOT NULL,
  outcome TEXT NOT NULL,
  run_id TEXT,
  attempt INTEGER NOT NULL DEFAULT 1,
  reason TEXT,
  -- A failed run's next attempt is due at this time (null: no retry pending).
  retry_at TIMESTAMPTZ,
  recorded_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (job_name, scheduled_time)
);
CREATE INDEX fires_retry_pending ON fires (retry_at) WHERE retry_at IS NOT NULL;
