import type { Logger } from "pino";
import type { ClusterSignals } from "../instances/signals.ts";
import type { Store } from "../store/types.ts";

/** The signal that a schedule was paused or resumed; the payload is the instance that did it. */
const CHANNEL = "schedule_paused";
/** The safety net under lost signals. */
const POLL_MS = 5_000;

export interface SharedPausesDeps {
  store: Store;
  signals: ClusterSignals;
  instanceId: string;
  log: Logger;
  /** Brings this instance's schedules in line with the paused ones in the store. */
  apply: (paused: ReadonlySet<string>) => void;
}

/**
 * Several instances: a schedule paused or resumed through one instance is paused or resumed on
 * every instance. The store already refuses the fires of a paused schedule, so a lost signal never
 * makes one fire; this makes the others follow for the rest (their `schedule_paused` and next
 * runs, their scheduler log, and firing again after a resume): at once when signalled, and from
 * the store every 5 s. Nothing on one machine (SQLite).
 */
export class SharedPauses {
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: SharedPausesDeps) {}

  start(): void {
    if (this.timer) return;
    this.unsubscribe = this.deps.signals.on(CHANNEL, (from) => {
      if (from !== this.deps.instanceId) void this.check();
    });
    this.timer = setInterval(() => void this.check(), POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Tells the other instances that this one paused or resumed a schedule (recorded in the store). */
  announce(): void {
    this.deps.signals
      .notify(CHANNEL, this.deps.instanceId)
      .catch((error: unknown) =>
        this.deps.log.warn({ err: error }, "could not signal a schedule pause (the others poll)"),
      );
  }

  private async check(): Promise<void> {
    if (!this.timer) return;
    try {
      this.deps.apply(new Set(await this.deps.store.pausedSchedules()));
    } catch (error) {
      this.deps.log.warn({ err: error }, "could not read which schedules are paused");
    }
  }
}
