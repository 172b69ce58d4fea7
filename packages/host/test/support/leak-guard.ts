import { readdirSync, readlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Vitest global setup: after the whole suite, no process may still run from a test's temporary
 * folders (every test host and job lives under `<tmp>/webjobs-…`). A leftover job process or host
 * is a leak, and fails the run.
 */
function leftovers(): string[] {
  const prefix = path.join(os.tmpdir(), "webjobs-");
  const found: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cwd.startsWith(prefix)) found.push(`${entry} (cwd ${cwd})`);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

export default function setup(): () => Promise<void> {
  return async () => {
    // Processes being killed at the very end get a moment to disappear.
    for (let i = 0; i < 20 && leftovers().length > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const left = leftovers();
    if (left.length > 0) {
      // Vitest reports an error thrown here but would still exit 0: set the exit code too.
      process.exitCode = 1;
      throw new Error(`Processes left behind by the tests:\n${left.join("\n")}`);
    }
  };
}
