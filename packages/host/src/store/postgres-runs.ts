import { conflictAs, maybeDate, num, text, type Queryable, type Row } from "./postgres-db.ts";
import { activeRunStatuses, type RunPatch, type RunQuery, type RunRecord } from "./types.ts";
import { runColumns } from "./run-columns.ts";

/** `status IN ('Initializing', 'Running')`: the literal list the partial unique index is built on. */
const ACTIVE = `(${activeRunStatuses.map((s) => `'${s}'`).join(", ")})`;

export function runFromRow(row: Row): RunRecord {
  return {
    jobName: row.job_name as string,
    id: row.id as string,
    status: row.status as RunRecord["status"],
    reason: text(row.reason),
    trigger: row.trigger as string,
    arguments: row.arguments as string,
    version: row.version as string,
    instanceId: row.instance_id as string,
    startTime: row.start_time as Date,
    endTime: maybeDate(row.end_time),
    exitCode: num(row.exit_code),
    signal: text(row.signal),
    cpuMs: num(row.cpu_ms),
    peakRssBytes: num(row.peak_rss_bytes),
    pid: num(row.pid),
    scheduledTime: maybeDate(row.scheduled_time),
    attempt: num(row.attempt),
  };
}

/** Runs of triggered jobs in PostgreSQL; the rules are the indexes of migrations 001 and 003. */
export class PgRuns {
  constructor(private readonly db: Queryable) {}

  async insertRun(run: RunRecord): Promise<void> {
    const keys = Object.keys(runColumns) as (keyof RunPatch)[];
    const columns = ["job_name", "id", ...keys.map((k) => runColumns[k])];
    const values = [run.jobName, run.id, ...keys.map((k) => run[k])];
    await conflictAs(`Job '${run.jobName}' already has an active run, or run '${run.id}' exists.`, () =>
      this.db.query(
        `INSERT INTO runs (${columns.join(", ")}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")})`,
        values,
      ),
    );
  }

  async updateRun(jobName: string, id: string, patch: RunPatch): Promise<boolean> {
    const keys = (Object.keys(patch) as (keyof RunPatch)[]).filter((k) => patch[k] !== undefined);
    if (keys.length === 0) return false;
    const sets = keys.map((k, i) => `${runColumns[k]} = $${i + 3}`).join(", ");
    // A run finishes once: a status change applies only while the run is still active.
    const condition = patch.status === undefined ? "" : ` AND status IN ${ACTIVE}`;
    const result = await conflictAs(`Job '${jobName}' already has an active run.`, () =>
      this.db.query(`UPDATE runs SET ${sets} WHERE job_name = $1 AND id = $2${condition}`, [
        jobName,
        id,
        ...keys.map((k) => patch[k]),
      ]),
    );
    return (result.rowCount ?? 0) > 0;
  }

  async getRun(jobName: string, id: string): Promise<RunRecord | null> {
    const { rows } = await this.db.query("SELECT * FROM runs WHERE job_name = $1 AND id = $2", [jobName, id]);
    return rows[0] ? runFromRow(rows[0]) : null;
  }

  async listRuns(jobName: string, limit = 1000): Promise<RunRecord[]> {
    const { rows } = await this.db.query("SELECT * FROM runs WHERE job_name = $1 ORDER BY id DESC LIMIT $2", [
      jobName,
      limit,
    ]);
    return rows.map(runFromRow);
  }

  async latestRunOfEachJob(): Promise<Map<string, RunRecord>> {
    const { rows } = await this.db.query(
      "SELECT DISTINCT ON (job_name) * FROM runs ORDER BY job_name, id DESC",
    );
    return new Map(rows.map((row) => [row.job_name as string, runFromRow(row)]));
  }

  async queryRuns(query: RunQuery): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    // Placeholders are numbered as values are pushed, so each condition names its own.
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.job !== undefined) where.push(`job_name = ${p(query.job)}`);
    if (query.statuses?.length) where.push(`status = ANY(${p(query.statuses)}::text[])`);
    if (query.from) where.push(`start_time >= ${p(query.from)}`);
    if (query.to) where.push(`start_time < ${p(query.to)}`);
    if (query.before) {
      const id = p(query.before.id);
      where.push(`(id < ${id} OR (id = ${id} AND job_name < ${p(query.before.jobName)}))`);
    }
    const { rows } = await this.db.query(
      `SELECT * FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY id DESC, job_name DESC LIMIT ${p(query.limit)}`,
      params,
    );
    return rows.map(runFromRow);
  }

  async activeRuns(instanceId?: string): Promise<RunRecord[]> {
    const { rows } = instanceId
      ? await this.db.query(`SELECT * FROM runs WHERE status IN ${ACTIVE} AND instance_id = $1`, [instanceId])
      : await this.db.query(`SELECT * FROM runs WHERE status IN ${ACTIVE}`);
    return rows.map(runFromRow);
  }

  async pruneRuns(jobName: string, keep: number): Promise<string[]> {
    // One statement: the rows chosen and the rows deleted are the same snapshot.
    const { rows } = await this.db.query(
      `DELETE FROM runs WHERE job_name = $1 AND id IN (
         SELECT id FROM runs WHERE job_name = $1 AND status NOT IN ${ACTIVE} ORDER BY id DESC OFFSET $2)
       RETURNING id`,
      [jobName, keep],
    );
    return rows.map((r) => r.id as string).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  }

  async deleteRuns(jobName: string): Promise<void> {
    await this.db.query("DELETE FROM runs WHERE job_name = $1", [jobName]);
  }
}
