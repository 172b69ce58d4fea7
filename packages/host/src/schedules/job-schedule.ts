import {
  compileSchedule,
  parsePolicies,
  resolveTimeZone,
  ScheduleError,
  type Schedule,
  type SchedulePolicies,
} from "@webjobs/schedule";
import { ErrorCode, WebJobsError } from "../errors.ts";
import type { JobSettings } from "../jobs/settings.ts";

/**
 * Compiled schedules are immutable, so jobs with the same schedule, zone and start share one:
 * thousands of jobs on a handful of schedules cost a handful of compilations.
 */
const compiled = new Map<string, Schedule>();
const MAX_COMPILED = 50_000;

function compileShared(source: unknown, timeZone: string, defaultStartTime?: Date): Schedule {
  // A recurrence without a start of its own starts "now": not something to share.
  if (typeof source !== "string" && !defaultStartTime) return compileSchedule(source, timeZone);
  const key = `${JSON.stringify(source)}\0${timeZone}\0${defaultStartTime?.getTime() ?? ""}`;
  let schedule = compiled.get(key);
  if (!schedule) {
    schedule = compileSchedule(source, timeZone, { defaultStartTime });
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, schedule);
  }
  return schedule;
}

/** A job's schedule as the host arms it: the compiled schedule, its zone and its run policies. */
export interface JobSchedule {
  schedule: Schedule;
  timeZone: string;
  policies: SchedulePolicies;
  /** The schedule and zone in canonical JSON: when it changes, the job's schedule starts over. */
  key: string;
}

/**
 * Reads the schedule of a job's settings (`schedule`, `time_zone` and the run policies) with the
 * host's default zone. Null when the job has no schedule. Throws a `bad_settings` WebJobsError
 * whose message names the key and the problem.
 */
export function jobScheduleOf(
  settings: JobSettings,
  hostTimeZone: string,
  defaultStartTime?: Date,
): JobSchedule | null {
  if (settings.schedule === undefined) return null;
  try {
    const timeZone = resolveTimeZone(settings.time_zone ?? hostTimeZone, "time_zone");
    const policies = parsePolicies(settings as Record<string, unknown>);
    // A recurrence without startTime depends on when it was armed; a cron string never does.
    const start = typeof settings.schedule === "string" ? undefined : defaultStartTime;
    const schedule = compileShared(settings.schedule, timeZone, start);
    return { schedule, timeZone, policies, key: scheduleKey(settings.schedule, timeZone) };
  } catch (error) {
    if (error instanceof ScheduleError) {
      throw new WebJobsError(ErrorCode.BadSettings, `settings.job: ${prefixed(error)}`, { cause: error });
    }
    throw error;
  }
}

/** The reason a job's schedule is invalid, or null when it is valid or absent. */
export function scheduleProblem(settings: JobSettings, hostTimeZone: string): string | null {
  try {
    jobScheduleOf(settings, hostTimeZone);
    return null;
  } catch (error) {
    if (error instanceof WebJobsError) return error.message;
    throw error;
  }
}

/** Canonical JSON of the schedule and its zone (object keys sorted, so that key order does not matter). */
function scheduleKey(schedule: unknown, timeZone: string): string {
  return JSON.stringify({ schedule: sortKeys(schedule), timeZone });
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/** ScheduleError messages start with the field they concern; make sure they do. */
function prefixed(error: ScheduleError): string {
  return error.message.startsWith(error.field) ? error.message : `${error.field}: ${error.message}`;
}
