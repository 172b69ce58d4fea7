import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { ErrorCode, WebJobsError, isWebJobsError } from "../errors.ts";
import type { HostDeps } from "../host-deps.ts";
import { splitArguments } from "../jobs/script.ts";
import { JobType, RunStatus, StoreConflictError, type JobRecord, type RunRecord } from "../store/types.ts";
import { JobProcess, type JobProcessResult } from "./job-process.ts";
import { RUNS_CHANNEL } from "./assigned-runs.ts";
import { runIdFor } from "./kudu-format.ts";
import { LogShipper } from "./log-shipper.ts";
import { removePrunedRunFolders } from "./run-folders.ts";
import { LogWriter } from "./log-writer.ts";
import { StoreWriteRetry } from "./store-write-retry.ts";

export interface RunnerEvents {
  /** A run was created (`Initializing`) or changed status before its end. */
  status: [run: RunRecord];
  /**
   * A run ended. `recorded`: this host recorded its end (the store's conditional write), false when
   * another instance had closed it already (as `instance lost`): what is said once per run (web
   * hooks) is said by whoever recorded the end.
   */
  finished: [run: RunRecord, recorded: boolean];
}

export interface RunRequest {
  arguments?: string;
  trigger: string;
  /** For runs started by a schedule: the due instant served, and the attempt (1, 2…). */
  scheduledTime?: Date;
  attempt?: number;
}

const ALREADY_RUNNING = "Cannot start a new run since job is already running.";

interface ActiveRun {
  run: RunRecord;
  process: JobProcess | null;
  abortReason: string | null;
  /** Grace between the shutdown signal and the kill: `stopping_wait_time`. */
  graceMs: number;
  finished: Promise<RunRecord>;
}

const TRIGGERED_GRACE_SEC = 30;
/** Run ids taken by other instances in a row before giving up (each try takes the next id). */
const ID_TRIES = 100;

/**
 * Runs triggered jobs: one run at a time per job, recorded from `Initializing` to its end with
 * the reason, exit code, signal, CPU time and peak memory; enforces the idle timeout and the
 * job's time limit; cancels on request; keeps the last N runs of each job.
 */
export class TriggeredRunner extends EventEmitter<RunnerEvents> {
  private readonly active = new Map<string, ActiveRun>();
  private readonly lastIds = new Map<string, string>();
  private closed = false;

  /** Runs' status writes (Running, the end), in order, retried while the database is out of reach. */
  private readonly runWrites: StoreWriteRetry;

  constructor(private readonly deps: HostDeps) {
    super();
    this.runWrites = new StoreWriteRetry(deps.log);
  }

  /** Starts a run and returns it at once (status `Initializing`); the run goes on in the background. */
  async start(name: string, request: RunRequest): Promise<RunRecord> {
    const { config, registry, instanceId } = this.deps;
    const job = await registry.require(JobType.Triggered, name);
    if (config.stopped || this.closed) {
      throw new WebJobsError(
        ErrorCode.Stopped,
        this.closed
          ? "The host is shutting down; no new run can start."
          : "WebJobs are stopped (WEBJOBS_STOPPED is set); no job can run.",
      );
    }
    if (this.active.has(name)) throw new WebJobsError(ErrorCode.Conflict, ALREADY_RUNNING);
    const argumentsText = request.arguments ?? "";
    const args = splitArguments(argumentsText);
    const run: RunRecord = {
      jobName: name,
      id: this.nextRunId(name),
      status: RunStatus.Initializing,
      reason: null,
      trigger: request.trigger,
      arguments: argumentsText,
      version: job.version,
      instanceId,
      startTime: this.now(),
      endTime: null,
      exitCode: null,
      signal: null,
      cpuMs: null,
      peakRssBytes: null,
      pid: null,
      scheduledTime: request.scheduledTime ?? null,
      attempt: request.attempt ?? null,
    };
    // Claimed before the first await so that two requests cannot both start a run.
    const entry: ActiveRun = {
      run,
      process: null,
      abortReason: null,
      graceMs: (job.settings.stopping_wait_time ?? TRIGGERED_GRACE_SEC) * 1000,
      finished: Promise.resolve(run),
    };
    this.active.set(name, entry);
    let elsewhere: string | null;
    try {
      elsewhere = await this.insert(run);
      // Synchronous: a tiny call, where an async one costs a trip through the thread pool on the
      // way to every spawn.
      if (!elsewhere) mkdirSync(this.deps.paths.runDir(name, run.id), { recursive: true });
    } catch (error) {
      this.active.delete(name);
      // The store holds one active run per job (a unique index), whichever host started it.
      if (error instanceof StoreConflictError) throw new WebJobsError(ErrorCode.Conflict, ALREADY_RUNNING);
      throw error;
    }
    if (elsewhere) {
      // Another instance is less loaded: it claims the run when told (or when it next looks).
      this.active.delete(name);
      this.deps.signals
        .notify(RUNS_CHANNEL, elsewhere)
        .catch((error: unknown) => this.deps.log.warn({ err: error }, "could not signal an assigned run"));
      return { ...run };
    }
    this.emit("status", { ...run });
    entry.finished = this.execute(job, entry, args);
    return { ...run };
  }

  /**
   * Inserts the run. One machine: here, as always. Several instances: for the least-loaded live
   * one (this one included, claimed at once then); a run id another instance took meanwhile makes
   * this one take the next. Returns the other instance chosen, or null when the run is this one's.
   */
  private async insert(run: RunRecord): Promise<string | null> {
    const { store, config, instanceId } = this.deps;
    if (!config.database) {
      await store.insertRun(run);
      return null;
    }
    for (let attempt = 1; ; attempt++) {
      const chosen = await store.claims.insertOnLeastLoaded(run, config.instanceTimeoutSec * 1000);
      if (chosen) {
        run.instanceId = chosen;
        return chosen === instanceId ? null : chosen;
      }
      if (attempt >= ID_TRIES)
        throw new Error(`No free run id for job '${run.jobName}' after ${ID_TRIES} tries`);
      run.id = this.nextRunId(run.jobName);
    }
  }

  /**
   * Starts the process of a run another instance placed here and this one claimed. A job this
   * instance does not have, or a host shutting down, ends the run at once with the reason.
   */
  async launchClaimed(claimed: RunRecord): Promise<void> {
    const { registry, store, config, log } = this.deps;
    const run = { ...claimed };
    const name = run.jobName;
    const job = await registry.get(JobType.Triggered, name);
    // The index of one active run per job makes this rare: a request here lost the race for the
    // job's run to this very run, and its entry is on its way out.
    for (let waited = 0; this.active.has(name) && waited < 2000; waited += 20) await delay(20);
    const refusal = !job
      ? { status: RunStatus.Failed, reason: `Job '${name}' is not on instance '${run.instanceId}'.` }
      : this.closed || config.stopped
        ? { status: RunStatus.Aborted, reason: this.closed ? "host shut down" : "WebJobs are stopped" }
        : this.active.has(name)
          ? { status: RunStatus.Failed, reason: ALREADY_RUNNING }
          : null;
    if (!job || refusal) {
      const ended: RunRecord = { ...run, ...refusal!, endTime: this.now() };
      if (
        await store.updateRun(name, run.id, {
          status: ended.status,
          reason: ended.reason,
          endTime: ended.endTime,
        })
      )
        this.emit("finished", ended, true);
      log.warn({ job: name, run: run.id, reason: ended.reason }, "assigned run not started");
      return;
    }
    if (run.version !== job.version) {
      // This instance's copy of the job is the one that runs; the run says which.
      run.version = job.version;
      await store.updateRun(name, run.id, { version: job.version });
    }
    const entry: ActiveRun = {
      run,
      process: null,
      abortReason: null,
      graceMs: (job.settings.stopping_wait_time ?? TRIGGERED_GRACE_SEC) * 1000,
      finished: Promise.resolve(run),
    };
    this.active.set(name, entry);
    this.noteRunId(name, run.id);
    mkdirSync(this.deps.paths.runDir(name, run.id), { recursive: true });
    this.emit("status", { ...run });
    entry.finished = this.execute(job, entry, splitArguments(run.arguments));
  }

  get activeCount(): number {
    return this.active.size;
  }

  isRunning(name: string): boolean {
    return this.active.has(name);
  }

  isRunningRun(name: string, id: string): boolean {
    return this.active.get(name)?.run.id === id;
  }

  /** Newest first. */
  async latestRuns(name: string, limit: number): Promise<RunRecord[]> {
    return this.deps.store.listRuns(name, limit);
  }

  async requireRun(name: string, id: string): Promise<RunRecord> {
    const run = await this.deps.store.getRun(name, id);
    if (!run) throw new WebJobsError(ErrorCode.NotFound, `No run '${id}' of job '${name}'.`);
    return run;
  }

  versionsInUse(name: string): Set<string> {
    const entry = this.active.get(name);
    return new Set(entry ? [entry.run.version] : []);
  }

  /**
   * Cancels a run: shutdown file, SIGTERM, grace (`stopping_wait_time`), then kill. It ends Aborted
   * with `reason` (another is "replaced by schedule").
   */
  async cancel(name: string, id: string, reason = "cancelled on request"): Promise<RunRecord> {
    const entry = this.active.get(name);
    if (!entry || entry.run.id !== id) {
      const run = await this.requireRun(name, id);
      throw new WebJobsError(
        ErrorCode.Conflict,
        `Run '${id}' of job '${name}' is not running (status ${run.status}${run.reason ? `: ${run.reason}` : ""}).`,
      );
    }
    await this.abort(entry, reason, entry.graceMs);
    return entry.finished;
  }

  /** Stops every run (host shutdown): new runs are refused from now on. */
  async stopAll(reason: string): Promise<void> {
    this.closed = true;
    this.runWrites.close();
    await Promise.all([...this.active.values()].map((entry) => this.abort(entry, reason, entry.graceMs)));
    await Promise.all([...this.active.values()].map((entry) => entry.finished));
  }

  /** Kills every run group at once (second signal during shutdown). */
  killAll(): void {
    for (const entry of this.active.values()) entry.process?.killNow();
  }

  /**
   * Aborts the job's current run, if any, with the given reason (graceful stop, then kill after
   * `stopping_wait_time`); resolves when it has ended.
   */
  async abortActive(name: string, reason: string): Promise<RunRecord | null> {
    const entry = this.active.get(name);
    if (!entry) return null;
    await this.abort(entry, reason, entry.graceMs);
    return entry.finished;
  }

  /** Stops the job's run, if any, before the job is deleted. */
  async stopJob(name: string): Promise<void> {
    const entry = this.active.get(name);
    if (!entry) return;
    await this.abort(entry, "job deleted", 0);
    await entry.finished;
  }

  private async abort(entry: ActiveRun, reason: string, graceMs: number): Promise<void> {
    entry.abortReason ??= reason;
    await entry.process?.terminate(graceMs);
  }

  private async execute(job: JobRecord, entry: ActiveRun, args: string[]): Promise<RunRecord> {
    const { config, paths, store, instanceId } = this.deps;
    const { run } = entry;
    // Several instances: the log goes to the store too, for the others to serve. One machine
    // (SQLite): the file is the only copy, nothing more is written.
    const shipper = store.remoteRuns.shared
      ? new LogShipper(store.remoteRuns, job.name, run.id, this.deps.log)
      : null;
    const log = new LogWriter({
      path: paths.runLog(job.name, run.id),
      instanceId,
      maxBytes: config.runLogMaxBytes,
      onWritten: shipper ? (text) => shipper.add(text) : undefined,
    });
    const timers: NodeJS.Timeout[] = [];
    let final: Partial<RunRecord>;
    try {
      log.write("SYS INFO", "Status changed to Initializing");
      let lastActivity = Date.now();
      // Several instances: a version installed through another one may still be on its way here.
      await this.deps.registry.ensureVersion(job);
      const process = JobProcess.start({
        ...this.deps,
        job,
        log,
        runId: run.id,
        args,
        argumentsText: run.arguments,
        shutdownFile: paths.shutdownFile(JobType.Triggered, job.name, run.id),
        onActivity: () => {
          lastActivity = Date.now();
        },
      });
      entry.process = process;
      run.status = RunStatus.Running;
      run.pid = process.pid;
      // The store write happens now (the store is synchronous underneath); listeners hear of the
      // running process at once. Not awaited, in the queue of run writes: with the database out
      // of reach the process runs on (its limits armed below), and this write, then the run's
      // end, are made once it is back.
      const written = this.runWrites.write(`start of run ${run.id} of ${job.name}`, () =>
        store.updateRun(job.name, run.id, { status: RunStatus.Running, pid: process.pid }),
      );
      this.emit("status", { ...run });
      void written.catch((error: unknown) =>
        this.deps.log.warn({ err: error, job: job.name, run: run.id }, "could not record the run as Running"),
      );
      log.write("SYS INFO", "Status changed to Running");

      const idleSec = job.settings.idle_timeout ?? config.idleTimeoutSec;
      const idleCheck = setInterval(
        () => {
          if (Date.now() - lastActivity >= idleSec * 1000) {
            entry.abortReason ??= `idle timeout: no output and no CPU activity for ${idleSec} s`;
            process.killNow();
          }
        },
        Math.min(1000, idleSec * 250),
      );
      timers.push(idleCheck);
      const limitSec = job.settings.time_limit;
      if (limitSec) {
        timers.push(
          setTimeout(
            () => void this.abort(entry, `time limit of ${limitSec} s reached`, entry.graceMs),
            limitSec * 1000,
          ),
        );
      }
      if (entry.abortReason) void this.abort(entry, entry.abortReason, entry.graceMs);

      const result = await process.done;
      final = {
        exitCode: result.exitCode,
        signal: result.signal,
        cpuMs: result.cpuMs,
        peakRssBytes: result.peakRssBytes,
        endTime: this.onRecordClock(result.exitedAt),
        ...outcome(result, entry.abortReason),
      };
    } catch (error) {
      // Could not start (missing interpreter…): a failed run that says why, never a silent one.
      const message = isWebJobsError(error) ? error.message : `Could not start the job: ${String(error)}`;
      if (!isWebJobsError(error)) this.deps.log.error({ err: error, job: job.name }, "run failed to start");
      log.write("SYS ERR ", message);
      final = { status: RunStatus.Failed, reason: message };
    } finally {
      for (const timer of timers) clearInterval(timer);
    }
    const ended: RunRecord = { ...run, ...final, endTime: final.endTime ?? this.now() };
    log.write(ended.status === RunStatus.Success ? "SYS INFO" : "SYS ERR ", statusLine(ended));
    await log.close();
    // Shipped before the end is recorded: whoever sees the run ended reads its whole log. Queued
    // like the end (while the database is away), and never keeping the end from being written.
    if (shipper) {
      await this.runWrites
        .write(`log of run ${run.id} of ${job.name}`, () => shipper.finish())
        .catch((error: unknown) =>
          this.deps.log.warn(
            { err: error, job: job.name, run: run.id },
            "could not ship the end of a run log",
          ),
        );
    }
    // The database may be out of reach right now: the end (with its real end time) is written
    // once it is back, and the job counts as running here until then.
    const recorded = await this.runWrites.write(`end of run ${run.id} of ${job.name}`, () =>
      store.updateRun(job.name, run.id, {
        status: ended.status,
        reason: ended.reason,
        endTime: ended.endTime,
        exitCode: ended.exitCode,
        signal: ended.signal,
        cpuMs: ended.cpuMs,
        peakRssBytes: ended.peakRssBytes,
      }),
    );
    this.active.delete(job.name);
    await this.afterRun(job.name);
    this.emit("finished", ended, recorded);
    return ended;
  }

  /** Keeps the last N runs (and their logs) and frees versions no run needs any more. */
  private async afterRun(name: string): Promise<void> {
    try {
      const removed = await this.deps.store.pruneRuns(name, this.deps.config.historySize);
      for (const id of removed) await rm(this.deps.paths.runDir(name, id), { recursive: true, force: true });
      if (this.deps.store.remoteRuns.shared) {
        await removePrunedRunFolders(this.deps.store, this.deps.paths, name, this.deps.config.historySize);
      }
      await this.deps.registry.collectVersions(JobType.Triggered, name);
    } catch (error) {
      this.deps.log.warn({ err: error, job: name }, "could not prune history");
    }
  }

  /** Now on the clock runs are recorded with (the database's on several instances). */
  private now(): Date {
    return new Date(this.deps.clock ? this.deps.clock() : Date.now());
  }

  /** A time this machine's clock gave, on the clock runs are recorded with. */
  private onRecordClock(date: Date): Date {
    return this.deps.clock ? new Date(date.getTime() + this.deps.clock() - Date.now()) : date;
  }

  /** Kudu's run ids are the UTC start time; two runs in one tick get consecutive ids. */
  private nextRunId(name: string): string {
    let id = runIdFor(this.now());
    const last = this.lastIds.get(name);
    if (last && id <= last) id = (BigInt(last) + 1n).toString();
    this.lastIds.set(name, id);
    return id;
  }

  /** Ids of runs placed here by others count too: the next id this instance gives is after them. */
  private noteRunId(name: string, id: string): void {
    const last = this.lastIds.get(name);
    if (!last || id > last) this.lastIds.set(name, id);
  }
}

function outcome(
  result: Pick<JobProcessResult, "exitCode" | "signal" | "spawnError" | "limitReason">,
  abortReason: string | null,
): Pick<RunRecord, "status" | "reason"> {
  if (abortReason) return { status: RunStatus.Aborted, reason: abortReason };
  if (result.limitReason) return { status: RunStatus.Aborted, reason: result.limitReason };
  if (result.spawnError)
    return { status: RunStatus.Failed, reason: `Could not start the process: ${result.spawnError}` };
  if (result.exitCode === 0) return { status: RunStatus.Success, reason: null };
  if (result.signal) return { status: RunStatus.Failed, reason: `killed by signal ${result.signal}` };
  return { status: RunStatus.Failed, reason: `exit code ${result.exitCode}` };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function statusLine(run: RunRecord): string {
  return `Status changed to ${run.status}${run.reason ? ` (${run.reason})` : ""}`;
}
