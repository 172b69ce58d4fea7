import { ScheduleError } from "./errors.ts";
import { isPlainObject, readInteger, show } from "./json.ts";

/** The run-policy keys of settings.job (reference §1, §6–§8). */
export interface SchedulePolicies {
  /** What to do with occurrences that passed while the host was down. */
  readonly missedRuns: "skip" | "once" | "all";
  /** How old (seconds) a missed occurrence may be and still run. */
  readonly missedRunsWindowSeconds: number;
  /** What to do when an occurrence comes while a run is still going. */
  readonly overlap: "skip" | "queue" | "replace";
  /** Extra attempts after a scheduled run fails, 0–20. */
  readonly retryCount: number;
  /** Delay before each retry, 1–86 400 s (the base delay with exponential backoff). */
  readonly retryIntervalSeconds: number;
  readonly retryBackoff: "fixed" | "exponential";
}

/** Kudu's behaviour, with the one change of §6 (the window is measured on the newest missed run). */
export const defaultPolicies: SchedulePolicies = Object.freeze({
  missedRuns: "once",
  missedRunsWindowSeconds: 600,
  overlap: "skip",
  retryCount: 0,
  retryIntervalSeconds: 60,
  retryBackoff: "fixed",
});

const MISSED_RUNS = ["skip", "once", "all"] as const;
const OVERLAP = ["skip", "queue", "replace"] as const;
const BACKOFF = ["fixed", "exponential"] as const;
/** The exponential delay never exceeds an hour. */
const MAX_BACKOFF_SECONDS = 3600;

function readChoice<T extends string>(value: unknown, field: string, choices: readonly T[]): T {
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
    throw new ScheduleError(
      field,
      `expected one of ${choices.map((c) => `"${c}"`).join(", ")}, got ${show(value)}`,
    );
  }
  return value as T;
}

/**
 * Reads missed_runs, missed_runs_window, overlap, retry_count, retry_interval and retry_backoff from a
 * settings.job object; absent keys take their defaults, other keys are ignored (the caller keeps and
 * echoes them). A wrong type or value throws ScheduleError naming the key.
 */
export function parsePolicies(settings: Record<string, unknown>): SchedulePolicies {
  if (!isPlainObject(settings))
    throw new ScheduleError("settings", `expected an object, got ${show(settings)}`);
  const d = defaultPolicies;
  const has = (key: string): boolean => settings[key] !== undefined;
  return Object.freeze({
    missedRuns: has("missed_runs")
      ? readChoice(settings.missed_runs, "missed_runs", MISSED_RUNS)
      : d.missedRuns,
    missedRunsWindowSeconds: has("missed_runs_window")
      ? readInteger(settings.missed_runs_window, "missed_runs_window", 0, Number.MAX_SAFE_INTEGER)
      : d.missedRunsWindowSeconds,
    overlap: has("overlap") ? readChoice(settings.overlap, "overlap", OVERLAP) : d.overlap,
    retryCount: has("retry_count") ? readInteger(settings.retry_count, "retry_count", 0, 20) : d.retryCount,
    retryIntervalSeconds: has("retry_interval")
      ? readInteger(settings.retry_interval, "retry_interval", 1, 86_400)
      : d.retryIntervalSeconds,
    retryBackoff: has("retry_backoff")
      ? readChoice(settings.retry_backoff, "retry_backoff", BACKOFF)
      : d.retryBackoff,
  });
}

/**
 * Seconds to wait before retry number `retryNumber`, counted from 1 (the first retry is 1, as in the
 * trigger text "Retry 1/N"). Fixed: retry_interval. Exponential: min(retry_interval × 2^(k−1), 3600),
 * i.e. interval, 2 × interval, 4 × interval, … capped at an hour — the reference's formula with k = the
 * retry number (the same as "attempt k waits interval × 2^(k−2)" when k counts attempts and the first
 * retry is attempt 2).
 */
export function retryDelaySeconds(policies: SchedulePolicies, retryNumber: number): number {
  const k = readInteger(retryNumber, "retryNumber", 1, Number.MAX_SAFE_INTEGER);
  const interval = policies.retryIntervalSeconds;
  if (policies.retryBackoff !== "exponential") return interval;
  // 2^(k−1) overflows to Infinity for large k, which min() handles.
  return Math.min(interval * 2 ** (k - 1), MAX_BACKOFF_SECONDS);
}
