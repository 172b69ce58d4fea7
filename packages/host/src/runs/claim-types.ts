import type { RunRecord } from "../store/types.ts";

/**
 * Placing runs on instances (issue 11). With several instances on one database, the instance that
 * starts a run (an API request, a schedule's fire) inserts it for the least-loaded live instance,
 * load being that instance's active runs in the runs table; the chosen instance then claims it
 * (once) and starts its process. An instance that picks itself claims at insert: no extra write.
 *
 * Glossary
 * - assigned: a run row whose `instance_id` names the instance that is to run it.
 * - claimed: the assigned instance took the run (a conditional write); unclaimed runs wait for it.
 */
export interface RunClaimStore {
  /**
   * Inserts `run` (status Initializing) for the live instance with the fewest active runs, ties
   * broken at random; `run.instanceId` (the caller) is always a candidate and, when chosen, the run
   * is claimed at once. Returns the chosen instance id, or null, writing nothing, when the run id
   * is taken (the caller takes the next id). Throws StoreConflictError when the job already has an
   * active run, on whichever instance.
   */
  insertOnLeastLoaded(run: RunRecord, timeoutMs: number): Promise<string | null>;
  /** The runs placed on `instanceId` that it has not claimed yet (they wait for it; not in flight). */
  unclaimed(instanceId: string): Promise<{ jobName: string; id: string }[]>;
  /** Claims the unclaimed runs assigned to `instanceId` that are still Initializing; each is claimed once. */
  claimAssigned(instanceId: string): Promise<RunRecord[]>;
}
