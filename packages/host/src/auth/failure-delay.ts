/**
 * Slows password guessing without ever refusing the right password. Every login is checked;
 * a right one is answered at once, whoever failed before from the same address (behind a proxy
 * or a NAT, the admin and an attacker share one). A wrong one is answered late: after a few
 * free mistakes the delay doubles with each failure from that address, up to `maxDelayMs`, so
 * guessing one password after another slows to one try per `maxDelayMs`.
 *
 * Kept in memory; a restart forgets it. An address's count ends `windowMs` after its last failure.
 */
export interface FailureDelayOptions {
  /** The longest delay of a failed answer; 0 turns the delay off. */
  maxDelayMs: number;
  /** Failures answered without delay. */
  freeFailures?: number;
  /** The delay after the first failure beyond the free ones; doubled for each further one. */
  firstDelayMs?: number;
  windowMs?: number;
  now?: () => number;
}

const MAX_TRACKED_ADDRESSES = 10_000;

export class FailureDelay {
  private readonly byAddress = new Map<string, { count: number; last: number }>();
  private readonly freeFailures: number;
  private readonly firstDelayMs: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly options: FailureDelayOptions) {
    this.freeFailures = options.freeFailures ?? 3;
    this.firstDelayMs = options.firstDelayMs ?? 125;
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Records a failed login; returns how long its answer must wait (ms). */
  fail(address: string): number {
    const now = this.now();
    let entry = this.byAddress.get(address);
    if (!entry || now - entry.last > this.windowMs) {
      entry = { count: 0, last: now };
      this.byAddress.set(address, entry);
    }
    entry.count += 1;
    entry.last = now;
    if (this.byAddress.size > MAX_TRACKED_ADDRESSES) this.prune(now);
    return this.delayFor(entry.count);
  }

  /** Failures of the address still counted. */
  failures(address: string): number {
    const entry = this.byAddress.get(address);
    return entry && this.now() - entry.last <= this.windowMs ? entry.count : 0;
  }

  private delayFor(count: number): number {
    const beyond = count - this.freeFailures;
    if (beyond <= 0 || this.options.maxDelayMs <= 0) return 0;
    // Capped exponent: 2 ** 40 is already far past any sensible maximum.
    return Math.min(this.options.maxDelayMs, this.firstDelayMs * 2 ** Math.min(beyond - 1, 40));
  }

  private prune(now: number): void {
    for (const [address, entry] of this.byAddress) {
      if (now - entry.last > this.windowMs) this.byAddress.delete(address);
    }
  }
}
