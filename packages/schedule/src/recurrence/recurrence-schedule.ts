import { type CompileOptions, type Schedule, instantOf } from "../schedule.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS, civilFromLocalMs, floorDiv, weekdayOfDays } from "../time/civil.ts";
import { LAST_INSTANT, searchFrom } from "../time/range.ts";
import { type Zone, getZone } from "../time/zone.ts";
import { describeRecurrence } from "./describe.ts";
import { type LocalSeries, timesOfDay } from "./local-series.ts";
import { MonthlySeries } from "./monthly-series.ts";
import { parseRecurrence } from "./parse.ts";
import { PeriodicSeries } from "./periodic-series.ts";
import type { RecurrenceSpec } from "./spec.ts";

/** How one kind of recurrence finds its next instant; `after` is already clamped to the supported range. */
type NextInstant = (after: number) => number | null;

/**
 * A recurrence object (reference §3) in a zone. Occurrences always derive from startTime, never from
 * the last run, so they do not drift; `count` includes occurrences that were missed.
 */
export class RecurrenceSchedule implements Schedule {
  readonly kind = "recurrence";
  readonly source: Record<string, unknown>;
  readonly timeZone: string;
  readonly description: string;
  readonly expression: string;
  readonly fixedTime: boolean;
  private readonly nextInstant: NextInstant;

  constructor(source: Record<string, unknown>, timeZone: string, options: CompileOptions) {
    this.source = source;
    this.timeZone = timeZone;
    const zone = getZone(timeZone);
    const spec = parseRecurrence(source, zone, options);
    this.description = describeRecurrence(spec, zone);
    this.expression = this.description;
    this.fixedTime = spec.frequency !== "Minute" && spec.frequency !== "Hour";
    this.nextInstant =
      spec.frequency === null
        ? (after) => (spec.start > after ? spec.start : null)
        : spec.frequency === "Minute" || spec.frequency === "Hour"
          ? elapsedNext(spec)
          : calendarNext(spec, zone);
    Object.freeze(this);
  }

  next(after: Date): Date | null {
    const from = searchFrom(instantOf(after, "after"));
    const t = from === null ? null : this.nextInstant(from);
    return t === null || t > LAST_INSTANT ? null : new Date(t);
  }
}

/** Minute and Hour: startTime + k × interval of elapsed time; DST plays no part. O(1). */
function elapsedNext(spec: RecurrenceSpec): NextInstant {
  const step = spec.interval * (spec.frequency === "Minute" ? MINUTE_MS : HOUR_MS);
  return (after) => {
    const k = after < spec.start ? 0 : floorDiv(after - spec.start, step) + 1;
    if (spec.count !== null && k >= spec.count) return null;
    const t = spec.start + k * step;
    return spec.end !== null && t > spec.end ? null : t;
  };
}

/**
 * Day, Week and Month: wall-clock times from a LocalSeries, each mapped to an instant with the
 * fixed-time rule (§5): a time in a gap runs at the end of the gap, a time in an overlap at its earlier
 * instant. `count` limits the wall-clock series: the count-th time is computed once, lazily.
 */
function calendarNext(spec: RecurrenceSpec, zone: Zone): NextInstant {
  const series = localSeries(spec, zone);
  let lastLocal: number | null | undefined;
  return (after) => {
    let local = series.nextLocal(zone.nextLocalAfter(after));
    while (local !== null) {
      const t = zone.firstInstant(local);
      // Only an offset-qualified startTime inside an overlap can put a time's first instant before it.
      if (t < spec.start) {
        local = series.nextLocal(local + 1000);
        continue;
      }
      if (spec.count !== null) {
        lastLocal ??= series.nthLocal(spec.count - 1);
        if (lastLocal !== null && local > lastLocal) return null;
      }
      return spec.end !== null && t > spec.end ? null : t;
    }
    return null;
  };
}

function localSeries(spec: RecurrenceSpec, zone: Zone): LocalSeries {
  const startLocal = zone.localAt(spec.start);
  const start = civilFromLocalMs(startLocal);
  const { inner } = spec;
  const times = timesOfDay(inner.hours ?? [start.hour], inner.minutes ?? [start.minute], start.second);
  const startDay = floorDiv(startLocal, DAY_MS);
  switch (spec.frequency) {
    case "Week": {
      // Weeks run Monday to Sunday: offsets 0 (Monday) … 6 (Sunday).
      const mondayBased = (weekday: number): number => (weekday + 6) % 7;
      const startWeekday = weekdayOfDays(startDay);
      const offsets = (inner.weekDays ?? [startWeekday]).map(mondayBased).sort((a, b) => a - b);
      const firstDay = startDay - mondayBased(startWeekday);
      return new PeriodicSeries({
        startLocal,
        firstDay,
        periodDays: 7 * spec.interval,
        dayOffsets: offsets,
        times,
      });
    }
    case "Month": {
      const explicit = inner.monthDays !== undefined || inner.monthlyOccurrences !== undefined;
      const rule = {
        monthDays: explicit ? (inner.monthDays ?? []) : [start.day],
        occurrences: inner.monthlyOccurrences ?? [],
      };
      const firstMonth = start.year * 12 + start.month - 1;
      return new MonthlySeries({ startLocal, firstMonth, interval: spec.interval, rule, times });
    }
    default:
      return new PeriodicSeries({
        startLocal,
        firstDay: startDay,
        periodDays: spec.interval,
        dayOffsets: [0],
        times,
      });
  }
}
