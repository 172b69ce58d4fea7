import { DAY_MS, HOUR_MS, floorDiv, floorToSecond, localMs } from "./civil.ts";

/**
 * A change of UTC offset. `before` and `after` are offsets in milliseconds (local − UTC); `at` is the
 * first instant with the new offset. before < after is a gap (clocks jump forward), before > after an
 * overlap (clocks fall back).
 */
export interface Transition {
  readonly at: number;
  readonly before: number;
  readonly after: number;
}

/** How a local wall-clock time maps to instants. */
export type LocalResolution =
  | { readonly kind: "single"; readonly instant: number }
  | { readonly kind: "overlap"; readonly first: number; readonly second: number }
  | { readonly kind: "gap"; readonly transition: Transition };

/** Instants before this are read with its offset: Intl prints years <= 0 as era years, which we avoid. */
const EARLIEST_PROBE = localMs(2, 1, 1);
/** Instants after this are read with its offset, well inside Date's range (±8.64e15 ms). */
const LATEST_PROBE = localMs(10_002, 1, 1);
/** Caches are dropped past this many entries so that a long-lived host cannot grow them forever. */
const MAX_CACHED_HOURS = 200_000;

/**
 * The offsets of one IANA zone, read from Intl.DateTimeFormat and cached per UTC hour.
 *
 * Intl is the only source of zone data (no hand-written tables), but a formatToParts call costs
 * microseconds, so offsets are cached per UTC hour: the offset at each hour's start, and, for an hour
 * whose start and end offsets differ, the exact transition instant (binary search to the second).
 * This assumes a zone changes offset at most once within an hour, and at most once within any two
 * days for the gap/overlap logic, which holds for every zone in tzdata's modern data.
 */
export class Zone {
  readonly name: string;
  private readonly format: Intl.DateTimeFormat;
  private readonly hourStartOffsets = new Map<number, number>();
  private readonly hourTransitions = new Map<number, number>();

  constructor(name: string) {
    this.name = name;
    this.format = new Intl.DateTimeFormat("en-US-u-ca-gregory-nu-latn", {
      timeZone: name,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  }

  /** Offset (local − UTC, ms) in effect at `instant`. */
  offsetAt(instant: number): number {
    const t = floorToSecond(Math.min(Math.max(instant, EARLIEST_PROBE), LATEST_PROBE));
    const hour = floorDiv(t, HOUR_MS);
    const start = this.hourStartOffset(hour);
    const end = this.hourStartOffset(hour + 1);
    if (start === end) return start;
    return t < this.transitionInHour(hour, start) ? start : end;
  }

  /** The local wall-clock time (local ms) at `instant`. */
  localAt(instant: number): number {
    return instant + this.offsetAt(instant);
  }

  /**
   * The transition in (from, to], or null when the offsets at both ends agree. Meant for spans of a
   * couple of days, which hold at most one transition.
   */
  transitionBetween(from: number, to: number): Transition | null {
    const before = this.offsetAt(from);
    const after = this.offsetAt(to);
    if (before === after) return null;
    // Find the first hour boundary whose offset differs from `before`; the change happened in the
    // hour just before it (or in `from`'s own hour, after `from`).
    let lo = floorDiv(from, HOUR_MS); // boundary lo (start of from's hour) is at or before `from`
    let hi = floorDiv(to, HOUR_MS) + 1; // boundary hi is after `to`, so its offset is `after`
    if (this.hourStartOffset(hi) === before) hi = lo; // two changes cancelled out: give up below
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.hourStartOffset(mid) === before) lo = mid;
      else hi = mid;
    }
    const hour = hi - 1;
    const start = this.hourStartOffset(hour);
    const end = this.hourStartOffset(hour + 1);
    const at = start === end ? to : this.transitionInHour(hour, start);
    return { at, before, after: this.offsetAt(at) };
  }

  /** Maps a local wall-clock time to zero (gap), one or two (overlap) instants. */
  resolveLocal(local: number): LocalResolution {
    const early = this.offsetAt(local - DAY_MS);
    const late = this.offsetAt(local + DAY_MS);
    const a = local - early;
    const b = local - late;
    const aValid = this.offsetAt(a) === early;
    const bValid = this.offsetAt(b) === late;
    if (aValid && bValid && a !== b) {
      return { kind: "overlap", first: Math.min(a, b), second: Math.max(a, b) };
    }
    if (aValid) return { kind: "single", instant: a };
    if (bValid) return { kind: "single", instant: b };
    const transition = this.transitionBetween(local - DAY_MS, local + DAY_MS);
    if (transition && transition.after > transition.before) return { kind: "gap", transition };
    // Two transitions within two days (not seen in tzdata): fall back to the offset at the local time.
    return { kind: "single", instant: local - this.offsetAt(local) };
  }

  /**
   * The first instant whose wall-clock time is at or after `local`: the instant itself, the earlier
   * instant in an overlap, or the end of a gap (the "fixed-time" mapping of the reference, §5).
   */
  firstInstant(local: number): number {
    const r = this.resolveLocal(local);
    return r.kind === "single" ? r.instant : r.kind === "overlap" ? r.first : r.transition.at;
  }

  /**
   * The smallest whole-second local time whose first instant (see firstInstant) is after `instant`.
   * It is the next second of the wall clock, except during the repeated stretch of an overlap: the
   * wall clock has already shown those times once, so the answer is the first time after the overlap.
   */
  nextLocalAfter(instant: number): number {
    const offset = this.offsetAt(instant);
    let next = floorToSecond(instant + offset) + 1000;
    if (this.offsetAt(instant - DAY_MS) > offset) {
      const t = this.transitionBetween(instant - DAY_MS, instant);
      if (t && t.before > t.after && t.at <= instant) next = Math.max(next, t.at + t.before);
    }
    return next;
  }

  private hourStartOffset(hour: number): number {
    let offset = this.hourStartOffsets.get(hour);
    if (offset === undefined) {
      if (this.hourStartOffsets.size >= MAX_CACHED_HOURS) this.hourStartOffsets.clear();
      offset = this.computeOffset(Math.min(Math.max(hour * HOUR_MS, EARLIEST_PROBE), LATEST_PROBE));
      this.hourStartOffsets.set(hour, offset);
    }
    return offset;
  }

  /** First whole second of `hour` whose offset is not `start` (the hour is known to contain one). */
  private transitionInHour(hour: number, start: number): number {
    let at = this.hourTransitions.get(hour);
    if (at === undefined) {
      let lo = hour * HOUR_MS; // offset `start`
      let hi = lo + HOUR_MS; // another offset
      while (hi - lo > 1000) {
        const mid = floorToSecond(lo + (hi - lo) / 2);
        if (this.computeOffset(mid) === start) lo = mid;
        else hi = mid;
      }
      at = hi;
      if (this.hourTransitions.size >= MAX_CACHED_HOURS) this.hourTransitions.clear();
      this.hourTransitions.set(hour, at);
    }
    return at;
  }

  private computeOffset(instant: number): number {
    let year = 0;
    let month = 0;
    let day = 0;
    let hour = 0;
    let minute = 0;
    let second = 0;
    for (const part of this.format.formatToParts(instant)) {
      const value = Number(part.value);
      switch (part.type) {
        case "year":
          year = value;
          break;
        case "month":
          month = value;
          break;
        case "day":
          day = value;
          break;
        case "hour":
          hour = value % 24; // some ICU versions print midnight as 24
          break;
        case "minute":
          minute = value;
          break;
        case "second":
          second = value;
          break;
      }
    }
    return localMs(year, month, day, hour, minute, second) - instant;
  }
}

const zones = new Map<string, Zone>();

/** The cached Zone for a canonical IANA name (see resolveTimeZone). */
export function getZone(name: string): Zone {
  let zone = zones.get(name);
  if (!zone) {
    zone = new Zone(name);
    zones.set(name, zone);
  }
  return zone;
}
