-- Site revisions (issue 11): after a site deployment, the site's files other than App_Data/jobs
-- (the jobs are stored per version, see 010) are stored as one package, and the revision that
-- names it is recorded here. Every other instance fetches the latest revision once and swaps its
-- own site folder. Numbers only grow: an instance compares the latest with the one it applied.
CREATE TABLE site_revisions (
  revision BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- A revision never names a package that is not stored (pruning skips referenced packages).
  package_hash TEXT COLLATE "C" NOT NULL REFERENCES packages (hash),
  deployment_id TEXT,
  instance_id TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX site_revisions_package ON site_revisions (package_hash);
