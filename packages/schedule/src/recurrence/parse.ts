import { ScheduleError } from "../errors.ts";
import { readInteger, rejectUnknownKeys, show, withoutUndefined } from "../json.ts";
import type { CompileOptions } from "../schedule.ts";
import { floorToSecond } from "../time/civil.ts";
import type { Zone } from "../time/zone.ts";
import { parseDateTime } from "./date-time.ts";
import { parseInnerSchedule } from "./parse-inner.ts";
import { FREQUENCIES, type Frequency, MAX_INTERVAL, type RecurrenceSpec } from "./spec.ts";

/** `timeZone` is absent on purpose: the zone comes only from settings.job's `time_zone`. */
const OUTER_KEYS = ["frequency", "interval", "startTime", "endTime", "count", "schedule"];

/** Validates a recurrence object (reference §3); every problem is a ScheduleError naming its key. */
export function parseRecurrence(
  source: Record<string, unknown>,
  zone: Zone,
  options: CompileOptions,
): RecurrenceSpec {
  const input = withoutUndefined(source);
  for (const key of Object.keys(input)) {
    if (key.toLowerCase() === "timezone" || key.toLowerCase() === "time_zone") {
      throw new ScheduleError(
        `schedule.${key}`,
        `unknown key '${key}': the zone comes only from settings.job's time_zone, not from the schedule`,
      );
    }
  }
  rejectUnknownKeys(input, OUTER_KEYS, "schedule");
  const frequency = "frequency" in input ? readFrequency(input.frequency) : null;
  if (frequency === null) return parseOneTime(input, zone);

  const interval =
    "interval" in input ? readInteger(input.interval, "schedule.interval", 1, MAX_INTERVAL[frequency]) : 1;
  const startGiven = "startTime" in input;
  const start = startGiven
    ? parseDateTime(input.startTime, "schedule.startTime", zone)
    : defaultStart(options);
  let end: number | null = null;
  if ("endTime" in input) {
    end = parseDateTime(input.endTime, "schedule.endTime", zone);
    // With a defaulted start (the first load), a past endTime just means the series is finished.
    if (startGiven && end <= start) {
      throw new ScheduleError("schedule.endTime", `must be after startTime ${show(input.startTime)}`);
    }
  }
  const count =
    "count" in input ? readInteger(input.count, "schedule.count", 1, Number.MAX_SAFE_INTEGER) : null;
  const inner = "schedule" in input ? parseInnerSchedule(input.schedule, frequency) : {};
  return { frequency, interval, start, startGiven, end, count, inner };
}

function readFrequency(value: unknown): Frequency {
  const found =
    typeof value === "string"
      ? FREQUENCIES.find((name) => name.toLowerCase() === value.toLowerCase())
      : undefined;
  if (!found) {
    throw new ScheduleError(
      "schedule.frequency",
      `must be Minute, Hour, Day, Week or Month, got ${show(value)}`,
    );
  }
  return found;
}

/** Without frequency the schedule runs once, at startTime, and takes no other key. */
function parseOneTime(input: Record<string, unknown>, zone: Zone): RecurrenceSpec {
  for (const key of Object.keys(input)) {
    if (key !== "startTime") {
      throw new ScheduleError(
        `schedule.${key}`,
        "only allowed with a frequency; a one-time schedule (no frequency) has only startTime",
      );
    }
  }
  if (!("startTime" in input)) {
    throw new ScheduleError(
      "schedule.startTime",
      "required for a one-time schedule (a schedule without frequency)",
    );
  }
  const start = parseDateTime(input.startTime, "schedule.startTime", zone);
  return { frequency: null, interval: 1, start, startGiven: true, end: null, count: null, inner: {} };
}

/** The host's first-load instant, to the second: occurrences keep one-second precision. */
function defaultStart(options: CompileOptions): number {
  const value = options.defaultStartTime ?? new Date();
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new ScheduleError("defaultStartTime", "expected a valid Date");
  return floorToSecond(ms);
}
