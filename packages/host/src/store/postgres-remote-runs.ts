import type { CancelRequest, LogChunk, RemoteRunStore } from "../runs/remote-types.ts";
import { text, type Queryable } from "./postgres-db.ts";
import { runFromRow } from "./postgres-runs.ts";
import { activeRunStatuses, type RunRecord } from "./types.ts";

const ACTIVE = `(${activeRunStatuses.map((s) => `'${s}'`).join(", ")})`;

/** PostgreSQL's TEXT cannot hold NUL: a job that prints one gets U+FFFD in the shipped copy. */
const storable = (text: string) => (text.includes("\0") ? text.replaceAll("\0", "\uFFFD") : text);

/** SQLSTATE 23503: the run was deleted (pruned) while its log was being shipped. */
const isMissingRun = (error: unknown) => (error as { code?: string }).code === "23503";

/** Cancel requests and shipped run logs in PostgreSQL (migration 011). */
export class PgRemoteRunStore implements RemoteRunStore {
  readonly shared = true;

  constructor(private readonly db: Queryable) {}

  async requestCancel(jobName: string, id: string, reason?: string): Promise<boolean> {
    // The reason goes with the first request: a second one does not change what the run ends with.
    const { rowCount } = await this.db.query(
      `UPDATE runs SET cancel_reason = CASE WHEN cancel_requested_at IS NULL THEN $3 ELSE cancel_reason END,
         cancel_requested_at = COALESCE(cancel_requested_at, now())
       WHERE job_name = $1 AND id = $2 AND status IN ${ACTIVE}`,
      [jobName, id, reason ?? null],
    );
    return (rowCount ?? 0) > 0;
  }

  async cancelRequests(instanceId: string): Promise<CancelRequest[]> {
    const { rows } = await this.db.query(
      `SELECT job_name, id, cancel_reason FROM runs
       WHERE status IN ${ACTIVE} AND instance_id = $1 AND cancel_requested_at IS NOT NULL`,
      [instanceId],
    );
    return rows.map((r) => ({
      jobName: r.job_name as string,
      id: r.id as string,
      reason: text(r.cancel_reason),
    }));
  }

  async activeRun(jobName: string): Promise<RunRecord | null> {
    // The partial unique index of one active run per job answers this.
    const { rows } = await this.db.query(`SELECT * FROM runs WHERE job_name = $1 AND status IN ${ACTIVE}`, [
      jobName,
    ]);
    return rows[0] ? runFromRow(rows[0]) : null;
  }

  async appendLogChunk(jobName: string, runId: string, seq: number, text: string): Promise<void> {
    await this.insert(
      `INSERT INTO run_log_chunks (job_name, run_id, seq, text) VALUES ($1, $2, $3, $4)
       ON CONFLICT (job_name, run_id, seq) DO NOTHING`,
      [jobName, runId, seq, storable(text)],
    );
  }

  async appendLogTail(jobName: string, runId: string, text: string): Promise<void> {
    // One statement; a chunk shipped at the same moment by a run that was not so lost after all
    // takes the number first, and this one is written after it (or never, after 3 tries).
    for (let attempt = 1; attempt <= 3; attempt++) {
      const { rowCount } = await this.insert(
        `INSERT INTO run_log_chunks (job_name, run_id, seq, text)
         SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3 FROM run_log_chunks WHERE job_name = $1 AND run_id = $2
         ON CONFLICT (job_name, run_id, seq) DO NOTHING`,
        [jobName, runId, storable(text)],
      );
      if (rowCount !== 0) return;
    }
  }

  async readLogChunks(jobName: string, runId: string, afterSeq: number, limit: number): Promise<LogChunk[]> {
    const { rows } = await this.db.query(
      `SELECT seq, text FROM run_log_chunks WHERE job_name = $1 AND run_id = $2 AND seq > $3
       ORDER BY seq LIMIT $4`,
      [jobName, runId, afterSeq, limit],
    );
    return rows.map((r) => ({ seq: Number(r.seq), text: r.text as string }));
  }

  /** A run deleted meanwhile has no log to keep: nothing is written, and that is no error. */
  private async insert(sql: string, values: unknown[]): Promise<{ rowCount: number | null }> {
    try {
      return await this.db.query(sql, values);
    } catch (error) {
      if (isMissingRun(error)) return { rowCount: null };
      throw error;
    }
  }
}
