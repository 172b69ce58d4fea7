import type { RunRecord } from "../store/types.ts";

/**
 * Runs seen and controlled from every instance (several hosts on one PostgreSQL): a cancel asked
 * on one instance reaches the instance running the run through the store, and a run's log is
 * shipped to the store in chunks so that any instance serves it, live or finished, even when the
 * instance that ran it died.
 *
 * Glossary
 * - log chunk: a piece of a run's log file (whole lines), numbered 1, 2… in writing order.
 * - cancel request: a mark on an active run; the instance running it cancels it as if asked.
 */

export interface LogChunk {
  seq: number;
  text: string;
}

export interface RunKey {
  jobName: string;
  id: string;
}

/** A cancel request, with the reason the run is to be recorded with (null: a cancel on request). */
export interface CancelRequest extends RunKey {
  reason: string | null;
}

export interface RemoteRunStore {
  /**
   * True when several instances may share this store (PostgreSQL): logs are shipped to it. False
   * on SQLite (one machine): the log file is the only copy and nothing is shipped.
   */
  readonly shared: boolean;
  /**
   * Marks an active run as asked to cancel (a conditional write); false when it is not active.
   * `reason` is what the run ends with (the first request's reason is kept).
   */
  requestCancel(jobName: string, id: string, reason?: string): Promise<boolean>;
  /** The active runs of an instance that were asked to cancel. */
  cancelRequests(instanceId: string): Promise<CancelRequest[]>;
  /** The job's run in progress (Initializing or Running), on whichever instance; null when none. */
  activeRun(jobName: string): Promise<RunRecord | null>;
  /** Stores one chunk of a run's log; a seq already stored is kept as it is (a retried write). */
  appendLogChunk(jobName: string, runId: string, seq: number, text: string): Promise<void>;
  /** Stores text after the run's last chunk (the line that closes the log of a lost run). */
  appendLogTail(jobName: string, runId: string, text: string): Promise<void>;
  /** The chunks after `afterSeq`, in order, at most `limit` of them. */
  readLogChunks(jobName: string, runId: string, afterSeq: number, limit: number): Promise<LogChunk[]>;
}
