import { ErrorCode, WebJobsError } from "../errors.ts";

// A job name becomes a folder name and a URL segment, so it is held to characters that are safe
// in both on every platform: no dots (no `..`, no hidden folders), no separators, no spaces.
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
export const MAX_JOB_NAME_LENGTH = 128;

/** Throws a `bad_name` WebJobsError unless `name` can be used as a job's folder and URL name. */
export function validateJobName(name: string): void {
  if (name.length > MAX_JOB_NAME_LENGTH) {
    // Quote only the start: echoing a megabyte-long name back helps nobody.
    const shown = `${name.slice(0, 32)}…`;
    throw new WebJobsError(
      ErrorCode.BadName,
      `Invalid job name '${shown}': a name must be at most ${MAX_JOB_NAME_LENGTH} characters long, this one has ${name.length}.`,
    );
  }
  if (!NAME_PATTERN.test(name)) {
    throw new WebJobsError(
      ErrorCode.BadName,
      `Invalid job name '${name}': a name must start with a letter or digit and hold only letters, digits, '-' and '_'.`,
    );
  }
}
