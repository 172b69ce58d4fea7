import { DAY_NAMES } from "../cron/fields.ts";
import { joinWords } from "../cron/parse.ts";
import {
  DAY_MS,
  civilFromLocalMs,
  floorDiv,
  formatClock,
  formatLocal,
  weekdayOfDays,
} from "../time/civil.ts";
import type { Zone } from "../time/zone.ts";
import type { RecurrenceSpec } from "./spec.ts";

const ORDINALS = ["first", "second", "third", "fourth", "fifth"];
const MAX_LISTED_TIMES = 6;

/**
 * Plain English for a recurrence, e.g. "Every 2 weeks on Monday and Friday at 09:00, starting
 * 2026-01-07 09:00 (Europe/Paris), 20 times". Dates are wall-clock times in the schedule's zone.
 */
export function describeRecurrence(spec: RecurrenceSpec, zone: Zone): string {
  const startLocal = zone.localAt(spec.start);
  const starting = `${formatLocal(startLocal)} (${zone.name})`;
  if (spec.frequency === null) return `Once at ${starting}`;

  const unit = spec.frequency.toLowerCase();
  let text = spec.interval === 1 ? `Every ${unit}` : `Every ${spec.interval} ${unit}s`;
  if (spec.frequency !== "Minute" && spec.frequency !== "Hour") {
    const start = civilFromLocalMs(startLocal);
    if (spec.frequency === "Week") {
      // Monday first, as weeks run Monday to Sunday.
      const days = [...(spec.inner.weekDays ?? [weekdayOfDays(floorDiv(startLocal, DAY_MS))])].sort(
        (a, b) => ((a + 6) % 7) - ((b + 6) % 7),
      );
      text += ` on ${joinWords(
        days.map((d) => DAY_NAMES[d]),
        "and",
      )}`;
    } else if (spec.frequency === "Month") {
      text += ` on ${describeMonthDays(spec, start.day)}`;
    }
    text += ` at ${describeTimes(spec.inner.hours ?? [start.hour], spec.inner.minutes ?? [start.minute], start.second)}`;
  }
  text += `, starting ${starting}`;
  if (spec.count !== null) text += spec.count === 1 ? ", once" : `, ${spec.count} times`;
  if (spec.end !== null) text += `, until ${formatLocal(zone.localAt(spec.end))}`;
  return text;
}

function describeTimes(hours: readonly number[], minutes: readonly number[], second: number): string {
  if (hours.length * minutes.length <= MAX_LISTED_TIMES) {
    const times = hours.flatMap((h) => minutes.map((m) => formatClock(h, m, second)));
    return joinWords(times, "and");
  }
  const secondText = second === 0 ? "" : ` (second ${second})`;
  return (
    `minutes ${joinWords(minutes.map(String), "and")} of hours ${joinWords(hours.map(String), "and")}` +
    secondText
  );
}

function describeMonthDays(spec: RecurrenceSpec, startDay: number): string {
  const { monthDays, monthlyOccurrences } = spec.inner;
  const explicit = monthDays !== undefined || monthlyOccurrences !== undefined;
  const days = explicit ? (monthDays ?? []) : [startDay];
  const parts: string[] = [];
  const positive = days.filter((d) => d > 0);
  if (positive.length > 0) {
    parts.push(`${positive.length === 1 ? "day" : "days"} ${joinWords(positive.map(String), "and")}`);
  }
  for (const d of days.filter((d) => d < 0).reverse()) {
    parts.push(d === -1 ? "the last day" : `the ${fromEnd(-d)} to last day`);
  }
  for (const { weekday, occurrence } of monthlyOccurrences ?? []) {
    const name = DAY_NAMES[weekday];
    if (occurrence === null) parts.push(`every ${name}`);
    else if (occurrence > 0) parts.push(`the ${ORDINALS[occurrence - 1]} ${name}`);
    else
      parts.push(occurrence === -1 ? `the last ${name}` : `the ${ORDINALS[-occurrence - 1]} to last ${name}`);
  }
  return joinWords(parts, "and");
}

/** 2 → "second", 21 → "21st": words for the common small values, digits beyond. */
function fromEnd(n: number): string {
  if (n <= 5) return ORDINALS[n - 1];
  const suffix =
    n % 10 === 1 && n !== 11
      ? "st"
      : n % 10 === 2 && n !== 12
        ? "nd"
        : n % 10 === 3 && n !== 13
          ? "rd"
          : "th";
  return `${n}${suffix}`;
}
