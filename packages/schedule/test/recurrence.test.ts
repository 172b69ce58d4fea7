import { describe, expect, it } from "vitest";
import { compileSchedule, nextOccurrences } from "../src/index.ts";
import { iso, upcoming } from "./support/helpers.ts";

type Row = [name: string, schedule: Record<string, unknown>, zone: string, from: string, expected: string[]];

describe("recurrence rules (reference §3)", () => {
  it.each<Row>([
    // Defaults: hours, minutes and the second come from startTime.
    [
      "Day defaults to the start's time, second included",
      { frequency: "Day", startTime: "2026-01-01T08:10:20Z" },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-01T08:10:20Z", "2026-01-02T08:10:20Z"],
    ],
    [
      "hours default to the start's hour",
      { frequency: "Day", startTime: "2026-01-01T08:10:00Z", schedule: { minutes: [0, 30] } },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-01T08:30:00Z", "2026-01-02T08:00:00Z", "2026-01-02T08:30:00Z"],
    ],
    [
      "minutes default to the start's minute",
      { frequency: "Day", startTime: "2026-01-01T08:10:00Z", schedule: { hours: [6, 12] } },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-01T12:10:00Z", "2026-01-02T06:10:00Z"],
    ],
    [
      "hours and minutes as single integers",
      { frequency: "Day", startTime: "2026-01-01T00:00:00Z", schedule: { hours: 7, minutes: 45 } },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-01T07:45:00Z", "2026-01-02T07:45:00Z"],
    ],
    [
      "every hour × minute pair",
      { frequency: "Day", startTime: "2026-01-01T00:00:00Z", schedule: { hours: [9, 6], minutes: [30, 0] } },
      "UTC",
      "2026-01-01T00:00:00Z",
      [
        "2026-01-01T06:00:00Z",
        "2026-01-01T06:30:00Z",
        "2026-01-01T09:00:00Z",
        "2026-01-01T09:30:00Z",
        "2026-01-02T06:00:00Z",
      ],
    ],
    [
      "weekDays default to the start's weekday",
      { frequency: "Week", startTime: "2026-01-07T09:00:00Z" },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-07T09:00:00Z", "2026-01-14T09:00:00Z"],
    ],
    [
      "monthDays default to the start's day",
      { frequency: "Month", startTime: "2026-01-15T09:00:00Z" },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-15T09:00:00Z", "2026-02-15T09:00:00Z"],
    ],
    // Intervals.
    [
      "Day interval counts local days from the start",
      { frequency: "Day", interval: 3, startTime: "2026-01-30T10:00:00Z" },
      "UTC",
      "2026-01-30T10:00:00Z",
      ["2026-02-02T10:00:00Z", "2026-02-05T10:00:00Z"],
    ],
    [
      "Month interval",
      { frequency: "Month", interval: 3, startTime: "2026-01-15T00:00:00Z" },
      "UTC",
      "2026-01-01T00:00:00Z",
      [
        "2026-01-15T00:00:00Z",
        "2026-04-15T00:00:00Z",
        "2026-07-15T00:00:00Z",
        "2026-10-15T00:00:00Z",
        "2027-01-15T00:00:00Z",
      ],
    ],
    [
      "Month interval 18 (the maximum)",
      { frequency: "Month", interval: 18, startTime: "2026-01-15T00:00:00Z" },
      "UTC",
      "2026-01-15T00:00:00Z",
      ["2027-07-15T00:00:00Z", "2029-01-15T00:00:00Z"],
    ],
    [
      "Minute interval is elapsed time from the start",
      { frequency: "Minute", interval: 7, startTime: "2026-01-01T00:00:00Z" },
      "UTC",
      "2026-01-01T00:10:00Z",
      ["2026-01-01T00:14:00Z", "2026-01-01T00:21:00Z"],
    ],
    // Weeks run Monday to Sunday: with a Sunday start the active week began the Monday before.
    [
      "weeks start on Monday (start on a Sunday)",
      {
        frequency: "Week",
        interval: 2,
        startTime: "2026-01-11T09:00:00Z",
        schedule: { weekDays: ["Monday", "Sunday"] },
      },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-11T09:00:00Z", "2026-01-19T09:00:00Z", "2026-01-25T09:00:00Z", "2026-02-02T09:00:00Z"],
    ],
    [
      "weeks start on Monday (start on a Monday)",
      {
        frequency: "Week",
        interval: 2,
        startTime: "2026-01-12T09:00:00Z",
        schedule: { weekDays: ["Sunday"] },
      },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-18T09:00:00Z", "2026-02-01T09:00:00Z"],
    ],
    [
      "week days, any case",
      {
        frequency: "Week",
        startTime: "2026-01-05T00:00:00Z",
        schedule: { weekDays: ["TUESDAY", "thursday"], hours: [8], minutes: [0] },
      },
      "UTC",
      "2026-01-05T00:00:00Z",
      ["2026-01-06T08:00:00Z", "2026-01-08T08:00:00Z", "2026-01-13T08:00:00Z"],
    ],
    // No clamping: a day the month lacks gives nothing that month.
    [
      "day 31 skips short months",
      { frequency: "Month", startTime: "2026-01-31T06:00:00Z" },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-31T06:00:00Z", "2026-03-31T06:00:00Z", "2026-05-31T06:00:00Z"],
    ],
    [
      "day 30 skips February",
      { frequency: "Month", startTime: "2026-01-30T06:00:00Z" },
      "UTC",
      "2026-01-30T06:00:00Z",
      ["2026-03-30T06:00:00Z"],
    ],
    [
      "-31 only in 31-day months",
      {
        frequency: "Month",
        startTime: "2026-01-01T00:00:00Z",
        schedule: { monthDays: [-31], hours: [0], minutes: [0] },
      },
      "UTC",
      "2025-12-31T00:00:00Z",
      [
        "2026-01-01T00:00:00Z",
        "2026-03-01T00:00:00Z",
        "2026-05-01T00:00:00Z",
        "2026-07-01T00:00:00Z",
        "2026-08-01T00:00:00Z",
      ],
    ],
    [
      "-1 is the last day, February included",
      {
        frequency: "Month",
        startTime: "2028-01-01T00:00:00Z",
        schedule: { monthDays: [-1], hours: [0], minutes: [0] },
      },
      "UTC",
      "2028-02-01T00:00:00Z",
      ["2028-02-29T00:00:00Z", "2028-03-31T00:00:00Z"],
    ],
    [
      "-2 is the second to last day",
      {
        frequency: "Month",
        startTime: "2026-01-01T00:00:00Z",
        schedule: { monthDays: [-2], hours: [0], minutes: [0] },
      },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z"],
    ],
    [
      "a fifth Friday only in months that have one",
      {
        frequency: "Month",
        startTime: "2026-01-01T12:00:00Z",
        schedule: { monthlyOccurrences: [{ day: "Friday", occurrence: 5 }] },
      },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-30T12:00:00Z", "2026-05-29T12:00:00Z", "2026-07-31T12:00:00Z"],
    ],
    [
      "-5: the fifth Friday from the end",
      {
        frequency: "Month",
        startTime: "2026-01-01T12:00:00Z",
        schedule: { monthlyOccurrences: [{ day: "Friday", occurrence: -5 }] },
      },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-02T12:00:00Z", "2026-05-01T12:00:00Z"],
    ],
    [
      "a weekday without occurrence: every such day of the month",
      {
        frequency: "Month",
        startTime: "2026-01-01T06:00:00Z",
        schedule: { monthlyOccurrences: [{ day: "Friday" }] },
      },
      "UTC",
      "2026-01-01T00:00:00Z",
      [
        "2026-01-02T06:00:00Z",
        "2026-01-09T06:00:00Z",
        "2026-01-16T06:00:00Z",
        "2026-01-23T06:00:00Z",
        "2026-01-30T06:00:00Z",
        "2026-02-06T06:00:00Z",
      ],
    ],
    // Entries naming the same day fire once.
    [
      "30 and -1 in April fire once",
      {
        frequency: "Month",
        startTime: "2026-04-01T00:00:00Z",
        schedule: { monthDays: [30, -1], hours: [6], minutes: [0] },
      },
      "UTC",
      "2026-04-01T00:00:00Z",
      ["2026-04-30T06:00:00Z", "2026-05-30T06:00:00Z", "2026-05-31T06:00:00Z", "2026-06-30T06:00:00Z"],
    ],
    [
      "monthDays and monthlyOccurrences on the same day fire once",
      {
        frequency: "Month",
        startTime: "2026-01-01T00:00:00Z",
        schedule: {
          monthDays: [2],
          monthlyOccurrences: [{ day: "Friday", occurrence: 1 }],
          hours: [6],
          minutes: [0],
        },
      },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-02T06:00:00Z", "2026-02-02T06:00:00Z", "2026-02-06T06:00:00Z"],
    ],
    [
      "duplicate list entries fire once",
      {
        frequency: "Week",
        startTime: "2026-01-05T00:00:00Z",
        schedule: { weekDays: ["Monday", "monday"], hours: [1, 1], minutes: [0, 0] },
      },
      "UTC",
      "2026-01-05T00:00:00Z",
      ["2026-01-05T01:00:00Z", "2026-01-12T01:00:00Z"],
    ],
    // Times before startTime are dropped; the series then runs from startTime.
    [
      "earlier times of the first day are dropped",
      { frequency: "Day", startTime: "2026-01-01T12:00:00Z", schedule: { hours: [6, 18], minutes: [0] } },
      "UTC",
      "2025-12-01T00:00:00Z",
      ["2026-01-01T18:00:00Z", "2026-01-02T06:00:00Z"],
    ],
    [
      "earlier days of the first week are dropped",
      { frequency: "Week", startTime: "2026-01-07T09:00:00Z", schedule: { weekDays: ["Monday", "Friday"] } },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-09T09:00:00Z", "2026-01-12T09:00:00Z"],
    ],
    [
      "earlier days of the first month are dropped",
      {
        frequency: "Month",
        startTime: "2026-01-15T00:00:00Z",
        schedule: { monthDays: [1, 20], hours: [0], minutes: [0] },
      },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-20T00:00:00Z", "2026-02-01T00:00:00Z"],
    ],
    [
      "an occurrence exactly at startTime runs",
      { frequency: "Hour", startTime: "2026-01-01T10:00:00Z" },
      "UTC",
      "2026-01-01T09:59:59Z",
      ["2026-01-01T10:00:00Z"],
    ],
    // count includes missed occurrences; endTime is inclusive; the earlier of the two wins.
    [
      "count counts from startTime, missed ones included",
      { frequency: "Day", startTime: "2026-01-01T09:00:00Z", count: 5 },
      "UTC",
      "2026-01-03T12:00:00Z",
      ["2026-01-04T09:00:00Z", "2026-01-05T09:00:00Z"],
    ],
    [
      "count over a Month series with skipped months",
      {
        frequency: "Month",
        startTime: "2026-01-01T12:00:00Z",
        count: 3,
        schedule: { monthlyOccurrences: [{ day: "Friday", occurrence: 5 }] },
      },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-30T12:00:00Z", "2026-05-29T12:00:00Z", "2026-07-31T12:00:00Z"],
    ],
    [
      "count over a Week series with several days",
      {
        frequency: "Week",
        startTime: "2026-01-07T09:00:00Z",
        count: 3,
        schedule: { weekDays: ["Monday", "Friday"] },
      },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-09T09:00:00Z", "2026-01-12T09:00:00Z", "2026-01-16T09:00:00Z"],
    ],
    [
      "count with Minute frequency",
      { frequency: "Minute", interval: 10, startTime: "2026-01-01T00:00:00Z", count: 2 },
      "UTC",
      "2025-01-01T00:00:00Z",
      ["2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z"],
    ],
    [
      "endTime exactly on an occurrence runs it",
      { frequency: "Day", startTime: "2026-01-01T09:00:00Z", endTime: "2026-01-03T09:00:00Z" },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-01T09:00:00Z", "2026-01-02T09:00:00Z", "2026-01-03T09:00:00Z"],
    ],
    [
      "endTime before count is reached",
      { frequency: "Day", startTime: "2026-01-01T09:00:00Z", endTime: "2026-01-02T10:00:00Z", count: 10 },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-01T09:00:00Z", "2026-01-02T09:00:00Z"],
    ],
    [
      "count before endTime is reached",
      { frequency: "Day", startTime: "2026-01-01T09:00:00Z", endTime: "2027-01-01T00:00:00Z", count: 2 },
      "UTC",
      "2026-01-01T00:00:00Z",
      ["2026-01-01T09:00:00Z", "2026-01-02T09:00:00Z"],
    ],
    [
      "a series that is over",
      { frequency: "Day", startTime: "2026-01-01T09:00:00Z", count: 2 },
      "UTC",
      "2026-01-02T09:00:00Z",
      [],
    ],
    // One-time schedules.
    [
      "one-time, local startTime",
      { startTime: "2026-05-01T09:30:00" },
      "Europe/Paris",
      "2026-01-01T00:00:00Z",
      ["2026-05-01T07:30:00Z"],
    ],
    [
      "one-time, with an offset",
      { startTime: "2026-05-01T09:30:00+05:30" },
      "Europe/Paris",
      "2026-01-01T00:00:00Z",
      ["2026-05-01T04:00:00Z"],
    ],
    ["one-time, already past", { startTime: "2026-05-01T09:30:00Z" }, "UTC", "2026-05-01T09:30:00Z", []],
    // Date-time forms.
    [
      "startTime without seconds",
      { frequency: "Day", startTime: "2026-01-01T09:30" },
      "Asia/Tokyo",
      "2026-01-01T00:00:00Z",
      ["2026-01-01T00:30:00Z", "2026-01-02T00:30:00Z"],
    ],
    [
      "startTime with a negative offset, read in another zone",
      { frequency: "Day", startTime: "2026-01-01T20:00:00-05:00" },
      "Asia/Tokyo",
      "2026-01-01T00:00:00Z",
      ["2026-01-02T01:00:00Z", "2026-01-03T01:00:00Z"],
    ],
  ])("%s", (_name, schedule, zone, from, expected) => {
    expect(upcoming(schedule, zone, from, Math.max(expected.length, 1))).toEqual(expected);
  });
});

describe("recurrence startTime defaults to the first-load instant", () => {
  it("runs at once, at the first-load instant truncated to the second, then keeps that phase", () => {
    const defaultStartTime = new Date("2026-01-01T10:20:30.456Z");
    const schedule = compileSchedule({ frequency: "Hour", interval: 2 }, "UTC", { defaultStartTime });
    expect(nextOccurrences(schedule, "UTC", new Date("2026-01-01T10:20:29Z"), 3).map(iso)).toEqual([
      "2026-01-01T10:20:30Z",
      "2026-01-01T12:20:30Z",
      "2026-01-01T14:20:30Z",
    ]);
  });

  it("applies to calendar frequencies too (the start's local time of day)", () => {
    const defaultStartTime = new Date("2026-01-01T10:20:30Z");
    expect(
      upcoming({ frequency: "Day" }, "Europe/Paris", "2026-01-01T00:00:00Z", 2, { defaultStartTime }),
    ).toEqual(["2026-01-01T10:20:30Z", "2026-01-02T10:20:30Z"]);
  });

  it("a past endTime just ends the series (no error without an explicit startTime)", () => {
    const defaultStartTime = new Date("2026-06-01T00:00:00Z");
    const schedule = compileSchedule({ frequency: "Day", endTime: "2026-01-01T00:00:00Z" }, "UTC", {
      defaultStartTime,
    });
    expect(schedule.next(new Date("2026-05-01T00:00:00Z"))).toBeNull();
  });

  it("uses now when no default is given", () => {
    const before = Date.now();
    const first = compileSchedule({ frequency: "Minute" }, "UTC").next(new Date(before - 60_000));
    expect(first!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(first!.getTime()).toBeLessThanOrEqual(Date.now());
  });
});

describe("huge counts and long series stay fast", () => {
  it.each([
    [
      {
        frequency: "Day",
        count: 1e9,
        startTime: "2026-01-01T00:00:00",
        schedule: { hours: [1, 2, 3], minutes: [0, 30] },
      },
    ],
    [
      {
        frequency: "Week",
        interval: 3,
        count: 1e9,
        startTime: "2026-01-01T00:00:00",
        schedule: { weekDays: ["Monday", "Sunday"] },
      },
    ],
    [
      {
        frequency: "Month",
        count: 1e9,
        startTime: "2026-01-31T00:00:00",
        schedule: { monthlyOccurrences: [{ day: "Friday", occurrence: 5 }] },
      },
    ],
    [{ frequency: "Minute", count: Number.MAX_SAFE_INTEGER, startTime: "2026-01-01T00:00:00" }],
  ])("%j", (input) => {
    const started = performance.now();
    const schedule = compileSchedule(input, "Europe/Paris");
    for (const year of ["2030", "2500", "9000", "9999"]) {
      expect(schedule.next(new Date(`${year}-06-01T00:00:00Z`))).not.toBeNull();
    }
    expect(performance.now() - started).toBeLessThan(200);
  });

  it("a count reached deep in the series ends it exactly", () => {
    // Day × 2 times a day: occurrence number 2 000 000 is on day 1 000 000 (2026-01-01 + 999 999 days).
    const schedule = compileSchedule(
      {
        frequency: "Day",
        count: 2_000_000,
        startTime: "2026-01-01T00:00:00Z",
        schedule: { hours: [6, 18], minutes: [0] },
      },
      "UTC",
    );
    const lastDay = new Date(Date.UTC(2026, 0, 1) + 999_999 * 86_400_000).toISOString().slice(0, 10);
    expect(nextOccurrences(schedule, "UTC", new Date(`${lastDay}T00:00:00Z`), 5).map(iso)).toEqual([
      `${lastDay}T06:00:00Z`,
      `${lastDay}T18:00:00Z`,
    ]);
  });

  it("a Month rule that never matches ends the series quickly", () => {
    // Day 31 every 12 months from February: never.
    const schedule = compileSchedule(
      { frequency: "Month", interval: 12, startTime: "2026-02-01T00:00:00Z", schedule: { monthDays: [31] } },
      "UTC",
    );
    const started = performance.now();
    expect(schedule.next(new Date("2026-01-01T00:00:00Z"))).toBeNull();
    expect(schedule.next(new Date("2027-01-01T00:00:00Z"))).toBeNull();
    expect(performance.now() - started).toBeLessThan(200);
  });
});
