import { describe, expect, it } from "vitest";
import { compileSchedule, resolveTimeZone } from "../src/index.ts";
import { expectScheduleError, upcoming } from "./support/helpers.ts";

describe("resolveTimeZone", () => {
  it.each([
    ["UTC", "UTC"],
    ["Europe/Paris", "Europe/Paris"],
    ["europe/paris", "Europe/Paris"],
    ["America/New_York", "America/New_York"],
    ["US/Eastern", "America/New_York"],
    ["Australia/Lord_Howe", "Australia/Lord_Howe"],
    // Windows ids map to the CLDR territory-001 zone.
    ["Eastern Standard Time", "America/New_York"],
    ["Romance Standard Time", "Europe/Paris"],
    ["Tokyo Standard Time", "Asia/Tokyo"],
    ["GMT Standard Time", "Europe/London"],
    ["Lord Howe Standard Time", "Australia/Lord_Howe"],
    ["eastern standard time", "America/New_York"],
  ])("%s -> %s", (name, expected) => {
    expect(resolveTimeZone(name)).toBe(expected);
  });

  it.each(["Mars/Olympus", "", " UTC", "+01:00", "-05:00", "Eastern", "Standard Time"])(
    "rejects %j",
    (name) => {
      expectScheduleError(
        () => resolveTimeZone(name),
        "time_zone",
        `unknown time zone '${name}' (neither an IANA name nor a Windows zone id)`,
      );
    },
  );

  it("names the field it was given, and rejects non-strings", () => {
    expectScheduleError(
      () => resolveTimeZone("Nowhere/Land", "WEBSITE_TIME_ZONE"),
      "WEBSITE_TIME_ZONE",
      "unknown time zone",
    );
    expectScheduleError(
      () => resolveTimeZone(42 as unknown as string),
      "time_zone",
      "expected a time zone name (string), got 42",
    );
  });

  it("compileSchedule never falls back to UTC", () => {
    expectScheduleError(
      () => compileSchedule("0 0 12 * * *", "Mars/Olympus"),
      "time_zone",
      "unknown time zone 'Mars/Olympus'",
    );
  });

  it("schedules in Windows zones run in the mapped IANA zone", () => {
    expect(upcoming("0 0 9 * * *", "Eastern Standard Time", "2026-07-01T00:00:00Z", 1)).toEqual([
      "2026-07-01T13:00:00Z",
    ]);
    expect(upcoming("0 0 9 * * *", "Eastern Standard Time", "2026-01-05T00:00:00Z", 1)).toEqual([
      "2026-01-05T14:00:00Z",
    ]);
    expect(upcoming("0 0 0 * * *", "Romance Standard Time", "2026-07-01T00:00:00Z", 1)).toEqual([
      "2026-07-01T22:00:00Z",
    ]);
    expect(upcoming("0 0 0 * * *", "Tokyo Standard Time", "2026-07-01T00:00:00Z", 1)).toEqual([
      "2026-07-01T15:00:00Z",
    ]);
    expect(compileSchedule("0 0 0 * * *", "Tokyo Standard Time").timeZone).toBe("Asia/Tokyo");
  });

  it("a recurrence's local startTime is read in the Windows zone's IANA zone", () => {
    expect(
      upcoming({ startTime: "2026-05-01T09:30:00" }, "Romance Standard Time", "2026-01-01T00:00:00Z", 1),
    ).toEqual(["2026-05-01T07:30:00Z"]);
  });
});
