import {
  LOCAL_LIMIT,
  civilFromLocalMs,
  ceilToSecond,
  daysFromCivil,
  daysInMonth,
  localMs,
  weekdayOfDays,
} from "../time/civil.ts";
import type { CronFields } from "./fields.ts";

/**
 * How far ahead a search goes: the Gregorian calendar repeats every 400 years, so a day/month/weekday
 * combination that exists at all occurs within 401 years of any date.
 */
export const SEARCH_YEARS = 401;

/** next[v] = the smallest allowed value >= v, or -1; indexes up to max + 1 (always -1). */
function nextTable(values: readonly number[], max: number): Int16Array {
  const table = new Int16Array(max + 2).fill(-1);
  let next = -1;
  for (let v = max; v >= 0; v--) {
    if (values.includes(v)) next = v;
    table[v] = next;
  }
  return table;
}

/**
 * Finds matching wall-clock times by jumping field by field (month, day, hour, minute, second) rather
 * than stepping through seconds, so a search is a handful of table look-ups even when the next match
 * is years away (`0 0 0 29 2 Mon` → 2044, then 2072).
 */
export class CronMatcher {
  private readonly nextSecond: Int16Array;
  private readonly nextMinute: Int16Array;
  private readonly nextHour: Int16Array;
  private readonly nextMonth: Int16Array;
  private readonly dayAllowed: boolean[];
  private readonly weekdayAllowed: boolean[];

  constructor(fields: CronFields) {
    this.nextSecond = nextTable(fields.seconds, 59);
    this.nextMinute = nextTable(fields.minutes, 59);
    this.nextHour = nextTable(fields.hours, 23);
    this.nextMonth = nextTable(fields.months, 12);
    this.dayAllowed = Array.from({ length: 33 }, (_, d) => fields.days.includes(d));
    this.weekdayAllowed = Array.from({ length: 7 }, (_, d) => fields.daysOfWeek.includes(d));
  }

  /**
   * The first matching local time (local ms, whole seconds) at or after `from` and before `limit`, or
   * null when there is none within 401 years or before year 10000. Day and day-of-week must both match
   * (AND, reference §2).
   */
  matchFrom(from: number, limit = LOCAL_LIMIT): number | null {
    const start = civilFromLocalMs(ceilToSecond(from));
    let { year, month, day, hour, minute, second } = start;
    const end = Math.min(limit, LOCAL_LIMIT);
    const lastYear = Math.min(start.year + SEARCH_YEARS, civilFromLocalMs(end).year);
    for (;;) {
      if (month > 12) {
        year++;
        month = 1;
      }
      if (year > lastYear) return null;
      const m = this.nextMonth[month];
      if (m !== month) {
        if (m < 0) {
          year++;
          month = this.nextMonth[1];
        } else month = m;
        day = 1;
        hour = minute = second = 0;
        continue;
      }
      const d = this.findDay(year, month, day);
      if (d < 0) {
        month++;
        day = 1;
        hour = minute = second = 0;
        continue;
      }
      if (d !== day) {
        day = d;
        hour = minute = second = 0;
      }
      const h = this.nextHour[hour];
      if (h < 0) {
        day++;
        hour = minute = second = 0;
        continue;
      }
      if (h !== hour) {
        hour = h;
        minute = second = 0;
      }
      const mi = this.nextMinute[minute];
      if (mi < 0) {
        hour++;
        minute = second = 0;
        continue;
      }
      if (mi !== minute) {
        minute = mi;
        second = 0;
      }
      const s = this.nextSecond[second];
      if (s < 0) {
        minute++;
        second = 0;
        continue;
      }
      const local = localMs(year, month, day, hour, minute, s);
      return local < end ? local : null;
    }
  }

  /** The first day >= `from` of the month whose day and weekday both match, or -1. */
  private findDay(year: number, month: number, from: number): number {
    const last = daysInMonth(year, month);
    if (from > last) return -1;
    let weekday = weekdayOfDays(daysFromCivil(year, month, from));
    for (let d = from; d <= last; d++) {
      if (this.dayAllowed[d] && this.weekdayAllowed[weekday]) return d;
      weekday = weekday === 6 ? 0 : weekday + 1;
    }
    return -1;
  }
}
