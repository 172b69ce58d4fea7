import { SdkError } from "./errors.ts";

/** Validation helpers: messages name the option, what was expected and what was received. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return `a ${typeof value}`;
}

export function readInt(
  where: string,
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new SdkError(
      "options",
      `${where}: ${name} must be an integer from ${min} to ${max}, got ${describe(value)}`,
    );
  }
  return value;
}

export function readString(where: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new SdkError("options", `${where}: ${name} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

export function readChoice<T extends string>(
  where: string,
  name: string,
  value: unknown,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) {
    throw new SdkError(
      "options",
      `${where}: ${name} must be one of ${choices.join(", ")}, got ${describe(value)}`,
    );
  }
  return value as T;
}

/** Queue names: 3–63 lower-case letters, digits and single dashes, not at the edges. */
export function checkQueueName(where: string, name: string): void {
  if (!/^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/.test(name) || name.length < 3 || name.length > 63) {
    throw new SdkError(
      "options",
      `${where}: '${name}' is not a valid queue name (3-63 lower-case letters, digits and single dashes)`,
    );
  }
}
