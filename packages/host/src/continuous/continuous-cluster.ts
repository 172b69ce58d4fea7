import type { Logger } from "pino";
import type { ClusterSignals } from "../instances/signals.ts";
import type { InstanceStatusLine } from "./cluster-status.ts";
import type { ContinuousStore } from "./types.ts";

/** How often the instances look at the store (desired states, leases, the others' statuses). */
const TICK_MS = 2_000;
/** A signal makes the next look happen about now (several in a burst make one). */
const SIGNAL_DEBOUNCE_MS = 50;
const CHANNEL = "continuous";

export interface ContinuousClusterDeps {
  store: ContinuousStore;
  signals: ClusterSignals;
  instanceId: string;
  /** An instance silent this long is dead; a singleton lease lasts as long. */
  timeoutMs: number;
  log: Logger;
  /** Brings this instance's jobs in line with the store (desired states, leases). */
  reconcile: () => Promise<void>;
  /** Another instance's status of a job changed (for live events). */
  othersChanged: (jobName: string) => void;
}

/**
 * What a continuous supervisor shares with the other instances of a cluster (PostgreSQL only; one
 * machine on SQLite has none of this): its own status of each job written to the store, the
 * others' statuses read back every couple of seconds, singleton leases, and a periodic look at
 * the store (sooner after a signal) in which the supervisor applies what changed elsewhere.
 */
export class ContinuousCluster {
  /** job → the other live instances' statuses, as last read. */
  private others = new Map<string, InstanceStatusLine[]>();
  private readonly writes = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
  private running = false;
  private again = false;
  /** A singleton lease lasts one instance timeout: a dead holder's job moves on about when its runs do. */
  readonly leaseMs: number;
  /** Renewals come several times per lease, so one slow round trip does not lose it. */
  private readonly tickMs: number;

  constructor(private readonly deps: ContinuousClusterDeps) {
    this.leaseMs = deps.timeoutMs;
    this.tickMs = Math.min(TICK_MS, Math.floor(deps.timeoutMs / 3));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.deps.signals.on(CHANNEL, () => this.schedule(SIGNAL_DEBOUNCE_MS));
    this.schedule(0);
  }

  /** No more looks; waits for the one under way. Status writes go on until `flush`. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
  }

  /** Waits for this instance's status writes (before the store closes). */
  async flush(): Promise<void> {
    await Promise.all(this.writes.values());
  }

  /** Records this instance's status of a job; writes of one job keep their order. */
  report(jobName: string, status: string): void {
    const previous = this.writes.get(jobName) ?? Promise.resolve();
    const next = previous
      .then(() => this.deps.store.setContinuousStatus(jobName, this.deps.instanceId, status))
      .catch((error: unknown) =>
        this.deps.log.warn({ err: error, job: jobName }, "could not record the job's status"),
      )
      .finally(() => {
        if (this.writes.get(jobName) === next) this.writes.delete(jobName);
      });
    this.writes.set(jobName, next);
  }

  /** The job was removed here: its row goes, and its lease if this instance holds it. */
  async forget(jobName: string): Promise<void> {
    await this.writes.get(jobName);
    await this.deps.store.deleteContinuousStatus(jobName, this.deps.instanceId).catch(() => undefined);
    await this.release(jobName);
  }

  /** Every live instance's status of a job, this one's (`own`, fresher than the store) included. */
  statusesOf(jobName: string, own: string): InstanceStatusLine[] {
    return [...(this.others.get(jobName) ?? []), { instanceId: this.deps.instanceId, status: own }];
  }

  /** Takes or renews the job's singleton lease; false while another instance holds it. */
  async acquire(jobName: string): Promise<boolean> {
    return this.deps.store.acquireSingletonLease(jobName, this.deps.instanceId, this.leaseMs);
  }

  /** Gives the lease up at once and tells the others, who take it over without waiting. */
  async release(jobName: string): Promise<void> {
    try {
      await this.deps.store.releaseSingletonLease(jobName, this.deps.instanceId);
      await this.notify(jobName);
    } catch (error) {
      this.deps.log.warn(
        { err: error, job: jobName },
        "could not release the singleton lease (it expires by itself)",
      );
    }
  }

  /** Tells the other instances to look at the job now (a desired state changed here). */
  async notify(jobName: string): Promise<void> {
    await this.deps.signals.notify(CHANNEL, jobName).catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      // One look at a time; a signal during a look makes another right after it.
      if (this.ticking) {
        this.again = true;
        return;
      }
      this.ticking = this.tick().finally(() => {
        this.ticking = null;
        const again = this.again;
        this.again = false;
        if (this.running && !this.timer) this.schedule(again ? 0 : this.tickMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.deps.reconcile();
      await this.readOthers();
    } catch (error) {
      this.deps.log.warn({ err: error }, "could not look at the other instances' continuous jobs");
    }
  }

  private async readOthers(): Promise<void> {
    const rows = await this.deps.store.listContinuousStatuses(this.deps.timeoutMs);
    const next = new Map<string, InstanceStatusLine[]>();
    for (const row of rows) {
      if (row.instanceId === this.deps.instanceId) continue;
      let lines = next.get(row.jobName);
      if (!lines) next.set(row.jobName, (lines = []));
      lines.push({ instanceId: row.instanceId, status: row.status });
    }
    const key = (lines: InstanceStatusLine[] | undefined) =>
      (lines ?? []).map((l) => `${l.instanceId}=${l.status}`).join(",");
    const changed = [...new Set([...this.others.keys(), ...next.keys()])].filter(
      (job) => key(this.others.get(job)) !== key(next.get(job)),
    );
    this.others = next;
    for (const job of changed) this.deps.othersChanged(job);
  }
}
