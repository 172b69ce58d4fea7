-- Instances (issue 11): each host process registers and heartbeats here; liveness is decided by
-- comparing last_heartbeat with the store's clock. Instants are ms since the epoch.
CREATE TABLE instances (
  id TEXT PRIMARY KEY,
  host_name TEXT NOT NULL,
  url TEXT NOT NULL,
  -- A random token per process start: tells this process's row from another's with the same id.
  incarnation TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  last_heartbeat INTEGER NOT NULL,
  -- Set by a graceful stop: dead at once.
  stopped_at INTEGER,
  active_runs INTEGER NOT NULL DEFAULT 0 CHECK (active_runs >= 0)
);
