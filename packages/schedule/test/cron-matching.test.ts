import { describe, expect, it } from "vitest";
import { compileSchedule } from "../src/index.ts";
import { CronMatcher } from "../src/cron/matcher.ts";
import { upcoming } from "./support/helpers.ts";

describe("cron matching (UTC)", () => {
  it.each([
    // Day AND day-of-week: both must match, even when both are restricted (not Vixie cron's OR).
    [
      "0 0 0 13 * Fri",
      "2026-01-01T00:00:00Z",
      ["2026-02-13T00:00:00Z", "2026-03-13T00:00:00Z", "2026-11-13T00:00:00Z"],
    ],
    [
      "0 0 0 1 * Mon",
      "2026-01-01T00:00:00Z",
      ["2026-06-01T00:00:00Z", "2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z"],
    ],
    ["0 0 12 1-7 * Tue", "2026-01-01T00:00:00Z", ["2026-01-06T12:00:00Z", "2026-02-03T12:00:00Z"]],
    // A field with every value does not turn AND into OR.
    ["0 0 0 * * Sun", "2026-01-01T00:00:00Z", ["2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"]],
    ["0 0 0 2 * *", "2026-01-01T00:00:00Z", ["2026-01-02T00:00:00Z", "2026-02-02T00:00:00Z"]],
    // Month lengths and leap years.
    ["0 0 0 31 * *", "2026-01-31T00:00:00Z", ["2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"]],
    ["0 0 0 29 2 *", "2026-01-01T00:00:00Z", ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"]],
    ["0 0 0 29 2 *", "2096-03-01T00:00:00Z", ["2104-02-29T00:00:00Z"]],
    // Steps and the end of the field.
    ["5/15 * * * * *", "2026-01-01T00:00:50Z", ["2026-01-01T00:01:05Z", "2026-01-01T00:01:20Z"]],
    ["0 0 */30 * * *", "2026-01-01T00:00:00Z", ["2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"]],
    ["30 59 23 31 12 *", "2026-12-31T23:59:30Z", ["2027-12-31T23:59:30Z"]],
    // Rolling over every field at once.
    ["0 0 0 1 1 *", "2026-12-31T23:59:59Z", ["2027-01-01T00:00:00Z"]],
  ])("%s after %s", (expression, from, expected) => {
    expect(upcoming(expression, "UTC", from, expected.length)).toEqual(expected);
  });

  it("searches at least 100 years ahead: 0 0 0 29 2 Mon gives 2044-02-29, then 2072-02-29", () => {
    const started = performance.now();
    expect(upcoming("0 0 0 29 2 Mon", "UTC", "2026-01-01T00:00:00Z", 3)).toEqual([
      "2044-02-29T00:00:00Z",
      "2072-02-29T00:00:00Z",
      "2112-02-29T00:00:00Z",
    ]);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it("is strictly after `from`, with one-second precision", () => {
    const schedule = compileSchedule("*/15 * * * * *", "UTC");
    const at = (iso: string): string | undefined => schedule.next(new Date(iso))?.toISOString();
    expect(at("2026-01-01T00:00:15.000Z")).toBe("2026-01-01T00:00:30.000Z");
    expect(at("2026-01-01T00:00:14.999Z")).toBe("2026-01-01T00:00:15.000Z");
    expect(at("2026-01-01T00:00:15.001Z")).toBe("2026-01-01T00:00:30.000Z");
  });

  it("ends the series after year 9999 instead of searching on", () => {
    const schedule = compileSchedule("0 0 0 1 1 *", "UTC");
    expect(schedule.next(new Date("9999-01-01T00:00:00Z"))).toBeNull();
    expect(schedule.next(new Date(8.64e15))).toBeNull();
    expect(schedule.next(new Date(-8.64e15))?.toISOString()).toBe("0002-01-01T00:00:00.000Z");
  });

  it("gives up after 401 years instead of hanging when nothing can match", () => {
    // The parser rejects day 31 in February statically; the matcher alone must still terminate.
    const never = new CronMatcher({
      seconds: [0],
      minutes: [0],
      hours: [0],
      days: [31],
      months: [2],
      daysOfWeek: [0],
    });
    const started = performance.now();
    expect(never.matchFrom(Date.UTC(2026, 0, 1))).toBeNull();
    expect(performance.now() - started).toBeLessThan(50);
  });
});
