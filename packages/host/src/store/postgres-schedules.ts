import type { FirePatch, FireRecord, ScheduleState } from "../schedules/types.ts";
import { maybeDate, text, type PgDatabase, type Row } from "./postgres-db.ts";
import { activeRunStatuses } from "./types.ts";

/** `('Initializing', 'Running')`: a run in progress. */
const ACTIVE = `(${activeRunStatuses.map((s) => `'${s}'`).join(", ")})`;

const fireColumns: Record<keyof FirePatch, string> = {
  outcome: "outcome",
  runId: "run_id",
  attempt: "attempt",
  reason: "reason",
  retryAt: "retry_at",
};

function fireFromRow(row: Row): FireRecord {
  return {
    jobName: row.job_name as string,
    scheduledTime: row.scheduled_time as Date,
    outcome: row.outcome as FireRecord["outcome"],
    runId: text(row.run_id),
    attempt: Number(row.attempt),
    reason: text(row.reason),
    retryAt: maybeDate(row.retry_at),
    recordedAt: row.recorded_at as Date,
    ...(row.waiting_for != null ? { waitingFor: row.waiting_for as string } : {}),
  };
}

function scheduleStateFromRow(row: Row): ScheduleState {
  return {
    jobName: row.job_name as string,
    scheduleKey: row.schedule_key as string,
    armedAt: row.armed_at as Date,
    lastProcessed: maybeDate(row.last_processed),
    suppressedUntil: maybeDate(row.suppressed_until),
    paused: row.paused === true,
  };
}

/**
 * Schedule state and fires in PostgreSQL (migration 003). The key of `fires` is what makes each
 * (job, due instant) fire once however many instances compute the same schedule: the INSERT of
 * the second one does nothing.
 */
export class PgSchedules {
  constructor(private readonly db: PgDatabase) {}

  async armSchedule(jobName: string, scheduleKey: string, now: Date): Promise<ScheduleState> {
    return this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO schedule_state (job_name, schedule_key, armed_at) VALUES ($1, $2, $3)
         ON CONFLICT (job_name) DO UPDATE SET schedule_key = excluded.schedule_key,
           armed_at = excluded.armed_at, last_processed = NULL, suppressed_until = NULL
         WHERE schedule_state.schedule_key <> excluded.schedule_key`,
        [jobName, scheduleKey, now],
      );
      const { rows } = await tx.query("SELECT * FROM schedule_state WHERE job_name = $1", [jobName]);
      return scheduleStateFromRow(rows[0]!);
    });
  }

  async getScheduleState(jobName: string): Promise<ScheduleState | null> {
    const { rows } = await this.db.query("SELECT * FROM schedule_state WHERE job_name = $1", [jobName]);
    return rows[0] ? scheduleStateFromRow(rows[0]) : null;
  }

  async pausedSchedules(): Promise<string[]> {
    const { rows } = await this.db.query(
      "SELECT job_name FROM schedule_state WHERE paused ORDER BY job_name",
    );
    return rows.map((r) => r.job_name as string);
  }

  async setSchedulePaused(jobName: string, paused: boolean, now: Date): Promise<boolean> {
    // Resuming drops what fell due while paused: those occurrences are neither run nor missed.
    const result = paused
      ? await this.db.query("UPDATE schedule_state SET paused = TRUE WHERE job_name = $1", [jobName])
      : await this.db.query(
          `UPDATE schedule_state SET paused = FALSE,
             suppressed_until = CASE WHEN paused THEN GREATEST(suppressed_until, $2) ELSE suppressed_until END
           WHERE job_name = $1`,
          [jobName, now],
        );
    return (result.rowCount ?? 0) > 0;
  }

  async suppressSchedules(jobNames: readonly string[], until: Date): Promise<void> {
    if (jobNames.length === 0) return;
    // GREATEST ignores NULL: an unset bound becomes `until`, a later one stays.
    await this.db.query(
      "UPDATE schedule_state SET suppressed_until = GREATEST(suppressed_until, $2) WHERE job_name = ANY($1::text[])",
      [jobNames, until],
    );
  }

  async recordFire(fire: FireRecord): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const inserted = await tx.query(
        // Not while the schedule is paused: paused through one instance, it fires on none.
        `INSERT INTO fires (job_name, scheduled_time, outcome, run_id, attempt, reason, retry_at, recorded_at, waiting_for)
         SELECT $1, $2::timestamptz, $3, $4, $5::integer, $6, $7::timestamptz, $8::timestamptz, $9
         WHERE NOT EXISTS (SELECT 1 FROM schedule_state WHERE job_name = $1 AND paused)
         ON CONFLICT DO NOTHING`,
        [
          fire.jobName,
          fire.scheduledTime,
          fire.outcome,
          fire.runId,
          fire.attempt,
          fire.reason,
          fire.retryAt,
          fire.recordedAt,
          fire.waitingFor ?? null,
        ],
      );
      if (inserted.rowCount === 0) return false;
      await tx.query(
        "UPDATE schedule_state SET last_processed = GREATEST(last_processed, $2) WHERE job_name = $1",
        [fire.jobName, fire.scheduledTime],
      );
      return true;
    });
  }

  async updateFire(
    jobName: string,
    scheduledTime: Date,
    patch: FirePatch,
    expectedAttempt?: number,
  ): Promise<boolean> {
    const keys = (Object.keys(patch) as (keyof FirePatch)[]).filter((k) => patch[k] !== undefined);
    if (keys.length === 0) return false;
    const values: unknown[] = [jobName, scheduledTime, ...keys.map((k) => patch[k])];
    const sets = keys.map((k, i) => `${fireColumns[k]} = $${i + 3}`).join(", ");
    let condition = "";
    if (expectedAttempt !== undefined) {
      values.push(expectedAttempt);
      condition = ` AND attempt = $${values.length} AND retry_at IS NOT NULL`;
    }
    const result = await this.db.query(
      `UPDATE fires SET ${sets} WHERE job_name = $1 AND scheduled_time = $2${condition}`,
      values,
    );
    return (result.rowCount ?? 0) > 0;
  }

  async getFire(jobName: string, scheduledTime: Date): Promise<FireRecord | null> {
    const { rows } = await this.db.query("SELECT * FROM fires WHERE job_name = $1 AND scheduled_time = $2", [
      jobName,
      scheduledTime,
    ]);
    return rows[0] ? fireFromRow(rows[0]) : null;
  }

  async listFires(jobName: string, limit: number): Promise<FireRecord[]> {
    const { rows } = await this.db.query(
      "SELECT * FROM fires WHERE job_name = $1 ORDER BY scheduled_time DESC LIMIT $2",
      [jobName, limit],
    );
    return rows.map(fireFromRow);
  }

  async waitingFire(jobName: string, runId: string): Promise<FireRecord | null> {
    const { rows } = await this.db.query(
      "SELECT * FROM fires WHERE job_name = $1 AND waiting_for = $2 AND outcome = 'queued' LIMIT 1",
      [jobName, runId],
    );
    return rows[0] ? fireFromRow(rows[0]) : null;
  }

  async claimWaitingFire(jobName: string, runId: string): Promise<FireRecord | null> {
    const { rows } = await this.db.query(
      `UPDATE fires SET outcome = 'started', reason = NULL
       WHERE job_name = $1 AND waiting_for = $2 AND outcome = 'queued'
         AND scheduled_time = (SELECT min(scheduled_time) FROM fires
                               WHERE job_name = $1 AND waiting_for = $2 AND outcome = 'queued')
         AND NOT EXISTS (SELECT 1 FROM runs WHERE job_name = $1 AND id = $2 AND status IN ${ACTIVE})
       RETURNING *`,
      [jobName, runId],
    );
    return rows[0] ? fireFromRow(rows[0]) : null;
  }

  async readyWaitingFires(): Promise<FireRecord[]> {
    const { rows } = await this.db.query(
      `SELECT * FROM fires f WHERE outcome = 'queued' AND waiting_for IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM runs r
                         WHERE r.job_name = f.job_name AND r.id = f.waiting_for AND r.status IN ${ACTIVE})
       ORDER BY scheduled_time`,
    );
    return rows.map(fireFromRow);
  }

  async pendingRetries(): Promise<FireRecord[]> {
    const { rows } = await this.db.query("SELECT * FROM fires WHERE retry_at IS NOT NULL ORDER BY retry_at");
    return rows.map(fireFromRow);
  }

  async pruneFires(jobName: string, keep: number): Promise<void> {
    await this.db.query(
      `DELETE FROM fires WHERE job_name = $1 AND scheduled_time < (
         SELECT MIN(scheduled_time) FROM (
           SELECT scheduled_time FROM fires WHERE job_name = $1 ORDER BY scheduled_time DESC LIMIT $2) AS newest)`,
      [jobName, keep],
    );
  }

  async deleteSchedule(jobName: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query("DELETE FROM fires WHERE job_name = $1", [jobName]);
      await tx.query("DELETE FROM schedule_state WHERE job_name = $1", [jobName]);
    });
  }
}
