/**
 * Proleptic Gregorian calendar arithmetic on "local milliseconds": a wall-clock reading encoded as if
 * it were a UTC instant (days since 1970-01-01 × 86 400 000 + time of day). Schedules are matched on
 * this scale, then turned into instants by the zone (see zone.ts). Date.UTC is avoided because it maps
 * years 0–99 to 1900–1999.
 */

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** The supported calendar: local times and instants outside years 1–9999 are out of scope. */
export const MIN_YEAR = 1;
export const MAX_YEAR = 9999;

export interface CivilDate {
  readonly year: number;
  readonly month: number; // 1–12
  readonly day: number; // 1–31
}

export interface CivilDateTime extends CivilDate {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

export function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const MONTH_LENGTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : MONTH_LENGTHS[month - 1];
}

/** Days since 1970-01-01 (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): CivilDate {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** 0 = Sunday … 6 = Saturday; 1970-01-01 was a Thursday. */
export function weekdayOfDays(days: number): number {
  return (((days + 4) % 7) + 7) % 7;
}

export function localMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  return daysFromCivil(year, month, day) * DAY_MS + hour * HOUR_MS + minute * MINUTE_MS + second * SECOND_MS;
}

export function civilFromLocalMs(local: number): CivilDateTime {
  const days = floorDiv(local, DAY_MS);
  const secondOfDay = Math.floor((local - days * DAY_MS) / SECOND_MS);
  return {
    ...civilFromDays(days),
    hour: Math.floor(secondOfDay / 3600),
    minute: Math.floor(secondOfDay / 60) % 60,
    second: secondOfDay % 60,
  };
}

/** Rounds up to a whole second: schedules have one-second precision. */
export function ceilToSecond(ms: number): number {
  return Math.ceil(ms / SECOND_MS) * SECOND_MS;
}

export function floorToSecond(ms: number): number {
  return Math.floor(ms / SECOND_MS) * SECOND_MS;
}

/** The first local millisecond of year MAX_YEAR + 1: searches stop there. */
export const LOCAL_LIMIT = localMs(MAX_YEAR + 1, 1, 1);

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** "2026-01-07 09:00", with ":ss" only when the seconds are not zero. */
export function formatLocal(local: number): string {
  const c = civilFromLocalMs(local);
  return `${pad(c.year, 4)}-${pad(c.month)}-${pad(c.day)} ${formatClock(c.hour, c.minute, c.second)}`;
}

/** "09:00" or "09:00:30". */
export function formatClock(hour: number, minute: number, second = 0): string {
  return `${pad(hour)}:${pad(minute)}${second === 0 ? "" : `:${pad(second)}`}`;
}
