import {
  checkPackageHash,
  type NewSiteRevision,
  type PackageStore,
  type SiteRevision,
} from "../packages/types.ts";
import type { Queryable } from "./postgres-db.ts";

/** Packages in PostgreSQL (migration 010): the versions every instance fetches; times are now(). */
export class PgPackageStore implements PackageStore {
  constructor(private readonly db: Queryable) {}

  async putPackage(hash: string, content: Buffer): Promise<void> {
    checkPackageHash(hash);
    // Two instances storing the same content at once: one inserts, the other refreshes the time.
    await this.db.query(
      `INSERT INTO packages (hash, content, size, stored_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (hash) DO UPDATE SET stored_at = now()`,
      [hash, content, content.length],
    );
  }

  async getPackage(hash: string): Promise<Buffer | null> {
    const { rows } = await this.db.query("SELECT content FROM packages WHERE hash = $1", [hash]);
    return rows[0] ? (rows[0].content as Buffer) : null;
  }

  async prunePackages(minAgeMs: number): Promise<number> {
    const { rowCount } = await this.db.query(
      `DELETE FROM packages WHERE stored_at <= now() - $1::bigint * interval '1 millisecond'
         AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.package_hash = packages.hash)
         AND NOT EXISTS (SELECT 1 FROM site_revisions s WHERE s.package_hash = packages.hash)`,
      [minAgeMs],
    );
    return rowCount ?? 0;
  }

  async recordSiteRevision(revision: NewSiteRevision): Promise<SiteRevision> {
    checkPackageHash(revision.packageHash);
    // The foreign key refuses a package that is not stored; said plainly rather than as 23503.
    const { rows } = await this.db.query(
      `INSERT INTO site_revisions (package_hash, deployment_id, instance_id)
       SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM packages WHERE hash = $1)
       RETURNING *`,
      [revision.packageHash, revision.deploymentId, revision.instanceId],
    );
    if (!rows[0]) throw new Error(`No package ${revision.packageHash} is stored for the site revision`);
    return siteRevision(rows[0]);
  }

  async latestSiteRevision(): Promise<SiteRevision | null> {
    const { rows } = await this.db.query("SELECT * FROM site_revisions ORDER BY revision DESC LIMIT 1");
    return rows[0] ? siteRevision(rows[0]) : null;
  }

  async pruneSiteRevisions(keep: number): Promise<number> {
    const { rowCount } = await this.db.query(
      `DELETE FROM site_revisions WHERE revision NOT IN
         (SELECT revision FROM site_revisions ORDER BY revision DESC LIMIT $1)`,
      [Math.max(0, Math.trunc(keep))],
    );
    return rowCount ?? 0;
  }
}

// BIGINT comes back as a string from pg: revisions stay far below 2^53.
const siteRevision = (row: Record<string, unknown>): SiteRevision => ({
  revision: Number(row.revision),
  packageHash: row.package_hash as string,
  deploymentId: (row.deployment_id as string | null) ?? null,
  instanceId: (row.instance_id as string | null) ?? null,
  createdAt: row.created_at as Date,
});
