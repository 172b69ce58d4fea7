-- Instances (issue 11): each host process registers and heartbeats here; liveness is decided by
-- comparing last_heartbeat with the database's now(), so the machines' clocks never meet.
CREATE TABLE instances (
  id TEXT COLLATE "C" PRIMARY KEY,
  host_name TEXT NOT NULL,
  url TEXT NOT NULL,
  -- A random token per process start: tells this process's row from another's with the same id.
  incarnation TEXT NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  last_heartbeat TIMESTAMPTZ NOT NULL,
  -- Set by a graceful stop: dead at once.
  stopped_at TIMESTAMPTZ,
  active_runs INTEGER NOT NULL DEFAULT 0 CHECK (active_runs >= 0)
);
