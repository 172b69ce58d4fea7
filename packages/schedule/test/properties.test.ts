import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Schedule, compileSchedule, nextOccurrences, occurrencesBetween } from "../src/index.ts";
import { cronArbitrary } from "./support/cron-gen.ts";
import { type RecurrenceObject, bruteRecurrence } from "./support/recurrence-brute.ts";
import { bruteForce } from "./support/stepper.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Instants of the 2026 transitions, so that random windows often cross a gap or an overlap. */
const TRANSITIONS: Record<string, number[]> = {
  UTC: [Date.parse("2026-03-08T07:00:00Z")],
  "America/New_York": [Date.parse("2026-03-08T07:00:00Z"), Date.parse("2026-11-01T06:00:00Z")],
  "Europe/Paris": [Date.parse("2026-03-29T01:00:00Z"), Date.parse("2026-10-25T01:00:00Z")],
  "Australia/Lord_Howe": [Date.parse("2026-04-04T15:00:00Z"), Date.parse("2026-10-03T15:30:00Z")],
};
const ZONES = Object.keys(TRANSITIONS);

/** Iterated next() in (after, until], at most `max` items. */
function iterate(schedule: Schedule, after: number, until: number, max: number): number[] {
  const out: number[] = [];
  let cursor = schedule.next(new Date(after));
  while (cursor && cursor.getTime() <= until && out.length < max) {
    out.push(cursor.getTime());
    cursor = schedule.next(cursor);
  }
  return out;
}

const isoList = (instants: number[]): string[] => instants.map((t) => new Date(t).toISOString());

const windowAroundTransition = fc.record({
  zone: fc.constantFrom(...ZONES),
  which: fc.nat(),
  shiftSeconds: fc.integer({ min: -26 * 3600, max: 3 * 3600 }),
  millis: fc.constantFrom(0, 0, 0, 1, 500, 999),
});

describe("cron next() agrees with a brute-force stepper", () => {
  it("across DST gaps and overlaps (minute-by-minute walk, 30 h windows)", () => {
    fc.assert(
      fc.property(cronArbitrary("loose"), windowAroundTransition, (cron, w) => {
        const transitions = TRANSITIONS[w.zone];
        const after = transitions[w.which % transitions.length] + w.shiftSeconds * 1000 + w.millis;
        const until = after + 30 * HOUR;
        const schedule = compileSchedule(cron.expression, w.zone);
        expect(schedule.fixedTime).toBe(cron.fixedTime);
        const expected = bruteForce(cron.sets, w.zone, cron.fixedTime, after, until).slice(0, 200);
        expect(isoList(iterate(schedule, after, until, 200))).toEqual(isoList(expected));
      }),
      { numRuns: 120 },
    );
  });

  it("for day, month and day-of-week fields (day-by-day walk over 4 years, UTC)", () => {
    const time = fc.record({
      hour: fc.integer({ min: 0, max: 23 }),
      minute: fc.integer({ min: 0, max: 59 }),
      second: fc.integer({ min: 0, max: 59 }),
    });
    const start = fc.integer({
      min: Date.parse("1990-01-01T00:00:00Z"),
      max: Date.parse("2090-01-01T00:00:00Z"),
    });
    fc.assert(
      fc.property(cronArbitrary("any"), time, start, (cron, t, after) => {
        const [, , , ...calendar] = cron.expression.trim().split(/ +/);
        const expression = [t.second, t.minute, t.hour, ...calendar].join(" ");
        const until = after + 4 * 366 * DAY;
        const expected: number[] = [];
        for (let day = Math.floor(after / DAY) * DAY; day <= until && expected.length < 50; day += DAY) {
          const d = new Date(day);
          const matches =
            cron.sets.days.has(d.getUTCDate()) &&
            cron.sets.months.has(d.getUTCMonth() + 1) &&
            cron.sets.weekdays.has(d.getUTCDay());
          const at = day + (t.hour * 3600 + t.minute * 60 + t.second) * 1000;
          if (matches && at > after && at <= until) expected.push(at);
        }
        expect(iterate(compileSchedule(expression, "UTC"), after, until, 50)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });
});

const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MAX_INTERVAL = { Minute: 1000, Hour: 1000, Day: 548, Week: 78, Month: 18 };

const recurrenceArbitrary: fc.Arbitrary<RecurrenceObject> = fc
  .record({
    frequency: fc.constantFrom("Minute", "Hour", "Day", "Week", "Month") as fc.Arbitrary<
      RecurrenceObject["frequency"]
    >,
    interval: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 18 })),
    start: fc.integer({
      min: Date.parse("2000-01-01T00:00:00Z") / 1000,
      max: Date.parse("2040-01-01T00:00:00Z") / 1000,
    }),
    count: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
    endDays: fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined }),
    hours: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { minLength: 1, maxLength: 3 }), {
      nil: undefined,
    }),
    minutes: fc.option(fc.array(fc.integer({ min: 0, max: 59 }), { minLength: 1, maxLength: 3 }), {
      nil: undefined,
    }),
    weekDays: fc.option(fc.array(fc.constantFrom(...DAY_NAMES), { minLength: 1, maxLength: 4 }), {
      nil: undefined,
    }),
    monthDays: fc.option(
      fc.array(fc.oneof(fc.integer({ min: 1, max: 31 }), fc.integer({ min: -31, max: -1 })), {
        minLength: 1,
        maxLength: 3,
      }),
      { nil: undefined },
    ),
    occurrences: fc.option(
      fc.array(
        fc.record({
          day: fc.constantFrom(...DAY_NAMES),
          occurrence: fc.option(fc.constantFrom(1, 2, 3, 4, 5, -1, -2, -5), { nil: undefined }),
        }),
        { minLength: 1, maxLength: 2 },
      ),
      { nil: undefined },
    ),
  })
  .map((g) => {
    const seconds = (ms: number): string => new Date(ms).toISOString().replace(".000Z", "Z");
    const r: RecurrenceObject = {
      frequency: g.frequency,
      interval: Math.min(g.interval, MAX_INTERVAL[g.frequency]),
      startTime: seconds(g.start * 1000),
    };
    if (g.count !== undefined) r.count = g.count;
    if (g.endDays !== undefined) r.endTime = seconds(g.start * 1000 + g.endDays * DAY);
    if (g.frequency === "Day" || g.frequency === "Week" || g.frequency === "Month") {
      const inner: NonNullable<RecurrenceObject["schedule"]> = {};
      if (g.hours) inner.hours = g.hours;
      if (g.minutes) inner.minutes = g.minutes;
      if (g.frequency === "Week" && g.weekDays) inner.weekDays = g.weekDays;
      if (g.frequency === "Month" && g.monthDays) inner.monthDays = g.monthDays;
      if (g.frequency === "Month" && g.occurrences) {
        inner.monthlyOccurrences = g.occurrences.map((o) =>
          o.occurrence === undefined ? { day: o.day } : o,
        );
      }
      r.schedule = inner;
    }
    return r;
  });

describe("recurrence next() agrees with a day-by-day reading of the reference (UTC)", () => {
  it("lists the same occurrences from before startTime", () => {
    fc.assert(
      fc.property(recurrenceArbitrary, (r) => {
        const start = Date.parse(r.startTime);
        const until = start + 3 * 366 * DAY;
        const expected = bruteRecurrence(r, until).slice(0, 60);
        expect(isoList(iterate(compileSchedule(r, "UTC"), start - 1, until, 60))).toEqual(isoList(expected));
      }),
      { numRuns: 200 },
    );
  });
});

/** Compiles, or null when a random local startTime fell in a DST gap (rightly rejected). */
function tryCompile(input: unknown, zone: string): Schedule | null {
  try {
    return compileSchedule(input, zone);
  } catch {
    return null;
  }
}

const withLocalStart = (r: RecurrenceObject): RecurrenceObject => ({
  ...r,
  startTime: r.startTime.replace("Z", ""),
});

const anySchedule: fc.Arbitrary<Schedule> = fc.oneof(
  fc
    .tuple(cronArbitrary("any"), fc.constantFrom(...ZONES, "Asia/Kolkata"))
    .map(([cron, zone]) => compileSchedule(cron.expression, zone)),
  fc
    .tuple(recurrenceArbitrary, fc.constantFrom("UTC", "America/New_York", "Australia/Lord_Howe"))
    .map(([r, zone]) => tryCompile(withLocalStart(r), zone))
    .filter((schedule): schedule is Schedule => schedule !== null),
);

const instantArbitrary = fc.integer({
  min: Date.parse("1999-01-01T00:00:00Z"),
  max: Date.parse("2045-01-01T00:00:00Z"),
});

describe("general properties", () => {
  it("next(x) is after x, and next is monotone", () => {
    fc.assert(
      fc.property(
        anySchedule,
        instantArbitrary,
        fc.integer({ min: 0, max: 3 * DAY }),
        (schedule, x, delta) => {
          const a = schedule.next(new Date(x));
          const b = schedule.next(new Date(x + delta));
          if (a) expect(a.getTime()).toBeGreaterThan(x);
          if (b) expect(a).not.toBeNull();
          if (a && b) expect(a.getTime()).toBeLessThanOrEqual(b.getTime());
        },
      ),
      { numRuns: 300 },
    );
  });

  it("occurrencesBetween(after, until, limit) is iterated next() in (after, until]", () => {
    fc.assert(
      fc.property(
        anySchedule,
        instantArbitrary,
        fc.integer({ min: 0, max: 2 * DAY }),
        fc.integer({ min: 0, max: 40 }),
        (schedule, after, span, limit) => {
          const got = occurrencesBetween(schedule, new Date(after), new Date(after + span), limit).map((d) =>
            d.getTime(),
          );
          expect(got).toEqual(iterate(schedule, after, after + span, limit));
          expect(got.every((t) => t > after && t <= after + span)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a recurrence with count never yields more than count occurrences from startTime", () => {
    fc.assert(
      fc.property(
        recurrenceArbitrary,
        fc.constantFrom("UTC", "Europe/Paris", "Australia/Lord_Howe"),
        (r, zone) => {
          fc.pre(r.count !== undefined);
          const schedule = tryCompile(withLocalStart(r), zone);
          if (schedule === null) return; // a random local startTime may fall in a DST gap
          const from = new Date(Date.parse(r.startTime) - 2 * DAY);
          const all = nextOccurrences(schedule, zone, from, r.count! + 5);
          expect(all.length).toBeLessThanOrEqual(r.count!);
          const unlimited = compileSchedule({ ...withLocalStart(r), count: undefined }, zone);
          expect(all).toEqual(nextOccurrences(unlimited, zone, from, all.length));
        },
      ),
      { numRuns: 150 },
    );
  });
});
