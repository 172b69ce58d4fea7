import type Database from "better-sqlite3";
import type { CancelRequest, LogChunk, RemoteRunStore } from "../runs/remote-types.ts";
import { runFromRow } from "./sqlite.ts";
import { activeRunStatuses, type RunRecord } from "./types.ts";

type Row = Record<string, unknown>;

const ACTIVE = `(${activeRunStatuses.map((s) => `'${s}'`).join(", ")})`;
const RUN_EXISTS = "EXISTS (SELECT 1 FROM runs WHERE job_name = @jobName AND id = @runId)";

/**
 * Cancel requests and run log chunks in SQLite (migration 011). One machine: the host does not
 * ship logs here (`shared` is false); the rules are PostgreSQL's, for the Store contract suite.
 */
export class SqliteRemoteRunStore implements RemoteRunStore {
  readonly shared = false;

  constructor(private readonly db: Database.Database) {}

  async requestCancel(jobName: string, id: string, reason?: string): Promise<boolean> {
    // The reason goes with the first request: a second one does not change what the run ends with.
    const { changes } = this.db
      .prepare(
        `UPDATE runs SET cancel_reason = CASE WHEN cancel_requested_at IS NULL THEN ? ELSE cancel_reason END,
           cancel_requested_at = COALESCE(cancel_requested_at, ?)
         WHERE job_name = ? AND id = ? AND status IN ${ACTIVE}`,
      )
      .run(reason ?? null, Date.now(), jobName, id);
    return changes > 0;
  }

  async cancelRequests(instanceId: string): Promise<CancelRequest[]> {
    const rows = this.db
      .prepare(
        `SELECT job_name, id, cancel_reason FROM runs
         WHERE status IN ${ACTIVE} AND instance_id = ? AND cancel_requested_at IS NOT NULL`,
      )
      .all(instanceId) as Row[];
    return rows.map((r) => ({
      jobName: r.job_name as string,
      id: r.id as string,
      reason: (r.cancel_reason as string | null) ?? null,
    }));
  }

  async activeRun(jobName: string): Promise<RunRecord | null> {
    const row = this.db
      .prepare(`SELECT * FROM runs WHERE job_name = ? AND status IN ${ACTIVE}`)
      .get(jobName) as Row | undefined;
    return row ? runFromRow(row) : null;
  }

  async appendLogChunk(jobName: string, runId: string, seq: number, text: string): Promise<void> {
    if (!Number.isInteger(seq) || seq < 1)
      throw new Error(`A log chunk's seq must be 1 or more, got ${seq}.`);
    this.db
      .prepare(
        `INSERT INTO run_log_chunks (job_name, run_id, seq, text) SELECT @jobName, @runId, @seq, @text
         WHERE ${RUN_EXISTS} ON CONFLICT (job_name, run_id, seq) DO NOTHING`,
      )
      .run({ jobName, runId, seq, text });
  }

  async appendLogTail(jobName: string, runId: string, text: string): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO run_log_chunks (job_name, run_id, seq, text)
         SELECT @jobName, @runId, next, @text FROM (
           SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM run_log_chunks WHERE job_name = @jobName AND run_id = @runId)
         WHERE ${RUN_EXISTS}`,
      )
      .run({ jobName, runId, text });
  }

  async readLogChunks(jobName: string, runId: string, afterSeq: number, limit: number): Promise<LogChunk[]> {
    const rows = this.db
      .prepare(
        `SELECT seq, text FROM run_log_chunks WHERE job_name = ? AND run_id = ? AND seq > ?
         ORDER BY seq LIMIT ?`,
      )
      .all(jobName, runId, afterSeq, limit) as Row[];
    return rows.map((r) => ({ seq: Number(r.seq), text: r.text as string }));
  }
}
