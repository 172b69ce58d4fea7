import { randomBytes } from "node:crypto";
import { chownSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import { findCgroupMounts, type CgroupMounts } from "./cgroup-mounts.ts";
import { CgroupDir, subfolders } from "./cgroup.ts";
import { killUntilGone, MARKER_VARIABLE, processesMarked } from "./proc-scan.ts";
import { RunCage, type CageLimits } from "./run-cage.ts";
import { resolveRunAs, type RunAsUser } from "./run-as.ts";
import { Watchdog } from "./watchdog.ts";

export type ContainmentMode = "auto" | "cgroup" | "proc";

export interface ContainmentOptions {
  instanceId: string;
  mode: ContainmentMode;
  runAs?: string;
  log: Logger;
  /** Where cgroups are; found from /proc by default (tests pass their own). */
  mounts?: CgroupMounts;
}

/** One cgroup tree of this host: `<own cgroup>/webjobs-<instance>/<host token>/<run>`. */
interface Tree {
  version: 1 | 2;
  /** `<own cgroup>/webjobs-<instance>`: every host process of this instance, this one and dead ones. */
  instanceDir: string;
  /** This host process's folder. */
  hostDir: string;
}

/**
 * Keeps every process a job starts within reach: cancel, stop, time limits, delete and host
 * shutdown kill all of them, including the ones that left the job's process group (`setsid`,
 * double forks, daemons ignoring SIGTERM).
 *
 * Where the host can create cgroups it puts each run in one (v2 where it is mounted, else v1): a
 * process cannot leave it without privileges, and `cgroup.kill` ends all of it at once. Memory
 * and CPU limits use whichever hierarchy has those controllers (on hybrid machines, v1's). Where
 * no cgroup can be made, each run's processes are found by a marker variable in their
 * environment, which `setsid` and forks keep. Either way a watchdog process kills what is left of
 * the runs if the host dies, and the next start kills whatever survived even that.
 */
export class Containment {
  /** Tells this host process's cgroups and markers from a dead predecessor's. */
  readonly token = `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  readonly user: RunAsUser | null;
  private tracking: Tree | null = null;
  private memory: Tree | null = null;
  private cpu: Tree | null = null;
  private readonly watchdog = new Watchdog();
  private started = false;
  private runs = 0;

  constructor(private readonly options: ContainmentOptions) {
    this.user = options.runAs ? resolveRunAs(options.runAs) : null;
  }

  /** Prefix of the markers of this instance's runs, whichever host process started them. */
  private get instanceMarker(): string {
    return `${this.options.instanceId}/`;
  }

  private get hostMarker(): string {
    return `${this.instanceMarker}${this.token}/`;
  }

  /** Finds what this machine offers, kills what a previous host left, says what is in use. */
  start(): { leftovers: number } {
    if (this.started) return { leftovers: 0 };
    this.started = true;
    const { mode, log } = this.options;
    const mounts = this.options.mounts ?? findCgroupMounts();
    const problems: string[] = [];
    if (mode !== "proc") this.setUpCgroups(mounts, problems);
    if (mode === "cgroup" && !this.tracking) {
      throw new WebJobsError(
        ErrorCode.BadRequest,
        `WEBJOBS_CONTAINMENT=cgroup, but no cgroup can be created here: ${problems.join("; ") || "no cgroup file system is mounted"}.`,
      );
    }
    const leftovers = this.killLeftovers();
    this.watchdog.start(
      this.hostMarker,
      this.trees().map((tree) => tree.hostDir),
    );
    log.info(
      {
        containment: this.describeTracking(),
        memoryLimits: this.memory ? `cgroup v${this.memory.version}` : "sampled (RSS of the process group)",
        cpuLimits: this.cpu ? `cgroup v${this.cpu.version}` : "not enforced",
        ...(problems.length > 0 ? { cgroupProblems: problems } : {}),
      },
      `job processes contained by ${this.describeTracking()}`,
    );
    if (leftovers > 0) log.warn({ processes: leftovers }, "killed job processes left by a previous host");
    if (this.user) {
      log.info({ user: this.user.name, uid: this.user.uid }, `jobs run as user '${this.user.name}'`);
    } else if (process.getuid?.() === 0) {
      log.warn("jobs run as root, like the host: set WEBJOBS_RUN_AS=<user> to run them as another user");
    }
    return { leftovers };
  }

  describeTracking(): string {
    return this.tracking
      ? `a cgroup v${this.tracking.version} per run (${this.tracking.hostDir})`
      : `a marker variable in each job process's environment (${MARKER_VARIABLE}), scanned in /proc`;
  }

  /** A cage for one process start: its cgroups (created now), its marker, its limits. */
  cage(key: string, limits: CageLimits): RunCage {
    this.runs += 1;
    const name = `${key.replace(/[^A-Za-z0-9_-]/g, "_")}-${this.runs}`;
    const dirs = new Map<Tree, CgroupDir>();
    const dirFor = (tree: Tree | null): CgroupDir | null => {
      if (!tree) return null;
      if (!dirs.has(tree)) dirs.set(tree, new CgroupDir(path.join(tree.hostDir, name), tree.version));
      return dirs.get(tree)!;
    };
    return new RunCage({
      marker: `${this.hostMarker}${name}`,
      tracking: dirFor(this.tracking),
      // A controller's cgroup only when the job asks for its limit: most runs need one mkdir, not three.
      memory: limits.memoryBytes ? dirFor(this.memory) : null,
      cpu: limits.cpus ? dirFor(this.cpu) : null,
      limits,
      user: this.user,
    });
  }

  /** A folder the job's user must be able to write (its data folder). */
  grantFolder(dir: string): void {
    mkdirSync(dir, { recursive: true });
    if (this.user) chownSync(dir, this.user.uid, this.user.gid);
  }

  /** After every job has stopped: lets the watchdog go, removes this host's cgroup folders. */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    for (const tree of this.trees()) {
      const dir = new CgroupDir(tree.hostDir, tree.version);
      dir.kill();
      dir.remove();
      new CgroupDir(tree.instanceDir, tree.version).remove();
    }
    killUntilGone(() => processesMarked(this.hostMarker, { prefix: true }));
    this.watchdog.stop();
  }

  private trees(): Tree[] {
    return [...new Set([this.tracking, this.memory, this.cpu].filter((tree): tree is Tree => tree !== null))];
  }

  private setUpCgroups(mounts: CgroupMounts, problems: string[]): void {
    const tree = (version: 1 | 2, own: string): Tree | null => {
      const instanceDir = path.join(own, `webjobs-${this.options.instanceId}`);
      const hostDir = path.join(instanceDir, this.token);
      try {
        // One level at a time: the host's own cgroup exists, and a recursive mkdir would try to
        // create parents where no cgroup file system is (it never returns on /proc).
        for (const dir of [instanceDir, hostDir]) {
          try {
            mkdirSync(dir);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
          }
        }
        return { version, instanceDir, hostDir };
      } catch (error) {
        problems.push(`cannot create ${hostDir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
        return null;
      }
    };
    if (mounts.v2) {
      this.tracking = tree(2, mounts.v2);
      if (this.tracking) {
        const enabled = enableV2Controllers(mounts.v2, this.tracking, problems);
        if (enabled.includes("memory")) this.memory = this.tracking;
        if (enabled.includes("cpu")) this.cpu = this.tracking;
      }
    }
    if (!this.memory && mounts.v1Memory) this.memory = tree(1, mounts.v1Memory);
    if (!this.cpu && mounts.v1Cpu) this.cpu = tree(1, mounts.v1Cpu);
    // Without v2, a v1 hierarchy still holds a run's processes.
    this.tracking ??= this.memory ?? this.cpu;
  }

  /** Kills every process of this instance that a previous host process left, and its cgroups. */
  private killLeftovers(): number {
    let killed = 0;
    const instanceDirs = new Map<string, 1 | 2>();
    for (const tree of this.trees()) instanceDirs.set(tree.instanceDir, tree.version);
    for (const [instanceDir, version] of instanceDirs) {
      for (const token of subfolders(instanceDir)) {
        if (token === this.token) continue;
        const dir = new CgroupDir(path.join(instanceDir, token), version);
        killed += dir.pids().length;
        dir.kill();
        // The kernel takes a moment to empty a killed cgroup.
        for (let i = 0; i < 100 && dir.pids().length > 0; i++) sleepSync(10);
        dir.remove();
      }
    }
    killed += killUntilGone(() =>
      processesMarked(this.instanceMarker, { prefix: true }).filter((pid) => pid !== this.watchdog.pid),
    );
    return killed;
  }
}

/**
 * Turns on the memory and cpu controllers down to this host's folder, where the machine's v2 has
 * them. A cgroup holding processes cannot hand controllers to its children (v2's "no internal
 * processes" rule), so when the host's own cgroup refuses, the host moves itself into a leaf
 * `webjobs-host` beside its jobs' tree first, as a delegated systemd service would.
 */
function enableV2Controllers(own: string, tree: Tree, problems: string[]): string[] {
  const available = (new CgroupDir(own, 2).read("cgroup.controllers") ?? "").split(/\s+/);
  const wanted = ["memory", "cpu"].filter((controller) => available.includes(controller));
  if (wanted.length === 0) return [];
  const enable = (dir: string) =>
    new CgroupDir(dir, 2).write("cgroup.subtree_control", wanted.map((c) => `+${c}`).join(" "));
  try {
    try {
      enable(own);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EBUSY") throw error;
      const leaf = new CgroupDir(path.join(own, "webjobs-host"), 2);
      leaf.create();
      leaf.write("cgroup.procs", String(process.pid));
      enable(own);
    }
    enable(tree.instanceDir);
    enable(tree.hostDir);
    return wanted;
  } catch (error) {
    problems.push(`cannot enable ${wanted.join(" and ")} in cgroup v2: ${(error as Error).message}`);
    return [];
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleepSync = (ms: number) => Atomics.wait(sleeper, 0, 0, ms);
