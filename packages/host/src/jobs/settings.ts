import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { ErrorCode, WebJobsError } from "../errors.ts";
import { jsonTooDeep, refuseProtoKeys } from "../limits/json-depth.ts";
import {
  formatBytes,
  isCpuLimit,
  MAX_CPU_LIMIT,
  memoryLimitBytes,
  MIN_CPU_LIMIT,
  MIN_MEMORY_LIMIT,
} from "./resource-limits.ts";

/**
 * `settings.job`, the JSON file next to a job's script (kudu-reference §3). Kudu silently ignores
 * a value of the wrong type, so `"60"` for a number quietly means "default"; we refuse it with a
 * message naming the key, so the mistake shows at deploy time instead of at the first shutdown.
 */
// Timers take at most 2^31 - 1 ms; a longer delay would fire at once (after 1 ms).
const MAX_TIMER_SECONDS = 2_147_483;
const seconds = z.number().int().max(MAX_TIMER_SECONDS);

// Every key is optional, and unknown keys are kept: the API returns them unchanged, as Kudu does.
const settingsSchema = z.looseObject({
  // A 6-field NCRONTAB string or a recurrence object; its meaning is checked by schedules/.
  schedule: z.union([z.string(), z.looseObject({})]).optional(),
  time_zone: z.string().optional(),
  // The run policies of scheduled jobs (missed_runs, overlap, retry_*) are checked, with precise
  // messages, by the schedule engine (schedules/job-schedule.ts).
  is_singleton: z.boolean().optional(),
  stopping_wait_time: seconds.min(0).optional(),
  is_in_place: z.boolean().optional(),
  run_mode: z.string().optional(),
  shutdownGraceTimeLimit: z.number().min(0).optional(),
  // Ours: the total time a triggered run may take before it is aborted.
  time_limit: seconds.min(1).optional(),
  // Ours: overrides the host's WEBJOBS_IDLE_TIMEOUT for this job.
  idle_timeout: seconds.min(1).optional(),
  // Ours: resource limits of each run (jobs/resource-limits.ts, enforced by runs/containment/).
  memory_limit: z
    .union([z.number(), z.string()])
    .refine((value) => memoryLimitBytes(value) !== null)
    .optional(),
  cpu_limit: z.number().refine(isCpuLimit).optional(),
});
type KnownKey = keyof typeof settingsSchema.shape;

// What each key must hold, in the words the error message uses. Typed by the schema so a new key
// cannot be added without its description.
const expected: Record<KnownKey, string> = {
  schedule: "a 6-field NCRONTAB string or a recurrence object",
  time_zone: "a time zone name (IANA, such as Europe/Paris, or Windows, such as Romance Standard Time)",
  is_singleton: "true or false",
  stopping_wait_time: `a whole number of seconds (0 to ${MAX_TIMER_SECONDS})`,
  is_in_place: "true or false",
  run_mode: "a string",
  shutdownGraceTimeLimit: "a number of seconds (0 or more)",
  time_limit: `a whole number of seconds (1 to ${MAX_TIMER_SECONDS})`,
  idle_timeout: `a whole number of seconds (1 to ${MAX_TIMER_SECONDS})`,
  memory_limit: `a number of bytes or a size such as "256M" or "1.5G" (${formatBytes(MIN_MEMORY_LIMIT)} or more)`,
  cpu_limit: `a number of CPUs such as 0.5 or 2 (${MIN_CPU_LIMIT} to ${MAX_CPU_LIMIT})`,
};

export type JobSettings = z.infer<typeof settingsSchema>;

/** Parses the text of a `settings.job` file; throws a `bad_settings` WebJobsError when it is wrong. */
export function parseSettings(text: string): JobSettings {
  // Windows editors save JSON with a byte-order mark, and Kudu (.NET) accepts one.
  const body = text.replace(/^\uFEFF/, "");
  // An empty settings.job is common (a placeholder file) and Kudu treats it as "no settings".
  if (body.trim() === "") return {};
  const tooDeep = jsonTooDeep(body, "settings.job");
  if (tooDeep) throw new WebJobsError(ErrorCode.BadSettings, tooDeep);

  let value: unknown;
  try {
    value = JSON.parse(body, refuseProtoKeys);
  } catch (error) {
    throw new WebJobsError(
      ErrorCode.BadSettings,
      `settings.job is not valid JSON: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WebJobsError(
      ErrorCode.BadSettings,
      `settings.job must be a JSON object, got ${describe(value)}`,
    );
  }

  const result = settingsSchema.safeParse(value);
  if (result.success) return result.data;

  const record = value as Record<string, unknown>;
  const problems = [...new Set(result.error.issues.map((issue) => String(issue.path[0])))].map((key) => {
    const want = expected[key as KnownKey] ?? "a valid value";
    return `"${key}" must be ${want}, got ${describe(record[key])}`;
  });
  throw new WebJobsError(ErrorCode.BadSettings, `settings.job: ${problems.join("; ")}`);
}

/**
 * Reads `settings.job` from the folder holding the job's script. The name is matched without
 * regard to case because Kudu runs on Windows, where `Settings.job` is the same file.
 */
export function readSettingsFile(root: string): JobSettings {
  const candidates = readdirSync(root)
    .filter((name) => name.toLowerCase() === "settings.job")
    // On a case-sensitive disk two spellings can coexist: prefer the canonical one.
    .sort((a, b) => Number(b === "settings.job") - Number(a === "settings.job") || (a < b ? -1 : 1));
  const file = candidates.map((name) => path.join(root, name)).find((full) => statSync(full).isFile());
  if (!file) return {};
  return parseSettings(readFileSync(file, "utf8"));
}

/** Names a received JSON value for an error message: `the string "60"`, `the number -1`, `an array`. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return `the string ${JSON.stringify(value)}`;
    case "number":
      return `the number ${value}`;
    case "boolean":
      return `the boolean ${value}`;
    case "object":
      return "an object";
    default:
      return String(value);
  }
}
