/**
 * Restart back-off of a continuous job: the delay doubles from `initialMs` up to `maxMs` while the
 * process keeps exiting quickly, and resets once it has run for `stableMs`. After `crashLoopAfter`
 * quick exits in a row the job is shown as crash-looping (it still retries, at the capped delay).
 */
export class RestartBackoff {
  private nextDelayMs: number;
  quickExits = 0;

  constructor(
    private readonly options: { initialMs: number; maxMs: number; stableMs: number; crashLoopAfter: number },
  ) {
    this.nextDelayMs = options.initialMs;
  }

  /** Records an exit after `ranMs` of running and returns the delay before the next start. */
  onExit(ranMs: number): number {
    if (ranMs >= this.options.stableMs) this.reset();
    else this.quickExits += 1;
    const delay = this.nextDelayMs;
    this.nextDelayMs = Math.min(Math.max(this.nextDelayMs * 2, 1), this.options.maxMs);
    return delay;
  }

  get crashLooping(): boolean {
    return this.quickExits >= this.options.crashLoopAfter;
  }

  reset(): void {
    this.nextDelayMs = this.options.initialMs;
    this.quickExits = 0;
  }
}
