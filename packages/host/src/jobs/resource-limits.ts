/**
 * The resource limits a job may ask for in `settings.job`: `memory_limit` (bytes, or a size such
 * as "256M", "1.5G", "512MiB") and `cpu_limit` (CPUs, e.g. 0.5 for half a core). Parsed here,
 * enforced by runs/containment/.
 */
const MIB = 1024 * 1024;
export const MIN_MEMORY_LIMIT = 4 * MIB;
// More than any machine has; beyond it a number stops being exact.
export const MAX_MEMORY_LIMIT = 2 ** 50;
export const MIN_CPU_LIMIT = 0.01;
export const MAX_CPU_LIMIT = 1024;

const UNITS: Record<string, number> = { "": 1, k: 1024, m: MIB, g: 1024 * MIB, t: 1024 * 1024 * MIB };

/** Bytes for a `memory_limit` value, or null when it is not a size in range. */
export function memoryLimitBytes(value: unknown): number | null {
  let bytes: number;
  if (typeof value === "number") {
    bytes = value;
  } else if (typeof value === "string") {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(value);
    if (!match) return null;
    bytes = Math.floor(Number(match[1]) * UNITS[match[2].toLowerCase()]);
  } else {
    return null;
  }
  return Number.isInteger(bytes) && bytes >= MIN_MEMORY_LIMIT && bytes <= MAX_MEMORY_LIMIT ? bytes : null;
}

export const isCpuLimit = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && value >= MIN_CPU_LIMIT && value <= MAX_CPU_LIMIT;

/** `268435456` → "256 MiB", for messages and run reasons. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ["GiB", 1024 * MIB],
    ["MiB", MIB],
    ["KiB", 1024],
  ] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(2))} ${unit}`;
  }
  return `${bytes} bytes`;
}
