import { ScheduleError } from "../errors.ts";
import { show } from "../json.ts";
import { daysInMonth, formatClock, localMs } from "../time/civil.ts";
import type { Zone } from "../time/zone.ts";

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Reads `YYYY-MM-DDTHH:MM[:SS]` with an optional `Z` or `±HH:MM` (reference §3). With an offset the
 * value is that instant; without one it is wall-clock time in `zone`: a time in a DST gap is invalid,
 * an ambiguous time means its earlier instant. No fractions, no date-only values.
 */
export function parseDateTime(value: unknown, field: string, zone: Zone): number {
  if (typeof value !== "string") {
    throw new ScheduleError(
      field,
      `expected a date-time string YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM], got ${show(value)}`,
    );
  }
  const match = DATE_TIME.exec(value);
  if (!match) {
    throw new ScheduleError(
      field,
      `${show(value)} is not a date-time of the form YYYY-MM-DDTHH:MM[:SS] with an optional Z or ±HH:MM ` +
        `(no fractions, no date-only values)`,
    );
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? "0"));
  const offsetText = match[7];
  const bad = (what: string): never => {
    throw new ScheduleError(field, `${show(value)} has an invalid ${what}`);
  };
  if (year < 1) bad("year (0001-9999)");
  if (month < 1 || month > 12) bad("month");
  if (day < 1 || day > daysInMonth(year, month)) bad("day for its month");
  if (hour > 23) bad("hour (00-23)");
  if (minute > 59) bad("minute");
  if (second > 59) bad("second");
  const local = localMs(year, month, day, hour, minute, second);

  if (offsetText !== undefined) {
    if (offsetText === "Z") return local;
    const sign = offsetText.startsWith("-") ? -1 : 1;
    const offsetHours = Number(offsetText.slice(1, 3));
    const offsetMinutes = Number(offsetText.slice(4, 6));
    if (offsetHours > 23 || offsetMinutes > 59) bad("UTC offset");
    return local - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  }
  const resolution = zone.resolveLocal(local);
  if (resolution.kind === "gap") {
    const date = value.slice(0, 10);
    throw new ScheduleError(
      field,
      `${formatClock(hour, minute, second)} on ${date} does not exist in ${zone.name} (daylight-saving gap)`,
    );
  }
  return resolution.kind === "single" ? resolution.instant : resolution.first;
}
