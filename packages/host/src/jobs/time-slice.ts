import { setImmediate as nextTurn } from "node:timers/promises";

/**
 * Lets a long run of synchronous file system calls share the event loop. For thousands of small
 * files (a node_modules), a synchronous create-write-close is several times cheaper than the same
 * calls through the thread pool, each of which costs a promise, a hop to a pool thread and a hop
 * back; but a whole deploy done synchronously would hold every request and every job's output
 * for a second. Work done in slices of a few milliseconds, with a turn of the event loop between
 * them, gets both: the speed of the synchronous calls and a host that keeps answering.
 */
export class TimeSlice {
  private started = performance.now();

  constructor(private readonly budgetMs = 8) {}

  /** Gives the event loop a turn if this slice has used its budget. */
  async yieldIfDue(): Promise<void> {
    if (performance.now() - this.started < this.budgetMs) return;
    await nextTurn();
    this.started = performance.now();
  }
}
