import { describe, expect, it } from "vitest";
import { compileSchedule } from "../src/index.ts";
import { expectScheduleError } from "./support/helpers.ts";

const START = "2026-01-01T00:00:00Z";

describe("recurrence validation: each problem names its key", () => {
  it.each<[string, unknown, string, string]>([
    // outer keys
    [
      "unknown outer key",
      { frequency: "Day", startTime: START, every: 2 },
      "schedule.every",
      "unknown key 'every'",
    ],
    [
      "a key in the wrong case",
      { Frequency: "Day", startTime: START },
      "schedule.Frequency",
      "unknown key 'Frequency' (the key is frequency)",
    ],
    [
      "timeZone inside the schedule",
      { frequency: "Day", startTime: START, timeZone: "UTC" },
      "schedule.timeZone",
      "the zone comes only from settings.job's time_zone",
    ],
    [
      "unknown frequency",
      { frequency: "Year", startTime: START },
      "schedule.frequency",
      "must be Minute, Hour, Day, Week or Month, got 'Year'",
    ],
    [
      "frequency of the wrong type",
      { frequency: 1, startTime: START },
      "schedule.frequency",
      "must be Minute, Hour, Day, Week or Month, got 1",
    ],
    ["frequency null", { frequency: null, startTime: START }, "schedule.frequency", "got null"],
    // interval
    [
      "interval 0",
      { frequency: "Day", interval: 0, startTime: START },
      "schedule.interval",
      "expected an integer between 1 and 548, got 0",
    ],
    [
      "interval not an integer",
      { frequency: "Day", interval: 1.5, startTime: START },
      "schedule.interval",
      "got 1.5",
    ],
    [
      "interval as a string",
      { frequency: "Day", interval: "2", startTime: START },
      "schedule.interval",
      "got '2'",
    ],
    [
      "interval above the Minute maximum",
      { frequency: "Minute", interval: 1001, startTime: START },
      "schedule.interval",
      "between 1 and 1000",
    ],
    [
      "interval above the Hour maximum",
      { frequency: "Hour", interval: 1001, startTime: START },
      "schedule.interval",
      "between 1 and 1000",
    ],
    [
      "interval above the Week maximum",
      { frequency: "Week", interval: 79, startTime: START },
      "schedule.interval",
      "between 1 and 78",
    ],
    [
      "interval above the Month maximum",
      { frequency: "Month", interval: 19, startTime: START },
      "schedule.interval",
      "between 1 and 18",
    ],
    [
      "interval NaN-like",
      { frequency: "Day", interval: Number.POSITIVE_INFINITY, startTime: START },
      "schedule.interval",
      "expected an integer",
    ],
    // count
    [
      "count 0",
      { frequency: "Day", count: 0, startTime: START },
      "schedule.count",
      "expected an integer >= 1, got 0",
    ],
    ["count negative", { frequency: "Day", count: -3, startTime: START }, "schedule.count", "got -3"],
    [
      "count beyond 2^53",
      { frequency: "Day", count: 1e300, startTime: START },
      "schedule.count",
      "expected an integer >= 1",
    ],
    // date-times
    [
      "startTime date only",
      { frequency: "Day", startTime: "2026-01-01" },
      "schedule.startTime",
      "not a date-time of the form YYYY-MM-DDTHH:MM[:SS]",
    ],
    [
      "startTime with fractions",
      { frequency: "Day", startTime: "2026-01-01T00:00:00.000Z" },
      "schedule.startTime",
      "no fractions",
    ],
    [
      "startTime with a space",
      { frequency: "Day", startTime: "2026-01-01 00:00:00" },
      "schedule.startTime",
      "not a date-time",
    ],
    [
      "startTime 30 February",
      { frequency: "Day", startTime: "2026-02-30T00:00:00" },
      "schedule.startTime",
      "invalid day for its month",
    ],
    [
      "startTime hour 24",
      { frequency: "Day", startTime: "2026-01-01T24:00:00" },
      "schedule.startTime",
      "invalid hour",
    ],
    [
      "startTime year 0000",
      { frequency: "Day", startTime: "0000-01-01T00:00:00Z" },
      "schedule.startTime",
      "invalid year",
    ],
    [
      "startTime bad offset",
      { frequency: "Day", startTime: "2026-01-01T00:00:00+24:00" },
      "schedule.startTime",
      "invalid UTC offset",
    ],
    [
      "startTime not a string",
      { frequency: "Day", startTime: 1767225600000 },
      "schedule.startTime",
      "expected a date-time string",
    ],
    [
      "startTime in a DST gap",
      { frequency: "Day", startTime: "2026-03-08T02:30:00" },
      "schedule.startTime",
      "02:30 on 2026-03-08 does not exist in America/New_York (daylight-saving gap)",
    ],
    [
      "endTime in a DST gap",
      { frequency: "Day", startTime: START, endTime: "2026-03-08T02:00:00" },
      "schedule.endTime",
      "02:00 on 2026-03-08 does not exist in America/New_York",
    ],
    [
      "endTime before startTime",
      { frequency: "Day", startTime: "2026-02-01T00:00:00Z", endTime: "2026-01-01T00:00:00Z" },
      "schedule.endTime",
      "must be after startTime '2026-02-01T00:00:00Z'",
    ],
    [
      "endTime equal to startTime",
      { frequency: "Day", startTime: START, endTime: "2025-12-31T19:00:00" },
      "schedule.endTime",
      "must be after startTime",
    ],
    // one-time schedules
    [
      "interval without frequency",
      { interval: 2, startTime: START },
      "schedule.interval",
      "a one-time schedule (no frequency) has only startTime",
    ],
    [
      "count without frequency",
      { count: 2, startTime: START },
      "schedule.count",
      "only allowed with a frequency",
    ],
    [
      "inner schedule without frequency",
      { schedule: {}, startTime: START },
      "schedule.schedule",
      "only allowed with a frequency",
    ],
    ["one-time without startTime", {}, "schedule.startTime", "required for a one-time schedule"],
    // inner schedule
    [
      "inner schedule not an object",
      { frequency: "Day", startTime: START, schedule: [] },
      "schedule.schedule",
      "expected an object, got []",
    ],
    [
      "inner schedule with Minute",
      { frequency: "Minute", startTime: START, schedule: { minutes: [0] } },
      "schedule.schedule",
      "not allowed with frequency Minute",
    ],
    [
      "empty inner schedule with Hour",
      { frequency: "Hour", startTime: START, schedule: {} },
      "schedule.schedule",
      "not allowed with frequency Hour",
    ],
    [
      "unknown inner key (case)",
      { frequency: "Week", startTime: START, schedule: { weekdays: ["Monday"] } },
      "schedule.schedule.weekdays",
      "unknown key 'weekdays' (the key is weekDays)",
    ],
    [
      "unknown inner key",
      { frequency: "Day", startTime: START, schedule: { seconds: [0] } },
      "schedule.schedule.seconds",
      "unknown key 'seconds'",
    ],
    [
      "weekDays with Day",
      { frequency: "Day", startTime: START, schedule: { weekDays: ["Monday"] } },
      "schedule.schedule.weekDays",
      "only allowed with frequency Week",
    ],
    [
      "monthDays with Week",
      { frequency: "Week", startTime: START, schedule: { monthDays: [1] } },
      "schedule.schedule.monthDays",
      "only allowed with frequency Month",
    ],
    [
      "monthlyOccurrences with Day",
      { frequency: "Day", startTime: START, schedule: { monthlyOccurrences: [{ day: "Monday" }] } },
      "schedule.schedule.monthlyOccurrences",
      "only allowed with frequency Month",
    ],
    [
      "empty hours",
      { frequency: "Day", startTime: START, schedule: { hours: [] } },
      "schedule.schedule.hours",
      "must not be empty",
    ],
    [
      "hour 24",
      { frequency: "Day", startTime: START, schedule: { hours: [1, 24] } },
      "schedule.schedule.hours[1]",
      "expected an integer between 0 and 23, got 24",
    ],
    [
      "minute 60",
      { frequency: "Day", startTime: START, schedule: { minutes: 60 } },
      "schedule.schedule.minutes",
      "between 0 and 59, got 60",
    ],
    [
      "minute as a string",
      { frequency: "Day", startTime: START, schedule: { minutes: ["5"] } },
      "schedule.schedule.minutes[0]",
      "got '5'",
    ],
    [
      "hours as a string",
      { frequency: "Day", startTime: START, schedule: { hours: "9" } },
      "schedule.schedule.hours",
      "expected an array of integers 0-23, got '9'",
    ],
    [
      "weekDays abbreviated",
      { frequency: "Week", startTime: START, schedule: { weekDays: ["Mon"] } },
      "schedule.schedule.weekDays[0]",
      "expected a full English day name (Sunday … Saturday), got 'Mon'",
    ],
    [
      "weekDays as a string",
      { frequency: "Week", startTime: START, schedule: { weekDays: "Monday" } },
      "schedule.schedule.weekDays",
      "expected an array of day names",
    ],
    [
      "empty weekDays",
      { frequency: "Week", startTime: START, schedule: { weekDays: [] } },
      "schedule.schedule.weekDays",
      "must not be empty",
    ],
    [
      "monthDays 0",
      { frequency: "Month", startTime: START, schedule: { monthDays: [0] } },
      "schedule.schedule.monthDays[0]",
      "0 is not a day",
    ],
    [
      "monthDays 32",
      { frequency: "Month", startTime: START, schedule: { monthDays: [32] } },
      "schedule.schedule.monthDays[0]",
      "32 is out of range 1..31 or -1..-31",
    ],
    [
      "monthDays -32",
      { frequency: "Month", startTime: START, schedule: { monthDays: [1, -32] } },
      "schedule.schedule.monthDays[1]",
      "-32 is out of range",
    ],
    [
      "monthDays fraction",
      { frequency: "Month", startTime: START, schedule: { monthDays: [1.5] } },
      "schedule.schedule.monthDays[0]",
      "expected an integer",
    ],
    [
      "empty monthlyOccurrences",
      { frequency: "Month", startTime: START, schedule: { monthlyOccurrences: [] } },
      "schedule.schedule.monthlyOccurrences",
      "must not be empty",
    ],
    [
      "occurrence 0",
      {
        frequency: "Month",
        startTime: START,
        schedule: { monthlyOccurrences: [{ day: "Friday", occurrence: 0 }] },
      },
      "schedule.schedule.monthlyOccurrences[0].occurrence",
      "0 is not an occurrence",
    ],
    [
      "occurrence 6",
      {
        frequency: "Month",
        startTime: START,
        schedule: { monthlyOccurrences: [{ day: "Friday", occurrence: 6 }] },
      },
      "schedule.schedule.monthlyOccurrences[0].occurrence",
      "6 is out of range 1..5 or -1..-5",
    ],
    [
      "occurrence -6",
      {
        frequency: "Month",
        startTime: START,
        schedule: { monthlyOccurrences: [{ day: "Friday", occurrence: -6 }] },
      },
      "schedule.schedule.monthlyOccurrences[0].occurrence",
      "-6 is out of range",
    ],
    [
      "occurrence without day",
      { frequency: "Month", startTime: START, schedule: { monthlyOccurrences: [{ occurrence: 1 }] } },
      "schedule.schedule.monthlyOccurrences[0].day",
      "expected a full English day name",
    ],
    [
      "occurrence with an unknown key",
      {
        frequency: "Month",
        startTime: START,
        schedule: { monthlyOccurrences: [{ day: "Friday", week: 1 }] },
      },
      "schedule.schedule.monthlyOccurrences[0].week",
      "unknown key 'week'",
    ],
    [
      "occurrence not an object",
      { frequency: "Month", startTime: START, schedule: { monthlyOccurrences: ["Friday"] } },
      "schedule.schedule.monthlyOccurrences[0]",
      "expected an object",
    ],
  ])("%s", (_name, schedule, field, message) => {
    expectScheduleError(() => compileSchedule(schedule, "America/New_York"), field, message);
  });

  it("rejects a schedule that is neither a string nor an object", () => {
    for (const input of [42, null, undefined, true, ["0 0 0 * * *"], new Date()]) {
      expectScheduleError(
        () => compileSchedule(input, "UTC"),
        "schedule",
        "expected an NCRONTAB string or a recurrence object",
      );
    }
  });

  it("treats undefined-valued keys as absent (JavaScript callers)", () => {
    const schedule = compileSchedule(
      { frequency: "Day", startTime: START, count: undefined, schedule: { hours: undefined } },
      "UTC",
    );
    expect(schedule.next(new Date(START))?.toISOString()).toBe("2026-01-02T00:00:00.000Z");
  });

  it("accepts frequency in any case", () => {
    for (const frequency of ["day", "DAY", "Day", "dAy"]) {
      expect(compileSchedule({ frequency, startTime: START }, "UTC").description).toContain("Every day");
    }
  });

  it("rejects a bad defaultStartTime", () => {
    expectScheduleError(
      () => compileSchedule({ frequency: "Day" }, "UTC", { defaultStartTime: new Date(Number.NaN) }),
      "defaultStartTime",
      "expected a valid Date",
    );
  });
});
