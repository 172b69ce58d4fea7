/** The six NCRONTAB fields, in order, with their ranges and (for month and day-of-week) names. */

export const MONTH_NAMES = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
] as const;

export const DAY_NAMES = [
  "Sunday",
  "Monday",
  "Tuesday",
  "Wednesday",
  "Thursday",
  "Friday",
  "Saturday",
] as const;

export interface FieldSpec {
  /** The name used in messages: "second", "day-of-week", … */
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Full English names in calendar order, index 0 = `min`; names are matched by prefix. */
  readonly names?: readonly string[];
}

export const FIELD_SPECS = [
  { name: "second", min: 0, max: 59 },
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTH_NAMES },
  { name: "day-of-week", min: 0, max: 6, names: DAY_NAMES },
] as const satisfies readonly FieldSpec[];

/** The parsed value sets, each sorted ascending without duplicates. */
export interface CronFields {
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly days: readonly number[];
  readonly months: readonly number[];
  /** 0 = Sunday. */
  readonly daysOfWeek: readonly number[];
}

export function isFullField(values: readonly number[], spec: FieldSpec): boolean {
  return values.length === spec.max - spec.min + 1;
}
