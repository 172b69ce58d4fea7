import { readdir, rm } from "node:fs/promises";
import type { HostPaths } from "../paths.ts";
import type { Store } from "../store/types.ts";

/**
 * Several instances: the history is pruned by whichever instance ends a run, and the folders of
 * the runs it prunes may be on another machine. Each instance, when a run of the job ends here,
 * removes its own folders of runs older than the oldest run the history keeps. Run ids are start
 * times and grow, so a run starting meanwhile (its id is newer) is never taken for a pruned one.
 * What an instance keeps is bounded: at most the history's size per job, once it runs the job.
 */
export async function removePrunedRunFolders(
  store: Store,
  paths: HostPaths,
  name: string,
  historySize: number,
): Promise<void> {
  const kept = await store.listRuns(name, historySize);
  // Fewer runs than the history holds: nothing was pruned.
  if (kept.length < historySize) return;
  const oldest = BigInt(kept[kept.length - 1].id);
  const keptIds = new Set(kept.map((run) => run.id));
  const entries = await readdir(paths.jobData("triggered", name)).catch(() => [] as string[]);
  for (const entry of entries) {
    if (!/^\d{1,30}$/.test(entry) || keptIds.has(entry) || BigInt(entry) >= oldest) continue;
    await rm(paths.runDir(name, entry), { recursive: true, force: true });
  }
}
