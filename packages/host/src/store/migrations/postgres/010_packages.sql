-- Packages (issue 11): every installed job version, stored content-addressed so that an instance
-- that did not receive the deploy fetches it from here (no shared disk). The key is the SHA-256 of
-- the content; two deploys of the same files share one row.
CREATE TABLE packages (
  hash TEXT COLLATE "C" PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
  content BYTEA NOT NULL,
  size BIGINT NOT NULL CHECK (size >= 0),
  -- Refreshed by every store of the same content: a package young enough may be about to be
  -- referenced by a job row, and is never pruned.
  stored_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The package of the job's current version (null: installed before packages were stored, or on a
-- store that keeps none).
ALTER TABLE jobs ADD COLUMN package_hash TEXT;
