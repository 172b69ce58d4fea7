import type Database from "better-sqlite3";
import type { ContinuousInstanceStatus, ContinuousStore } from "../continuous/types.ts";

type Row = Record<string, unknown>;

/**
 * Continuous statuses and singleton leases in SQLite (migration 009). One file serves one
 * machine, so this process's clock is the store's clock; the rules are the same as PostgreSQL's.
 */
export class SqliteContinuousStore implements ContinuousStore {
  constructor(private readonly db: Database.Database) {}

  async setContinuousStatus(jobName: string, instanceId: string, status: string): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO continuous_statuses (job_name, instance_id, status, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (job_name, instance_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
      )
      .run(jobName, instanceId, status, Date.now());
  }

  async deleteContinuousStatus(jobName: string, instanceId: string): Promise<void> {
    this.db
      .prepare("DELETE FROM continuous_statuses WHERE job_name = ? AND instance_id = ?")
      .run(jobName, instanceId);
  }

  async listContinuousStatuses(timeoutMs: number): Promise<ContinuousInstanceStatus[]> {
    const rows = this.db
      .prepare(
        `SELECT s.job_name, s.instance_id, s.status FROM continuous_statuses s
         JOIN instances i ON i.id = s.instance_id
         WHERE i.stopped_at IS NULL AND i.last_heartbeat >= ?
         ORDER BY s.job_name, s.instance_id`,
      )
      .all(Date.now() - timeoutMs) as Row[];
    return rows.map((r) => ({
      jobName: r.job_name as string,
      instanceId: r.instance_id as string,
      status: r.status as string,
    }));
  }

  async acquireSingletonLease(jobName: string, instanceId: string, leaseMs: number): Promise<boolean> {
    const now = Date.now();
    const { changes } = this.db
      .prepare(
        `INSERT INTO singleton_leases (job_name, holder, acquired_at, expires_at) VALUES (@job, @holder, @now, @expires)
         ON CONFLICT (job_name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
           acquired_at = CASE WHEN singleton_leases.holder = excluded.holder
             THEN singleton_leases.acquired_at ELSE excluded.acquired_at END
         WHERE singleton_leases.holder = excluded.holder OR singleton_leases.expires_at < @now`,
      )
      .run({ job: jobName, holder: instanceId, now, expires: now + leaseMs });
    return changes === 1;
  }

  async releaseSingletonLease(jobName: string, instanceId: string): Promise<void> {
    this.db
      .prepare("DELETE FROM singleton_leases WHERE job_name = ? AND holder = ?")
      .run(jobName, instanceId);
  }

  async singletonLeaseHolder(jobName: string): Promise<string | null> {
    const row = this.db
      .prepare("SELECT holder FROM singleton_leases WHERE job_name = ? AND expires_at >= ?")
      .get(jobName, Date.now()) as Row | undefined;
    return (row?.holder as string | undefined) ?? null;
  }
}
