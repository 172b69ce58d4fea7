/**
 * An independent reading of wall-clock time for the property tests: its own Intl formatter and Date
 * arithmetic, sharing no code with src/time. Valid for modern dates only.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock reading at `instant`, encoded as a UTC millisecond value. */
export function wallClock(zone: string, instant: number): number {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((p) => [p.type, Number(p.value)]));
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour % 24, parts.minute, parts.second);
}

/** The fields of a wall-clock reading, day-of-week 0 = Sunday. */
export function fieldsOf(local: number): {
  second: number;
  minute: number;
  hour: number;
  day: number;
  month: number;
  weekday: number;
} {
  const d = new Date(local);
  return {
    second: d.getUTCSeconds(),
    minute: d.getUTCMinutes(),
    hour: d.getUTCHours(),
    day: d.getUTCDate(),
    month: d.getUTCMonth() + 1,
    weekday: d.getUTCDay(),
  };
}
