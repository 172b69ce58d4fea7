import { readdirSync, readFileSync } from "node:fs";

/**
 * Finding a run's processes by a variable in their environment, for machines where no cgroup can
 * be made. Every job process gets `WEBJOBS_RUN_MARKER=<host token>/<run key>`; children inherit
 * it through `setsid`, double forks and daemonising, which a process group does not survive. A
 * process that wipes its own environment escapes this (a cgroup it cannot leave).
 */
export const MARKER_VARIABLE = "WEBJOBS_RUN_MARKER";

const pids = (): number[] => {
  try {
    return readdirSync("/proc")
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number);
  } catch {
    return [];
  }
};

/** The marker of a process, or null (gone, a kernel thread, not ours to read). */
function markerOf(pid: number): string | null {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, "latin1");
  } catch {
    return null;
  }
  const key = `${MARKER_VARIABLE}=`;
  let at = 0;
  if (!environ.startsWith(key)) {
    const found = environ.indexOf(`\0${key}`);
    if (found < 0) return null;
    at = found + 1;
  }
  const end = environ.indexOf("\0", at);
  return environ.slice(at + key.length, end < 0 ? undefined : end);
}

/** Live processes whose marker is `marker`, or starts with `prefix` when `prefix` is true. */
export function processesMarked(marker: string, { prefix = false } = {}): number[] {
  const found: number[] = [];
  for (const pid of pids()) {
    if (pid === process.pid) continue;
    const value = markerOf(pid);
    if (value !== null && (prefix ? value.startsWith(marker) : value === marker) && !isZombie(pid))
      found.push(pid);
  }
  return found;
}

export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return true;
  }
}

/** Sends a signal to each pid; a pid already gone is no error. */
export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * SIGKILL until nothing is found: a process may fork between the scan and the signal, so scan
 * again. Bounded: a fork bomb gets many rounds, not for ever.
 */
export function killUntilGone(find: () => number[], rounds = 50): number {
  let killed = 0;
  for (let round = 0; round < rounds; round++) {
    const found = find();
    if (found.length === 0) return killed;
    signalAll(found, "SIGKILL");
    killed += found.length;
  }
  return killed;
}
