import type { ContinuousInstanceStatus, ContinuousStore } from "../continuous/types.ts";
import type { Queryable } from "./postgres-db.ts";

/** Continuous statuses and singleton leases in PostgreSQL (migration 009): instants are `now()`. */
export class PgContinuousStore implements ContinuousStore {
  constructor(private readonly db: Queryable) {}

  async setContinuousStatus(jobName: string, instanceId: string, status: string): Promise<void> {
    await this.db.query(
      `INSERT INTO continuous_statuses (job_name, instance_id, status, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (job_name, instance_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
      [jobName, instanceId, status],
    );
  }

  async deleteContinuousStatus(jobName: string, instanceId: string): Promise<void> {
    await this.db.query("DELETE FROM continuous_statuses WHERE job_name = $1 AND instance_id = $2", [
      jobName,
      instanceId,
    ]);
  }

  async listContinuousStatuses(timeoutMs: number): Promise<ContinuousInstanceStatus[]> {
    const { rows } = await this.db.query(
      `SELECT s.job_name, s.instance_id, s.status FROM continuous_statuses s
       JOIN instances i ON i.id = s.instance_id
       WHERE i.stopped_at IS NULL AND i.last_heartbeat >= now() - $1::bigint * interval '1 millisecond'
       ORDER BY s.job_name, s.instance_id`,
      [timeoutMs],
    );
    return rows.map((r) => ({
      jobName: r.job_name as string,
      instanceId: r.instance_id as string,
      status: r.status as string,
    }));
  }

  async acquireSingletonLease(jobName: string, instanceId: string, leaseMs: number): Promise<boolean> {
    // One statement: of instances racing for a free or expired lease, the conflict clause sees
    // the winner's fresh row and refuses the others.
    const { rowCount } = await this.db.query(
      `INSERT INTO singleton_leases (job_name, holder, acquired_at, expires_at)
       VALUES ($1, $2, now(), now() + $3::bigint * interval '1 millisecond')
       ON CONFLICT (job_name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
         acquired_at = CASE WHEN singleton_leases.holder = excluded.holder
           THEN singleton_leases.acquired_at ELSE excluded.acquired_at END
       WHERE singleton_leases.holder = excluded.holder OR singleton_leases.expires_at < now()`,
      [jobName, instanceId, leaseMs],
    );
    return rowCount === 1;
  }

  async releaseSingletonLease(jobName: string, instanceId: string): Promise<void> {
    await this.db.query("DELETE FROM singleton_leases WHERE job_name = $1 AND holder = $2", [
      jobName,
      instanceId,
    ]);
  }

  async singletonLeaseHolder(jobName: string): Promise<string | null> {
    const { rows } = await this.db.query(
      "SELECT holder FROM singleton_leases WHERE job_name = $1 AND expires_at >= now()",
      [jobName],
    );
    return (rows[0]?.holder as string | undefined) ?? null;
  }
}
