import { describe, expect, it } from "vitest";
import { compileSchedule } from "../src/index.ts";

describe("expression: NCrontab's CrontabSchedule.ToString() form", () => {
  // NCrontab writes each field's values ascending, collapses consecutive runs to a-b, writes a full
  // field as *, and writes numbers, never names.
  it.each([
    ["0 */15 * * * *", "0 0,15,30,45 * * * *"],
    ["0 0 12 * * Mon-Fri", "0 0 12 * * 1-5"],
    ["0 0 12 * * MON,TUE,wed", "0 0 12 * * 1-3"],
    ["0 0 0 1 Jan,Jul *", "0 0 0 1 1,7 *"],
    ["0 0 6 * * sat,SUN", "0 0 6 * * 0,6"],
    ["0 0 9-17/4 * * *", "0 0 9,13,17 * * *"],
    ["0 0 9-17 * * *", "0 0 9-17 * * *"],
    ["0 0,1 * * * *", "0 0-1 * * * *"],
    ["0 0 0 1-31 1-12 0-6", "0 0 0 * * *"],
    ["0,15,30,45 * * * * *", "0,15,30,45 * * * * *"],
    ["  0  0 12 * *  Fri ", "0 0 12 * * 5"],
    ["0 0 0 * * 0,1,2,3,4,5,6", "0 0 0 * * *"],
    ["1-2,4-5,7 0 0 * * *", "1-2,4-5,7 0 0 * * *"],
  ])("%s -> %s", (input, expected) => {
    expect(compileSchedule(input, "UTC").expression).toBe(expected);
  });
});

describe("description", () => {
  it.each([
    ["0 */15 * * * *", "Every 15 minutes"],
    ["0 30 2 * * 1-5", "At 02:30, Monday through Friday"],
    ["0 30 2 * * Mon-Fri", "At 02:30, Monday through Friday"],
    ["* * * * * *", "Every second"],
    ["*/15 * * * * *", "Every 15 seconds"],
    ["5/15 * * * * *", "Every 15 seconds, starting at second 5"],
    ["0 * * * * *", "Every minute"],
    ["0 0 * * * *", "Every hour"],
    ["0 0 */6 * * *", "Every 6 hours"],
    ["0 5 * * * *", "At 5 minutes past the hour"],
    ["0 0,30 * * * *", "Every 30 minutes"],
    ["0 5,35 * * * *", "At minutes 5 and 35 past the hour"],
    ["0 30 2 * * *", "At 02:30"],
    ["30 59 23 * * *", "At 23:59:30"],
    ["0 30 8,12,18 * * *", "At 08:30, 12:30 and 18:30"],
    ["0 0 9-17/4 * * *", "At 09:00, 13:00 and 17:00"],
    ["0 15 9-17 * * *", "At 15 minutes past the hour, between 09:00 and 17:59"],
    ["0 */10 9-17 * * 1-5", "Every 10 minutes, between 09:00 and 17:59, Monday through Friday"],
    ["0 0 12 * * 0", "At 12:00, only on Sunday"],
    ["0 0 12 * * Mon,Wed,Fri", "At 12:00, only on Monday, Wednesday and Friday"],
    ["0 0 0 13 * Fri", "At 00:00, on day 13 of the month, if it falls on a Friday"],
    ["0 0 0 1 Jan,Jul *", "At 00:00, on day 1 of the month, only in January and July"],
    ["0 0 0 * Jan-Mar *", "At 00:00, January through March"],
    ["0 0 0 1-7 * *", "At 00:00, on days 1 through 7 of the month"],
  ])("%s", (input, expected) => {
    expect(compileSchedule(input, "UTC").description).toBe(expected);
  });

  it("describes recurrences in plain words, with dates in the schedule's zone", () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [
        {
          frequency: "Week",
          interval: 2,
          startTime: "2026-01-07T09:00:00",
          count: 20,
          schedule: { weekDays: ["Monday", "Friday"] },
        },
        "Europe/Paris",
        "Every 2 weeks on Monday and Friday at 09:00, starting 2026-01-07 09:00 (Europe/Paris), 20 times",
      ],
      [
        { frequency: "Minute", interval: 15, startTime: "2026-01-01T00:05:00Z" },
        "UTC",
        "Every 15 minutes, starting 2026-01-01 00:05 (UTC)",
      ],
      [
        { frequency: "Hour", startTime: "2026-01-01T00:00:00Z", endTime: "2026-01-02T00:00:00Z" },
        "Europe/Paris",
        "Every hour, starting 2026-01-01 01:00 (Europe/Paris), until 2026-01-02 01:00",
      ],
      [
        { frequency: "Day", startTime: "2026-01-01T00:00:00", schedule: { hours: [5, 17], minutes: [15] } },
        "America/New_York",
        "Every day at 05:15 and 17:15, starting 2026-01-01 00:00 (America/New_York)",
      ],
      [
        {
          frequency: "Month",
          startTime: "2026-01-01T00:00:00Z",
          count: 1,
          schedule: { hours: [6], minutes: [0], monthDays: [1, -1, -2] },
        },
        "UTC",
        "Every month on day 1, the last day and the second to last day at 06:00, starting 2026-01-01 00:00 (UTC), once",
      ],
      [
        {
          frequency: "Month",
          interval: 3,
          startTime: "2026-01-01T10:00:30Z",
          schedule: {
            monthlyOccurrences: [
              { day: "Tuesday", occurrence: 2 },
              { day: "friday", occurrence: -1 },
              { day: "Monday" },
            ],
          },
        },
        "UTC",
        "Every 3 months on the second Tuesday, the last Friday and every Monday at 10:00:30, starting 2026-01-01 10:00:30 (UTC)",
      ],
      [{ startTime: "2026-05-01T09:30:00" }, "Europe/Paris", "Once at 2026-05-01 09:30 (Europe/Paris)"],
    ];
    for (const [input, zone, expected] of cases) {
      const schedule = compileSchedule(input, zone);
      expect(schedule.description).toBe(expected);
      expect(schedule.expression).toBe(expected);
    }
  });
});
