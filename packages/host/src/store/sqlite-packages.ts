import type Database from "better-sqlite3";
import {
  checkPackageHash,
  type NewSiteRevision,
  type PackageStore,
  type SiteRevision,
} from "../packages/types.ts";

interface SiteRevisionRow {
  revision: number;
  package_hash: string;
  deployment_id: string | null;
  instance_id: string | null;
  created_at: number;
}

const siteRevision = (row: SiteRevisionRow): SiteRevision => ({
  revision: row.revision,
  packageHash: row.package_hash,
  deploymentId: row.deployment_id,
  instanceId: row.instance_id,
  createdAt: new Date(row.created_at),
});

/**
 * Packages in SQLite (migration 010). One machine keeps its versions on its own disk and the host
 * stores no package here (see JobRegistry); the calls exist so both stores keep one contract.
 */
export class SqlitePackageStore implements PackageStore {
  constructor(private readonly db: Database.Database) {}

  async putPackage(hash: string, content: Buffer): Promise<void> {
    checkPackageHash(hash);
    this.db
      .prepare(
        `INSERT INTO packages (hash, content, size, stored_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (hash) DO UPDATE SET stored_at = excluded.stored_at`,
      )
      .run(hash, content, content.length, Date.now());
  }

  async getPackage(hash: string): Promise<Buffer | null> {
    const row = this.db.prepare("SELECT content FROM packages WHERE hash = ?").get(hash) as
      { content: Buffer } | undefined;
    return row ? row.content : null;
  }

  async prunePackages(minAgeMs: number): Promise<number> {
    const { changes } = this.db
      .prepare(
        `DELETE FROM packages WHERE stored_at <= ?
           AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.package_hash = packages.hash)
           AND NOT EXISTS (SELECT 1 FROM site_revisions s WHERE s.package_hash = packages.hash)`,
      )
      .run(Date.now() - minAgeMs);
    return changes;
  }

  async recordSiteRevision(revision: NewSiteRevision): Promise<SiteRevision> {
    checkPackageHash(revision.packageHash);
    // Foreign keys are not enforced on this connection: the package's presence is the condition.
    const row = this.db
      .prepare(
        `INSERT INTO site_revisions (package_hash, deployment_id, instance_id, created_at)
         SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM packages WHERE hash = ?)
         RETURNING *`,
      )
      .get(
        revision.packageHash,
        revision.deploymentId,
        revision.instanceId,
        Date.now(),
        revision.packageHash,
      ) as SiteRevisionRow | undefined;
    if (!row) throw new Error(`No package ${revision.packageHash} is stored for the site revision`);
    return siteRevision(row);
  }

  async latestSiteRevision(): Promise<SiteRevision | null> {
    const row = this.db.prepare("SELECT * FROM site_revisions ORDER BY revision DESC LIMIT 1").get() as
      SiteRevisionRow | undefined;
    return row ? siteRevision(row) : null;
  }

  async pruneSiteRevisions(keep: number): Promise<number> {
    const { changes } = this.db
      .prepare(
        `DELETE FROM site_revisions WHERE revision NOT IN
           (SELECT revision FROM site_revisions ORDER BY revision DESC LIMIT ?)`,
      )
      .run(Math.max(0, Math.trunc(keep)));
    return changes;
  }
}
