import type Database from "better-sqlite3";
import { checkPackageHash, type PackageStore } from "../packages/types.ts";

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
           AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.package_hash = packages.hash)`,
      )
      .run(Date.now() - minAgeMs);
    return changes;
  }
}
