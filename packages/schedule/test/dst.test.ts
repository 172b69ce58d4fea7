import { describe, expect, it } from "vitest";
import { compileSchedule } from "../src/index.ts";
import { upcoming } from "./support/helpers.ts";

/*
 * 2026 transitions used below:
 * - America/New_York: gap 02:00–03:00 on 03-08 (07:00Z); overlap 01:00–02:00 on 11-01 (EDT until 06:00Z).
 * - Europe/Paris: gap 02:00–03:00 on 03-29 (01:00Z); overlap 02:00–03:00 on 10-25 (CEST until 01:00Z).
 * - Australia/Lord_Howe (30-minute DST): overlap 01:30–02:00 on 04-05 (+11 until 04-04T15:00Z);
 *   gap 02:00–02:30 on 10-04 (from 10-03T15:30Z).
 */
type Row = [name: string, schedule: unknown, zone: string, from: string, expected: string[]];

describe("fixed-time cron: a gap time runs once at the end of the gap", () => {
  it.each<Row>([
    [
      "NY 02:30 runs at 03:00 EDT",
      "0 30 2 * * *",
      "America/New_York",
      "2026-03-07T12:00:00Z",
      ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"],
    ],
    [
      "NY 02:00 and 02:30 merge",
      "0 0,30 2 * * *",
      "America/New_York",
      "2026-03-08T00:00:00Z",
      ["2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T06:30:00Z"],
    ],
    [
      "NY 02:30 and 03:30 stay two runs",
      "0 30 2,3 * * *",
      "America/New_York",
      "2026-03-08T00:00:00Z",
      ["2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"],
    ],
    [
      "NY gap times merge with 03:00 itself",
      "0 0,30 2,3 * * *",
      "America/New_York",
      "2026-03-08T06:00:00Z",
      ["2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:00:00Z"],
    ],
    [
      "NY with seconds inside the gap",
      "15 59 2 * * *",
      "America/New_York",
      "2026-03-08T00:00:00Z",
      ["2026-03-08T07:00:00Z", "2026-03-09T06:59:15Z"],
    ],
    [
      "Paris 02:15 and 02:45 merge",
      "0 15,45 2 * * *",
      "Europe/Paris",
      "2026-03-28T12:00:00Z",
      ["2026-03-29T01:00:00Z", "2026-03-30T00:15:00Z"],
    ],
    [
      "Lord Howe 02:00 and 02:15 merge at 02:30",
      "0 0,15 2 * * *",
      "Australia/Lord_Howe",
      "2026-10-03T12:00:00Z",
      ["2026-10-03T15:30:00Z", "2026-10-04T15:00:00Z", "2026-10-04T15:15:00Z"],
    ],
    [
      "Lord Howe 02:30 is not in the gap",
      "0 30 2 * * *",
      "Australia/Lord_Howe",
      "2026-10-03T12:00:00Z",
      ["2026-10-03T15:30:00Z", "2026-10-04T15:30:00Z"],
    ],
  ])("%s", (_name, schedule, zone, from, expected) => {
    expect(compileSchedule(schedule, zone).fixedTime).toBe(true);
    expect(upcoming(schedule, zone, from, expected.length)).toEqual(expected);
  });
});

describe("fixed-time cron: an overlap time runs once, at its earlier instant", () => {
  it.each<Row>([
    [
      "NY 01:00 and 01:30 run in EDT only",
      "0 0,30 1 * * *",
      "America/New_York",
      "2026-11-01T04:00:00Z",
      ["2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:00:00Z"],
    ],
    [
      "NY: from inside the repeat, the repeat does not run",
      "0 30 1 * * *",
      "America/New_York",
      "2026-11-01T06:10:00Z",
      ["2026-11-02T06:30:00Z"],
    ],
    [
      "NY: from between the two 01:30s",
      "0 30 1 * * *",
      "America/New_York",
      "2026-11-01T05:30:00Z",
      ["2026-11-02T06:30:00Z"],
    ],
    [
      "Paris 02:30 in CEST only",
      "0 30 2 * * *",
      "Europe/Paris",
      "2026-10-24T12:00:00Z",
      ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"],
    ],
    [
      "Lord Howe 01:40 in +11 only",
      "0 40 1 * * *",
      "Australia/Lord_Howe",
      "2026-04-04T14:41:00Z",
      ["2026-04-05T15:10:00Z"],
    ],
    [
      "Lord Howe 01:20 (before the overlap) unaffected",
      "0 20 1 * * *",
      "Australia/Lord_Howe",
      "2026-04-04T12:00:00Z",
      ["2026-04-04T14:20:00Z", "2026-04-05T14:50:00Z"],
    ],
  ])("%s", (_name, schedule, zone, from, expected) => {
    expect(upcoming(schedule, zone, from, expected.length)).toEqual(expected);
  });
});

describe("interval-style cron: gap times are skipped", () => {
  it.each<Row>([
    [
      "NY every 30 minutes",
      "0 */30 * * * *",
      "America/New_York",
      "2026-03-08T06:00:00Z",
      ["2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z"],
    ],
    [
      "NY 5 past every hour",
      "0 5 * * * *",
      "America/New_York",
      "2026-03-08T06:00:00Z",
      ["2026-03-08T06:05:00Z", "2026-03-08T07:05:00Z"],
    ],
    [
      "NY a range makes 02:30 interval-style",
      "0 30 2-2 * * *",
      "America/New_York",
      "2026-03-07T12:00:00Z",
      ["2026-03-09T06:30:00Z"],
    ],
    [
      "NY every second across the gap",
      "* * * * * *",
      "America/New_York",
      "2026-03-08T06:59:58Z",
      ["2026-03-08T06:59:59Z", "2026-03-08T07:00:00Z", "2026-03-08T07:00:01Z"],
    ],
    [
      "Paris every 30 minutes",
      "0 */30 * * * *",
      "Europe/Paris",
      "2026-03-29T00:00:00Z",
      ["2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z"],
    ],
    [
      "Paris hourly at 02:xx only",
      "0 */20 2 * * *",
      "Europe/Paris",
      "2026-03-28T12:00:00Z",
      ["2026-03-30T00:00:00Z", "2026-03-30T00:20:00Z"],
    ],
    [
      "Lord Howe every 15 minutes",
      "0 */15 * * * *",
      "Australia/Lord_Howe",
      "2026-10-03T15:10:00Z",
      ["2026-10-03T15:15:00Z", "2026-10-03T15:30:00Z", "2026-10-03T15:45:00Z"],
    ],
  ])("%s", (_name, schedule, zone, from, expected) => {
    expect(compileSchedule(schedule, zone).fixedTime).toBe(false);
    expect(upcoming(schedule, zone, from, expected.length)).toEqual(expected);
  });
});

describe("interval-style cron whose every match falls in a gap", () => {
  it("ends the series within the 401-year horizon instead of scanning to year 9999", () => {
    // 02:30 on the second Sunday of March is inside New York's gap every year since 2007.
    const schedule = compileSchedule("0 30 2-2 8-14 3 Sun", "America/New_York");
    const started = performance.now();
    expect(schedule.next(new Date("2026-01-01T00:00:00Z"))).toBeNull();
    expect(performance.now() - started).toBeLessThan(300);
    // Before 2007 DST began in April, so the same schedule did fire.
    expect(schedule.next(new Date("2006-01-01T00:00:00Z"))?.toISOString()).toBe("2006-03-12T07:30:00.000Z");
  });
});

describe("interval-style cron: overlap times run at both instants", () => {
  it.each<Row>([
    [
      "NY every 30 minutes",
      "0 */30 * * * *",
      "America/New_York",
      "2026-11-01T04:50:00Z",
      [
        "2026-11-01T05:00:00Z",
        "2026-11-01T05:30:00Z",
        "2026-11-01T06:00:00Z",
        "2026-11-01T06:30:00Z",
        "2026-11-01T07:00:00Z",
      ],
    ],
    [
      "NY from inside the repeat",
      "0 */30 * * * *",
      "America/New_York",
      "2026-11-01T06:10:00Z",
      ["2026-11-01T06:30:00Z", "2026-11-01T07:00:00Z"],
    ],
    [
      "NY 15 past every hour",
      "0 15 * * * *",
      "America/New_York",
      "2026-11-01T05:00:00Z",
      ["2026-11-01T05:15:00Z", "2026-11-01T06:15:00Z", "2026-11-01T07:15:00Z"],
    ],
    [
      "NY a range makes 01:30 interval-style",
      "0 30 1-1 * * *",
      "America/New_York",
      "2026-11-01T00:00:00Z",
      ["2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-02T06:30:00Z"],
    ],
    [
      "Paris every 30 minutes",
      "0 */30 * * * *",
      "Europe/Paris",
      "2026-10-25T00:10:00Z",
      ["2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z", "2026-10-25T02:00:00Z"],
    ],
    [
      "Lord Howe on the hour and half hour",
      "0 0,30 * * * *",
      "Australia/Lord_Howe",
      "2026-04-04T14:10:00Z",
      ["2026-04-04T14:30:00Z", "2026-04-04T15:00:00Z", "2026-04-04T15:30:00Z"],
    ],
    [
      "Lord Howe 01:45 twice",
      "0 45 * * * *",
      "Australia/Lord_Howe",
      "2026-04-04T14:00:00Z",
      ["2026-04-04T14:45:00Z", "2026-04-04T15:15:00Z", "2026-04-04T16:15:00Z"],
    ],
  ])("%s", (_name, schedule, zone, from, expected) => {
    expect(upcoming(schedule, zone, from, expected.length)).toEqual(expected);
  });
});

describe("recurrences and DST", () => {
  it.each<Row>([
    // Day/Week/Month are fixed-time.
    [
      "Day gap (NY)",
      { frequency: "Day", startTime: "2026-03-06T02:30:00" },
      "America/New_York",
      "2026-03-06T00:00:00Z",
      ["2026-03-06T07:30:00Z", "2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"],
    ],
    [
      "Day overlap (NY)",
      { frequency: "Day", startTime: "2026-10-30T01:30:00" },
      "America/New_York",
      "2026-10-31T12:00:00Z",
      ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"],
    ],
    [
      "Week gap (Paris)",
      { frequency: "Week", startTime: "2026-03-01T02:30:00" },
      "Europe/Paris",
      "2026-03-20T00:00:00Z",
      ["2026-03-22T01:30:00Z", "2026-03-29T01:00:00Z", "2026-04-05T00:30:00Z"],
    ],
    [
      "Month gap (Paris), no 29 February in 2026",
      { frequency: "Month", startTime: "2026-01-29T02:30:00" },
      "Europe/Paris",
      "2026-01-01T00:00:00Z",
      ["2026-01-29T01:30:00Z", "2026-03-29T01:00:00Z", "2026-04-29T00:30:00Z"],
    ],
    [
      "Day gap merges two times (NY)",
      { frequency: "Day", startTime: "2026-03-07T02:00:00", schedule: { hours: [2], minutes: [0, 30] } },
      "America/New_York",
      "2026-03-07T00:00:00Z",
      ["2026-03-07T07:00:00Z", "2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z"],
    ],
    [
      "Day overlap (Lord Howe)",
      { frequency: "Day", startTime: "2026-04-01T01:45:00" },
      "Australia/Lord_Howe",
      "2026-04-03T12:00:00Z",
      ["2026-04-03T14:45:00Z", "2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"],
    ],
    [
      "Day gap (Lord Howe)",
      { frequency: "Day", startTime: "2026-10-01T02:15:00" },
      "Australia/Lord_Howe",
      "2026-10-02T00:00:00Z",
      ["2026-10-02T15:45:00Z", "2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"],
    ],
    // Minute and Hour are elapsed time.
    [
      "Minute across a gap (NY)",
      { frequency: "Minute", interval: 30, startTime: "2026-03-08T01:00:00" },
      "America/New_York",
      "2026-03-08T05:59:00Z",
      ["2026-03-08T06:00:00Z", "2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z"],
    ],
    [
      "Hour across an overlap (Lord Howe)",
      { frequency: "Hour", startTime: "2026-04-05T00:00:00" },
      "Australia/Lord_Howe",
      "2026-04-04T12:00:00Z",
      ["2026-04-04T13:00:00Z", "2026-04-04T14:00:00Z", "2026-04-04T15:00:00Z", "2026-04-04T16:00:00Z"],
    ],
    // Date-times: an ambiguous local time means its earlier instant; an offset picks either.
    [
      "ambiguous startTime means the earlier instant",
      { startTime: "2026-11-01T01:30:00" },
      "America/New_York",
      "2026-11-01T00:00:00Z",
      ["2026-11-01T05:30:00Z"],
    ],
    [
      "an offset picks the later instant",
      { startTime: "2026-11-01T01:30:00-05:00" },
      "America/New_York",
      "2026-11-01T00:00:00Z",
      ["2026-11-01T06:30:00Z"],
    ],
    [
      "a start at the second 01:30 skips that day's first 01:30",
      { frequency: "Day", startTime: "2026-11-01T01:30:00-05:00" },
      "America/New_York",
      "2026-11-01T00:00:00Z",
      ["2026-11-02T06:30:00Z"],
    ],
  ])("%s", (_name, schedule, zone, from, expected) => {
    expect(upcoming(schedule, zone, from, expected.length)).toEqual(expected);
  });

  it("Day/Week/Month recurrences are fixed-time; Minute/Hour are not", () => {
    const start = "2026-01-01T00:00:00Z";
    expect(compileSchedule({ frequency: "Day", startTime: start }, "UTC").fixedTime).toBe(true);
    expect(compileSchedule({ frequency: "Week", startTime: start }, "UTC").fixedTime).toBe(true);
    expect(compileSchedule({ frequency: "Month", startTime: start }, "UTC").fixedTime).toBe(true);
    expect(compileSchedule({ frequency: "Minute", startTime: start }, "UTC").fixedTime).toBe(false);
    expect(compileSchedule({ frequency: "Hour", startTime: start }, "UTC").fixedTime).toBe(false);
  });

  it("count limits the wall-clock series: two times merged by a gap use two of the count", () => {
    // 03-07 02:00, 02:30, 03-08 02:00, 02:30 are the 4 counted times; the last two merge into one run.
    expect(
      upcoming(
        {
          frequency: "Day",
          count: 4,
          startTime: "2026-03-07T02:00:00",
          schedule: { hours: [2], minutes: [0, 30] },
        },
        "America/New_York",
        "2026-03-07T00:00:00Z",
        5,
      ),
    ).toEqual(["2026-03-07T07:00:00Z", "2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z"]);
  });
});

describe("cron DST class (reference §5)", () => {
  it.each([
    ["0 30 2 * * *", true],
    ["0 0,30 1,13 * * *", true],
    ["00 030 02 1-5 Jan-Mar Mon-Fri", true],
    ["0 */30 * * * *", false],
    ["0 5 * * * *", false],
    ["0 30 2-2 * * *", false],
    ["*/1 0 0 * * *", false],
    ["0 0 0/6 * * *", false],
  ])("%s -> fixedTime %s", (expression, fixed) => {
    expect(compileSchedule(expression, "UTC").fixedTime).toBe(fixed);
  });
});
