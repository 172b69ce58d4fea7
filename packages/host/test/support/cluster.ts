import { rm } from "node:fs/promises";
import type { TestPostgres } from "./postgres.ts";
import type { ServeProcess } from "./serve-process.ts";

/**
 * The end of a test with several `webjobs serve` processes on one PostgreSQL: the hosts still
 * running are stopped (SIGTERM) and waited for, then the database, then their folders go.
 */
export async function stopCluster(
  hosts: Iterable<ServeProcess>,
  postgres: TestPostgres | undefined,
  dirs: readonly string[],
): Promise<void> {
  for (const host of hosts) {
    if (host.child.exitCode === null && host.child.signalCode === null) host.child.kill("SIGTERM");
    await host.exited;
  }
  await postgres?.stop();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}
