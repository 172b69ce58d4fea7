import { ScheduleError } from "./errors.ts";

/** What a user writes for `schedule` in settings.job: an NCRONTAB string or a recurrence object. */
export type ScheduleInput = string | Record<string, unknown>;

export interface CompileOptions {
  /**
   * For a recurring recurrence without startTime: the instant the host first loaded it (the host
   * persists it, so restarts keep the same series). Default: now. Truncated to the second.
   */
  defaultStartTime?: Date;
}

/** A validated schedule, ready to compute occurrences. Immutable and safe to share. */
export interface Schedule {
  readonly kind: "cron" | "recurrence";
  /** The resolved IANA zone name. */
  readonly timeZone: string;
  /** What the user wrote. */
  readonly source: ScheduleInput;
  /** Plain English, e.g. "Every 15 minutes". */
  readonly description: string;
  /** cron: NCrontab's expanded ToString() form ("0 0,15,30,45 * * * *"); recurrence: the description. */
  readonly expression: string;
  /**
   * The DST class of reference §5 (informative): true for a cron whose second, minute and hour fields
   * hold only numbers and commas, for Day/Week/Month recurrences and for one-time schedules; false for
   * interval-style crons and for Minute/Hour recurrences (elapsed time).
   */
  readonly fixedTime: boolean;
  /** The first occurrence strictly after `after`, or null when the series is over. */
  next(after: Date): Date | null;
}

/** Instants are plain millisecond numbers inside the engine; Dates exist only at the API edge. */
export function instantOf(value: unknown, field: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new ScheduleError(field, "expected a valid Date");
  return ms;
}
