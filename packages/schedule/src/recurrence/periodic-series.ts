import { DAY_MS, LOCAL_LIMIT, floorDiv } from "../time/civil.ts";
import { type LocalSeries, lowerBound } from "./local-series.ts";

/**
 * Day and Week recurrences: periods of a fixed number of days (interval days, or interval × 7 days
 * from the Monday of the start's week), each with the same slots (active days × times of day). The
 * k-th time is therefore plain arithmetic, which keeps next() O(log slots) even for a count of 10^9.
 */
export interface PeriodicShape {
  /** The local startTime. */
  readonly startLocal: number;
  /** The first day (days since 1970-01-01) of period 0. */
  readonly firstDay: number;
  /** The length of a period, in days. */
  readonly periodDays: number;
  /** The active days of a period, as offsets from its first day, ascending. */
  readonly dayOffsets: readonly number[];
  /** Times of day, ms, ascending. */
  readonly times: readonly number[];
}

export class PeriodicSeries implements LocalSeries {
  private readonly startLocal: number;
  private readonly firstDay: number;
  private readonly periodDays: number;
  private readonly dayOffsets: readonly number[];
  private readonly times: readonly number[];
  private readonly slotsPerPeriod: number;
  /** Slots of the first period that come before the local start and so are dropped. */
  private readonly dropped: number;

  constructor(shape: PeriodicShape) {
    ({
      startLocal: this.startLocal,
      firstDay: this.firstDay,
      periodDays: this.periodDays,
      dayOffsets: this.dayOffsets,
      times: this.times,
    } = shape);
    this.slotsPerPeriod = this.dayOffsets.length * this.times.length;
    this.dropped = lowerBound(0, this.slotsPerPeriod, this.startLocal, (s) => this.slot(0, s));
  }

  nextLocal(from: number): number | null {
    const target = Math.max(from, this.startLocal);
    let period = Math.max(0, floorDiv(floorDiv(target, DAY_MS) - this.firstDay, this.periodDays));
    let slot = lowerBound(0, this.slotsPerPeriod, target, (s) => this.slot(period, s));
    if (slot === this.slotsPerPeriod) {
      period++;
      slot = 0;
    }
    return this.limited(this.slot(period, slot));
  }

  nthLocal(n: number): number | null {
    const inFirst = this.slotsPerPeriod - this.dropped;
    if (n < inFirst) return this.slot(0, this.dropped + n);
    const rest = n - inFirst;
    return this.limited(this.slot(1 + Math.floor(rest / this.slotsPerPeriod), rest % this.slotsPerPeriod));
  }

  private slot(period: number, slot: number): number {
    const perDay = this.times.length;
    const day = this.firstDay + period * this.periodDays + this.dayOffsets[Math.floor(slot / perDay)];
    return day * DAY_MS + this.times[slot % perDay];
  }

  private limited(local: number): number | null {
    return local < LOCAL_LIMIT ? local : null;
  }
}
