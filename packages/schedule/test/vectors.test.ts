import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ScheduleError, compileSchedule, nextOccurrences } from "../src/index.ts";

interface ValidVector {
  schedule: string | Record<string, unknown>;
  time_zone: string;
  from: string;
  expected: string[];
}
interface InvalidVector {
  schedule: string | Record<string, unknown>;
  time_zone: string;
  why: string;
}

const vectors = JSON.parse(
  readFileSync(new URL("./fixtures/schedule-vectors.json", import.meta.url), "utf8"),
) as {
  valid: ValidVector[];
  invalid: InvalidVector[];
};

const label = (schedule: unknown, zone: string): string =>
  `${typeof schedule === "string" ? `"${schedule}"` : JSON.stringify(schedule)} in ${zone}`;

describe("public vectors: valid", () => {
  it.each(vectors.valid.map((v) => [label(v.schedule, v.time_zone), v] as const))("%s", (_name, v) => {
    const from = new Date(v.from);
    const got = nextOccurrences(v.schedule, v.time_zone, from, v.expected.length || 1).map((d) =>
      d.toISOString(),
    );
    const expected = v.expected.map((e) => new Date(e).toISOString());
    if (expected.length === 0) expect(got).toEqual([]);
    else expect(got).toEqual(expected);
  });
});

describe("public vectors: invalid", () => {
  it.each(vectors.invalid.map((v) => [`${label(v.schedule, v.time_zone)} (${v.why})`, v] as const))(
    "%s",
    (_name, v) => {
      expect(() => compileSchedule(v.schedule, v.time_zone)).toThrow(ScheduleError);
    },
  );
});
