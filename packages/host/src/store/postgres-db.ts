import pg from "pg";
import { ErrorCode, WebJobsError } from "../errors.ts";
import { loadMigrations } from "./migrations.ts";
import { StoreConflictError } from "./types.ts";
import { isConnectionError, StoreUnavailableError } from "./unavailable.ts";

export type Row = Record<string, unknown>;

/** What the PostgreSQL store's parts run queries on: the pool, or one transaction's client. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Row[]; rowCount: number | null }>;
}

/**
 * The key of the advisory lock held while migrating: instances starting at the same moment
 * apply each migration once, one after the other (any constant works; this is "webjobs" in ASCII).
 */
const MIGRATION_LOCK = 0x7765626a6f6273n;

/** SQLSTATE 23505: a unique index, primary key or unique constraint refused the write. */
export const isUniqueViolation = (error: unknown): boolean => (error as { code?: string }).code === "23505";

/** Runs `write`, turning a unique violation into StoreConflictError with the given message. */
export async function conflictAs<T>(message: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error)) throw new StoreConflictError(message, { cause: error });
    throw error;
  }
}

/** A database URL fit for logs and error messages: the password replaced by `***`. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return "(unparsable database URL)";
  }
}

export const num = (value: unknown): number | null => (value == null ? null : Number(value));
export const maybeDate = (value: unknown): Date | null => (value == null ? null : (value as Date));
export const text = (value: unknown): string | null => (value as string | null) ?? null;

/**
 * A pool of connections to one PostgreSQL database. Transactions run on one client; every other
 * query goes to any free connection.
 */
export class PgDatabase implements Queryable {
  readonly pool: pg.Pool;

  constructor(
    private readonly url: string,
    options: { max?: number } = {},
  ) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 10,
      connectionTimeoutMillis: 10_000,
    });
    // An idle connection the server dropped (a restart, a network cut) must not crash the host:
    // the pool replaces it, and the next query reports the problem to its caller.
    this.pool.on("error", () => undefined);
  }

  /**
   * False after a query failed because the database is out of reach, true again after the next
   * query that reaches it (heartbeats query every few seconds, so it follows the database).
   */
  reachable = true;

  async query(sql: string, values: unknown[] = []): Promise<{ rows: Row[]; rowCount: number | null }> {
    return this.observe(() => this.pool.query(sql, values));
  }

  /** Runs `work` in one transaction, committed when it resolves, rolled back when it throws. */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.observe(async () => {
      const client = await this.pool.connect();
      let broken: unknown = null;
      // A checked-out client has no pool listener: a connection dropped mid-transaction would be an
      // unhandled 'error' event (the process ends). The query in flight rejects with it instead.
      const onError = (error: Error) => (broken = error);
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        const result = await work(client);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        if (isConnectionError(error)) broken = error;
        throw error;
      } finally {
        client.off("error", onError);
        // A client whose connection broke is discarded, not given to the next query.
        client.release(broken instanceof Error ? broken : undefined);
      }
    });
  }

  /** Turns "the database is out of reach" into StoreUnavailableError (a 503), and tracks it. */
  private async observe<T>(work: () => Promise<T>): Promise<T> {
    try {
      const result = await work();
      this.reachable = true;
      return result;
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      this.reachable = false;
      throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error);
    }
  }

  /**
   * Applies the numbered postgres migrations not yet applied, all in one transaction (DDL is
   * transactional in PostgreSQL) under an advisory lock: a second instance starting at the same
   * moment waits, then finds them applied.
   */
  async migrate(): Promise<void> {
    await this.checkReachable();
    await this.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK.toString()]);
      // Created under the lock: two concurrent CREATE TABLE IF NOT EXISTS can both fail otherwise.
      await tx.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
      );
      const done = new Set((await tx.query("SELECT id FROM schema_migrations")).rows.map((r) => r.id));
      for (const migration of loadMigrations("postgres")) {
        if (done.has(migration.id)) continue;
        await tx.query(migration.sql);
        await tx.query("INSERT INTO schema_migrations (id, name) VALUES ($1, $2)", [
          migration.id,
          migration.name,
        ]);
      }
    });
  }

  /** A database that cannot be reached at start is named (without its password) in the error. */
  private async checkReachable(): Promise<void> {
    try {
      await this.pool.query("SELECT 1");
    } catch (error) {
      throw new WebJobsError(
        ErrorCode.Internal,
        `Cannot use the database ${redactDatabaseUrl(this.url)}: ${(error as Error).message || String(error)}`,
        { cause: error },
      );
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
