import { type Schedule, instantOf } from "../schedule.ts";
import { type Zone, getZone } from "../time/zone.ts";
import { LAST_INSTANT, clampAfter } from "../time/range.ts";
import { DAY_MS } from "../time/civil.ts";
import { describeCron } from "./describe.ts";
import { formatNcrontab } from "./format.ts";
import { CronMatcher } from "./matcher.ts";
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
    const t = this.nextInstant(clampAfter(instantOf(after, "after")));
    return t === null || t > LAST_INSTANT ? null : new Date(t);
  }

  private nextInstant(after: number): number | null {
    const zone = this.zone;
    // Wall-clock times whose first instant is after `after` (the first instant of a time is monotonic
    // in the time, so the earliest such match gives the earliest "first" instant).
    let local = this.matcher.matchFrom(zone.nextLocalAfter(after));
    if (this.fixedTime) return local === null ? null : zone.firstInstant(local);

    let first: number | null = null;
    while (local !== null) {
      const r = zone.resolveLocal(local);
      if (r.kind !== "gap") {
        first = r.kind === "single" ? r.instant : r.first;
        break;
      }
      local = this.matcher.matchFrom(r.transition.at + r.transition.after); // skip the gap's times
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
    const from = Math.max(t.at + t.after, Math.floor((after + t.after) / 1000) * 1000 + 1000);
    const local = this.matcher.matchFrom(from);
    return local !== null && local < t.at + t.before ? local - t.after : null;
  }
}

/** Compiles (and so validates) an NCRONTAB string. */
export function compileCron(expression: string, timeZone: string): CronSchedule {
  return new CronSchedule(expression, timeZone);
}
