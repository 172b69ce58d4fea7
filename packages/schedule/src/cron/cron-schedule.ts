import { type Schedule, instantOf } from "../schedule.ts";
import { type Zone, getZone } from "../time/zone.ts";
import { LAST_INSTANT, searchFrom } from "../time/range.ts";
import { DAY_MS, civilFromLocalMs, floorToSecond, localMs } from "../time/civil.ts";
import { describeCron } from "./describe.ts";
import { formatNcrontab } from "./format.ts";
import { CronMatcher, SEARCH_YEARS } from "./matcher.ts";
import { parseCron } from "./parse.ts";

/**
 * An NCRONTAB schedule in a zone, with the DST policy of reference §5:
 * - fixed-time (second, minute and hour hold only numbers and commas): a time in a gap runs once at the
 *   end of the gap, a time in an overlap runs once at its earlier instant;
 * - interval-style: times in a gap are skipped, times in an overlap run at both instants.
 */
export class CronSchedule implements Schedule {
  readonly kind = "cron";
  readonly source: string;
  readonly timeZone: string;
  readonly description: string;
  readonly expression: string;
  readonly fixedTime: boolean;
  private readonly matcher: CronMatcher;
  private readonly zone: Zone;

  constructor(source: string, timeZone: string) {
    this.source = source;
    this.timeZone = timeZone;
    const { fields, texts } = parseCron(source);
    this.fixedTime = texts.slice(0, 3).every((text) => /^[0-9,]+$/.test(text));
    this.description = describeCron(fields);
    this.expression = formatNcrontab(fields);
    this.matcher = new CronMatcher(fields);
    this.zone = getZone(timeZone);
    Object.freeze(this);
  }

  next(after: Date): Date | null {
    const from = searchFrom(instantOf(after, "after"));
    const t = from === null ? null : this.nextInstant(from);
    return t === null || t > LAST_INSTANT ? null : new Date(t);
  }

  private nextInstant(after: number): number | null {
    const zone = this.zone;
    // Wall-clock times whose first instant is after `after` (the first instant of a time is monotonic
    // in the time, so the earliest such match gives the earliest "first" instant).
    const from = zone.nextLocalAfter(after);
    let local = this.matcher.matchFrom(from);
    if (this.fixedTime) return local === null ? null : zone.firstInstant(local);
    // Skipping gaps must not run on forever when every match falls in one (say 02:30 on the second
    // Sunday of March in New York, written "0 30 2-2 8-14 3 Sun"): stop at the matcher's horizon.
    const horizon = localMs(civilFromLocalMs(from).year + SEARCH_YEARS, 1, 1);

    let first: number | null = null;
    while (local !== null) {
      const r = zone.resolveLocal(local);
      if (r.kind !== "gap") {
        first = r.kind === "single" ? r.instant : r.first;
        break;
      }
      local = this.matcher.matchFrom(r.transition.at + r.transition.after, horizon); // skip the gap's times
    }
    // Interval-style also runs the repeat of an overlap: a time already shown once before `after` may
    // come again after it. Only an overlap within a day of `after` can do that.
    const repeat = this.nextRepeat(after);
    return first === null ? repeat : repeat === null ? first : Math.min(first, repeat);
  }

  /** The earliest second-pass instant of an overlap that is after `after`, if one is near. */
  private nextRepeat(after: number): number | null {
    const t = this.zone.transitionBetween(after - DAY_MS, after + DAY_MS);
    if (t === null || t.before <= t.after) return null;
    // Repeated wall-clock span: [t.at + t.after, t.at + t.before); its second instants are local − t.after.
    const from = Math.max(t.at + t.after, floorToSecond(after + t.after) + 1000);
    const local = this.matcher.matchFrom(from, t.at + t.before);
    return local === null ? null : local - t.after;
  }
}
