/**
 * The wall-clock times of a Day, Week or Month recurrence, in local ms, ascending, starting at or after
 * the local startTime. DST is not handled here: the caller maps each time to an instant.
 */
export interface LocalSeries {
  /** The first time at or after `from`, or null when there is none before year 10000. */
  nextLocal(from: number): number | null;
  /**
   * The n-th time (0-based), or null when it lies beyond year 9999 (or never comes). Used to end a
   * series after `count` times without walking it.
   */
  nthLocal(n: number): number | null;
}

/** Times of day (ms since local midnight), sorted: every hour × minute pair, at the start's second. */
export function timesOfDay(hours: readonly number[], minutes: readonly number[], second: number): number[] {
  const times = hours.flatMap((h) => minutes.map((m) => ((h * 60 + m) * 60 + second) * 1000));
  return [...new Set(times)].sort((a, b) => a - b);
}

/** The first index in [lo, hi) whose value is >= target (hi when none); `valueAt` must be ascending. */
export function lowerBound(lo: number, hi: number, target: number, valueAt: (i: number) => number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (valueAt(mid) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
