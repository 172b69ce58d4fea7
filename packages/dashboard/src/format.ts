/** Human-readable times and sizes. */

/** `850 ms`, `1.2 s`, `3 min 4 s`, `1 h 2 min`, `2 d 3 h`. */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1).replace(/\.0$/, "")} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  const hours = Math.floor(minutes / 60);
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** Kudu's times (`2026-11-23T14:05:09.1230000Z`; `0001-01-01T00:00:00` means none) as a Date. */
export function parseTime(text: string | null | undefined): Date | null {
  if (!text || text.startsWith("0001-01-01")) return null;
  const date = new Date(text.replace(/(\.\d{3})\d*Z$/, "$1Z"));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The exact instant, for a title on hover: `2026-11-23 14:05:09.123 UTC`. */
export function exactUtc(date: Date | null): string {
  return date ? date.toISOString().replace("T", " ").replace("Z", " UTC") : "";
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** `5 min ago`, `in 2 h`, or a date past a week. */
export function whenText(date: Date | null, now = Date.now()): string {
  if (!date) return "—";
  const diff = date.getTime() - now;
  const abs = Math.abs(diff);
  if (abs < 45_000) return diff < 0 ? "just now" : "in a few seconds";
  if (abs < 3_600_000) return relative.format(Math.round(diff / 60_000), "minute");
  if (abs < 86_400_000) return relative.format(Math.round(diff / 3_600_000), "hour");
  if (abs < 7 * 86_400_000) return relative.format(Math.round(diff / 86_400_000), "day");
  return date.toISOString().slice(0, 10);
}

export function bytes(n: number | null | undefined): string {
  if (n == null) return "—";
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `External - Mozilla/5.0 (…)` → `External - Mozilla`; the full text goes in a title. */
export function shortTrigger(trigger: string): string {
  const match = /^(\w[\w ]*?) - (.*)$/.exec(trigger);
  if (!match) return trigger;
  const [, source, detail] = match;
  if (source === "Schedule") return `Schedule - ${detail}`;
  const agent = /^([\w.-]+)(?:\/[\w.]+)?/.exec(detail);
  const known =
    /(Firefox|Edg|Chrome|Safari|curl|webjobs-cli|node|python-requests|HeadlessChrome)\/[\d.]+/.exec(detail);
  return `${source} - ${known ? known[1] : (agent?.[1] ?? detail)}`;
}
