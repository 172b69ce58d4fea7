import { ScheduleError } from "../errors.ts";
import { type CronFields, type FieldSpec, FIELD_SPECS, MONTH_NAMES } from "./fields.ts";

export interface ParsedCron {
  readonly fields: CronFields;
  /** The six field texts as written (after splitting on spaces). */
  readonly texts: readonly string[];
}

const FIELD_LIST = "second minute hour day month day-of-week";

/**
 * Parses a 6-field NCRONTAB expression (reference §2). Stricter than NCrontab on purpose: it rejects
 * steps of 0, signed steps, reversed ranges and day/month pairs that can never fire, which NCrontab
 * accepts with a surprising meaning. Every error is a ScheduleError on `field` with a precise message.
 */
export function parseCron(expression: string, field = "schedule"): ParsedCron {
  const fail = (message: string): never => {
    throw new ScheduleError(field, message);
  };
  if (expression.includes("\t")) fail("tabs are not allowed; separate the fields with spaces");
  const otherSpace = /[^\S ]/u.exec(expression);
  if (otherSpace) {
    const code = otherSpace[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    fail(`only spaces (U+0020) may separate fields; found U+${code}`);
  }
  const trimmed = expression.trim();
  if (trimmed === "")
    fail("the expression is empty; write 6 fields (second minute hour day month day-of-week)");
  if (trimmed.startsWith("@")) {
    fail(`macros such as '${trimmed.split(" ")[0]}' are not supported; write 6 fields (${FIELD_LIST})`);
  }
  if (/^\d+(:\d+){1,2}$/.test(trimmed)) {
    fail(`the TimeSpan form 'hh:mm:ss' is not supported; write 6 fields (${FIELD_LIST})`);
  }
  const texts = trimmed.split(/ +/);
  if (texts.length !== 6) fail(`expected 6 fields (${FIELD_LIST}), got ${texts.length}`);

  const sets = FIELD_SPECS.map((spec, i) => parseField(texts[i], spec, fail));
  const fields: CronFields = {
    seconds: sets[0],
    minutes: sets[1],
    hours: sets[2],
    days: sets[3],
    months: sets[4],
    daysOfWeek: sets[5],
  };
  checkCanFire(fields, fail);
  return { fields, texts };
}

type Fail = (message: string) => never;

function parseField(text: string, spec: FieldSpec, fail: Fail): number[] {
  const values = new Set<number>();
  for (const element of text.split(",")) {
    if (element === "") fail(`empty element in the ${spec.name} list '${text}'`);
    rejectForeignSyntax(element, spec, fail);
    const parts = element.split("/");
    if (parts.length > 2) fail(`'${element}' in ${spec.name} has more than one '/'`);
    const [baseText, stepText] = parts;
    const step = stepText === undefined ? undefined : parseStep(stepText, element, fail);
    const [first, bound, single] = parseBase(baseText, spec, fail);
    const last = single && step !== undefined ? spec.max : bound; // "a/n" runs to the field's maximum
    for (let v = first; v <= last; v += step ?? 1) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/** Syntax from other cron dialects gets a message that says what to write instead. */
function rejectForeignSyntax(element: string, spec: FieldSpec, fail: Fail): void {
  const foreign = (token: string, meaning: string, advice = ""): never => {
    const where = element === token ? "" : ` (in '${element}')`;
    return fail(`'${token}' ${meaning}is not NCRONTAB syntax${where}${advice}`);
  };
  if (element.includes("?")) foreign("?", "", "; use '*'");
  if (element.includes("#")) {
    foreign(
      "#",
      "(nth weekday) ",
      "; use a day range with a day-of-week (e.g. day 15-21 with Fri) or the recurrence form with monthlyOccurrences",
    );
  }
  if (/^H(\(.*\))?(\/.*)?$/i.test(element)) foreign("H", "(hashed value) ");
  if (spec.name === "day" && /L/i.test(element)) {
    foreign("L", "(last day) ", "; use the recurrence form with monthDays [-1]");
  }
  if (spec.name === "day" && /W/i.test(element)) foreign("W", "(nearest weekday) ");
  if (spec.name === "day-of-week" && /^\d*L$/i.test(element)) {
    foreign("L", "(last weekday of the month) ", "; use the recurrence form with monthlyOccurrences");
  }
}

function parseStep(text: string, element: string, fail: Fail): number {
  if (text === "") fail(`missing step after '/' in '${element}'`);
  if (/^[+-]/.test(text)) fail(`signed step '${text}' in '${element}': steps are unsigned integers`);
  if (!/^[0-9]+$/.test(text)) fail(`step '${text}' in '${element}' is not a number`);
  const step = Number(text);
  if (step === 0) fail(`step ${text} in '${element}': steps must be >= 1`);
  return step;
}

/** [first, last, whether the base is a single value]. */
function parseBase(text: string, spec: FieldSpec, fail: Fail): [number, number, boolean] {
  if (text === "*") return [spec.min, spec.max, false];
  if (/^[+-]/.test(text)) fail(`'${text}' in ${spec.name}: signs are not allowed`);
  const bounds = text.split("-");
  if (bounds.length === 1) {
    const value = parseValue(text, spec, fail);
    return [value, value, true];
  }
  if (bounds.length !== 2 || bounds[1] === "" || bounds.includes("*")) {
    fail(`'${text}' in ${spec.name} is not a value or a range a-b`);
  }
  const first = parseValue(bounds[0], spec, fail);
  const last = parseValue(bounds[1], spec, fail);
  if (first > last) {
    const part = (a: number, b: number): string => (a === b ? `${a}` : `${a}-${b}`);
    fail(`reversed range ${text} in ${spec.name}; write ${part(first, spec.max)},${part(spec.min, last)}`);
  }
  return [first, last, false];
}

function parseValue(text: string, spec: FieldSpec, fail: Fail): number {
  if (/^[0-9]+$/.test(text)) {
    const value = Number(text);
    if (value < spec.min || value > spec.max) {
      const shown = text.length > 12 ? `${text.slice(0, 12)}...` : String(value);
      const hint = spec.name === "day-of-week" && value === 7 ? " (Sunday is 0)" : "";
      fail(`${spec.name} ${shown} is out of range ${spec.min}-${spec.max}${hint}`);
    }
    return value;
  }
  if (/^[A-Za-z]+$/.test(text)) {
    if (!spec.names) fail(`'${text}' in ${spec.name}: names are only allowed in month and day-of-week`);
    // A prefix shared by several names means the first in calendar order (J = January, S = Sunday).
    const lower = text.toLowerCase();
    const index = spec.names.findIndex((name) => name.toLowerCase().startsWith(lower));
    if (index < 0) fail(`'${text}' is not a ${spec.name} name`);
    return spec.min + index;
  }
  return fail(`'${text}' is not a valid ${spec.name} value`);
}

const LONGEST_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Day 30/31 only in February, or day 31 only in 30-day months, can never fire (29 February can). */
function checkCanFire(fields: CronFields, fail: Fail): void {
  const fires = fields.months.some((month) => fields.days.some((day) => day <= LONGEST_MONTH[month - 1]));
  if (fires) return;
  const months = fields.months.map((month) => MONTH_NAMES[month - 1]);
  const days = fields.days.map((day) => `${day}${day === 31 ? "st" : "th"}`);
  const verb = months.length === 1 ? "never has" : "never have";
  fail(`can never fire: ${joinWords(months, "and")} ${verb} a ${joinWords(days, "or")} day`);
}

export function joinWords(words: readonly string[], conjunction: string): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} ${conjunction} ${words[words.length - 1]}`;
}
