import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Logger } from "pino";
import { ErrorCode, WebJobsError } from "../errors.ts";
import type { Store } from "../store/types.ts";

/** How often an instance says it is alive (more often with a short timeout). */
export const HEARTBEAT_MS = 2_000;

/** The heartbeat period for a timeout: several beats fit in it, so one slow beat is not a death. */
export const heartbeatEvery = (timeoutMs: number) => Math.min(HEARTBEAT_MS, Math.floor(timeoutMs / 3));

export interface InstanceRegistryDeps {
  store: Store;
  instanceId: string;
  dataDir: string;
  timeoutMs: number;
  log: Logger;
  /** Where the instance is reached (its public URL, else its listen address). */
  url: () => string;
  /** Its load: runs going on it now. */
  activeRuns: () => number;
}

/**
 * This process's row in `instances`: registered at start (refused when another live process holds
 * the id), a heartbeat every 2 s carrying the URL and the load, stopped on a graceful stop.
 */
export class InstanceRegistry {
  readonly incarnation = randomUUID();
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private registered = false;
  private lostRow = false;

  constructor(private readonly deps: InstanceRegistryDeps) {}

  /** `<data>/instance.json`: the incarnation that last registered from this data folder. */
  private get file(): string {
    return path.join(this.deps.dataDir, "instance.json");
  }

  async start(): Promise<void> {
    if (this.registered) return;
    const { store, instanceId, timeoutMs } = this.deps;
    const previous = await readFile(this.file, "utf8").then(
      (text) => (JSON.parse(text) as { incarnation?: string }).incarnation ?? null,
      () => null,
    );
    const holder = await store.instances.registerInstance(
      {
        id: instanceId,
        hostName: os.hostname(),
        url: this.deps.url(),
        incarnation: this.incarnation,
        previousIncarnation: previous,
        activeRuns: this.deps.activeRuns(),
      },
      timeoutMs,
    );
    if (holder) {
      const ago = Math.max(0, Math.round((Date.now() - holder.lastHeartbeat.getTime()) / 1000));
      throw new WebJobsError(
        ErrorCode.Conflict,
        `Another host is running as instance '${instanceId}' (host ${holder.hostName}, ${holder.url}, ` +
          `last heartbeat about ${ago} s ago): give this one another WEBJOBS_INSTANCE_ID, or stop that one ` +
          `(an instance is declared dead ${timeoutMs / 1000} s after its last heartbeat)`,
      );
    }
    this.registered = true;
    // Written under the data folder lock: the next start from this folder knows its predecessor.
    await writeFile(this.file, JSON.stringify({ id: instanceId, incarnation: this.incarnation }) + "\n");
    this.timer = setInterval(() => void this.beat(), heartbeatEvery(timeoutMs));
    this.timer.unref();
  }

  /** One heartbeat now (after the HTTP server listens: the URL has its real port). */
  beat(): Promise<void> {
    this.beating ??= this.heartbeat().finally(() => (this.beating = null));
    return this.beating;
  }

  private async heartbeat(): Promise<void> {
    const { store, instanceId, log } = this.deps;
    try {
      const ours = await store.instances.heartbeatInstance(
        instanceId,
        this.incarnation,
        this.deps.url(),
        this.deps.activeRuns(),
      );
      // Another process took the id over after this one was silent past the timeout (a database
      // out of reach, a suspended machine): say so once; its runs here may already be closed.
      if (!ours && !this.lostRow) log.error({ instance: instanceId }, "this instance's row was taken over");
      this.lostRow = !ours;
    } catch (error) {
      log.warn({ err: error }, "instance heartbeat failed");
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    if (!this.registered) return;
    this.registered = false;
    await this.deps.store.instances
      .stopInstance(this.deps.instanceId, this.incarnation)
      .catch((error: unknown) => this.deps.log.warn({ err: error }, "could not mark the instance stopped"));
  }
}
