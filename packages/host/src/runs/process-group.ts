import { spawn, type ChildProcess } from "node:child_process";
import { groupMembers } from "./proc-sampler.ts";

export interface GroupExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT, EACCES…). */
  error?: Error;
}

export interface SpawnedGroup {
  /** The leader's pid, which is also the process group id; 0 when spawning failed. */
  pid: number;
  child: ChildProcess;
  exited: Promise<GroupExit>;
}

/**
 * Starts a command in a process group of its own (`detached` makes it a session leader), so that
 * stopping it can signal every process it started. Never through a shell.
 */
export function spawnGroup(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): SpawnedGroup {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    shell: false,
  });
  const exited = new Promise<GroupExit>((resolve) => {
    child.once("error", (error) => {
      // 'error' without a pid means the process never started; 'exit' will not follow.
      if (!child.pid) resolve({ exitCode: null, signal: null, error });
    });
    child.once("exit", (exitCode, signal) => resolve({ exitCode, signal }));
  });
  return { pid: child.pid ?? 0, child, exited };
}

/** Signals every process of the group; false when none is left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

export function killGroupNow(pgid: number): void {
  signalGroup(pgid, "SIGKILL");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitGroupGone(group: { pid: number; exited: Promise<unknown> }, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  let leaderGone = false;
  void group.exited.then(() => (leaderGone = true));
  for (;;) {
    if (leaderGone && groupMembers(group.pid).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
  }
}

/**
 * SIGTERM to the group, up to `graceMs` for the leader to exit and the group to empty, then
 * SIGKILL to the group. Resolves when nothing of the group is left (bounded wait).
 */
export async function terminateGroup(
  group: { pid: number; exited: Promise<unknown> },
  graceMs: number,
): Promise<"exited" | "killed"> {
  signalGroup(group.pid, "SIGTERM");
  if (graceMs > 0 && (await waitGroupGone(group, graceMs))) return "exited";
  killGroupNow(group.pid);
  await waitGroupGone(group, 5000);
  return "killed";
}
