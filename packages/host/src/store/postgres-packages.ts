import { checkPackageHash, type PackageStore } from "../packages/types.ts";
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
         AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.package_hash = packages.hash)`,
      [minAgeMs],
    );
    return rowCount ?? 0;
  }
}
