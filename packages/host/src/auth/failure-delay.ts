/**
 * Slows password guessing without ever refusing the right password. Every login is checked;
 * a right one is answered at once, whoever failed before from the same address (behind a proxy
 * or a NAT, the admin and an attacker share one). A wrong one is answered late: after a few
 * free mistakes the delay doubles with each failure from that address, up to `maxDelayMs`, so
 * guessing one password after another slows to one try per `maxDelayMs`.
 *
 * The failures are counted by a `FailureCounter`: the host's is the store (every instance on one
 * database counts the same failures, and a restart does not forget them); without one, memory.
 * An address's count ends `windowMs` after its last failure.
 */
export interface FailureCounter {
  /** Counts a failure of `address`; returns its failures within the window, this one included. */
  recordLoginFailure(address: string, windowMs: number): Promise<number>;
  /** Forgets addresses silent for longer than the window. */
  pruneLoginFailures(windowMs: number): Promise<number>;
}

export interface FailureDelayOptions {
  /** The longest delay of a failed answer; 0 turns the delay off. */
  maxDelayMs: number;
  /** Failures answered without delay. */
  freeFailures?: number;
  /** The delay after the first failure beyond the free ones; doubled for each further one. */
  firstDelayMs?: number;
  windowMs?: number;
  /** Where failures are counted; in memory by default. */
  counter?: FailureCounter;
  now?: () => number;
}

const MAX_TRACKED_ADDRESSES = 10_000;
/** The store's old counts are pruned after this many failures (cheap, but needless every time). */
const PRUNE_EVERY = 256;

/** Counts in this process's memory (tests, and callers without a store). */
export class MemoryFailureCounter implements FailureCounter {
  private readonly byAddress = new Map<string, { count: number; last: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async recordLoginFailure(address: string, windowMs: number): Promise<number> {
    const now = this.now();
    let entry = this.byAddress.get(address);
    if (!entry || now - entry.last > windowMs) {
      entry = { count: 0, last: now };
      this.byAddress.set(address, entry);
    }
    entry.count += 1;
    entry.last = now;
    if (this.byAddress.size > MAX_TRACKED_ADDRESSES) await this.pruneLoginFailures(windowMs);
    return entry.count;
  }

  async pruneLoginFailures(windowMs: number): Promise<number> {
    const now = this.now();
    let removed = 0;
    for (const [address, entry] of this.byAddress) {
      if (now - entry.last > windowMs) removed += Number(this.byAddress.delete(address));
    }
    return removed;
  }

  /** Failures of the address still counted. */
  failures(address: string, windowMs: number): number {
    const entry = this.byAddress.get(address);
    return entry && this.now() - entry.last <= windowMs ? entry.count : 0;
  }
}

export class FailureDelay {
  private readonly freeFailures: number;
  private readonly firstDelayMs: number;
  private readonly windowMs: number;
  private readonly counter: FailureCounter;
  private recorded = 0;

  constructor(private readonly options: FailureDelayOptions) {
    this.freeFailures = options.freeFailures ?? 3;
    this.firstDelayMs = options.firstDelayMs ?? 125;
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.counter = options.counter ?? new MemoryFailureCounter(options.now);
  }

  /**
   * Records a failed login; returns how long its answer must wait (ms). When the failure cannot be
   * counted (the database out of reach), the longest delay: guessing must not get faster then.
   */
  async fail(address: string): Promise<number> {
    if (this.options.maxDelayMs <= 0) return 0;
    let count: number;
    try {
      count = await this.counter.recordLoginFailure(address, this.windowMs);
    } catch {
      return this.options.maxDelayMs;
    }
    if (++this.recorded % PRUNE_EVERY === 0)
      void this.counter.pruneLoginFailures(this.windowMs).catch(() => 0);
    return this.delayFor(count);
  }

  private delayFor(count: number): number {
    const beyond = count - this.freeFailures;
    if (beyond <= 0 || this.options.maxDelayMs <= 0) return 0;
    // Capped exponent: 2 ** 40 is already far past any sensible maximum.
    return Math.min(this.options.maxDelayMs, this.firstDelayMs * 2 ** Math.min(beyond - 1, 40));
  }
}
