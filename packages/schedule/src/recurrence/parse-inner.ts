import { DAY_NAMES } from "../cron/fields.ts";
import { ScheduleError } from "../errors.ts";
import { isPlainObject, readInteger, rejectUnknownKeys, show, withoutUndefined } from "../json.ts";
import type { Frequency, InnerSchedule, MonthlyOccurrence } from "./spec.ts";

const PATH = "schedule.schedule";

/** Which frequencies each inner key is allowed with (reference §3). */
const ALLOWED_WITH: Readonly<Record<keyof InnerSchedule, readonly Frequency[]>> = {
  minutes: ["Day", "Week", "Month"],
  hours: ["Day", "Week", "Month"],
  weekDays: ["Week"],
  monthDays: ["Month"],
  monthlyOccurrences: ["Month"],
};
const INNER_KEYS = Object.keys(ALLOWED_WITH) as (keyof InnerSchedule)[];

export function parseInnerSchedule(raw: unknown, frequency: Frequency): InnerSchedule {
  if (!isPlainObject(raw)) throw new ScheduleError(PATH, `expected an object, got ${show(raw)}`);
  const value = withoutUndefined(raw);
  if (frequency === "Minute" || frequency === "Hour") {
    throw new ScheduleError(
      PATH,
      `not allowed with frequency ${frequency} (Minute and Hour take no inner schedule)`,
    );
  }
  rejectUnknownKeys(value, INNER_KEYS, PATH);
  for (const key of INNER_KEYS) {
    const allowed = ALLOWED_WITH[key];
    if (key in value && !allowed.includes(frequency)) {
      const names = allowed.length === 1 ? `frequency ${allowed[0]}` : `frequencies ${allowed.join(", ")}`;
      throw new ScheduleError(`${PATH}.${key}`, `only allowed with ${names}`);
    }
  }
  const inner: {
    -readonly [K in keyof InnerSchedule]: InnerSchedule[K];
  } = {};
  if ("minutes" in value) inner.minutes = readIntegers(value.minutes, `${PATH}.minutes`, 0, 59, true);
  if ("hours" in value) inner.hours = readIntegers(value.hours, `${PATH}.hours`, 0, 23, true);
  if ("weekDays" in value) inner.weekDays = readWeekDays(value.weekDays);
  if ("monthDays" in value) inner.monthDays = readMonthDays(value.monthDays);
  if ("monthlyOccurrences" in value) inner.monthlyOccurrences = readOccurrences(value.monthlyOccurrences);
  return inner;
}

function readArray(value: unknown, field: string, what: string): unknown[] {
  if (!Array.isArray(value))
    throw new ScheduleError(field, `expected an array of ${what}, got ${show(value)}`);
  if (value.length === 0) throw new ScheduleError(field, "must not be empty");
  return value;
}

const sortedUnique = (values: number[]): number[] => [...new Set(values)].sort((a, b) => a - b);

function readIntegers(value: unknown, field: string, min: number, max: number, single: boolean): number[] {
  if (single && typeof value === "number") return [readInteger(value, field, min, max)];
  const items = readArray(value, field, `integers ${min}-${max}`);
  return sortedUnique(items.map((item, i) => readInteger(item, `${field}[${i}]`, min, max)));
}

/** Full English day names only, any case ("monday"); prefixes such as "Mon" are invalid here. */
function readDayName(value: unknown, field: string): number {
  const index =
    typeof value === "string"
      ? DAY_NAMES.findIndex((name) => name.toLowerCase() === value.toLowerCase())
      : -1;
  if (index < 0) {
    throw new ScheduleError(
      field,
      `expected a full English day name (Sunday … Saturday), got ${show(value)}`,
    );
  }
  return index;
}

function readWeekDays(value: unknown): number[] {
  const field = `${PATH}.weekDays`;
  return sortedUnique(
    readArray(value, field, "day names").map((item, i) => readDayName(item, `${field}[${i}]`)),
  );
}

function readMonthDays(value: unknown): number[] {
  const field = `${PATH}.monthDays`;
  const items = readArray(value, field, "days (1…31 or −1…−31)");
  return sortedUnique(items.map((item, i) => readSignedOrdinal(item, `${field}[${i}]`, 31, "a day")));
}

/** 1…limit, or −1…−limit counting from the end (−1 = last). */
function readSignedOrdinal(value: unknown, field: string, limit: number, what: string): number {
  const ranges = `1..${limit} or -1..-${limit}`;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new ScheduleError(field, `expected an integer ${ranges}, got ${show(value)}`);
  }
  if (value === 0) throw new ScheduleError(field, `0 is not ${what}; use ${ranges} (-1 = the last)`);
  if (Math.abs(value) > limit) throw new ScheduleError(field, `${value} is out of range ${ranges}`);
  return value;
}

function readOccurrences(value: unknown): MonthlyOccurrence[] {
  const field = `${PATH}.monthlyOccurrences`;
  const items = readArray(value, field, '{"day", "occurrence"} objects');
  const seen = new Map<string, MonthlyOccurrence>();
  items.forEach((raw, i) => {
    const at = `${field}[${i}]`;
    if (!isPlainObject(raw)) {
      throw new ScheduleError(at, `expected an object {"day", "occurrence"}, got ${show(raw)}`);
    }
    const item = withoutUndefined(raw);
    rejectUnknownKeys(item, ["day", "occurrence"], at);
    const weekday = readDayName(item.day, `${at}.day`);
    let occurrence: number | null = null;
    if ("occurrence" in item)
      occurrence = readSignedOrdinal(item.occurrence, `${at}.occurrence`, 5, "an occurrence");
    seen.set(`${weekday}/${occurrence}`, { weekday, occurrence });
  });
  return [...seen.values()];
}
