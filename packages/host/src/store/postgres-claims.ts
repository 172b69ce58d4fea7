import type { RunClaimStore } from "../runs/claim-types.ts";
import { conflictAs, type Queryable } from "./postgres-db.ts";
import { runFromRow } from "./postgres-runs.ts";
import { runColumns } from "./run-columns.ts";
import { activeRunStatuses, RunStatus, type RunPatch, type RunRecord } from "./types.ts";

const ACTIVE = `(${activeRunStatuses.map((s) => `'${s}'`).join(", ")})`;

/** Run placement in PostgreSQL (migration 008): the choice and the claim are single statements. */
export class PgRunClaims implements RunClaimStore {
  constructor(private readonly db: Queryable) {}

  async insertOnLeastLoaded(run: RunRecord, timeoutMs: number): Promise<string | null> {
    const keys = (Object.keys(runColumns) as (keyof RunPatch)[]).filter((k) => k !== "instanceId");
    const values: unknown[] = [timeoutMs, run.instanceId, run.jobName, run.id, ...keys.map((k) => run[k])];
    const columns = ["job_name", "id", ...keys.map((k) => runColumns[k])];
    const placeholders = columns.map((_, i) => `$${i + 3}`);
    // One statement: the load is counted from the runs table as it is now (not a heartbeat's
    // figure), and the row names the chosen instance. ON CONFLICT only covers the id: the index
    // of one active run per job still refuses a second run, wherever it would go.
    const { rows } = await conflictAs(`Job '${run.jobName}' already has an active run.`, () =>
      this.db.query(
        `WITH candidates AS (
           SELECT id FROM instances
           WHERE stopped_at IS NULL AND last_heartbeat >= now() - $1::bigint * interval '1 millisecond'
           UNION SELECT $2::text),
         chosen AS (
           SELECT c.id FROM candidates c
           ORDER BY (SELECT count(*) FROM runs r WHERE r.instance_id = c.id AND r.status IN ${ACTIVE}), random()
           LIMIT 1)
         INSERT INTO runs (${columns.join(", ")}, instance_id, claimed)
         VALUES (${placeholders.join(", ")}, (SELECT id FROM chosen), (SELECT id FROM chosen) = $2::text)
         ON CONFLICT (job_name, id) DO NOTHING
         RETURNING instance_id`,
        values,
      ),
    );
    return rows[0] ? (rows[0].instance_id as string) : null;
  }

  async unclaimed(instanceId: string): Promise<{ jobName: string; id: string }[]> {
    const { rows } = await this.db.query(
      `SELECT job_name, id FROM runs WHERE instance_id = $1 AND NOT claimed AND status = '${RunStatus.Initializing}'`,
      [instanceId],
    );
    return rows.map((r) => ({ jobName: r.job_name as string, id: r.id as string }));
  }

  async claimAssigned(instanceId: string): Promise<RunRecord[]> {
    const { rows } = await this.db.query(
      `UPDATE runs SET claimed = true, claimed_at = now()
       WHERE instance_id = $1 AND NOT claimed AND status = '${RunStatus.Initializing}'
       RETURNING *`,
      [instanceId],
    );
    return rows.map(runFromRow).sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  }
}
