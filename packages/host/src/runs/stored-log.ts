import { existsSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { INSTANCE_LOST_REASON } from "../instances/lost-instances.ts";
import type { HostPaths } from "../paths.ts";
import { activeRunStatuses, type RunRecord, type Store } from "../store/types.ts";
import { formatLogLine } from "./kudu-format.ts";

/** Chunks read per query (each is at most about 1 MB). */
const PAGE = 16;
/** The closing line of a lost run is written just after the run is closed: waited for this long. */
const LOST_TAIL_WAIT_MS = 3000;

const LOST_STATUS_TEXT = `Status changed to Aborted (${INSTANCE_LOST_REASON})`;

/** The line that ends the log of a run closed because its instance was lost. */
export const lostRunLogLine = (at: Date, instanceId: string): string =>
  formatLogLine(at, instanceId, "SYS ERR ", LOST_STATUS_TEXT) + "\n";

/** A run's log as shipped to the store by the instance that ran it, chunk by chunk; none: empty. */
export async function* readStoredLog(store: Store, jobName: string, runId: string): AsyncGenerator<string> {
  let after = 0;
  for (;;) {
    const chunks = await store.remoteRuns.readLogChunks(jobName, runId, after, PAGE);
    for (const chunk of chunks) {
      after = chunk.seq;
      yield chunk.text;
    }
    if (chunks.length < PAGE) return;
  }
}

/**
 * Follows a run's log in the store (a run of another instance) until the run has ended and all of
 * its log is read, or the signal aborts: the counterpart of `followFile` for the local file.
 */
export async function followStoredLog(
  store: Store,
  jobName: string,
  runId: string,
  options: { pollMs?: number; signal?: AbortSignal },
  onChunk: (text: string) => void,
): Promise<void> {
  const pollMs = options.pollMs ?? 500;
  let after = 0;
  let sawLostLine = false;
  let endedAt: number | null = null;
  for (;;) {
    if (options.signal?.aborted) return;
    // The run first: whatever was shipped before it ended is read below.
    const run = await store.getRun(jobName, runId);
    const ended = !run || !activeRunStatuses.includes(run.status);
    for (;;) {
      const chunks = await store.remoteRuns.readLogChunks(jobName, runId, after, PAGE);
      for (const chunk of chunks) {
        after = chunk.seq;
        if (chunk.text.includes(LOST_STATUS_TEXT)) sawLostLine = true;
        onChunk(chunk.text);
      }
      if (chunks.length < PAGE) break;
    }
    if (ended) {
      endedAt ??= Date.now();
      const lost = run?.reason === INSTANCE_LOST_REASON;
      if (!lost || sawLostLine || Date.now() - endedAt >= LOST_TAIL_WAIT_MS) return;
    }
    await new Promise<void>((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        options.signal?.removeEventListener("abort", onAbort);
        resolve();
      }, pollMs);
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * Ends the log of a run this instance closed as `instance lost`: in the store when logs are
 * shipped there, else in the local file when it is on this machine (the same data folder).
 */
export async function closeLostRunLog(
  deps: { store: Store; paths: HostPaths; instanceId: string },
  run: RunRecord,
): Promise<void> {
  const line = lostRunLogLine(run.endTime ?? new Date(), deps.instanceId);
  if (deps.store.remoteRuns.shared) {
    await deps.store.remoteRuns.appendLogTail(run.jobName, run.id, line);
  } else if (existsSync(deps.paths.runDir(run.jobName, run.id))) {
    await appendFile(deps.paths.runLog(run.jobName, run.id), line);
  }
}
