import { describe, expect, it } from "vitest";
import { type SchedulePolicies, defaultPolicies, parsePolicies, retryDelaySeconds } from "../src/index.ts";
import { expectScheduleError } from "./support/helpers.ts";

describe("parsePolicies", () => {
  it("has Kudu's defaults", () => {
    expect(defaultPolicies).toEqual({
      missedRuns: "once",
      missedRunsWindowSeconds: 600,
      overlap: "skip",
      retryCount: 0,
      retryIntervalSeconds: 60,
      retryBackoff: "fixed",
    });
    expect(parsePolicies({})).toEqual(defaultPolicies);
  });

  it("ignores other settings.job keys", () => {
    expect(
      parsePolicies({ schedule: "0 0 * * * *", is_singleton: true, stopping_wait_time: 30, custom: [1] }),
    ).toEqual(defaultPolicies);
  });

  it("reads every key", () => {
    expect(
      parsePolicies({
        missed_runs: "all",
        missed_runs_window: 0,
        overlap: "replace",
        retry_count: 20,
        retry_interval: 86400,
        retry_backoff: "exponential",
      }),
    ).toEqual({
      missedRuns: "all",
      missedRunsWindowSeconds: 0,
      overlap: "replace",
      retryCount: 20,
      retryIntervalSeconds: 86400,
      retryBackoff: "exponential",
    });
  });

  it.each([
    ["missed_runs", "skip", { missedRuns: "skip" }],
    ["missed_runs", "once", { missedRuns: "once" }],
    ["overlap", "queue", { overlap: "queue" }],
    ["overlap", "skip", { overlap: "skip" }],
    ["retry_count", 0, { retryCount: 0 }],
    ["retry_interval", 1, { retryIntervalSeconds: 1 }],
    ["missed_runs_window", 86400 * 365, { missedRunsWindowSeconds: 86400 * 365 }],
    ["retry_backoff", "fixed", { retryBackoff: "fixed" }],
  ])("%s = %j", (key, value, expected) => {
    expect(parsePolicies({ [key]: value })).toEqual({ ...defaultPolicies, ...expected });
  });

  it.each([
    ["missed_runs", "sometimes", 'expected one of "skip", "once", "all", got \'sometimes\''],
    ["missed_runs", "Once", "got 'Once'"],
    ["missed_runs", true, "got true"],
    ["missed_runs", null, "got null"],
    ["missed_runs_window", -1, "expected an integer >= 0, got -1"],
    ["missed_runs_window", 1.5, "got 1.5"],
    ["missed_runs_window", "600", "got '600'"],
    ["overlap", "wait", 'expected one of "skip", "queue", "replace"'],
    ["overlap", 1, "got 1"],
    ["retry_count", 21, "expected an integer between 0 and 20, got 21"],
    ["retry_count", -1, "got -1"],
    ["retry_count", "3", "got '3'"],
    ["retry_interval", 0, "expected an integer between 1 and 86400, got 0"],
    ["retry_interval", 86401, "got 86401"],
    ["retry_backoff", "linear", 'expected one of "fixed", "exponential", got \'linear\''],
  ])("rejects %s = %j", (key, value, message) => {
    expectScheduleError(() => parsePolicies({ [key]: value }), key, message);
  });

  it("rejects a settings value that is not an object", () => {
    expectScheduleError(
      () => parsePolicies([] as unknown as Record<string, unknown>),
      "settings",
      "expected an object",
    );
  });
});

describe("retryDelaySeconds (retryNumber counts retries from 1: the first retry is 1)", () => {
  const with_ = (overrides: Partial<SchedulePolicies>): SchedulePolicies => ({
    ...defaultPolicies,
    ...overrides,
  });

  it("fixed: always retry_interval", () => {
    const policies = with_({ retryIntervalSeconds: 90 });
    expect([1, 2, 3, 10, 20].map((k) => retryDelaySeconds(policies, k))).toEqual([90, 90, 90, 90, 90]);
  });

  it("exponential: min(retry_interval × 2^(k−1), 3600)", () => {
    const policies = with_({ retryIntervalSeconds: 60, retryBackoff: "exponential" });
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((k) => retryDelaySeconds(policies, k))).toEqual([
      60, 120, 240, 480, 960, 1920, 3600, 3600,
    ]);
    expect(retryDelaySeconds(with_({ retryIntervalSeconds: 7200, retryBackoff: "exponential" }), 1)).toBe(
      3600,
    );
    expect(retryDelaySeconds(policies, 5000)).toBe(3600);
  });

  it("rejects a retry number below 1", () => {
    expectScheduleError(
      () => retryDelaySeconds(defaultPolicies, 0),
      "retryNumber",
      "expected an integer >= 1, got 0",
    );
    expectScheduleError(() => retryDelaySeconds(defaultPolicies, 1.5), "retryNumber", "got 1.5");
  });
});
