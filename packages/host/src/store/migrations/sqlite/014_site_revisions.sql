-- Site revisions (issue 11): on PostgreSQL, the site's files other than App_Data/jobs are stored
-- as one package after each site deployment, and the revision naming it is recorded here for the
-- other instances. One machine on SQLite records none (the host never writes this table then); the
-- table exists so both stores keep one contract. AUTOINCREMENT: a pruned number is never reused.
-- Instants are ms since the epoch.
CREATE TABLE site_revisions (
  revision INTEGER PRIMARY KEY AUTOINCREMENT,
  package_hash TEXT NOT NULL REFERENCES packages (hash),
  deployment_id TEXT,
  instance_id TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX site_revisions_package ON site_revisions (package_hash);
