import { describe, expect, it } from "vitest";
import { compileSchedule } from "../src/index.ts";
import { expectScheduleError } from "./support/helpers.ts";

/** The expanded NCrontab form shows exactly which values a field holds. */
const expand = (expression: string): string => compileSchedule(expression, "UTC").expression;

describe("NCRONTAB grammar: accepted forms (checked through the expanded form)", () => {
  it.each([
    // wildcards and steps
    ["* * * * * *", "* * * * * *"],
    ["*/1 * * * * *", "* * * * * *"],
    ["0-59 * * * * *", "* * * * * *"],
    ["*/15 * * * * *", "0,15,30,45 * * * * *"],
    ["5/15 * * * * *", "5,20,35,50 * * * * *"],
    ["0 0 9-17/4 * * *", "0 0 9,13,17 * * *"],
    ["0 0 */30 * * *", "0 0 0 * * *"],
    ["0 0 5/100 * * *", "0 0 5 * * *"],
    ["0 0 0 */10 * *", "0 0 0 1,11,21,31 * *"],
    // lists, duplicates, order
    ["59,0,30,0 * * * * *", "0,30,59 * * * * *"],
    ["1,2,3,5 * * * * *", "1-3,5 * * * * *"],
    ["0,*/30 0 0 * * *", "0,30 0 0 * * *"],
    // leading zeros and spaces
    ["00 05 007 01 01 00", "0 5 7 1 1 0"],
    ["  0  0 12 * *  Fri ", "0 0 12 * * 5"],
    // month names: any non-empty prefix, case-insensitive; a shared prefix means the first month
    ["0 0 0 1 J *", "0 0 0 1 1 *"],
    ["0 0 0 1 Ju *", "0 0 0 1 6 *"],
    ["0 0 0 1 Jul *", "0 0 0 1 7 *"],
    ["0 0 0 1 Ma *", "0 0 0 1 3 *"],
    ["0 0 0 1 May *", "0 0 0 1 5 *"],
    ["0 0 0 1 A *", "0 0 0 1 4 *"],
    ["0 0 0 1 Au *", "0 0 0 1 8 *"],
    ["0 0 0 1 january,DECEMBER *", "0 0 0 1 1,12 *"],
    ["0 0 0 1 Jan-Mar *", "0 0 0 1 1-3 *"],
    ["0 0 0 1 Jan-Dec/3 *", "0 0 0 1 1,4,7,10 *"],
    // day names: S = Sunday, T = Tuesday, W = Wednesday
    ["0 0 0 * * S", "0 0 0 * * 0"],
    ["0 0 0 * * Sa", "0 0 0 * * 6"],
    ["0 0 0 * * T", "0 0 0 * * 2"],
    ["0 0 0 * * Th", "0 0 0 * * 4"],
    ["0 0 0 * * W", "0 0 0 * * 3"],
    ["0 0 0 * * M,F", "0 0 0 * * 1,5"],
    ["0 0 0 * * sunday", "0 0 0 * * 0"],
    ["0 0 0 * * Mon-Fri", "0 0 0 * * 1-5"],
    ["0 0 0 * * Mon-Fri/2", "0 0 0 * * 1,3,5"],
    ["0 0 0 * * Tue/2", "0 0 0 * * 2,4,6"],
    ["0 0 0 * * 0-6", "0 0 0 * * *"],
    // day/month pairs that can fire, including 29 February
    ["0 0 0 29 2 *", "0 0 0 29 2 *"],
    ["0 0 0 30,31 2,4 *", "0 0 0 30-31 2,4 *"],
    ["0 0 0 31 * *", "0 0 0 31 * *"],
  ])("%s", (input, expanded) => {
    expect(expand(input)).toBe(expanded);
  });
});

describe("NCRONTAB grammar: rejected forms", () => {
  it.each([
    // field count
    ["0 0 * * *", "expected 6 fields (second minute hour day month day-of-week), got 5"],
    ["0 0 0 1 1 * 2027", "expected 6 fields (second minute hour day month day-of-week), got 7"],
    ["*", "expected 6 fields (second minute hour day month day-of-week), got 1"],
    ["", "the expression is empty"],
    ["   ", "the expression is empty"],
    ["00:05:00", "the TimeSpan form 'hh:mm:ss' is not supported"],
    // separators
    ["0\t0 0 * * *", "tabs are not allowed"],
    ["0 0 0 * * *\n", "only spaces (U+0020) may separate fields; found U+000A"],
    ["0 0 0\u00a0* * *", "found U+00A0"],
    // other dialects
    ["@daily", "macros such as '@daily' are not supported"],
    ["@hourly", "macros such as '@hourly' are not supported"],
    ["0 0 0 ? * Mon", "'?' is not NCRONTAB syntax; use '*'"],
    ["0 0 0 L * *", "'L' (last day) is not NCRONTAB syntax; use the recurrence form with monthDays [-1]"],
    ["0 0 0 15W * *", "'W' (nearest weekday) is not NCRONTAB syntax (in '15W')"],
    ["0 0 0 LW * *", "'L' (last day) is not NCRONTAB syntax (in 'LW')"],
    ["0 0 0 * * 5L", "'L' (last weekday of the month) is not NCRONTAB syntax (in '5L')"],
    ["0 0 0 * * Fri#3", "'#' (nth weekday) is not NCRONTAB syntax (in 'Fri#3')"],
    ["H 0 0 * * *", "'H' (hashed value) is not NCRONTAB syntax"],
    ["0 H(0-29) 0 * * *", "'H' (hashed value) is not NCRONTAB syntax"],
    // signs and steps
    ["*/0 * * * * *", "step 0 in '*/0': steps must be >= 1"],
    ["*/00 * * * * *", "step 00 in '*/00': steps must be >= 1"],
    ["0 1-5/0 * * * *", "step 0 in '1-5/0': steps must be >= 1"],
    ["*/+5 * * * * *", "signed step '+5' in '*/+5': steps are unsigned integers"],
    ["*/-1 * * * * *", "signed step '-1' in '*/-1': steps are unsigned integers"],
    ["+5 * * * * *", "'+5' in second: signs are not allowed"],
    ["-5 * * * * *", "'-5' in second: signs are not allowed"],
    ["*/ * * * * *", "missing step after '/' in '*/'"],
    ["*/x * * * * *", "step 'x' in '*/x' is not a number"],
    ["1/2/3 * * * * *", "'1/2/3' in second has more than one '/'"],
    // ranges
    ["0 0 22-2 * * *", "reversed range 22-2 in hour; write 22-23,0-2"],
    ["0 0 0 * * Fri-Mon", "reversed range Fri-Mon in day-of-week; write 5-6,0-1"],
    ["0 0 0 * * Sat-Sun", "reversed range Sat-Sun in day-of-week; write 6,0"],
    ["1-2-3 * * * * *", "'1-2-3' in second is not a value or a range a-b"],
    ["*-5 * * * * *", "'*-5' in second is not a value or a range a-b"],
    ["5- * * * * *", "'5-' in second is not a value or a range a-b"],
    // values
    ["60 * * * * *", "second 60 is out of range 0-59"],
    ["0 60 * * * *", "minute 60 is out of range 0-59"],
    ["0 0 24 * * *", "hour 24 is out of range 0-23"],
    ["0 0 0 0 * *", "day 0 is out of range 1-31"],
    ["0 0 0 32 * *", "day 32 is out of range 1-31"],
    ["0 0 0 * 0 *", "month 0 is out of range 1-12"],
    ["0 0 0 * 13 *", "month 13 is out of range 1-12"],
    ["0 0 0 * * 7", "day-of-week 7 is out of range 0-6 (Sunday is 0)"],
    ["0 0 0 * * 1-7", "day-of-week 7 is out of range 0-6"],
    ["99999999999999999999 * * * * *", "second 999999999999... is out of range 0-59"],
    ["0 0 0 * * Xyz", "'Xyz' is not a day-of-week name"],
    ["0 0 0 1 Foo *", "'Foo' is not a month name"],
    ["0 0 Mon * * *", "'Mon' in hour: names are only allowed in month and day-of-week"],
    ["1.5 * * * * *", "'1.5' is not a valid second value"],
    ["\u0663 * * * * *", "is not a valid second value"],
    ["1,,2 * * * * *", "empty element in the second list '1,,2'"],
    [",1 * * * * *", "empty element in the second list ',1'"],
    ["0 0 0 1, * *", "empty element in the day list '1,'"],
    // day/month pairs that can never fire
    ["0 0 0 30 2 *", "can never fire: February never has a 30th day"],
    ["0 0 0 31 2 *", "can never fire: February never has a 31st day"],
    ["0 0 0 30,31 Feb *", "can never fire: February never has a 30th or 31st day"],
    ["0 0 0 31 4 *", "can never fire: April never has a 31st day"],
    ["0 0 0 31 4,6,9,11 *", "can never fire: April, June, September and November never have a 31st day"],
    ["0 0 0 31 2,4 *", "can never fire: February and April never have a 31st day"],
  ])("%j", (input, message) => {
    expectScheduleError(() => compileSchedule(input, "UTC"), "schedule", message);
  });
});
