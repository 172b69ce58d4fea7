import { LOCAL_LIMIT, localMs } from "./civil.ts";

/**
 * Instants the engine reasons about: years 1 to 9999. A query before that starts from year 1; nothing
 * is ever returned after it (the series is treated as over).
 */
export const FIRST_INSTANT = localMs(1, 1, 2);
export const LAST_INSTANT = LOCAL_LIMIT - 1;

/** Where a search for the next occurrence after `after` starts, or null when it is past the range. */
export function searchFrom(after: number): number | null {
  return after >= LAST_INSTANT ? null : Math.max(after, FIRST_INSTANT);
}
