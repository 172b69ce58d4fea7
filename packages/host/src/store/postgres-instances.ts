import type { InstanceRecord, InstanceRegistration, InstanceStore, LostRunKey } from "../instances/types.ts";
import type { Queryable, Row } from "./postgres-db.ts";
import { activeRunStatuses, RunStatus } from "./types.ts";

const ACTIVE = `(${activeRunStatuses.map((s) => `'${s}'`).join(", ")})`;
/** Dead: stopped, or silent for longer than the timeout ($1, ms) by the database's clock. */
const DEAD = "(stopped_at IS NOT NULL OR last_heartbeat < now() - $1::bigint * interval '1 millisecond')";

function instanceFromRow(row: Row): InstanceRecord {
  return {
    id: row.id as string,
    hostName: row.host_name as string,
    url: row.url as string,
    startedAt: row.started_at as Date,
    lastHeartbeat: row.last_heartbeat as Date,
    activeRuns: Number(row.active_runs),
    live: row.live === true,
  };
}

/** Instances in PostgreSQL (migration 007): every instant is the database's `now()`. */
export class PgInstanceStore implements InstanceStore {
  constructor(private readonly db: Queryable) {}

  async registerInstance(r: InstanceRegistration, timeoutMs: number): Promise<InstanceRecord | null> {
    // Twice at most: the holder may stop between the refused write and the look at it.
    for (let attempt = 1; ; attempt++) {
      // One statement: of two processes registering one id at the same moment, the second meets
      // the first's fresh row in the conflict clause and is refused.
      const { rowCount } = await this.db.query(
        `INSERT INTO instances (id, host_name, url, incarnation, started_at, last_heartbeat, active_runs)
         VALUES ($2, $3, $4, $5, now(), now(), $6)
         ON CONFLICT (id) DO UPDATE SET host_name = excluded.host_name, url = excluded.url,
           incarnation = excluded.incarnation, started_at = now(), last_heartbeat = now(),
           stopped_at = NULL, active_runs = excluded.active_runs
         WHERE instances.stopped_at IS NOT NULL
           OR instances.last_heartbeat < now() - $1::bigint * interval '1 millisecond'
           OR instances.incarnation = $5 OR instances.incarnation = $7`,
        [timeoutMs, r.id, r.hostName, r.url, r.incarnation, r.activeRuns, r.previousIncarnation ?? ""],
      );
      if (rowCount === 1) return null;
      const holder = (await this.listInstances(timeoutMs)).find((i) => i.id === r.id);
      if (holder?.live || attempt === 2) return holder ?? null;
    }
  }

  async heartbeatInstance(
    id: string,
    incarnation: string,
    url: string,
    activeRuns: number,
  ): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE instances SET last_heartbeat = now(), url = $3, active_runs = $4
       WHERE id = $1 AND incarnation = $2 AND stopped_at IS NULL`,
      [id, incarnation, url, activeRuns],
    );
    return rowCount === 1;
  }

  async stopInstance(id: string, incarnation: string): Promise<void> {
    await this.db.query(
      "UPDATE instances SET stopped_at = now(), active_runs = 0 WHERE id = $1 AND incarnation = $2",
      [id, incarnation],
    );
  }

  async listInstances(timeoutMs: number): Promise<InstanceRecord[]> {
    const { rows } = await this.db.query(`SELECT *, NOT ${DEAD} AS live FROM instances ORDER BY id`, [
      timeoutMs,
    ]);
    return rows.map(instanceFromRow);
  }

  async databaseTime(): Promise<Date> {
    // The clock as the statement runs (now() is the transaction's start).
    const { rows } = await this.db.query("SELECT clock_timestamp() AS now");
    return rows[0]!.now as Date;
  }

  async abortRunsOfDeadInstances(self: string, timeoutMs: number, reason: string): Promise<LostRunKey[]> {
    // A status change only while the run is active: of several live instances reaping at once,
    // each run is closed by one.
    const { rows } = await this.db.query(
      `UPDATE runs SET status = '${RunStatus.Aborted}', reason = $3, end_time = now()
       WHERE status IN ${ACTIVE} AND instance_id <> $2
         AND instance_id IN (SELECT id FROM instances WHERE ${DEAD})
       RETURNING job_name, id`,
      [timeoutMs, self, reason],
    );
    return rows.map((r) => ({ jobName: r.job_name as string, id: r.id as string }));
  }

  async pruneInstances(olderThanMs: number): Promise<number> {
    const { rowCount } = await this.db.query(
      `DELETE FROM instances i WHERE COALESCE(i.stopped_at, i.last_heartbeat) < now() - $1::bigint * interval '1 millisecond'
         AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.instance_id = i.id AND runs.status IN ${ACTIVE})`,
      [olderThanMs],
    );
    return rowCount ?? 0;
  }
}
