/**
 * The one error type of the package. Schedules come from JSON (settings.job, HTTP bodies), so every
 * rejection names the offending field with a dotted path the API layer can show as is
 * ("schedule", "schedule.schedule.monthDays[0]", "time_zone", "retry_count", …).
 */
export class ScheduleError extends Error {
  /** A dotted path naming what is wrong: "schedule", "schedule.interval", "time_zone", … */
  readonly field: string;
  /** The problem without the field prefix, e.g. "second 60 is out of range 0-59". */
  readonly reason: string;

  /**
   * `message` is the bare problem; the error's `message` property reads `"<field>: <problem>"` so that
   * a log line or a 400 answer is self-explanatory without also printing `field`.
   */
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "ScheduleError";
    this.field = field;
    this.reason = message;
  }
}
