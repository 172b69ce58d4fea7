import { fieldsOf, wallClock } from "./wall-clock.ts";

/** The value sets a generated cron expression stands for, computed by the generator, not the parser. */
export interface CronSets {
  readonly seconds: ReadonlySet<number>;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
}

const MINUTE = 60_000;

/** Whether a wall-clock minute (any second) matches every field but the second one. */
function minuteMatches(sets: CronSets, local: number): boolean {
  const f = fieldsOf(local);
  return (
    sets.minutes.has(f.minute) &&
    sets.hours.has(f.hour) &&
    sets.days.has(f.day) &&
    sets.months.has(f.month) &&
    sets.weekdays.has(f.weekday)
  );
}

/**
 * Brute force: every occurrence in (after, until], found by walking UTC minutes, reading each minute's
 * wall clock and applying reference §5 literally:
 * - interval-style: an instant fires when its wall-clock time matches (gap times never show, overlap
 *   times show twice);
 * - fixed-time: an instant fires when its wall-clock time matches and has not been shown before, and
 *   the first instant after a gap fires when any time inside the gap matches.
 * Assumes offsets and transitions in whole minutes, true for the zones and years the tests use.
 */
export function bruteForce(
  sets: CronSets,
  zone: string,
  fixedTime: boolean,
  after: number,
  until: number,
): number[] {
  const fires = new Set<number>();
  const firstMinute = Math.floor(after / MINUTE) * MINUTE;
  const seedFrom = firstMinute - 4 * 60 * MINUTE;
  let previous = wallClock(zone, seedFrom - MINUTE);
  let highest = previous + 59_000;
  const seconds = [...sets.seconds].sort((a, b) => a - b);
  for (let u = seedFrom; u <= until; u += MINUTE) {
    const local = wallClock(zone, u);
    const record = (instant: number): void => {
      if (u >= firstMinute && instant > after && instant <= until) fires.add(instant);
    };
    if (fixedTime && local > previous + MINUTE) {
      for (let gapMinute = previous + MINUTE; gapMinute < local; gapMinute += MINUTE) {
        if (minuteMatches(sets, gapMinute)) record(u);
      }
    }
    if (minuteMatches(sets, local)) {
      for (const s of seconds) {
        const shown = local + s * 1000;
        if (!fixedTime || shown > highest) record(u + s * 1000);
      }
    }
    previous = local;
    highest = Math.max(highest, local + 59_000);
  }
  return [...fires].sort((a, b) => a - b);
}
