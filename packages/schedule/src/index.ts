// Public surface of the schedule engine: pure maths, no timers, no I/O.
export { ScheduleError } from "./errors.ts";
export { resolveTimeZone } from "./time/resolve-time-zone.ts";
export type { CompileOptions, Schedule, ScheduleInput } from "./schedule.ts";
export { compileSchedule, nextOccurrences, occurrencesBetween } from "./compile.ts";
export { type SchedulePolicies, defaultPolicies, parsePolicies, retryDelaySeconds } from "./policies.ts";
