import type { Logger } from "pino";
import type { ClusterSignals } from "../instances/signals.ts";
import { JobType, activeRunStatuses, type RunRecord, type Store } from "../store/types.ts";
import type { TriggeredRunner } from "./runner.ts";

/** The signal that tells instances a cancel was asked (payload: `[job, run id, reason?]` as JSON). */
const CHANNEL = "run_cancel";
/** The safety net under lost signals: the running instance looks for cancel requests this often. */
const POLL_MS = 2000;
/** How often the asking instance looks whether the run has ended. */
const WAIT_POLL_MS = 200;
/** Kudu's default `stopping_wait_time` for triggered runs. */
const DEFAULT_GRACE_SEC = 30;

export interface RunCancelsDeps {
  store: Store;
  signals: ClusterSignals;
  runner: TriggeredRunner;
  instanceId: string;
  /** After this long without a heartbeat an instance is dead (WEBJOBS_INSTANCE_TIMEOUT). */
  instanceTimeoutMs: number;
  /** Closes the runs of dead instances now, as `instance lost` (LostInstances' sweep). */
  closeLostRuns: () => Promise<void>;
  log: Logger;
}

export interface CancelOutcome {
  run: RunRecord;
  /** False when the run was still going when the wait ran out (the request stands). */
  ended: boolean;
}

/**
 * Cancel from any instance. A run going here is cancelled here (shutdown file, SIGTERM, grace,
 * kill). A run going on another instance is marked in the store (a conditional write on the
 * active run) and that instance is signalled; it cancels the run as if asked directly, and finds
 * the mark by polling if the signal is lost. A run of a dead instance is closed as `instance
 * lost` at once. Either way the answer comes when the run has ended, as for a local cancel.
 */
export class RunCancels {
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly cancelling = new Set<string>();

  constructor(private readonly deps: RunCancelsDeps) {}

  /** Listens for cancels asked elsewhere; nothing to listen for on one machine (SQLite). */
  start(): void {
    if (!this.deps.store.remoteRuns.shared || this.timer) return;
    this.unsubscribe = this.deps.signals.on(CHANNEL, (payload) => this.onSignal(payload));
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** `reason`: what the run ends with, "cancelled on request" when not given. */
  async cancel(name: string, id: string, reason?: string): Promise<CancelOutcome> {
    const { runner, store, signals, instanceId, log } = this.deps;
    if (runner.isRunningRun(name, id)) return { run: await runner.cancel(name, id, reason), ended: true };
    const run = await runner.requireRun(name, id);
    // Going on another instance, or placed on this one and not started yet (several instances):
    // marked, for the instance running it to act on. Otherwise (ended, or left by this one's
    // predecessor) the runner says why it cannot be cancelled.
    const mayRunElsewhere = run.instanceId !== instanceId || store.remoteRuns.shared;
    if (!mayRunElsewhere || !(await store.remoteRuns.requestCancel(name, id, reason))) {
      return { run: await runner.cancel(name, id, reason), ended: true };
    }
    await signals
      .notify(CHANNEL, JSON.stringify(reason === undefined ? [name, id] : [name, id, reason]))
      .catch((error: unknown) =>
        log.warn({ err: error }, "could not signal a cancel (the poll will find it)"),
      );
    if (await this.isDead(run.instanceId)) await this.deps.closeLostRuns();
    const job = await store.getJob(JobType.Triggered, name);
    const graceMs = (job?.settings.stopping_wait_time ?? DEFAULT_GRACE_SEC) * 1000;
    // The grace, then the kill; an instance that dies meanwhile has its runs closed within its timeout.
    return this.waitForEnd(name, id, Date.now() + graceMs + this.deps.instanceTimeoutMs + 5000);
  }

  private async isDead(instance: string): Promise<boolean> {
    const instances = await this.deps.store.instances.listInstances(this.deps.instanceTimeoutMs);
    return !instances.find((i) => i.id === instance)?.live;
  }

  private async waitForEnd(name: string, id: string, deadline: number): Promise<CancelOutcome> {
    for (;;) {
      const run = await this.deps.runner.requireRun(name, id);
      const ended = !activeRunStatuses.includes(run.status);
      if (ended || Date.now() >= deadline) return { run, ended };
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    }
  }

  private onSignal(payload: string): void {
    let key: unknown;
    try {
      key = JSON.parse(payload);
    } catch {
      return;
    }
    if (Array.isArray(key) && typeof key[0] === "string" && typeof key[1] === "string") {
      this.cancelHere(key[0], key[1], typeof key[2] === "string" ? key[2] : null, "signal");
    }
  }

  private async poll(): Promise<void> {
    try {
      const asked = await this.deps.store.remoteRuns.cancelRequests(this.deps.instanceId);
      for (const { jobName, id, reason } of asked) this.cancelHere(jobName, id, reason, "poll");
    } catch (error) {
      this.deps.log.warn({ err: error }, "could not look for cancel requests");
    }
  }

  /** Cancels a run going here that another instance was asked to cancel (once). */
  private cancelHere(name: string, id: string, reason: string | null, via: "signal" | "poll"): void {
    const key = JSON.stringify([name, id]);
    if (!this.deps.runner.isRunningRun(name, id) || this.cancelling.has(key)) return;
    this.cancelling.add(key);
    this.deps.log.info({ job: name, run: id, via }, "cancelling a run on request from another instance");
    void this.deps.runner
      .cancel(name, id, reason ?? undefined)
      .catch(() => undefined)
      .finally(() => this.cancelling.delete(key));
  }
}
