import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode, WebJobsError } from "../../src/errors.ts";
import { parseSettings, readSettingsFile } from "../../src/jobs/settings.ts";

function refusal(action: () => unknown): WebJobsError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(WebJobsError);
    expect((error as WebJobsError).code).toBe(ErrorCode.BadSettings);
    return error as WebJobsError;
  }
  return expect.fail("expected a bad_settings error");
}

describe("parseSettings", () => {
  it("accepts every known key with a value of the right type", () => {
    const settings = {
      schedule: "0 */5 * * * *",
      is_singleton: true,
      stopping_wait_time: 0,
      is_in_place: false,
      run_mode: "continuous",
      shutdownGraceTimeLimit: 2.5,
      time_limit: 3600,
      idle_timeout: 1,
    };
    expect(parseSettings(JSON.stringify(settings))).toEqual(settings);
  });

  it("keeps unknown keys, whatever their type", () => {
    const text = '{ "schedule": "0 0 * * * *", "custom": { "nested": [1, 2] }, "other": null }';
    expect(parseSettings(text)).toEqual({ schedule: "0 0 * * * *", custom: { nested: [1, 2] }, other: null });
  });

  it("reads an empty object, an empty file and a byte-order mark", () => {
    expect(parseSettings("{}")).toEqual({});
    expect(parseSettings("")).toEqual({});
    expect(parseSettings(" \n")).toEqual({});
    expect(parseSettings('\uFEFF{ "is_singleton": true }')).toEqual({ is_singleton: true });
  });

  it("refuses a __proto__ key, which could change a copy's prototype", () => {
    expect(() => parseSettings('{ "__proto__": { "polluted": true }, "a": 1 }')).toThrow(
      /settings\.job is not valid JSON: the key "__proto__" is not allowed/,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  const wrong: Array<[string, string]> = [
    [
      '{"stopping_wait_time":"60"}',
      'settings.job: "stopping_wait_time" must be a whole number of seconds (0 to 2147483), got the string "60"',
    ],
    [
      '{"stopping_wait_time":-1}',
      'settings.job: "stopping_wait_time" must be a whole number of seconds (0 to 2147483), got the number -1',
    ],
    [
      '{"stopping_wait_time":1.5}',
      'settings.job: "stopping_wait_time" must be a whole number of seconds (0 to 2147483), got the number 1.5',
    ],
    [
      '{"schedule":5}',
      'settings.job: "schedule" must be a 6-field NCRONTAB string or a recurrence object, got the number 5',
    ],
    ['{"is_singleton":"true"}', 'settings.job: "is_singleton" must be true or false, got the string "true"'],
    ['{"is_in_place":1}', 'settings.job: "is_in_place" must be true or false, got the number 1'],
    ['{"run_mode":["a"]}', 'settings.job: "run_mode" must be a string, got an array'],
    [
      '{"shutdownGraceTimeLimit":{}}',
      'settings.job: "shutdownGraceTimeLimit" must be a number of seconds (0 or more), got an object',
    ],
    [
      '{"shutdownGraceTimeLimit":-0.5}',
      'settings.job: "shutdownGraceTimeLimit" must be a number of seconds (0 or more), got the number -0.5',
    ],
    [
      '{"time_limit":0}',
      'settings.job: "time_limit" must be a whole number of seconds (1 to 2147483), got the number 0',
    ],
    [
      '{"time_limit":null}',
      'settings.job: "time_limit" must be a whole number of seconds (1 to 2147483), got null',
    ],
    [
      // Longer than a timer can wait: it used to abort every run after a few milliseconds.
      '{"time_limit":2200000}',
      'settings.job: "time_limit" must be a whole number of seconds (1 to 2147483), got the number 2200000',
    ],
    [
      '{"idle_timeout":false}',
      'settings.job: "idle_timeout" must be a whole number of seconds (1 to 2147483), got the boolean false',
    ],
    [
      '{"idle_timeout":2.5}',
      'settings.job: "idle_timeout" must be a whole number of seconds (1 to 2147483), got the number 2.5',
    ],
  ];
  for (const [text, message] of wrong) {
    it(`refuses ${text}`, () => {
      expect(refusal(() => parseSettings(text)).message).toBe(message);
    });
  }

  it("names every wrong key at once", () => {
    expect(refusal(() => parseSettings('{"is_singleton":"yes","time_limit":"1h","fine":1}')).message).toBe(
      'settings.job: "is_singleton" must be true or false, got the string "yes"; "time_limit" must be a whole number of seconds (1 to 2147483), got the string "1h"',
    );
  });

  it("refuses text that is not JSON", () => {
    expect(refusal(() => parseSettings("{ schedule: 1 }")).message).toMatch(
      /^settings\.job is not valid JSON: /,
    );
    expect(refusal(() => parseSettings('{"a":1,}')).message).toMatch(/^settings\.job is not valid JSON: /);
  });

  it("refuses JSON that is not an object", () => {
    expect(refusal(() => parseSettings("[]")).message).toBe(
      "settings.job must be a JSON object, got an array",
    );
    expect(refusal(() => parseSettings("null")).message).toBe("settings.job must be a JSON object, got null");
    expect(refusal(() => parseSettings('"x"')).message).toBe(
      'settings.job must be a JSON object, got the string "x"',
    );
    expect(refusal(() => parseSettings("42")).message).toBe(
      "settings.job must be a JSON object, got the number 42",
    );
    expect(refusal(() => parseSettings("true")).message).toBe(
      "settings.job must be a JSON object, got the boolean true",
    );
  });
});

describe("readSettingsFile", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "webjobs-settings-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives no settings when there is no file", () => {
    writeFileSync(path.join(dir, "run.sh"), "");
    expect(readSettingsFile(dir)).toEqual({});
  });

  it("reads settings.job next to the script", () => {
    writeFileSync(path.join(dir, "settings.job"), '{ "schedule": "0 0 * * * *" }');
    expect(readSettingsFile(dir)).toEqual({ schedule: "0 0 * * * *" });
  });

  it("matches the file name without case, as on Windows", () => {
    writeFileSync(path.join(dir, "Settings.JOB"), '{ "is_singleton": true }');
    expect(readSettingsFile(dir)).toEqual({ is_singleton: true });
  });

  it("prefers the exact name when two spellings exist", () => {
    writeFileSync(path.join(dir, "SETTINGS.JOB"), '{ "run_mode": "upper" }');
    writeFileSync(path.join(dir, "settings.job"), '{ "run_mode": "lower" }');
    expect(readSettingsFile(dir)).toEqual({ run_mode: "lower" });
  });

  it("ignores a folder named settings.job and files in subfolders", () => {
    mkdirSync(path.join(dir, "settings.job"));
    mkdirSync(path.join(dir, "sub"));
    writeFileSync(path.join(dir, "sub", "settings.job"), '{ "is_singleton": true }');
    expect(readSettingsFile(dir)).toEqual({});
  });

  it("reports a bad file", () => {
    writeFileSync(path.join(dir, "settings.job"), '{ "stopping_wait_time": "60" }');
    expect(refusal(() => readSettingsFile(dir)).message).toBe(
      'settings.job: "stopping_wait_time" must be a whole number of seconds (0 to 2147483), got the string "60"',
    );
  });
});
