import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isZombie, killUntilGone, signalAll } from "./proc-scan.ts";

/**
 * One cgroup folder (v2, or one v1 controller's) and the few files we use. Writes that fail say
 * why in the thrown error; reads of a folder that is gone answer "nothing".
 */
export class CgroupDir {
  constructor(
    readonly dir: string,
    readonly version: 1 | 2,
  ) {}

  get procsFile(): string {
    return path.join(this.dir, "cgroup.procs");
  }

  /** Its parent exists (this host's folder); never recursive, see Containment.setUpCgroups. */
  create(): void {
    try {
      mkdirSync(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }

  write(file: string, value: string): void {
    writeFileSync(path.join(this.dir, file), value);
  }

  read(file: string): string | null {
    try {
      return readFileSync(path.join(this.dir, file), "utf8");
    } catch {
      return null;
    }
  }

  has(file: string): boolean {
    return existsSync(path.join(this.dir, file));
  }

  /** Live processes of this cgroup and every cgroup below it. */
  pids(): number[] {
    const found: number[] = [];
    const walk = (dir: string) => {
      let text: string;
      try {
        text = readFileSync(path.join(dir, "cgroup.procs"), "utf8");
      } catch {
        return;
      }
      for (const line of text.split("\n")) if (line) found.push(Number(line));
      for (const entry of subfolders(dir)) walk(path.join(dir, entry));
    };
    walk(this.dir);
    return found.filter((pid) => !isZombie(pid));
  }

  signal(signal: NodeJS.Signals): void {
    signalAll(this.pids(), signal);
  }

  /** Kills every process, the ones forked meanwhile included: `cgroup.kill` where it exists. */
  kill(): void {
    if (this.version === 2 && this.has("cgroup.kill")) {
      try {
        this.write("cgroup.kill", "1");
        return;
      } catch {
        // gone, or an old kernel: fall back to signals
      }
    }
    killUntilGone(() => this.pids());
  }

  /** Removes the folder and the ones below it; false while processes are still inside. */
  remove(): boolean {
    const removeTree = (dir: string): boolean => {
      let ok = true;
      for (const entry of subfolders(dir)) ok = removeTree(path.join(dir, entry)) && ok;
      try {
        rmdirSync(dir);
        return ok;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === "ENOENT" && ok;
      }
    };
    return removeTree(this.dir);
  }

  /** How many times the kernel killed a process here for want of memory. */
  oomKills(): number {
    const text = this.version === 2 ? this.read("memory.events") : this.read("memory.oom_control");
    const match = text ? /^oom_kill (\d+)/m.exec(text) : null;
    return match ? Number(match[1]) : 0;
  }

  /** The highest memory use seen, where the kernel keeps it. */
  peakMemory(): number | null {
    const text = this.version === 2 ? this.read("memory.peak") : this.read("memory.max_usage_in_bytes");
    const value = text === null ? NaN : Number(text.trim());
    return Number.isFinite(value) && value > 0 ? value : null;
  }
}

export function subfolders(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
}
