import { formatClock } from "../time/civil.ts";
import {
  type CronFields,
  DAY_NAMES,
  FIELD_SPECS,
  type FieldSpec,
  MONTH_NAMES,
  isFullField,
} from "./fields.ts";
import { joinWords } from "./parse.ts";

/** How a field's value set reads best: every value, a step from a start, a run, or a list. */
type Shape =
  | { readonly kind: "all" }
  | { readonly kind: "step"; readonly start: number; readonly step: number }
  | { readonly kind: "range"; readonly first: number; readonly last: number }
  | { readonly kind: "list"; readonly values: readonly number[] };

function shapeOf(values: readonly number[], spec: FieldSpec): Shape {
  if (isFullField(values, spec)) return { kind: "all" };
  const n = values.length;
  if (n >= 3 && values[n - 1] - values[0] === n - 1)
    return { kind: "range", first: values[0], last: values[n - 1] };
  // A step reads as "every n" only when it runs to the end of the field, like "*/15" or "5/15"; two
  // values read as a step only from the field's start ("*/30" is "every 30 minutes", "5,35" a list).
  if (n >= 3 || (n === 2 && values[0] === spec.min)) {
    const step = values[1] - values[0];
    const regular = values.every((v, i) => v === values[0] + i * step);
    if (regular && values[0] - spec.min < step && values[n - 1] + step > spec.max) {
      return { kind: "step", start: values[0], step };
    }
  }
  return { kind: "list", values };
}

const plural = (count: number, unit: string): string => (count === 1 ? unit : `${count} ${unit}s`);
const list = (values: readonly number[]): string => joinWords(values.map(String), "and");
const hourClock = (hour: number): string => formatClock(hour, 0);

/** Plain English for a cron schedule, e.g. "Every 15 minutes" or "At 02:30, Monday through Friday". */
export function describeCron(fields: CronFields): string {
  const parts = [describeTime(fields), describeDays(fields), describeMonths(fields.months)].filter(
    (part): part is string => part !== null,
  );
  const text = parts.join(", ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function describeTime(fields: CronFields): string {
  const [secondSpec, minuteSpec, hourSpec] = FIELD_SPECS;
  const s = shapeOf(fields.seconds, secondSpec);
  const m = shapeOf(fields.minutes, minuteSpec);
  const h = shapeOf(fields.hours, hourSpec);
  const second = fields.seconds.length === 1 ? fields.seconds[0] : undefined;

  // A few wall-clock times read best as a list: "at 08:30, 12:30 and 18:30".
  const listable = (shape: Shape, values: readonly number[]): boolean =>
    shape.kind === "list" || (shape.kind !== "all" && values.length <= 2);
  if (
    listable(s, fields.seconds) &&
    listable(m, fields.minutes) &&
    listable(h, fields.hours) &&
    fields.seconds.length * fields.minutes.length * fields.hours.length <= 8
  ) {
    const times = fields.hours.flatMap((hour) =>
      fields.minutes.flatMap((minute) => fields.seconds.map((sec) => formatClock(hour, minute, sec))),
    );
    return `at ${joinWords(times, "and")}`;
  }

  const hourPart = describeHours(h);
  if (second !== undefined && second !== 0 && fields.minutes.length === 1) {
    return `at second ${second} of minute ${fields.minutes[0]}, ${hourPart ?? "every hour"}`;
  }
  if (second !== 0) {
    let text: string;
    if (s.kind === "all") text = "every second";
    else if (s.kind === "step") {
      text = `every ${plural(s.step, "second")}${s.start === 0 ? "" : `, starting at second ${s.start}`}`;
    } else if (s.kind === "range") text = `seconds ${s.first} through ${s.last} of every minute`;
    else text = `at ${fields.seconds.length === 1 ? "second" : "seconds"} ${list(s.values)} of every minute`;
    const minutePart = m.kind === "all" ? null : describeMinutes(m, fields.minutes);
    return [text, minutePart, hourPart].filter((part) => part !== null).join(", ");
  }
  if (m.kind === "list" && fields.minutes.length === 1) {
    const minute = fields.minutes[0];
    if (minute === 0 && h.kind === "all") return "every hour";
    if (minute === 0 && h.kind === "step") return describeHours(h)!;
    return [`at ${plural(minute, "minute")} past the hour`, hourPart]
      .filter((part) => part !== null)
      .join(", ");
  }
  return [describeMinutes(m, fields.minutes), hourPart].filter((part) => part !== null).join(", ");
}

function describeMinutes(m: Shape, minutes: readonly number[]): string {
  switch (m.kind) {
    case "all":
      return "every minute";
    case "step":
      return `every ${plural(m.step, "minute")}${m.start === 0 ? "" : `, starting at minute ${m.start}`}`;
    case "range":
      return `minutes ${m.first} through ${m.last} past the hour`;
    case "list":
      return `at ${minutes.length === 1 ? "minute" : "minutes"} ${list(m.values)} past the hour`;
  }
}

function describeHours(h: Shape): string | null {
  switch (h.kind) {
    case "all":
      return null;
    case "step":
      return `every ${plural(h.step, "hour")}${h.start === 0 ? "" : `, starting at ${hourClock(h.start)}`}`;
    case "range":
      return `between ${hourClock(h.first)} and ${formatClock(h.last, 59)}`;
    case "list":
      return h.values.length === 1
        ? `between ${hourClock(h.values[0])} and ${formatClock(h.values[0], 59)}`
        : `during the hours ${joinWords(h.values.map(hourClock), "and")}`;
  }
}

function describeDays(fields: CronFields): string | null {
  const day = shapeOf(fields.days, FIELD_SPECS[3]);
  const weekday = shapeOf(fields.daysOfWeek, FIELD_SPECS[5]);
  const names = fields.daysOfWeek.map((d) => DAY_NAMES[d]);
  let dayPart: string | null = null;
  if (day.kind === "range") dayPart = `on days ${day.first} through ${day.last} of the month`;
  else if (day.kind === "step") {
    dayPart = `every ${plural(day.step, "day")} of the month${day.start === 1 ? "" : `, starting on day ${day.start}`}`;
  } else if (day.kind === "list") {
    dayPart = `on ${fields.days.length === 1 ? "day" : "days"} ${list(day.values)} of the month`;
  }
  if (weekday.kind === "all") return dayPart;
  const through =
    weekday.kind === "range" ? `${DAY_NAMES[weekday.first]} through ${DAY_NAMES[weekday.last]}` : null;
  // Both fields must match (AND, reference §2), so with a day the weekday reads as a condition.
  if (dayPart !== null) {
    return `${dayPart}, if it falls on ${through ?? `a ${joinWords(names, "or")}`}`;
  }
  return through ?? `only on ${joinWords(names, "and")}`;
}

function describeMonths(months: readonly number[]): string | null {
  const shape = shapeOf(months, FIELD_SPECS[4]);
  if (shape.kind === "all") return null;
  if (shape.kind === "range") return `${MONTH_NAMES[shape.first - 1]} through ${MONTH_NAMES[shape.last - 1]}`;
  return `only in ${joinWords(
    months.map((month) => MONTH_NAMES[month - 1]),
    "and",
  )}`;
}
