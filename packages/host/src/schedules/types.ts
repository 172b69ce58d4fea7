/**
 * Domain types of scheduled jobs (schedule-reference.md): the state a job's schedule is armed
 * with, and one fire per (job, due instant).
 */

/** What became of one due instant of a job's schedule. */
export const FireOutcome = {
  /** A run started for it on time. */
  Started: "started",
  /** It came while a run was going and the overlap policy is `skip`. */
  SkippedOverlap: "skipped_overlap",
  /** It passed while the host was down (or the clock jumped) and the missed-run policy dropped it. */
  Missed: "missed",
  /** Overlap `queue`: it waits for the current run to end. */
  Queued: "queued",
  /** Overlap `queue` with one already waiting: merged into that one. */
  Coalesced: "coalesced",
  /** It had been missed and ran late, per the missed-run policy. */
  CaughtUp: "caught_up",
  /** Its run failed and a later attempt was started (see `attempt` and `run_id`). */
  Retried: "retried",
} as const;
export type FireOutcome = (typeof FireOutcome)[keyof typeof FireOutcome];

export interface FireRecord {
  jobName: string;
  /** The due instant (UTC), to the second: with the job name, the key that makes it fire once. */
  scheduledTime: Date;
  outcome: FireOutcome;
  /** The run serving it (the latest attempt's), if one started. */
  runId: string | null;
  attempt: number;
  reason: string | null;
  /** When its next attempt is due, while a retry is pending. */
  retryAt: Date | null;
  recordedAt: Date;
  /**
   * Overlap `queue`, several instances: the run a queued occurrence waits for (one waits per run
   * in progress, whichever instance holds it). Absent otherwise.
   */
  waitingFor?: string | null;
}

export type FirePatch = Partial<Pick<FireRecord, "outcome" | "runId" | "attempt" | "reason" | "retryAt">>;

export interface ScheduleState {
  jobName: string;
  /** The schedule and zone as armed: a change starts over (no missed runs, a new default start). */
  scheduleKey: string;
  armedAt: Date;
  /** L of the reference: the newest occurrence that ran, was skipped or was declared missed. */
  lastProcessed: Date | null;
  /** Occurrences up to here fell while the schedule could not fire; they are neither run nor missed. */
  suppressedUntil: Date | null;
  paused: boolean;
}
