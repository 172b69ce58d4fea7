import { existsSync, readFileSync, watch, type FSWatcher } from "node:fs";
import path from "node:path";

/**
 * The grace the host gives a stopping job: `stopping_wait_time` of settings.job (Kudu's default for
 * continuous jobs, 5 s). The SDK keeps one second of it to release what is unfinished.
 */
export function graceMs(env = process.env): number {
  let seconds = 5;
  if (env.WEBJOBS_PATH) {
    try {
      const settings = JSON.parse(readFileSync(path.join(env.WEBJOBS_PATH, "settings.job"), "utf8")) as {
        stopping_wait_time?: unknown;
      };
      if (typeof settings.stopping_wait_time === "number" && settings.stopping_wait_time > 0) {
        seconds = settings.stopping_wait_time;
      }
    } catch {
      // No settings.job: the default.
    }
  }
  return Math.max(500, seconds * 1000 - 1000);
}

/**
 * Calls `onStop` once when the WebJobs shutdown file appears (watched, and polled every second since
 * file watching can miss events; also when it exists at start), or on SIGTERM / SIGINT. A second
 * signal calls `onForce`.
 */
export function watchShutdown(
  onStop: (why: string) => void,
  onForce: () => void,
  env = process.env,
): () => void {
  let stopped = false;
  const fire = (why: string) => {
    if (stopped) return;
    stopped = true;
    onStop(why);
  };
  const onSignal = (signal: NodeJS.Signals) => (stopped ? onForce() : fire(signal));
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  const file = env.WEBJOBS_SHUTDOWN_FILE;
  let watcher: FSWatcher | null = null;
  let poll: NodeJS.Timeout | null = null;
  if (file) {
    const check = () => existsSync(file) && fire("shutdown file");
    try {
      watcher = watch(path.dirname(file), () => check());
      watcher.unref();
    } catch {
      // The folder may not exist yet; polling covers it.
    }
    poll = setInterval(check, 1000);
    poll.unref();
    queueMicrotask(check);
  }
  return () => {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    watcher?.close();
    if (poll) clearInterval(poll);
  };
}
