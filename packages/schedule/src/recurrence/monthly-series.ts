import {
  DAY_MS,
  LOCAL_LIMIT,
  MAX_YEAR,
  civilFromLocalMs,
  daysFromCivil,
  daysInMonth,
  weekdayOfDays,
} from "../time/civil.ts";
import { type LocalSeries, lowerBound } from "./local-series.ts";
import type { MonthlyOccurrence } from "./spec.ts";

/** Month numbers repeat their calendar (lengths and weekdays) every 400 years = 4800 months. */
const CALENDAR_CYCLE_MONTHS = 4800;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Which days of a month fire: the union of monthDays and monthlyOccurrences. */
export interface MonthDayRule {
  readonly monthDays: readonly number[];
  readonly occurrences: readonly MonthlyOccurrence[];
}

/**
 * The days of `year`-`month` the rule selects, ascending, each once. A day the month lacks (31 in
 * April, −31 in a 30-day month, a fifth Friday) gives nothing: there is no clamping.
 */
export function daysOfMonth(rule: MonthDayRule, year: number, month: number): number[] {
  const length = daysInMonth(year, month);
  const days = new Set<number>();
  for (const day of rule.monthDays) {
    const resolved = day > 0 ? day : length + 1 + day;
    if (resolved >= 1 && resolved <= length) days.add(resolved);
  }
  if (rule.occurrences.length > 0) {
    const firstWeekday = weekdayOfDays(daysFromCivil(year, month, 1));
    for (const { weekday, occurrence } of rule.occurrences) {
      const all: number[] = [];
      for (let d = 1 + ((weekday - firstWeekday + 7) % 7); d <= length; d += 7) all.push(d);
      if (occurrence === null) all.forEach((d) => days.add(d));
      else {
        const day = occurrence > 0 ? all[occurrence - 1] : all[all.length + occurrence];
        if (day !== undefined) days.add(day);
      }
    }
  }
  return [...days].sort((a, b) => a - b);
}

/**
 * Month recurrences: the start's month and every interval-th month after it. The number of times per
 * month varies, but the pattern repeats after a whole 400-year calendar cycle, so the k-th time is
 * found by walking at most two cycles, never the whole series.
 */
export interface MonthlyShape {
  /** The local startTime. */
  readonly startLocal: number;
  /** year × 12 + month − 1 of the start. */
  readonly firstMonth: number;
  readonly interval: number;
  readonly rule: MonthDayRule;
  /** Times of day, ms, ascending. */
  readonly times: readonly number[];
}

export class MonthlySeries implements LocalSeries {
  private readonly startLocal: number;
  private readonly firstMonth: number;
  private readonly interval: number;
  private readonly rule: MonthDayRule;
  private readonly times: readonly number[];
  /** Periods (active months) after which the calendar pattern repeats. */
  private readonly cycle: number;
  /** Set once a whole cycle of periods turned out to hold no time at all. */
  private never = false;

  constructor(shape: MonthlyShape) {
    ({
      startLocal: this.startLocal,
      firstMonth: this.firstMonth,
      interval: this.interval,
      rule: this.rule,
      times: this.times,
    } = shape);
    this.cycle = CALENDAR_CYCLE_MONTHS / gcd(CALENDAR_CYCLE_MONTHS, this.interval);
  }

  nextLocal(from: number): number | null {
    if (this.never) return null;
    const target = Math.max(from, this.startLocal);
    const targetMonth = this.monthIndexOf(target);
    let period = Math.max(0, Math.ceil((targetMonth - this.firstMonth) / this.interval));
    // A month without a matching day may repeat for a while (day 31 every 12 months from February is
    // never), so give up after a whole cycle of periods.
    for (let tries = 0; tries <= this.cycle; tries++, period++) {
      const slots = this.slotsOf(period);
      if (slots === null) return null;
      const i = lowerBound(0, slots.length, target, (k) => slots[k]);
      if (i < slots.length) return slots[i];
    }
    this.never = true;
    return null;
  }

  nthLocal(n: number): number | null {
    let rest = n;
    let period = 0;
    let cycleTotal = 0;
    for (;;) {
      const slots = this.slotsOf(period);
      if (slots === null) return null;
      const kept = period === 0 ? slots.filter((local) => local >= this.startLocal) : slots;
      if (rest < kept.length) return kept[rest];
      rest -= kept.length;
      if (period >= 1) cycleTotal += kept.length;
      period++;
      if (period === 1 + this.cycle) {
        // Periods 1…cycle hold `cycleTotal` times, and so does every later run of `cycle` periods.
        if (cycleTotal === 0) return null;
        const skipped = Math.floor(rest / cycleTotal);
        rest -= skipped * cycleTotal;
        period += skipped * this.cycle;
      }
    }
  }

  /** The local times of a period, ascending; null past year 9999. */
  private slotsOf(period: number): number[] | null {
    const monthIndex = this.firstMonth + period * this.interval;
    const year = Math.floor(monthIndex / 12);
    if (year > MAX_YEAR) return null;
    const month = (monthIndex % 12) + 1;
    const slots: number[] = [];
    for (const day of daysOfMonth(this.rule, year, month)) {
      const base = daysFromCivil(year, month, day) * DAY_MS;
      for (const time of this.times) slots.push(base + time);
    }
    return slots.filter((local) => local < LOCAL_LIMIT);
  }

  private monthIndexOf(local: number): number {
    const { year, month } = civilFromLocalMs(local);
    return year * 12 + month - 1;
  }
}
