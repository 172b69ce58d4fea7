import { formatBytes } from "../../jobs/resource-limits.ts";
import type { CgroupDir } from "./cgroup.ts";
import { killUntilGone, MARKER_VARIABLE, processesMarked, signalAll } from "./proc-scan.ts";
import type { RunAsUser } from "./run-as.ts";

export interface CageLimits {
  memoryBytes?: number | null;
  cpus?: number | null;
}

const CPU_PERIOD_US = 100_000;

/**
 * The processes of one job process start: its cgroups (when the host has them) and its marker.
 * `wrap` makes the process enter its cgroups before the job's code runs, so nothing it forks is
 * ever outside; `members` lists every live process of it, wherever it moved in the process tree.
 */
export class RunCage {
  readonly marker: string;
  readonly env: Record<string, string>;
  private readonly tracking: CgroupDir | null;
  private readonly memory: CgroupDir | null;
  private readonly cpu: CgroupDir | null;
  private readonly dirs: CgroupDir[];
  private readonly user: RunAsUser | null;
  readonly limits: CageLimits;

  constructor(options: {
    marker: string;
    tracking: CgroupDir | null;
    memory: CgroupDir | null;
    cpu: CgroupDir | null;
    limits: CageLimits;
    user: RunAsUser | null;
  }) {
    this.marker = options.marker;
    this.tracking = options.tracking;
    this.memory = options.memory;
    this.cpu = options.cpu;
    this.user = options.user;
    this.limits = options.limits;
    this.dirs = [...new Set([this.tracking, this.memory, this.cpu].filter((dir) => dir !== null))];
    this.env = { [MARKER_VARIABLE]: this.marker };
    if (this.user)
      Object.assign(this.env, { HOME: this.user.home, USER: this.user.name, LOGNAME: this.user.name });
  }

  /** Whether the kernel holds the memory limit (else the caller samples memory itself). */
  get enforcesMemory(): boolean {
    return this.memory !== null && Boolean(this.limits.memoryBytes);
  }

  get enforcesCpu(): boolean {
    return this.cpu !== null && Boolean(this.limits.cpus);
  }

  /** Creates the cgroups and writes the limits; throws with a message when the kernel refuses. */
  prepare(): void {
    for (const dir of this.dirs) dir.create();
    const { memoryBytes, cpus } = this.limits;
    if (memoryBytes && this.memory) {
      const dir = this.memory;
      if (dir.version === 2) {
        dir.write("memory.max", String(memoryBytes));
        // Swap would let the run go on past its limit, only slower.
        if (dir.has("memory.swap.max")) dir.write("memory.swap.max", "0");
      } else {
        dir.write("memory.limit_in_bytes", String(memoryBytes));
        if (dir.has("memory.memsw.limit_in_bytes"))
          dir.write("memory.memsw.limit_in_bytes", String(memoryBytes));
      }
    }
    if (cpus && this.cpu) {
      const quota = Math.max(1000, Math.round(cpus * CPU_PERIOD_US));
      if (this.cpu.version === 2) {
        this.cpu.write("cpu.max", `${quota} ${CPU_PERIOD_US}`);
      } else {
        this.cpu.write("cpu.cfs_period_us", String(CPU_PERIOD_US));
        this.cpu.write("cpu.cfs_quota_us", String(quota));
      }
    }
  }

  /**
   * The command to spawn: a shell that writes its own pid into each cgroup and then becomes the
   * job (`exec` keeps the pid), dropping to the job's user last, since entering a cgroup takes
   * root. Nothing to enter and nobody to become: the command as it is.
   */
  wrap(command: string, args: string[]): { command: string; args: string[] } {
    const job = this.user
      ? [
          this.user.setpriv,
          `--reuid=${this.user.uid}`,
          `--regid=${this.user.gid}`,
          "--init-groups",
          "--",
          command,
          ...args,
        ]
      : [command, ...args];
    if (this.dirs.length === 0) return { command: job[0], args: job.slice(1) };
    const script =
      'while [ "$1" != -- ]; do echo $$ > "$1" || { echo "webjobs: cannot enter cgroup $1" >&2; exit 126; }; shift; done; shift; exec "$@"';
    return {
      command: "/bin/sh",
      args: ["-c", script, "webjobs-cage", ...this.dirs.map((dir) => dir.procsFile), "--", ...job],
    };
  }

  /** Every live process of the run, in the cgroup or carrying the marker. */
  members(): number[] {
    return this.tracking ? this.tracking.pids() : processesMarked(this.marker);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.tracking) this.tracking.signal(signal);
    else signalAll(processesMarked(this.marker), signal);
  }

  /** Kills every process of the run now. */
  kill(): void {
    if (this.tracking) this.tracking.kill();
    else killUntilGone(() => processesMarked(this.marker));
  }

  /** Why the kernel ended the run, when it did: its memory limit. */
  limitReason(): string | null {
    if (!this.memory || !this.limits.memoryBytes) return null;
    return this.memory.oomKills() > 0 ? memoryReason(this.limits.memoryBytes) : null;
  }

  peakMemory(): number | null {
    return this.memory?.peakMemory() ?? null;
  }

  /** Kills what is left and removes the cgroups (retried: a killed cgroup empties a moment later). */
  async release(): Promise<void> {
    if (this.members().length > 0) this.kill();
    for (let attempt = 0; attempt < 100; attempt++) {
      if (this.dirs.every((dir) => dir.remove())) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

export const memoryReason = (bytes: number) => `memory limit of ${formatBytes(bytes)} exceeded`;
