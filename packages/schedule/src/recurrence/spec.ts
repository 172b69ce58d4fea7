/** The validated form of a recurrence object (reference §3). */

export const FREQUENCIES = ["Minute", "Hour", "Day", "Week", "Month"] as const;
export type Frequency = (typeof FREQUENCIES)[number];

/** The largest interval per frequency, as in Azure Scheduler (18 months, 78 weeks, 548 days). */
export const MAX_INTERVAL: Readonly<Record<Frequency, number>> = {
  Minute: 1000,
  Hour: 1000,
  Day: 548,
  Week: 78,
  Month: 18,
};

export interface MonthlyOccurrence {
  /** 0 = Sunday. */
  readonly weekday: number;
  /** 1…5 or −1…−5 (−1 = last); null = every such weekday of the month. */
  readonly occurrence: number | null;
}

/** Inner `schedule` keys; absent keys take their defaults from startTime. Arrays are sorted and unique. */
export interface InnerSchedule {
  readonly hours?: readonly number[];
  readonly minutes?: readonly number[];
  /** 0 = Sunday. */
  readonly weekDays?: readonly number[];
  readonly monthDays?: readonly number[];
  readonly monthlyOccurrences?: readonly MonthlyOccurrence[];
}

export interface RecurrenceSpec {
  /** null: a one-time schedule, which runs once at `start`. */
  readonly frequency: Frequency | null;
  readonly interval: number;
  /** Instant (ms), whole seconds. */
  readonly start: number;
  /** False when startTime was absent and the host's first-load instant was used. */
  readonly startGiven: boolean;
  readonly end: number | null;
  readonly count: number | null;
  readonly inner: InnerSchedule;
}
