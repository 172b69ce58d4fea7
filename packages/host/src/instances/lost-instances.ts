import type { Logger } from "pino";
import type { RunRecord, Store } from "../store/types.ts";
import { heartbeatEvery } from "./instance-registry.ts";

/** The reason of a run whose instance was declared dead (retried like a lost host's). */
export const INSTANCE_LOST_REASON = "instance lost";

/** Instances dead for this long, with no run left open, are forgotten. */
const FORGET_AFTER_MS = 24 * 3600_000;
/** Deployments of dead instances are looked for every few beats: they only block the next deploy. */
const DEPLOYMENTS_EVERY_TURNS = 5;
/** Pruning is cheap but needless at every beat. */
const PRUNE_EVERY_TURNS = 300;

export interface LostInstancesDeps {
  store: Store;
  instanceId: string;
  timeoutMs: number;
  log: Logger;
  /** A run of a dead instance this instance closed (the scheduler retries it if its policy says so). */
  onLost: (run: RunRecord) => void | Promise<void>;
}

/**
 * Closes the runs of instances declared dead, so that nothing waits for them: at every heartbeat
 * period a live instance asks the store to end the active runs of dead instances as `Aborted`
 * ("instance lost"). The store's conditional write makes each run end once, whichever live
 * instance gets there first; only that one is told (and retries it).
 */
export class LostInstances {
  private timer: NodeJS.Timeout | null = null;
  private turn: Promise<void> | null = null;
  private turns = 0;

  constructor(private readonly deps: LostInstancesDeps) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), heartbeatEvery(this.deps.timeoutMs));
    this.timer.unref();
    void this.sweep();
  }

  /** One sweep now; resolves when done (tests, and stop). */
  sweep(): Promise<void> {
    this.turn ??= this.reap().finally(() => (this.turn = null));
    return this.turn;
  }

  private async reap(): Promise<void> {
    const { store, instanceId, timeoutMs, log } = this.deps;
    try {
      const closed = await store.instances.abortRunsOfDeadInstances(
        instanceId,
        timeoutMs,
        INSTANCE_LOST_REASON,
      );
      for (const key of closed) {
        const run = await store.getRun(key.jobName, key.id);
        if (!run) continue;
        log.warn(
          { job: run.jobName, run: run.id, instance: run.instanceId },
          "run of a dead instance closed as Aborted (instance lost)",
        );
        await this.deps.onLost(run);
      }
      if (++this.turns % DEPLOYMENTS_EVERY_TURNS === 0) {
        // A deployment a dead instance left in progress would refuse every other deploy (409).
        const failed = await store.failIncompleteDeployments(
          new Date(),
          "The instance running the deployment was lost.",
          { deadAfterMs: timeoutMs, ownedOnly: true },
        );
        if (failed.length) log.warn({ deployments: failed }, "deployments of a dead instance failed");
      }
      if (this.turns % PRUNE_EVERY_TURNS === 0) await store.instances.pruneInstances(FORGET_AFTER_MS);
    } catch (error) {
      log.warn({ err: error }, "could not look for runs of dead instances");
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.turn;
  }
}
