import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ErrorCode, WebJobsError } from "../errors.ts";
import { resolveInterpreter } from "../jobs/script.ts";
import type { HostDeps } from "../host-deps.ts";
import type { JobRecord } from "../store/types.ts";
import { isConnectionError } from "../store/unavailable.ts";
import { jobEnvironment } from "./job-env.ts";
import { onLines } from "./line-splitter.ts";
import type { LogWriter } from "./log-writer.ts";
import { memoryLimitBytes } from "../jobs/resource-limits.ts";
import { memoryReason, type RunCage } from "./containment/run-cage.ts";
import { groupMembers, processStartTicks, type GroupSample } from "./proc-sampler.ts";
import { signalGroup, spawnGroup, type SpawnedGroup } from "./process-group.ts";

export interface JobProcessResult {
  exitCode: number | null;
  signal: string | null;
  cpuMs: number | null;
  peakRssBytes: number | null;
  /** Set when the process could not be started at all. */
  spawnError: string | null;
  /** Set when a resource limit ended the run (its memory_limit). */
  limitReason: string | null;
  /** When the process exited (the run's end, even if recording it waits for the database). */
  exitedAt: Date;
}

export interface JobProcessOptions extends Pick<
  HostDeps,
  "paths" | "store" | "sampler" | "instanceId" | "appSettings" | "containment"
> {
  job: JobRecord;
  log: LogWriter;
  /** Run id for triggered runs, "" for continuous jobs (as in Kudu). */
  runId: string;
  args: string[];
  argumentsText: string;
  shutdownFile: string;
  port?: number;
  /** Called on every output line and on every CPU tick: feeds idle detection. */
  onActivity?: () => void;
}

/**
 * One OS process group running a job's script from its installed version folder: the part
 * triggered runs and continuous jobs share. It captures output line by line into the log,
 * samples CPU and memory of the whole group, and records the group in the store so that a
 * host restarted after a crash can kill what is left of it.
 */
export class JobProcess {
  readonly pid: number;
  readonly done: Promise<JobProcessResult>;
  cpuMs: number | null = null;
  peakRssBytes: number | null = null;
  private readonly group: SpawnedGroup;
  /** Why a limit ended the run, once one has. */
  private limitReason: string | null = null;
  /** Every process the job starts, also the ones that leave its process group. */
  private readonly cage: RunCage;
  /** Hides the values of secret app settings in the job's output. */
  private readonly mask: (text: string) => string;

  private constructor(private readonly options: JobProcessOptions) {
    const { job, paths, log } = options;
    const versionDir = paths.version(job.type, job.name, job.version);
    if (!job.script) throw new WebJobsError(ErrorCode.NoRunnableScript, "No runnable script file was found.");
    const scriptPath = path.join(versionDir, job.script);
    // Resolved again at run time: an interpreter may have been installed or removed since deploy.
    const resolved = resolveInterpreter(scriptPath);
    if ("error" in resolved) throw new WebJobsError(ErrorCode.InterpreterMissing, resolved.error);
    const { interpreter } = resolved;

    mkdirSync(path.dirname(options.shutdownFile), { recursive: true });
    const scriptDir = path.dirname(scriptPath);
    const appSettings = options.appSettings?.forJob(job.name);
    this.mask = appSettings?.mask ?? ((text) => text);
    const dataPath = paths.jobData(job.type, job.name);
    options.containment.grantFolder(dataPath);
    const limits = { memoryBytes: memoryLimitBytes(job.settings.memory_limit), cpus: job.settings.cpu_limit };
    this.cage = options.containment.cage(this.owner, limits);
    try {
      this.cage.prepare();
    } catch (error) {
      throw new WebJobsError(
        ErrorCode.Internal,
        `Cannot apply the job's limits: ${(error as Error).message}`,
      );
    }
    log.write(
      "SYS INFO",
      `Run script '${path.basename(scriptPath)}' with script host - '${interpreter.hostName}'`,
    );
    if (limits.cpus && !this.cage.enforcesCpu) {
      log.write("SYS WARN", "cpu_limit is not enforced: this host has no cpu cgroup it can use");
    }
    const wrapped = this.cage.wrap(interpreter.command, [...interpreter.args, scriptPath, ...options.args]);
    this.group = spawnGroup(wrapped.command, wrapped.args, {
      cwd: scriptDir,
      env: jobEnvironment({
        type: job.type,
        name: job.name,
        jobPath: scriptDir,
        dataPath,
        runId: options.runId,
        arguments: options.argumentsText,
        shutdownFile: options.shutdownFile,
        port: options.port,
        appSettings: appSettings?.env,
        extra: this.cage.env,
      }),
    });
    this.pid = this.group.pid;
    this.done = this.watch();
  }

  /** Starts the job's script; throws a WebJobsError when it cannot (no interpreter, no script). */
  static start(options: JobProcessOptions): JobProcess {
    return new JobProcess(options);
  }

  private async watch(): Promise<JobProcessResult> {
    const { store, sampler, instanceId, log, onActivity } = this.options;
    const { child } = this.group;
    const pid = this.pid;
    let unwatch = () => {};
    if (pid) {
      const startTicks = processStartTicks(pid);
      if (startTicks) {
        await bestEffort(store.addProcess({ pid, startTicks, owner: this.owner, instanceId }));
      }
      unwatch = sampler.watch(pid, (sample) => {
        if (this.cpuMs !== null && sample.cpuMs > this.cpuMs) onActivity?.();
        this.record(sample);
        this.checkMemory(sample);
      });
    }
    const lines = (kind: "INFO" | "ERR ") => (line: string) => {
      onActivity?.();
      log.write(kind, this.mask(line));
    };
    const outputs = Promise.all([
      child.stdout ? onLines(child.stdout, lines("INFO")) : Promise.resolve(),
      child.stderr ? onLines(child.stderr, lines("ERR ")) : Promise.resolve(),
    ]);
    // Early samples, so that short runs get a memory figure too (the periodic tick is 1 s).
    const early = [50, 250].map((ms) =>
      setTimeout(() => {
        if (pid) this.record(sampler.sampleNow(pid));
      }, ms),
    );
    // The pipes close when the leader exits, usually before Node reaps it: a last sample then
    // catches the CPU time of runs shorter than the sampling interval.
    child.stdout?.once("end", () => {
      if (pid) this.record(sampler.sampleLeader(pid));
    });
    const exit = await this.group.exited;
    const exitedAt = new Date();
    for (const timer of early) clearTimeout(timer);
    // Output still in the pipes is part of the run; but a grandchild holding them open must not
    // keep the run going for ever.
    await Promise.race([outputs, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    unwatch();
    this.limitReason ??= this.cage.limitReason();
    if (this.limitReason) log.write("SYS ERR ", `${this.limitReason}: the run's processes were killed`);
    // The run is over: processes it left behind (daemons, `setsid`, double forks) end with it.
    const leftovers = this.cage.members().length;
    if (leftovers > 0) log.write("SYS WARN", `Killing ${leftovers} process(es) the job left running`);
    await this.cage.release();
    if (pid) await bestEffort(store.removeProcess(pid, instanceId));
    return {
      exitCode: exit.exitCode,
      signal: exit.signal,
      cpuMs: this.cpuMs,
      peakRssBytes: this.peakRssBytes,
      spawnError: exit.error ? String(exit.error.message ?? exit.error) : null,
      limitReason: this.limitReason,
      exitedAt,
    };
  }

  /**
   * A memory limit the kernel holds shows as an OOM kill in the run's cgroup; without a memory
   * cgroup the group's sampled RSS is compared with the limit. Either way the whole run ends.
   */
  private checkMemory(sample: GroupSample): void {
    if (this.limitReason) return;
    const limit = this.cage.limits.memoryBytes;
    if (!limit) return;
    this.limitReason = this.cage.enforcesMemory
      ? this.cage.limitReason()
      : sample.rssBytes > limit
        ? memoryReason(limit)
        : null;
    if (this.limitReason) this.killNow();
  }

  private record(sample: GroupSample | null): void {
    if (!sample) return;
    this.cpuMs = Math.max(this.cpuMs ?? 0, sample.cpuMs);
    if (sample.rssBytes > 0) this.peakRssBytes = Math.max(this.peakRssBytes ?? 0, sample.rssBytes);
  }

  private get owner(): string {
    const { job, runId } = this.options;
    return runId ? `${job.type}/${job.name}/${runId}` : `${job.type}/${job.name}`;
  }

  /**
   * Asks the job to stop the Kudu way (the shutdown file appears, SIGTERM to the group and to every
   * process of the run that left it), then kills all of them after the grace time. Resolves when
   * no process of the run is left.
   */
  async terminate(graceMs: number): Promise<void> {
    try {
      writeFileSync(this.options.shutdownFile, "");
    } catch {
      // The folder was removed (job deleted): the signal still goes out.
    }
    if (!this.pid) return;
    signalGroup(this.pid, "SIGTERM");
    this.cage.signal("SIGTERM");
    if (graceMs > 0 && (await this.waitGone(graceMs))) return;
    this.killNow();
    await this.waitGone(5000);
  }

  /** Kills the group and every other process of the run, now. */
  killNow(): void {
    if (!this.pid) return;
    signalGroup(this.pid, "SIGKILL");
    this.cage.kill();
  }

  private async waitGone(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    let leaderGone = false;
    void this.group.exited.then(() => (leaderGone = true));
    for (;;) {
      if (leaderGone && groupMembers(this.pid).length === 0 && this.cage.members().length === 0) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now()))));
    }
  }
}

/**
 * The process rows are for recovery after a crash (each is checked by its start time before
 * anything is killed): the database out of reach must not fail the run for them. A row not added
 * leaves that run's processes to the host's watchdog; a row not removed is found stale later.
 */
async function bestEffort(write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (!isConnectionError(error)) throw error;
  }
}
