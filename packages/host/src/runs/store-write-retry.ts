import type { Logger } from "pino";
import { isConnectionError } from "../store/unavailable.ts";

/** Waits between attempts while the database is out of reach, growing to the last one. */
const BACK_OFF_MS = [100, 250, 500, 1000, 2000, 5000];
/** After `close()`, how long writes still try before giving up (so that a stop ends). */
const GIVE_UP_AFTER_CLOSE_MS = 5_000;

/**
 * Writes that must reach the store even if the database is out of reach when they are made: the
 * ends of runs. Each write is tried at once; while the database cannot be reached it is tried
 * again with back-off until it succeeds, in order (a write waits for the ones queued before it).
 * Memory stays bounded: one pending write per run that ended, and runs are bounded by the jobs.
 * Any other error (a refused write) is not retried: it is the caller's, as before.
 *
 * Once the host stops (`close()`), writes still try for a few seconds, then give up: the run stays
 * open in the store and is closed as Aborted by the next start of this instance (recovery.ts) or,
 * on PostgreSQL, by a live instance once this one is declared dead.
 */
export class StoreWriteRetry {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private closedAt: number | null = null;

  constructor(private readonly log: Logger) {}

  /** Writes queued and not yet done. */
  get backlog(): number {
    return this.pending;
  }

  /**
   * Runs `write` now when nothing is queued (so a synchronous store writes at once), else after the
   * writes before it; resolves when it is done, rejects on an error that is not "out of reach", or
   * when giving up after `close()`.
   */
  write<T>(what: string, write: () => Promise<T>): Promise<T> {
    this.pending += 1;
    const attempt =
      this.pending === 1 ? this.attempt(what, write) : this.tail.then(() => this.attempt(what, write));
    const done = attempt.finally(() => (this.pending -= 1));
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** The host is stopping: give up on the database after a few more seconds. */
  close(): void {
    this.closedAt ??= Date.now();
  }

  private async attempt<T>(what: string, write: () => Promise<T>): Promise<T> {
    for (let failures = 0; ; failures++) {
      try {
        const result = await write();
        if (failures > 0)
          this.log.info({ write: what, attempts: failures + 1 }, "written once the database was back");
        return result;
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        if (this.closedAt !== null && Date.now() - this.closedAt > GIVE_UP_AFTER_CLOSE_MS) {
          this.log.error({ err: error, write: what }, "gave up writing to the database while stopping");
          throw error;
        }
        if (failures === 0) {
          this.log.warn(
            { err: error, write: what },
            "database unavailable: the write waits until it is back",
          );
        }
        await new Promise((resolve) =>
          setTimeout(resolve, BACK_OFF_MS[Math.min(failures, BACK_OFF_MS.length - 1)]),
        );
      }
    }
  }
}
