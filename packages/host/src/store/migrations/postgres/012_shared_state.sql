-- Failed logins per client address, shared by every instance on the store: the slow-down of
-- password guessing counts across instances. A count restarts after a window without failures
-- (by the database's clock).
CREATE TABLE login_failures (
  address TEXT COLLATE "C" PRIMARY KEY,
  count INTEGER NOT NULL,
  last_failure TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_age ON login_failures (last_failure);

-- The instance running a deployment in progress: a host starting (or a live instance sweeping)
-- fails only the deployments of instances that are not live, never one another instance runs.
ALTER TABLE deployments ADD COLUMN instance_id TEXT;
