import { compileSchedule, ScheduleError } from "@webjobs/schedule";
import { SdkError } from "../errors.ts";

/** A timer's schedule: NCRONTAB through the host's schedule engine, or a fixed `[d.]hh:mm:ss` interval. */
export interface TimerSchedule {
  next(after: Date): Date | null;
  /** The shortest gap between occurrences is under a minute (no monitor then, as in the original). */
  frequent: boolean;
  adjustForDST: boolean;
}

const TIMESPAN = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/;

export function parseTimerSchedule(where: string, schedule: string, timeZone: string): TimerSchedule {
  const span = TIMESPAN.exec(schedule.trim());
  if (span) {
    const ms =
      ((Number(span[1] ?? 0) * 24 + Number(span[2])) * 3600 + Number(span[3]) * 60 + Number(span[4])) * 1000;
    if (ms <= 0)
      throw new SdkError("options", `${where}: the interval '${schedule}' must be longer than zero`);
    return { next: (after) => new Date(after.getTime() + ms), frequent: ms < 60_000, adjustForDST: false };
  }
  try {
    const compiled = compileSchedule(schedule, timeZone);
    const probe = compiled.next(new Date());
    const second = probe ? compiled.next(probe) : null;
    return {
      next: (after) => compiled.next(after),
      frequent: probe !== null && second !== null && second.getTime() - probe.getTime() < 60_000,
      adjustForDST: compiled.fixedTime,
    };
  } catch (error) {
    if (error instanceof ScheduleError) {
      throw new SdkError("options", `${where}: schedule '${schedule}': ${error.message}`, { cause: error });
    }
    throw error;
  }
}
