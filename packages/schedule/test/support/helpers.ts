import { expect } from "vitest";
import { ScheduleError, compileSchedule, nextOccurrences } from "../../src/index.ts";
import type { CompileOptions } from "../../src/index.ts";

/** ISO instants without milliseconds, as the vectors write them. */
export const iso = (date: Date): string => date.toISOString().replace(".000Z", "Z");

/** The next `n` occurrences after `from`, as ISO strings. */
export function upcoming(
  schedule: unknown,
  zone: string,
  from: string,
  n: number,
  options?: CompileOptions,
): string[] {
  const compiled = compileSchedule(schedule, zone, options);
  return nextOccurrences(compiled, zone, new Date(from), n).map(iso);
}

/** Asserts that compiling throws a ScheduleError on `field` whose message contains `text`. */
export function expectScheduleError(run: () => unknown, field: string, text: string): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ScheduleError);
  const scheduleError = error as ScheduleError;
  expect(scheduleError.field).toBe(field);
  expect(scheduleError.message).toContain(text);
  expect(scheduleError.message.startsWith(`${field}: `)).toBe(true);
}
