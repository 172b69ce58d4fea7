-- Packages (issue 11): on PostgreSQL every installed job version is stored here, content-addressed,
-- for the other instances. One machine on SQLite has its versions on its own disk and stores none
-- (the host never writes this table then); the table and column exist so both stores keep one
-- contract. Instants are ms since the epoch.
CREATE TABLE packages (
  hash TEXT PRIMARY KEY CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'),
  content BLOB NOT NULL,
  size INTEGER NOT NULL CHECK (size >= 0),
  stored_at INTEGER NOT NULL
);
ALTER TABLE jobs ADD COLUMN package_hash TEXT;
