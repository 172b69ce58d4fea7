import type { Logger } from "pino";
import type { Store } from "../store/types.ts";

const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Keeps the audit trail for `retentionDays` and drops expired browser sessions: once at start,
 * then every hour. A component: start() and stop() are safe to call twice.
 */
export class SecurityHousekeeping {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly retentionDays: number,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.timer) return;
    await this.sweep();
    this.timer = setInterval(() => void this.sweep(), HOUR_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async sweep(now = new Date()): Promise<void> {
    try {
      const audit = await this.store.audit.pruneAudit(new Date(now.getTime() - this.retentionDays * DAY_MS));
      const sessions = await this.store.auth.deleteExpiredSessions(now);
      if (audit || sessions) this.log.debug({ audit, sessions }, "pruned old audit entries and sessions");
    } catch (error) {
      // The store closing under a late sweep is not worth a crash; the next start sweeps again.
      this.log.warn({ err: error }, "audit/session housekeeping failed");
    }
  }
}
