import { appendFile } from "node:fs/promises";
import type { Logger } from "pino";
import type { HostPaths } from "../paths.ts";
import { RunStatus, type RunRecord, type Store } from "../store/types.ts";
import { formatLogLine } from "./kudu-format.ts";
import { groupMembers, processStartTicks } from "./proc-sampler.ts";
import { killGroupNow } from "./process-group.ts";

/**
 * After a crash (kill -9, power loss) the store still says some runs are going and lists the
 * process groups the dead host started. Job processes live in their own groups, so they outlived
 * the host: kill what is left of them, then close those runs as `Aborted` ("host stopped").
 */
/** The reason of a run whose host died under it: it did not end by itself nor on request. */
export const HOST_LOST_REASON = "host stopped";

export async function recoverAfterCrash(deps: {
  store: Store;
  paths: HostPaths;
  instanceId: string;
  log: Logger;
}): Promise<{ killedGroups: number; abortedRuns: number; aborted: RunRecord[] }> {
  const { store, paths, instanceId, log } = deps;
  let killedGroups = 0;
  for (const record of await store.listProcesses(instanceId)) {
    const leaderTicks = processStartTicks(record.pid);
    // Same pid and same start time: our leader. Leader gone but members left: our orphans (a new
    // process cannot join a group whose id it does not own). Otherwise the pid was reused.
    const ours =
      leaderTicks === record.startTicks || (leaderTicks === null && groupMembers(record.pid).length > 0);
    if (ours) {
      killGroupNow(record.pid);
      killedGroups += 1;
      log.warn({ pid: record.pid, owner: record.owner }, "killed a job process left over by a previous host");
    }
    await store.removeProcess(record.pid, instanceId);
  }

  // Runs other instances placed here and no process of this instance claimed were never in
  // flight: they wait for this one to claim them (several instances).
  const waiting = new Set((await store.claims.unclaimed(instanceId)).map((r) => `${r.jobName}/${r.id}`));
  const orphans = (await store.activeRuns(instanceId)).filter(
    (run) => !waiting.has(`${run.jobName}/${run.id}`),
  );
  const now = new Date();
  const aborted: RunRecord[] = [];
  for (const run of orphans) {
    const reason = HOST_LOST_REASON;
    // Another instance may have closed it already (this one was declared dead): once is enough.
    if (!(await store.updateRun(run.jobName, run.id, { status: RunStatus.Aborted, reason, endTime: now })))
      continue;
    aborted.push({ ...run, status: RunStatus.Aborted, reason, endTime: now });
    const line = formatLogLine(now, instanceId, "SYS ERR ", `Status changed to Aborted (${reason})`) + "\n";
    await appendFile(paths.runLog(run.jobName, run.id), line).catch(() => undefined);
    // Several instances: the others serve this run's log from the store; it ends there too.
    if (store.remoteRuns.shared) await store.remoteRuns.appendLogTail(run.jobName, run.id, line);
  }
  if (aborted.length > 0)
    log.warn({ runs: aborted.length }, "runs left in flight by a previous host marked Aborted");
  return { killedGroups, abortedRuns: aborted.length, aborted };
}
