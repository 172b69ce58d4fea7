import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ScheduleError, compileSchedule, nextOccurrences, occurrencesBetween } from "../src/index.ts";
import { expectScheduleError, iso } from "./support/helpers.ts";

describe("ScheduleError", () => {
  it("carries the field, the bare reason, and a self-explanatory message", () => {
    const error = new ScheduleError("time_zone", "unknown time zone 'Mars/Olympus'");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("ScheduleError");
    expect(error.field).toBe("time_zone");
    expect(error.reason).toBe("unknown time zone 'Mars/Olympus'");
    expect(error.message).toBe("time_zone: unknown time zone 'Mars/Olympus'");
  });
});

describe("compileSchedule", () => {
  it("returns an immutable cron schedule", () => {
    const schedule = compileSchedule("0 */15 * * * *", "Romance Standard Time");
    expect(schedule).toMatchObject({
      kind: "cron",
      timeZone: "Europe/Paris",
      source: "0 */15 * * * *",
      description: "Every 15 minutes",
      expression: "0 0,15,30,45 * * * *",
      fixedTime: false,
    });
    expect(Object.isFrozen(schedule)).toBe(true);
  });

  it("returns a recurrence schedule", () => {
    const source = { frequency: "Day", startTime: "2026-01-01T09:00:00" };
    const schedule = compileSchedule(source, "UTC");
    expect(schedule).toMatchObject({ kind: "recurrence", timeZone: "UTC", source, fixedTime: true });
    expect(schedule.expression).toBe(schedule.description);
  });

  it("next() rejects an invalid Date", () => {
    const schedule = compileSchedule("0 0 0 * * *", "UTC");
    expectScheduleError(() => schedule.next(new Date(Number.NaN)), "after", "expected a valid Date");
    expectScheduleError(
      () => schedule.next("2026-01-01" as unknown as Date),
      "after",
      "expected a valid Date",
    );
  });
});

describe("nextOccurrences", () => {
  it("compiles an input, or uses a compiled schedule", () => {
    const from = new Date("2026-01-01T00:00:00Z");
    const expected = ["2026-01-01T12:00:00Z", "2026-01-02T12:00:00Z"];
    expect(nextOccurrences("0 0 12 * * *", "UTC", from, 2).map(iso)).toEqual(expected);
    expect(nextOccurrences(compileSchedule("0 0 12 * * *", "UTC"), "Etc/UTC", from, 2).map(iso)).toEqual(
      expected,
    );
  });

  it("recompiles a compiled schedule given another zone", () => {
    const schedule = compileSchedule("0 0 12 * * *", "UTC");
    expect(nextOccurrences(schedule, "Asia/Tokyo", new Date("2026-01-01T00:00:00Z"), 1).map(iso)).toEqual([
      "2026-01-01T03:00:00Z",
    ]);
  });

  it("returns fewer when the series ends, none for n = 0", () => {
    const once = { startTime: "2026-05-01T09:30:00Z" };
    expect(nextOccurrences(once, "UTC", new Date("2026-01-01T00:00:00Z"), 10)).toHaveLength(1);
    expect(nextOccurrences("* * * * * *", "UTC", new Date(), 0)).toEqual([]);
  });

  it("validates n and after", () => {
    expectScheduleError(
      () => nextOccurrences("* * * * * *", "UTC", new Date(), -1),
      "n",
      "expected an integer",
    );
    expectScheduleError(() => nextOccurrences("* * * * * *", "UTC", new Date(), 1.5), "n", "got 1.5");
    expectScheduleError(
      () => nextOccurrences("* * * * * *", "UTC", new Date(), 1e9),
      "n",
      "between 0 and 100000",
    );
    expectScheduleError(
      () => nextOccurrences("* * * * * *", "UTC", new Date(Number.NaN), 1),
      "after",
      "valid Date",
    );
  });
});

describe("occurrencesBetween", () => {
  const schedule = compileSchedule("0 */10 * * * *", "UTC");
  const at = (time: string): Date => new Date(`2026-01-01T${time}Z`);

  it("lists (after, until], oldest first", () => {
    expect(occurrencesBetween(schedule, at("00:00:00"), at("00:30:00"), 100).map(iso)).toEqual([
      "2026-01-01T00:10:00Z",
      "2026-01-01T00:20:00Z",
      "2026-01-01T00:30:00Z",
    ]);
  });

  it("stops at limit", () => {
    expect(occurrencesBetween(schedule, at("00:00:00"), at("23:00:00"), 2).map(iso)).toEqual([
      "2026-01-01T00:10:00Z",
      "2026-01-01T00:20:00Z",
    ]);
  });

  it("is empty for an empty or reversed interval", () => {
    expect(occurrencesBetween(schedule, at("00:10:00"), at("00:10:00"), 10)).toEqual([]);
    expect(occurrencesBetween(schedule, at("01:00:00"), at("00:00:00"), 10)).toEqual([]);
  });

  it("validates its arguments", () => {
    expectScheduleError(
      () => occurrencesBetween(schedule, at("00:00:00"), new Date(Number.NaN), 1),
      "until",
      "valid Date",
    );
    expectScheduleError(
      () => occurrencesBetween(schedule, at("00:00:00"), at("01:00:00"), -1),
      "limit",
      "expected an integer",
    );
    expectScheduleError(
      () => occurrencesBetween("* * * * * *" as never, at("00:00:00"), at("01:00:00"), 1),
      "schedule",
      "expected a compiled Schedule",
    );
  });
});

describe("bad input only ever throws ScheduleError", () => {
  const onlyScheduleErrors = (run: () => unknown): void => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(ScheduleError);
    }
  };
  const cronChars = fc.constantFrom(..."0123456789 */-,?#LWHJanFebMonSun@+\t".split(""));
  const zone = fc.constantFrom("UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Nope", "");

  it("for random cron-like strings", () => {
    fc.assert(
      fc.property(
        fc.array(cronChars, { maxLength: 40 }).map((c) => c.join("")),
        zone,
        (text, tz) => {
          onlyScheduleErrors(() => compileSchedule(text, tz).next(new Date("2026-01-01T00:00:00Z")));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("for random JSON values in every recurrence key", () => {
    const anyValue = fc.oneof(
      fc.anything(),
      fc.constantFrom(
        "Day",
        "week",
        "Month",
        "2026-03-08T02:30:00",
        "2026-01-01T00:00:00Z",
        "9999-12-31T23:59:59",
        "0001-01-01T00:00:00",
      ),
      fc.integer({ min: -40, max: 40 }),
      fc.double(),
    );
    const recurrence = fc.record(
      {
        frequency: fc.oneof(fc.constantFrom("Minute", "Hour", "Day", "Week", "Month"), anyValue),
        interval: anyValue,
        startTime: anyValue,
        endTime: anyValue,
        count: anyValue,
        schedule: fc.oneof(
          anyValue,
          fc.record(
            {
              hours: anyValue,
              minutes: anyValue,
              weekDays: anyValue,
              monthDays: fc.oneof(anyValue, fc.array(fc.integer({ min: -40, max: 40 }))),
              monthlyOccurrences: fc.oneof(
                anyValue,
                fc.array(fc.record({ day: anyValue, occurrence: anyValue })),
              ),
            },
            { requiredKeys: [] },
          ),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(recurrence, fc.anything()),
        zone,
        fc.integer({ min: -8.64e15, max: 8.64e15 }),
        (input, tz, t) => {
          onlyScheduleErrors(() =>
            compileSchedule(input, tz, { defaultStartTime: new Date(t) }).next(new Date(t)),
          );
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("at the edges of the supported range", () => {
    const inputs = [
      "* * * * * *",
      "0 0 0 29 2 Mon",
      { frequency: "Month", startTime: "9999-12-31T23:59:59", schedule: { monthDays: [-1] } },
      { frequency: "Day", startTime: "0001-01-01T00:00:00" },
      {
        frequency: "Minute",
        interval: 1000,
        count: Number.MAX_SAFE_INTEGER,
        startTime: "9999-12-31T23:00:00Z",
      },
      { startTime: "0001-01-01T00:00:00-23:59" },
    ];
    for (const input of inputs) {
      for (const zone of ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Paris"]) {
        for (const t of [-8.64e15, -1e14, 0, 2.5e14, 2.53e14, 8.64e15]) {
          onlyScheduleErrors(() => {
            const next = compileSchedule(input, zone).next(new Date(t));
            if (next) expect(next.getTime()).toBeGreaterThan(t);
          });
        }
      }
    }
  });
});

describe("performance", () => {
  it("computes next() for 10 000 schedules quickly", () => {
    const zones = ["UTC", "America/New_York", "Europe/Paris", "Australia/Lord_Howe", "Asia/Tokyo"];
    const expressions = [
      "0 */15 * * * *",
      "0 30 2 * * *",
      "*/5 * * * * *",
      "0 0 12 * * Mon-Fri",
      "0 0 0 13 * Fri",
      "0 5 * * * *",
    ];
    const schedules = Array.from({ length: 10_000 }, (_, i) =>
      compileSchedule(expressions[i % expressions.length], zones[i % zones.length]),
    );
    const now = new Date("2026-03-08T06:59:00Z");
    for (const s of schedules) s.next(now); // warm the per-zone offset caches
    const started = performance.now();
    for (const s of schedules) s.next(now);
    const perCall = (performance.now() - started) / schedules.length;
    expect(perCall).toBeLessThan(0.05); // 50 µs: generous, typically about 1 µs
  });
});
