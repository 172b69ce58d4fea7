import type Database from "better-sqlite3";
import type { InstanceRecord, InstanceRegistration, InstanceStore, LostRunKey } from "../instances/types.ts";
import { activeRunStatuses, RunStatus } from "./types.ts";

type Row = Record<string, unknown>;

const ACTIVE = `(${activeRunStatuses.map((s) => `'${s}'`).join(", ")})`;
/** Dead: stopped, or silent since before @deadline (now minus the timeout). */
const DEAD = "(stopped_at IS NOT NULL OR last_heartbeat < @deadline)";

function instanceFromRow(row: Row): InstanceRecord {
  return {
    id: row.id as string,
    hostName: row.host_name as string,
    url: row.url as string,
    startedAt: new Date(Number(row.started_at)),
    lastHeartbeat: new Date(Number(row.last_heartbeat)),
    activeRuns: Number(row.active_runs),
    live: row.live === 1,
  };
}

/**
 * Instances in SQLite (migration 007). One file serves one machine, so this process's clock is
 * the store's clock; the rules are the same as PostgreSQL's.
 */
export class SqliteInstanceStore implements InstanceStore {
  constructor(private readonly db: Database.Database) {}

  async registerInstance(r: InstanceRegistration, timeoutMs: number): Promise<InstanceRecord | null> {
    const now = Date.now();
    const { changes } = this.db
      .prepare(
        `INSERT INTO instances (id, host_name, url, incarnation, started_at, last_heartbeat, active_runs)
         VALUES (@id, @hostName, @url, @incarnation, @now, @now, @activeRuns)
         ON CONFLICT (id) DO UPDATE SET host_name = excluded.host_name, url = excluded.url,
           incarnation = excluded.incarnation, started_at = @now, last_heartbeat = @now,
           stopped_at = NULL, active_runs = excluded.active_runs
         WHERE instances.stopped_at IS NOT NULL OR instances.last_heartbeat < @deadline
           OR instances.incarnation = @incarnation OR instances.incarnation = @previous`,
      )
      .run({
        id: r.id,
        hostName: r.hostName,
        url: r.url,
        incarnation: r.incarnation,
        activeRuns: r.activeRuns,
        now,
        deadline: now - timeoutMs,
        previous: r.previousIncarnation ?? "",
      });
    if (changes === 1) return null;
    return (await this.listInstances(timeoutMs)).find((i) => i.id === r.id) ?? null;
  }

  async heartbeatInstance(
    id: string,
    incarnation: string,
    url: string,
    activeRuns: number,
  ): Promise<boolean> {
    const { changes } = this.db
      .prepare(
        `UPDATE instances SET last_heartbeat = ?, url = ?, active_runs = ?
         WHERE id = ? AND incarnation = ? AND stopped_at IS NULL`,
      )
      .run(Date.now(), url, activeRuns, id, incarnation);
    return changes === 1;
  }

  async stopInstance(id: string, incarnation: string): Promise<void> {
    this.db
      .prepare("UPDATE instances SET stopped_at = ?, active_runs = 0 WHERE id = ? AND incarnation = ?")
      .run(Date.now(), id, incarnation);
  }

  async listInstances(timeoutMs: number): Promise<InstanceRecord[]> {
    const rows = this.db
      .prepare(`SELECT *, NOT ${DEAD} AS live FROM instances ORDER BY id`)
      .all({ deadline: Date.now() - timeoutMs }) as Row[];
    return rows.map(instanceFromRow);
  }

  async databaseTime(): Promise<Date> {
    return new Date();
  }

  async abortRunsOfDeadInstances(self: string, timeoutMs: number, reason: string): Promise<LostRunKey[]> {
    const now = Date.now();
    const rows = this.db
      .prepare(
        `UPDATE runs SET status = '${RunStatus.Aborted}', reason = @reason, end_time = @now
         WHERE status IN ${ACTIVE} AND instance_id <> @self
           AND instance_id IN (SELECT id FROM instances WHERE ${DEAD})
         RETURNING job_name, id`,
      )
      .all({ reason, now, self, deadline: now - timeoutMs }) as Row[];
    return rows.map((r) => ({ jobName: r.job_name as string, id: r.id as string }));
  }

  async pruneInstances(olderThanMs: number): Promise<number> {
    return this.db
      .prepare(
        `DELETE FROM instances WHERE COALESCE(stopped_at, last_heartbeat) < ?
           AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.instance_id = instances.id AND runs.status IN ${ACTIVE})`,
      )
      .run(Date.now() - olderThanMs).changes;
  }
}
