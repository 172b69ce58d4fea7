import fc from "fast-check";
import type { CronSets } from "./stepper.ts";

const MONTHS = [
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
];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

interface FieldRange {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const RANGES = {
  second: { min: 0, max: 59 },
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  day: { min: 1, max: 31 },
  month: { min: 1, max: 12, names: MONTHS },
  weekday: { min: 0, max: 6, names: DAYS },
} satisfies Record<string, FieldRange>;

/** One generated field: its text and the values it means, computed here by plain loops. */
export interface GeneratedField {
  readonly text: string;
  readonly values: ReadonlySet<number>;
}

/** A value written as digits (sometimes with leading zeros) or, where allowed, as a name prefix. */
function valueText(range: FieldRange, value: number): fc.Arbitrary<string> {
  const options: fc.Arbitrary<string>[] = [fc.constant(String(value)), fc.constant(`0${value}`)];
  const name = range.names?.[value - range.min];
  if (name) {
    // The shortest prefix that still means this name (an earlier name wins ties, e.g. "J" = January).
    const names = range.names!;
    const index = value - range.min;
    let shortest = 1;
    while (
      names.findIndex((n) => n.toLowerCase().startsWith(name.slice(0, shortest).toLowerCase())) !== index
    ) {
      shortest++;
    }
    options.push(
      fc
        .integer({ min: shortest, max: name.length })
        .chain((length) => fc.constantFrom(name.slice(0, length), name.slice(0, length).toUpperCase())),
    );
  }
  return fc.oneof(...options);
}

function element(range: FieldRange): fc.Arbitrary<GeneratedField> {
  const span = range.max - range.min + 1;
  const value = fc.integer({ min: range.min, max: range.max });
  const step = fc.integer({ min: 1, max: span + 2 });
  const collect = (first: number, last: number, by: number): Set<number> => {
    const values = new Set<number>();
    for (let v = first; v <= last; v += by) values.add(v);
    return values;
  };
  return fc.oneof(
    fc.constant({ text: "*", values: collect(range.min, range.max, 1) }),
    step.map((n) => ({ text: `*/${n}`, values: collect(range.min, range.max, n) })),
    value.chain((v) => valueText(range, v).map((text) => ({ text, values: new Set([v]) }))),
    fc.tuple(value, value, fc.option(step, { nil: undefined })).chain(([a, b, n]) => {
      const [first, last] = a <= b ? [a, b] : [b, a];
      return fc
        .tuple(valueText(range, first), valueText(range, last))
        .map(([x, y]) => ({ text: `${x}-${y}${n ? `/${n}` : ""}`, values: collect(first, last, n ?? 1) }));
    }),
    fc.tuple(value, step).map(([a, n]) => ({ text: `${a}/${n}`, values: collect(a, range.max, n) })),
  );
}

function field(range: FieldRange, maxElements: number): fc.Arbitrary<GeneratedField> {
  return fc.array(element(range), { minLength: 1, maxLength: maxElements }).map((elements) => ({
    text: elements.map((e) => e.text).join(","),
    values: new Set(elements.flatMap((e) => [...e.values])),
  }));
}

export interface GeneratedCron {
  readonly expression: string;
  readonly sets: CronSets;
  /** Reference §5, decided from the generated texts. */
  readonly fixedTime: boolean;
}

const LONGEST = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether some day/month pair exists (the parser rejects the rest statically). */
export function canFire(sets: CronSets): boolean {
  return [...sets.months].some((m) => [...sets.days].some((d) => d <= LONGEST[m - 1]));
}

/**
 * Random valid 6-field expressions. `calendar` picks how restricted day, month and day-of-week are:
 * "loose" keeps them mostly "*" so that a short window sees occurrences.
 */
export function cronArbitrary(calendar: "loose" | "any"): fc.Arbitrary<GeneratedCron> {
  const star = (range: FieldRange): fc.Arbitrary<GeneratedField> =>
    calendar === "loose"
      ? fc.oneof(
          { weight: 4, arbitrary: fc.constant({ text: "*", values: new Set(rangeValues(range)) }) },
          { weight: 1, arbitrary: field(range, 3) },
        )
      : field(range, 3);
  return fc
    .record({
      second: fc.oneof(fc.constant({ text: "0", values: new Set([0]) }), field(RANGES.second, 3)),
      minute: field(RANGES.minute, 3),
      hour: field(RANGES.hour, 3),
      day: star(RANGES.day),
      month: star(RANGES.month),
      weekday: star(RANGES.weekday),
      spaces: fc.array(fc.constantFrom(" ", "  "), { minLength: 7, maxLength: 7 }),
    })
    .filter((f) => canFire(setsOf(f)))
    .map((f) => {
      const texts = [f.second, f.minute, f.hour, f.day, f.month, f.weekday].map((x) => x.text);
      const edges = [f.spaces[0] === " " ? "" : " ", f.spaces[6] === " " ? "" : " "];
      const expression = edges[0] + texts.map((t, i) => (i === 0 ? t : f.spaces[i] + t)).join("") + edges[1];
      return { expression, sets: setsOf(f), fixedTime: texts.slice(0, 3).every((t) => /^[0-9,]+$/.test(t)) };
    });
}

function rangeValues(range: FieldRange): number[] {
  return Array.from({ length: range.max - range.min + 1 }, (_, i) => range.min + i);
}

function setsOf(
  f: Record<"second" | "minute" | "hour" | "day" | "month" | "weekday", GeneratedField>,
): CronSets {
  return {
    seconds: f.second.values,
    minutes: f.minute.values,
    hours: f.hour.values,
    days: f.day.values,
    months: f.month.values,
    weekdays: f.weekday.values,
  };
}
