import { PgStore } from "./postgres.ts";
import { SqliteStore } from "./sqlite.ts";
import type { Store } from "./types.ts";

/**
 * The store a host runs on: PostgreSQL when a database URL is configured (several instances share
 * it), else the SQLite file in the data folder (one machine, nothing to set up).
 */
export function openStore(databaseUrl: string | undefined, sqliteFile: string): Store {
  return databaseUrl ? new PgStore(databaseUrl) : new SqliteStore(sqliteFile);
}
