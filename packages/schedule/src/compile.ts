import { CronSchedule } from "./cron/cron-schedule.ts";
import { ScheduleError } from "./errors.ts";
import { describeType, isPlainObject, readInteger } from "./json.ts";
import { RecurrenceSchedule } from "./recurrence/recurrence-schedule.ts";
import { type CompileOptions, type Schedule, type ScheduleInput, instantOf } from "./schedule.ts";
import { resolveTimeZone } from "./time/resolve-time-zone.ts";

/** The most occurrences one call lists; previews ask for 100 at most, missed runs for a few hundred. */
const MAX_LISTED = 100_000;

/**
 * Validates `input` (an NCRONTAB string or a recurrence object, straight from JSON) in `timeZone` (IANA
 * name or Windows id) and returns a Schedule. Throws ScheduleError, and nothing else, for bad input.
 */
export function compileSchedule(input: unknown, timeZone: string, options: CompileOptions = {}): Schedule {
  const zone = resolveTimeZone(timeZone);
  if (typeof input === "string") return new CronSchedule(input, zone);
  if (isPlainObject(input)) return new RecurrenceSchedule(input, zone, options);
  throw new ScheduleError(
    "schedule",
    `expected an NCRONTAB string or a recurrence object, got ${describeType(input)}`,
  );
}

function isCompiled(schedule: unknown): schedule is Schedule {
  return schedule instanceof CronSchedule || schedule instanceof RecurrenceSchedule;
}

/**
 * The first `n` occurrences strictly after `after`, fewer when the series ends. A compiled schedule is
 * used as is when it is in `timeZone`, and recompiled from its source in `timeZone` otherwise.
 */
export function nextOccurrences(
  schedule: Schedule | ScheduleInput,
  timeZone: string,
  after: Date,
  n: number,
  options: CompileOptions = {},
): Date[] {
  const count = readInteger(n, "n", 0, MAX_LISTED);
  instantOf(after, "after");
  const compiled =
    isCompiled(schedule) && schedule.timeZone === resolveTimeZone(timeZone)
      ? schedule
      : compileSchedule(isCompiled(schedule) ? schedule.source : schedule, timeZone, options);
  const result: Date[] = [];
  let cursor: Date | null = after;
  while (result.length < count && (cursor = compiled.next(cursor)) !== null) result.push(cursor);
  return result;
}

/**
 * Occurrences in the half-open interval (after, until], oldest first, at most `limit` of them: the
 * occurrences missed while the host was down are those in (L, now].
 */
export function occurrencesBetween(schedule: Schedule, after: Date, until: Date, limit: number): Date[] {
  if (!isCompiled(schedule))
    throw new ScheduleError("schedule", "expected a compiled Schedule (see compileSchedule)");
  const max = readInteger(limit, "limit", 0, MAX_LISTED);
  instantOf(after, "after");
  const end = instantOf(until, "until");
  const result: Date[] = [];
  let cursor: Date | null = after;
  while (result.length < max && (cursor = schedule.next(cursor)) !== null && cursor.getTime() <= end) {
    result.push(cursor);
  }
  return result;
}
