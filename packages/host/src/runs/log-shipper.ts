import type { Logger } from "pino";
import type { RemoteRunStore } from "./remote-types.ts";

/** At most this long between a line written and the line readable from every instance. */
const SHIP_EVERY_MS = 1000;
/** One chunk (one row) holds at most about this much; a burst is shipped as several. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Ships a run's log to the store (several instances on PostgreSQL), so that any instance serves
 * it, live or after the run, even when this one dies. It gets what the log writer wrote to the
 * file (whole lines, already within the log's size cap, so a job writing 1 GiB ships no more than
 * the cap) and writes it as numbered chunks, one batch at most every second, one write at a time.
 * A write that fails (the database away for a while) is tried again at the next turn with the
 * same number: the store keeps a chunk it already has.
 */
export class LogShipper {
  private pending: string[] = [];
  private retry: { seq: number; text: string } | null = null;
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private shipping: Promise<void> | null = null;
  private closed = false;
  private failing = false;

  constructor(
    private readonly store: RemoteRunStore,
    private readonly jobName: string,
    private readonly runId: string,
    private readonly log: Logger,
  ) {}

  /** Text written to the log file (whole lines). */
  add(text: string): void {
    if (this.closed) return;
    this.pending.push(text);
    this.schedule();
  }

  /**
   * Ships what is left, after the log's last line. Rejects when a write fails; calling it again
   * goes on from the chunk that failed (the runner retries it while the database is away).
   */
  async finish(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.shipping;
    await this.shipAll();
  }

  private ship(): Promise<void> {
    this.shipping ??= this.shipAll()
      .then(() => {
        this.failing = false;
      })
      .catch((error: unknown) => {
        // Said once per outage, not every second; tried again at the next turn.
        if (!this.failing)
          this.log.warn({ err: error, job: this.jobName, run: this.runId }, "could not ship run log lines");
        this.failing = true;
        if (!this.closed) this.schedule();
      })
      .finally(() => {
        this.shipping = null;
      });
    return this.shipping;
  }

  private async shipAll(): Promise<void> {
    for (;;) {
      const chunk = this.retry ?? this.nextChunk();
      if (!chunk) return;
      this.retry = chunk;
      await this.store.appendLogChunk(this.jobName, this.runId, chunk.seq, chunk.text);
      this.retry = null;
    }
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.ship();
    }, SHIP_EVERY_MS);
  }

  private nextChunk(): { seq: number; text: string } | null {
    if (this.pending.length === 0) return null;
    let taken = 0;
    let bytes = 0;
    while (
      taken < this.pending.length &&
      (taken === 0 || bytes + this.pending[taken]!.length <= CHUNK_BYTES)
    ) {
      bytes += this.pending[taken]!.length;
      taken += 1;
    }
    const text = this.pending.splice(0, taken).join("");
    return { seq: ++this.seq, text };
  }
}
