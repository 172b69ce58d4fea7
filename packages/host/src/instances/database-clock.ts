import type { Logger } from "pino";
import type { InstanceStore } from "./types.ts";

/** How often the offset to the database's clock is measured again (a machine's clock may be stepped). */
const SAMPLE_MS = 5_000;
/** A sample whose round trip took longer says too little about the offset: it is not used. */
const MAX_ROUND_TRIP_MS = 1_000;
/** The offset is the one of the quickest of the last samples (a busy moment makes a round trip long). */
const SAMPLES_KEPT = 6;

/**
 * The database's clock, read without a query each time: this machine's clock plus the offset
 * measured against the database every 5 s (half the round trip counted on each side; of the last
 * six samples, the one with the shortest round trip counts).
 *
 * Several instances fire the same schedules; the first to record a due instant runs it. Each
 * fired by its own clock, an instance whose clock is ahead by 3 s would fire every due instant
 * 3 s early, and one arming a job after another instance did would declare missed the instants
 * that are still to come for the others. On this clock every instance sees the same instant
 * due at the same moment (to the round trip). On one machine (SQLite) it is Date.now().
 */
export class DatabaseClock {
  private offsetMs = 0;
  private samples: { offsetMs: number; roundTripMs: number }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: {
      instances: InstanceStore;
      /** Several instances share the database; on one machine there is one clock. */
      shared: boolean;
      log: Logger;
    },
  ) {}

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** The database's clock minus this machine's, in ms (0 on one machine). */
  get offset(): number {
    return this.offsetMs;
  }

  /** Measures the offset (before anything fires), then every 5 s. */
  async start(): Promise<void> {
    if (!this.deps.shared || this.timer) return;
    // A few at once: the quickest of them sets the clock the schedules are first armed by.
    for (let i = 0; i < 3; i++) await this.sample();
    if (Math.abs(this.offsetMs) >= 1000) {
      this.deps.log.warn(
        { offsetMs: Math.round(this.offsetMs) },
        "this machine's clock differs from the database's by a second or more: schedules fire by the database's clock",
      );
    }
    this.timer = setInterval(() => void this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async sample(): Promise<void> {
    try {
      const before = Date.now();
      const database = (await this.deps.instances.databaseTime()).getTime();
      const after = Date.now();
      const roundTripMs = after - before;
      if (roundTripMs > MAX_ROUND_TRIP_MS) return;
      this.samples = [
        ...this.samples.slice(1 - SAMPLES_KEPT),
        { offsetMs: database - (before + after) / 2, roundTripMs },
      ];
      const best = this.samples.reduce((a, b) => (b.roundTripMs < a.roundTripMs ? b : a));
      this.offsetMs = best.offsetMs;
    } catch (error) {
      // The last offset stays: a database out of reach does not move the clock.
      this.deps.log.debug({ err: error }, "could not read the database's clock");
    }
  }
}
