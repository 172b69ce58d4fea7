import { EventEmitter } from "node:events";
import { rmSync } from "node:fs";
import type { ContinuousControl } from "../api/context.ts";
import { ErrorCode, WebJobsError, isWebJobsError } from "../errors.ts";
import type { HostDeps } from "../host-deps.ts";
import { JobProcess, type JobProcessResult } from "../runs/job-process.ts";
import { LogWriter } from "../runs/log-writer.ts";
import { JobType, type JobRecord } from "../store/types.ts";
import { RestartBackoff } from "./backoff.ts";
import { detailedStatus, summarizeStatus } from "./cluster-status.ts";
import { ContinuousCluster } from "./continuous-cluster.ts";
import { freeLoopbackPort } from "./free-port.ts";

export const ContinuousStatus = {
  Initializing: "Initializing",
  Starting: "Starting",
  Running: "Running",
  PendingRestart: "PendingRestart",
  Stopping: "Stopping",
  Stopped: "Stopped",
  /** A singleton job that runs on another instance (the holder of its lease). */
  InactiveInstance: "InactiveInstance",
} as const;
export type ContinuousStatus = (typeof ContinuousStatus)[keyof typeof ContinuousStatus];

const DEFAULT_GRACE_SEC = 5;
const REDEPLOY_DEBOUNCE_MS = 500;
const EXIT_CODES_KEPT = 5;

const changedElsewhere = (job: JobRecord) =>
  `${job.desiredState === "running" ? "started" : "stopped"} on another instance`;

export interface SupervisorEvents {
  /** A job's status on this instance changed (the dashboard's live updates listen to this). */
  status: [name: string, status: ContinuousStatus];
}

/** What this instance knows of one continuous job. */
interface Supervised {
  job: JobRecord;
  status: ContinuousStatus;
  process: JobProcess | null;
  /** The version the live process runs (kept installed while it runs). */
  runningVersion: string | null;
  port: number | null;
  startedAt: Date | null;
  log: LogWriter;
  backoff: RestartBackoff;
  restarts: number;
  lastExitCodes: (number | string)[];
  /** Why it cannot start (missing interpreter…), until the next deploy. */
  startError: string | null;
  restartTimer: NodeJS.Timeout | null;
  nextRestartAt: Date | null;
  redeployTimer: NodeJS.Timeout | null;
  /** Operations on one job run one after the other. */
  queue: Promise<void>;
  /** This instance holds the job's singleton lease (several instances only). */
  leaseHeld: boolean;
  /** When the last successful renewal was asked (`performance.now()`): the lease runs from then at the latest. */
  leaseRenewedAt: number;
  /**
   * When this instance last learnt the job's desired state or version (`performance.now()`): a
   * look at the store begun before then may have read an older row, and leaves the job alone.
   */
  touchedAt: number;
}

/**
 * Keeps continuous jobs running on this instance: starts those whose desired state is "running",
 * restarts them when they exit (exponential back-off, crash-loop detection), stops them gracefully
 * (shutdown file, SIGTERM, `stopping_wait_time`, then SIGKILL of the group), and restarts them once
 * on a new version after a redeploy.
 */
export class ContinuousSupervisor extends EventEmitter<SupervisorEvents> implements ContinuousControl {
  private readonly jobs = new Map<string, Supervised>();
  private state: "new" | "started" | "stopping" | "stopped" = "new";
  private readonly shortId: string;
  /** Statuses, desired states and singleton leases shared with other instances (PostgreSQL only). */
  private readonly cluster: ContinuousCluster | null;

  constructor(private readonly deps: HostDeps) {
    super();
    this.shortId = deps.instanceId.slice(0, 6);
    this.cluster = deps.config.database
      ? new ContinuousCluster({
          store: deps.store.continuous,
          signals: deps.signals,
          instanceId: deps.instanceId,
          timeoutMs: deps.config.instanceTimeoutSec * 1000,
          log: deps.log,
          reconcile: () => this.reconcile(),
          othersChanged: (name) => {
            const entry = this.jobs.get(name);
            if (entry) this.emit("status", name, this.view(entry.job).status as ContinuousStatus);
          },
        })
      : null;
    deps.registry.on("deployed", (job) => {
      if (job.type === JobType.Continuous && this.state === "started") this.onDeployed(job);
    });
    // Started or stopped through another instance (the job feed): followed here at once.
    deps.registry.on("desiredState", (job, elsewhere) => {
      if (!elsewhere || job.type !== JobType.Continuous || this.state !== "started") return;
      const entry = this.entry(job);
      if (entry.job.desiredState !== job.desiredState)
        void this.applyDesiredState(entry, job, changedElsewhere(job));
    });
  }

  /** Starts every job whose desired state is "running" (after a host restart too). */
  async start(): Promise<void> {
    if (this.state !== "new") return;
    this.state = "started";
    for (const job of await this.deps.registry.list(JobType.Continuous)) {
      const entry = this.entry(job);
      if (job.desiredState === "running") this.enqueue(entry, () => this.launch(entry));
    }
    this.cluster?.start();
  }

  /** Stops every job gracefully, in parallel; nothing restarts afterwards. */
  async stop(reason: string): Promise<void> {
    if (this.state === "stopping" || this.state === "stopped") return;
    this.state = "stopping";
    await this.cluster?.stop();
    await Promise.all(
      [...this.jobs.values()].map(async (entry) => {
        this.clearTimers(entry);
        await entry.queue;
        await this.halt(entry, this.graceMs(entry.job), reason);
        // Another instance takes the singleton over now, not when the lease expires.
        await this.releaseLease(entry);
        await entry.log.close();
      }),
    );
    await this.cluster?.flush();
    this.state = "stopped";
  }

  killAll(): void {
    for (const entry of this.jobs.values()) entry.process?.killNow();
  }

  versionsInUse(name: string): Set<string> {
    const version = this.jobs.get(name)?.runningVersion;
    return new Set(version ? [version] : []);
  }

  /** The continuous job JSON's own fields; the return type is inferred: it is their one definition. */
  view(job: JobRecord) {
    const entry = this.jobs.get(job.name);
    const status =
      entry?.status ??
      (job.desiredState === "running" ? ContinuousStatus.Initializing : ContinuousStatus.Stopped);
    // Several instances: one line per live instance, and a status summing them up.
    const lines = this.cluster?.statusesOf(job.name, status) ?? [
      { instanceId: this.deps.instanceId, status },
    ];
    return {
      status: summarizeStatus(lines),
      detailed_status: lines.length === 1 ? `${this.shortId} - ${status}` : detailedStatus(lines),
      /** Ours: this instance's own status (`status` sums up every instance's). */
      instance_status: status,
      desired_state: job.desiredState,
      pid: entry?.process?.pid ?? null,
      port: entry?.process ? entry.port : null,
      started_at: entry?.process && entry.startedAt ? entry.startedAt.toISOString() : null,
      restarts: entry?.restarts ?? 0,
      crash_loop: entry?.backoff.crashLooping ?? false,
      last_exit_codes: entry?.lastExitCodes ?? [],
      next_restart_at: entry?.nextRestartAt?.toISOString() ?? null,
      start_error: entry?.startError ?? null,
    };
  }

  async startJob(name: string): Promise<JobRecord> {
    if (this.deps.config.stopped) {
      throw new WebJobsError(
        ErrorCode.Stopped,
        "WebJobs are stopped (WEBJOBS_STOPPED is set); no job can run.",
      );
    }
    const job = await this.deps.registry.setDesiredState(JobType.Continuous, name, "running");
    await this.applyDesiredState(this.entry(job), job, "started on request");
    await this.cluster?.notify(name);
    return job;
  }

  async stopJob(name: string): Promise<JobRecord> {
    const job = await this.deps.registry.setDesiredState(JobType.Continuous, name, "stopped");
    await this.applyDesiredState(this.entry(job), job, "stopped on request");
    await this.cluster?.notify(name);
    return job;
  }

  /** Starts or stops the job here as its desired state says (set here or on another instance). */
  /**
   * WEBJOBS_STOPPED was set or cleared while the host runs (the host-wide app setting, through
   * any instance): every continuous job stops, its desired state kept, or those meant to run
   * start again.
   */
  async applyStopped(stopped: boolean): Promise<void> {
    if (this.state !== "started") return;
    await Promise.all(
      [...this.jobs.values()].map(async (entry) => {
        if (!stopped) {
          if (entry.job.desiredState === "running") await this.applyDesiredState(entry, entry.job, "");
          return;
        }
        this.clearTimers(entry);
        await this.enqueue(entry, async () => {
          await this.halt(entry, this.graceMs(entry.job), "WebJobs are stopped (WEBJOBS_STOPPED)");
          await this.releaseLease(entry);
        });
      }),
    );
  }

  private async applyDesiredState(entry: Supervised, job: JobRecord, reason: string): Promise<void> {
    entry.job = job;
    entry.touchedAt = performance.now();
    if (job.desiredState === "running") {
      entry.backoff.reset();
      await this.enqueue(entry, async () => {
        if (!entry.process && this.state === "started") {
          this.clearTimers(entry);
          await this.launch(entry);
        }
      });
      return;
    }
    this.clearTimers(entry);
    await this.enqueue(entry, async () => {
      await this.halt(entry, this.graceMs(job), reason);
      await this.releaseLease(entry);
    });
  }

  /**
   * Several instances, every couple of seconds (sooner after a signal): applies desired states set
   * elsewhere, forgets jobs removed elsewhere, renews the singleton leases held here, and takes
   * over those whose holder is gone.
   */
  private async reconcile(): Promise<void> {
    if (this.state !== "started" || !this.cluster) return;
    // First, and whatever else fails: a lease not renewed in time is another instance's to take.
    await this.renewLeases();
    const readAt = performance.now();
    const stored = new Map((await this.deps.registry.list(JobType.Continuous)).map((j) => [j.name, j]));
    for (const entry of [...this.jobs.values()]) {
      if (this.state !== "started") return;
      // Started, stopped or deployed here while the rows were read: they may predate it.
      if (entry.touchedAt >= readAt) continue;
      const name = entry.job.name;
      const job = stored.get(name);
      if (!job) {
        void this.removeJob(name);
        continue;
      }
      if (job.desiredState !== entry.job.desiredState) {
        void this.applyDesiredState(entry, job, changedElsewhere(job));
        continue;
      }
      if (job.desiredState !== "running") continue;
      if (!job.settings.is_singleton) {
        if (entry.leaseHeld) await this.releaseLease(entry);
        continue;
      }
      if (!entry.leaseHeld && !entry.process && entry.status === ContinuousStatus.InactiveInstance) {
        // Its holder released it, or died and let it expire.
        if (await this.takeLease(entry)) this.enqueue(entry, () => this.launch(entry));
      }
    }
  }

  /**
   * Renews the singleton leases held here. One not renewed (another instance took it after it
   * expired: the database was out of reach for longer than the lease) stops the job here; so does
   * failing to renew for as long as the lease lasts, when another instance may already run it.
   */
  private async renewLeases(): Promise<void> {
    const cluster = this.cluster!;
    for (const entry of [...this.jobs.values()]) {
      if (!entry.leaseHeld || this.state !== "started") continue;
      if (entry.job.desiredState !== "running") {
        // Stopped meanwhile (a renewal crossing the release may have taken it back): give it up.
        await this.releaseLease(entry);
        continue;
      }
      const held = await this.takeLease(entry).catch((error: unknown) => {
        const stillOurs = performance.now() - entry.leaseRenewedAt < cluster.leaseMs;
        if (stillOurs)
          this.deps.log.warn({ err: error, job: entry.job.name }, "could not renew a singleton lease");
        return stillOurs;
      });
      if (held) continue;
      entry.leaseHeld = false;
      entry.log.write(
        "SYS WARN",
        "Singleton lease not renewed in time; stopping here (another instance may run it)",
      );
      this.clearTimers(entry);
      this.enqueue(entry, async () => {
        await this.halt(entry, this.graceMs(entry.job), "singleton lease lost");
        this.setStatus(entry, ContinuousStatus.InactiveInstance);
      });
    }
  }

  /** Takes or renews the job's singleton lease; true when this instance holds it. */
  private async takeLease(entry: Supervised): Promise<boolean> {
    const asked = performance.now();
    const held = await this.cluster!.acquire(entry.job.name);
    if (held) entry.leaseRenewedAt = asked;
    entry.leaseHeld = held;
    return held;
  }

  private async releaseLease(entry: Supervised): Promise<void> {
    if (!entry.leaseHeld || !this.cluster) return;
    entry.leaseHeld = false;
    await this.cluster.release(entry.job.name);
  }

  /** The job is being deleted: stop its process now and forget it. */
  async removeJob(name: string): Promise<void> {
    const entry = this.jobs.get(name);
    if (!entry) return;
    this.clearTimers(entry);
    await this.enqueue(entry, () => this.halt(entry, 0, "job deleted"));
    await entry.log.close();
    this.jobs.delete(name);
    await this.cluster?.forget(name);
  }

  port(name: string): number | null {
    const entry = this.jobs.get(name);
    return entry?.process ? entry.port : null;
  }

  private onDeployed(job: JobRecord): void {
    const entry = this.entry(job);
    entry.job = job;
    entry.touchedAt = performance.now();
    entry.startError = null;
    if (job.desiredState !== "running") {
      // A package with disable.job arrives stopped.
      if (entry.process) this.enqueue(entry, () => this.halt(entry, this.graceMs(job), "deployed disabled"));
      return;
    }
    if (!entry.process && !entry.redeployTimer) {
      // Not running (new job, stopped by a crash…): start the new version now.
      this.clearTimers(entry);
      entry.backoff.reset();
      this.enqueue(entry, () => this.launch(entry));
      return;
    }
    // Several deploys in a burst restart the job once, on the last version.
    if (entry.redeployTimer) clearTimeout(entry.redeployTimer);
    entry.redeployTimer = setTimeout(() => {
      entry.redeployTimer = null;
      this.enqueue(entry, async () => {
        await this.halt(entry, this.graceMs(entry.job), "new version deployed");
        entry.backoff.reset();
        if (entry.job.desiredState === "running" && this.state === "started") await this.launch(entry);
      });
    }, REDEPLOY_DEBOUNCE_MS);
  }

  private entry(job: JobRecord): Supervised {
    let entry = this.jobs.get(job.name);
    if (!entry) {
      const { config, paths, instanceId } = this.deps;
      entry = {
        job,
        status: job.desiredState === "running" ? ContinuousStatus.Initializing : ContinuousStatus.Stopped,
        process: null,
        runningVersion: null,
        port: null,
        startedAt: null,
        log: new LogWriter({
          path: paths.continuousLog(job.name),
          instanceId,
          rotate: { maxBytes: config.continuousLogMaxBytes, files: config.continuousLogFiles },
        }),
        backoff: new RestartBackoff({
          initialMs: config.restartBackoffMs,
          maxMs: config.restartTimeSec * 1000,
          stableMs: config.stableRunSec * 1000,
          crashLoopAfter: config.crashLoopRestarts,
        }),
        restarts: 0,
        lastExitCodes: [],
        startError: null,
        restartTimer: null,
        nextRestartAt: null,
        redeployTimer: null,
        queue: Promise.resolve(),
        leaseHeld: false,
        leaseRenewedAt: 0,
        touchedAt: performance.now(),
      };
      this.jobs.set(job.name, entry);
      this.cluster?.report(job.name, entry.status);
    }
    return entry;
  }

  private enqueue(entry: Supervised, work: () => Promise<void>): Promise<void> {
    const next = entry.queue.then(work).catch((error: unknown) => {
      this.deps.log.error({ err: error, job: entry.job.name }, "continuous job operation failed");
    });
    entry.queue = next;
    return next;
  }

  private setStatus(entry: Supervised, status: ContinuousStatus, detail?: string): void {
    entry.status = status;
    entry.log.write("SYS INFO", `Status changed to ${status}${detail ? ` (${detail})` : ""}`);
    this.statusChanged(entry);
  }

  /** Live events, and this instance's row in the store when there are several. */
  private statusChanged(entry: Supervised): void {
    this.cluster?.report(entry.job.name, entry.status);
    this.emit(
      "status",
      entry.job.name,
      this.cluster ? (this.view(entry.job).status as ContinuousStatus) : entry.status,
    );
  }

  private graceMs(job: JobRecord): number {
    return (job.settings.stopping_wait_time ?? DEFAULT_GRACE_SEC) * 1000;
  }

  private shutdownFile(name: string): string {
    return this.deps.paths.shutdownFile(JobType.Continuous, name, this.shortId);
  }

  private async launch(entry: Supervised): Promise<void> {
    if (entry.process || this.state !== "started") return;
    // Read again: the desired state or version may have changed while this waited in the queue.
    const job = (await this.deps.registry.get(JobType.Continuous, entry.job.name)) ?? entry.job;
    entry.job = job;
    if (job.desiredState !== "running") return;
    if (this.deps.config.stopped) {
      // Kudu's WEBJOBS_STOPPED: nothing runs, continuous jobs included; their desired state is kept.
      if (entry.status !== ContinuousStatus.Stopped) {
        this.setStatus(entry, ContinuousStatus.Stopped, "WebJobs are stopped (WEBJOBS_STOPPED)");
      }
      return;
    }
    if (this.cluster && job.settings.is_singleton) {
      // One instance at a time: the holder of the lease; the others wait, InactiveInstance.
      if (!(await this.takeLease(entry))) {
        if (entry.status !== ContinuousStatus.InactiveInstance) {
          this.setStatus(entry, ContinuousStatus.InactiveInstance, "a singleton running on another instance");
        }
        return;
      }
    }
    entry.nextRestartAt = null;
    this.setStatus(entry, ContinuousStatus.Starting);
    const shutdownFile = this.shutdownFile(job.name);
    rmSync(shutdownFile, { force: true });
    try {
      // Several instances: a version installed through another one may still be on its way here.
      await this.deps.registry.ensureVersion(job);
      entry.port = await freeLoopbackPort();
      const process = JobProcess.start({
        ...this.deps,
        job,
        log: entry.log,
        runId: "",
        args: [],
        argumentsText: "",
        shutdownFile,
        port: entry.port,
      });
      entry.process = process;
      entry.runningVersion = job.version;
      entry.startedAt = new Date();
      entry.startError = null;
      this.setStatus(entry, ContinuousStatus.Running);
      void process.done.then((result) => this.onExit(entry, process, result));
    } catch (error) {
      const message = isWebJobsError(error) ? error.message : `Could not start the job: ${String(error)}`;
      entry.startError = message;
      entry.log.write("SYS ERR ", message);
      this.setStatus(entry, ContinuousStatus.Stopped, "cannot start");
      // Another instance may be able to start it (an interpreter installed there).
      await this.releaseLease(entry);
    }
  }

  /** The process ended by itself (or crashed): schedule its restart. */
  private onExit(entry: Supervised, process: JobProcess, result: JobProcessResult): void {
    if (entry.process !== process) return;
    entry.process = null;
    entry.runningVersion = null;
    if (entry.status === ContinuousStatus.Stopping) return; // halt() takes it from here
    const ranMs = Date.now() - (entry.startedAt?.getTime() ?? Date.now());
    const code = result.exitCode ?? result.signal ?? "unknown";
    entry.lastExitCodes = [code, ...entry.lastExitCodes].slice(0, EXIT_CODES_KEPT);
    const delay = entry.backoff.onExit(ranMs);
    const seconds = (ranMs / 1000).toFixed(1);
    entry.log.write(
      "SYS WARN",
      `Process exited with ${typeof code === "number" ? `code ${code}` : code} after ${seconds} s; restarting in ${(delay / 1000).toFixed(1)} s`,
    );
    if (entry.backoff.crashLooping) {
      entry.log.write(
        "SYS ERR ",
        `Crash loop: ${entry.backoff.quickExits} quick exits in a row (last exit codes ${entry.lastExitCodes.join(", ")})`,
      );
    }
    this.deps.registry.collectVersions(JobType.Continuous, entry.job.name).catch(() => undefined);
    if (this.state !== "started" || entry.job.desiredState !== "running") {
      this.setStatus(entry, ContinuousStatus.Stopped);
      return;
    }
    entry.status = ContinuousStatus.PendingRestart;
    entry.nextRestartAt = new Date(Date.now() + delay);
    this.statusChanged(entry);
    entry.restartTimer = setTimeout(() => {
      entry.restartTimer = null;
      entry.restarts += 1;
      this.enqueue(entry, () => this.launch(entry));
    }, delay);
  }

  /** Stops the process if there is one (shutdown file, SIGTERM, grace, kill), then `Stopped`. */
  private async halt(entry: Supervised, graceMs: number, reason: string): Promise<void> {
    entry.nextRestartAt = null;
    const process = entry.process;
    if (!process) {
      if (entry.status !== ContinuousStatus.Stopped) this.setStatus(entry, ContinuousStatus.Stopped, reason);
      return;
    }
    this.setStatus(entry, ContinuousStatus.Stopping, reason);
    await process.terminate(graceMs);
    await process.done;
    entry.process = null;
    entry.runningVersion = null;
    this.setStatus(entry, ContinuousStatus.Stopped);
    await this.deps.registry.collectVersions(JobType.Continuous, entry.job.name).catch(() => undefined);
  }

  private clearTimers(entry: Supervised): void {
    if (entry.restartTimer) clearTimeout(entry.restartTimer);
    if (entry.redeployTimer) clearTimeout(entry.redeployTimer);
    entry.restartTimer = null;
    entry.redeployTimer = null;
    entry.nextRestartAt = null;
  }
}
