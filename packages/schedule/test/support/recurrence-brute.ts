/**
 * A day-by-day reading of reference §3 for UTC recurrences, written independently of src/recurrence:
 * it walks calendar days with Date, decides whether each day is active, and lists its times.
 */
const DAY = 86_400_000;
const DAY_NAMES = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

export interface RecurrenceObject {
  frequency: "Minute" | "Hour" | "Day" | "Week" | "Month";
  interval?: number;
  startTime: string; // with Z
  endTime?: string;
  count?: number;
  schedule?: {
    hours?: number[];
    minutes?: number[];
    weekDays?: string[];
    monthDays?: number[];
    monthlyOccurrences?: { day: string; occurrence?: number }[];
  };
}

/** Occurrences from startTime up to `until` (inclusive), honouring count and endTime. */
export function bruteRecurrence(r: RecurrenceObject, until: number): number[] {
  const start = Date.parse(r.startTime);
  const interval = r.interval ?? 1;
  const end = r.endTime ? Date.parse(r.endTime) : Infinity;
  const limit = Math.min(until, end);
  const out: number[] = [];
  const push = (t: number): boolean => {
    if (t > limit || (r.count !== undefined && out.length >= r.count)) return false;
    out.push(t);
    return true;
  };
  if (r.frequency === "Minute" || r.frequency === "Hour") {
    const step = interval * (r.frequency === "Minute" ? 60_000 : 3_600_000);
    for (let t = start; push(t); t += step);
    return out;
  }
  const s = new Date(start);
  const inner = r.schedule ?? {};
  const hours = inner.hours ?? [s.getUTCHours()];
  const minutes = inner.minutes ?? [s.getUTCMinutes()];
  const times = [
    ...new Set(hours.flatMap((h) => minutes.map((m) => (h * 3600 + m * 60 + s.getUTCSeconds()) * 1000))),
  ];
  times.sort((a, b) => a - b);
  const startDay = Date.UTC(s.getUTCFullYear(), s.getUTCMonth(), s.getUTCDate());
  const weekStart = startDay - ((s.getUTCDay() + 6) % 7) * DAY;
  const weekDays = (inner.weekDays ?? [DAY_NAMES[s.getUTCDay()]]).map((d) =>
    DAY_NAMES.indexOf(d.toLowerCase()),
  );
  for (let day = startDay; day <= limit; day += DAY) {
    const d = new Date(day);
    let active: boolean;
    if (r.frequency === "Day") active = ((day - startDay) / DAY) % interval === 0;
    else if (r.frequency === "Week") {
      active = Math.floor((day - weekStart) / (7 * DAY)) % interval === 0 && weekDays.includes(d.getUTCDay());
    } else {
      const months = d.getUTCFullYear() * 12 + d.getUTCMonth() - (s.getUTCFullYear() * 12 + s.getUTCMonth());
      active = months % interval === 0 && monthDayActive(r, d, s.getUTCDate());
    }
    if (!active) continue;
    for (const t of times) {
      if (day + t >= start && !push(day + t)) return out;
    }
  }
  return out;
}

function monthDayActive(r: RecurrenceObject, d: Date, startDate: number): boolean {
  const inner = r.schedule ?? {};
  const length = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  const date = d.getUTCDate();
  const explicit = inner.monthDays !== undefined || inner.monthlyOccurrences !== undefined;
  const monthDays = explicit ? (inner.monthDays ?? []) : [startDate];
  if (monthDays.some((m) => (m > 0 ? m === date : length + 1 + m === date))) return true;
  const nth = Math.ceil(date / 7);
  const nthFromEnd = Math.ceil((length - date + 1) / 7);
  return (inner.monthlyOccurrences ?? []).some(
    (o) =>
      DAY_NAMES.indexOf(o.day.toLowerCase()) === d.getUTCDay() &&
      (o.occurrence === undefined || o.occurrence === nth || o.occurrence === -nthFromEnd),
  );
}
