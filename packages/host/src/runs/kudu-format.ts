/** Kudu's text formats (kudu-reference §5, §7): run ids, durations, times and log lines. */

const pad = (value: number, width = 2) => String(value).padStart(width, "0");

/** The UTC start time as `yyyyMMddHHmmssffff` (18 digits; sorts by time). */
export function runIdFor(date: Date): string {
  return (
    `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}` +
    pad(date.getUTCMilliseconds() * 10, 4)
  );
}

/** .NET TimeSpan text: `hh:mm:ss.fffffff`, or `d.hh:mm:ss.fffffff` past a day. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, ms);
  const ticks = Math.round((total % 1000) * 10_000);
  const seconds = Math.floor(total / 1000);
  const days = Math.floor(seconds / 86_400);
  const clock = `${pad(Math.floor(seconds / 3600) % 24)}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}.${pad(ticks, 7)}`;
  return days > 0 ? `${days}.${clock}` : clock;
}

/** .NET round-trip UTC time (`2026-11-23T14:05:09.1230000Z`); null is Kudu's `0001-01-01T00:00:00`. */
export function formatKuduTime(date: Date | null): string {
  if (!date) return "0001-01-01T00:00:00";
  return date.toISOString().replace(/\.(\d{3})Z$/, (_m, ms: string) => `.${ms}0000Z`);
}

export type LogKind = "SYS INFO" | "SYS WARN" | "SYS ERR " | "INFO" | "WARN" | "ERR ";

/** `[MM/dd/yyyy HH:mm:ss > abcdef: KIND] text` in UTC, without the newline. */
export function formatLogLine(date: Date, instanceId: string, kind: LogKind, text: string): string {
  const stamp =
    `${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}/${date.getUTCFullYear()} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `[${stamp} > ${instanceId.slice(0, 6)}: ${kind}] ${text}`;
}
