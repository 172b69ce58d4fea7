import type { Logger } from "pino";
import type { ClusterSignals } from "../instances/signals.ts";
import type { Store } from "../store/types.ts";
import type { TriggeredRunner } from "./runner.ts";

/** The signal channel of placed runs; the payload is the id of the instance the run is for. */
export const RUNS_CHANNEL = "runs";
/** The safety net: a lost signal delays a placed run by this much at most. */
const POLL_MS = 2_000;

export interface AssignedRunsDeps {
  store: Store;
  signals: ClusterSignals;
  runner: Pick<TriggeredRunner, "launchClaimed">;
  instanceId: string;
  log: Logger;
  /** Several instances share the store (PostgreSQL); on one machine there is nothing to claim. */
  clustered: boolean;
}

/**
 * Claims the runs other instances placed on this one and starts them: at once when told through
 * the signals, and every 2 s in case a signal was lost. The store's conditional write claims each
 * run once. Runs placed here that this instance never claims (it died) are closed as
 * "instance lost" by the live ones (LostInstances), and retried if their schedule says so.
 */
export class AssignedRuns {
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private turn: Promise<void> | null = null;
  private again = false;

  constructor(private readonly deps: AssignedRunsDeps) {}

  start(): void {
    if (!this.deps.clustered || this.timer) return;
    this.unsubscribe = this.deps.signals.on(RUNS_CHANNEL, (target) => {
      if (target === this.deps.instanceId) void this.check();
    });
    this.timer = setInterval(() => void this.check(), POLL_MS);
    this.timer.unref();
    void this.check();
  }

  /** Claims and starts what is assigned here; a call during a turn makes one more turn after it. */
  check(): Promise<void> {
    if (this.turn) {
      this.again = true;
      return this.turn;
    }
    this.turn = (async () => {
      do {
        this.again = false;
        await this.claim();
      } while (this.again && this.timer);
    })().finally(() => (this.turn = null));
    return this.turn;
  }

  private async claim(): Promise<void> {
    const { store, runner, instanceId, log } = this.deps;
    try {
      // Side by side: one run waiting for its job's previous run to leave does not hold the others.
      const claimed = await store.claims.claimAssigned(instanceId);
      await Promise.all(
        claimed.map((run) =>
          runner.launchClaimed(run).catch((error: unknown) => {
            log.error({ err: error, job: run.jobName, run: run.id }, "could not start an assigned run");
          }),
        ),
      );
    } catch (error) {
      log.warn({ err: error }, "could not look for runs assigned to this instance");
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.turn;
  }
}
