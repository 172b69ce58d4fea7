-- Roles: every existing user and token keeps full rights (they had them before roles existed).
ALTER TABLE credentials ADD COLUMN role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'operator', 'reader'));
-- A token limited to some jobs: a JSON array of job names; NULL for every job.
ALTER TABLE credentials ADD COLUMN jobs TEXT;
-- One account per user name (older versions could leave two rows for one name: keep the newest).
DELETE FROM credentials older USING credentials newer
  WHERE older.kind = 'password' AND newer.kind = 'password' AND older.username = newer.username
    AND (older.created_at, older.ctid) < (newer.created_at, newer.ctid);
CREATE UNIQUE INDEX credentials_one_user ON credentials (username) WHERE kind = 'password';

-- Browser sessions: the cookie holds a random id; only its sha256 is stored.
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  username TEXT COLLATE "C" NOT NULL,
  address TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- App settings given to jobs as environment variables: scope '' is host-wide, else a job name.
-- Secret values are AES-256-GCM ciphertexts; the key is never in the database.
CREATE TABLE app_settings (
  scope TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  value TEXT NOT NULL,
  secret BOOLEAN NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (scope, name)
);

-- Who changed what, when and from where; pruned after WEBJOBS_AUDIT_RETENTION_DAYS.
CREATE TABLE audit (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at TIMESTAMPTZ NOT NULL,
  actor TEXT NOT NULL,
  actor_kind TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  status INTEGER NOT NULL,
  address TEXT,
  detail TEXT
);
CREATE INDEX audit_at ON audit (at);
