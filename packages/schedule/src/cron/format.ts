import { type CronFields, FIELD_SPECS, type FieldSpec } from "./fields.ts";

/**
 * The expanded form NCrontab's CrontabSchedule.ToString() prints, so that trigger texts such as
 * "Schedule - 0 0,15,30,45 * * * *" read as in Kudu. As in NCrontab's CrontabFieldImpl.Format (with
 * noNames = true): each field lists its values in ascending order, runs of consecutive values are
 * collapsed to "a-b" (even runs of two), a field holding every value is written "*", and month and
 * day-of-week are written as numbers, never names.
 */
export function formatNcrontab(fields: CronFields): string {
  const sets = [fields.seconds, fields.minutes, fields.hours, fields.days, fields.months, fields.daysOfWeek];
  return sets.map((values, i) => formatField(values, FIELD_SPECS[i])).join(" ");
}

function formatField(values: readonly number[], spec: FieldSpec): string {
  const parts: string[] = [];
  let i = 0;
  while (i < values.length) {
    const first = values[i];
    while (i + 1 < values.length && values[i + 1] === values[i] + 1) i++;
    const last = values[i];
    i++;
    if (parts.length === 0 && first === spec.min && last === spec.max) return "*";
    parts.push(first === last ? `${first}` : `${first}-${last}`);
  }
  return parts.join(",");
}
