import type Database from "better-sqlite3";
import type { RunClaimStore } from "../runs/claim-types.ts";
import { runFromRow, toDb } from "./sqlite.ts";
import { runColumns } from "./run-columns.ts";
import { activeRunStatuses, RunStatus, StoreConflictError, type RunPatch, type RunRecord } from "./types.ts";

const ACTIVE = `(${activeRunStatuses.map((s) => `'${s}'`).join(", ")})`;

const isUniqueViolation = (error: unknown): boolean =>
  (error as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE";

/**
 * Run placement in SQLite (migration 008). One file serves one machine, whose only instance is
 * the caller: the host never asks (it inserts its runs directly); the rules are PostgreSQL's.
 */
export class SqliteRunClaims implements RunClaimStore {
  constructor(private readonly db: Database.Database) {}

  async insertOnLeastLoaded(run: RunRecord, timeoutMs: number): Promise<string | null> {
    const keys = (Object.keys(runColumns) as (keyof RunPatch)[]).filter((k) => k !== "instanceId");
    const columns = ["job_name", "id", ...keys.map((k) => runColumns[k])];
    const values = [run.jobName, run.id, ...keys.map((k) => toDb(run[k]))];
    try {
      const row = this.db
        .prepare(
          `WITH candidates AS (
             SELECT id FROM instances WHERE stopped_at IS NULL AND last_heartbeat >= @deadline
             UNION SELECT @self),
           chosen AS (
             SELECT c.id FROM candidates c
             ORDER BY (SELECT count(*) FROM runs r WHERE r.instance_id = c.id AND r.status IN ${ACTIVE}), random()
             LIMIT 1)
           INSERT INTO runs (${columns.join(", ")}, instance_id, claimed)
           VALUES (${columns.map((_, i) => `@v${i}`).join(", ")}, (SELECT id FROM chosen), (SELECT id FROM chosen) = @self)
           ON CONFLICT (job_name, id) DO NOTHING
           RETURNING instance_id`,
        )
        .get({
          self: run.instanceId,
          deadline: Date.now() - timeoutMs,
          ...Object.fromEntries(values.map((value, i) => [`v${i}`, value])),
        }) as { instance_id: string } | undefined;
      return row?.instance_id ?? null;
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new StoreConflictError(`Job '${run.jobName}' already has an active run.`, { cause: error });
      }
      throw error;
    }
  }

  async unclaimed(instanceId: string): Promise<{ jobName: string; id: string }[]> {
    const rows = this.db
      .prepare(
        `SELECT job_name, id FROM runs WHERE instance_id = ? AND claimed = 0 AND status = '${RunStatus.Initializing}'`,
      )
      .all(instanceId) as { job_name: string; id: string }[];
    return rows.map((r) => ({ jobName: r.job_name, id: r.id }));
  }

  async claimAssigned(instanceId: string): Promise<RunRecord[]> {
    const rows = this.db
      .prepare(
        `UPDATE runs SET claimed = 1, claimed_at = ?
         WHERE instance_id = ? AND claimed = 0 AND status = '${RunStatus.Initializing}'
         RETURNING *`,
      )
      .all(Date.now(), instanceId) as Record<string, unknown>[];
    return rows.map(runFromRow).sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  }
}
