import { ScheduleError } from "./errors.ts";

/** A JSON object: not null, not an array, not a Date or other class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === "[object Object]";
}

/** How a JSON value is named in messages ("got array", "got null"). */
export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return typeof value === "object" ? "object" : typeof value;
}

/** Shows a received value briefly, so that a message stays one line even for a huge input. */
export function show(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "string" ? `'${value}'` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = describeType(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * A copy without undefined-valued keys. JSON cannot express undefined, but JavaScript callers build
 * objects such as `{ count: undefined }` and mean "no count".
 */
export function withoutUndefined(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

/** An integer within [min, max]; JSON has one number type, so 2.0 is accepted as 2. */
export function readInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new ScheduleError(field, `expected an integer ${range}, got ${show(value)}`);
  }
  return value;
}

/** Rejects keys outside `allowed`, suggesting the right spelling when only the case differs. */
export function rejectUnknownKeys(
  object: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
): void {
  for (const key of Object.keys(object)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((name) => name.toLowerCase() === key.toLowerCase());
    const hint = near ? ` (the key is ${near})` : ` (allowed: ${allowed.join(", ")})`;
    throw new ScheduleError(`${path}.${key}`, `unknown key '${key}'${hint}`);
  }
}
