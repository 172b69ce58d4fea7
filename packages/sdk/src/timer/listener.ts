import type { BlobClient } from "@azure/storage-blob";
import { messageOf, SdkError, statusOf, storageProblem } from "../errors.ts";
import type { RegisteredFunction } from "../registry.ts";
import { invoke, type InvokeDeps } from "../runtime/invoke.ts";
import type { Listener } from "../runtime/listener.ts";
import { storageAccount } from "../storage/connection.ts";
import { BlobLock, ensureHostsContainer, HOSTS_CONTAINER } from "../storage/lease.ts";
import type { Timer, TimerTriggerOptions } from "../types.ts";
import { parseTimerSchedule, type TimerSchedule } from "./timer-schedule.ts";

interface Status {
  Last: string | null;
  Next: string;
  LastUpdated: string;
}

/** Timers are re-armed at least this often, so a suspended machine catches up soon after it wakes. */
const MAX_SLEEP_MS = 30_000;
const LOCK_SECONDS = 60;
const LOCK_RETRY_MS = 15_000;

/**
 * The timer trigger. One process per host ID fires (a 60 s lease on
 * `locks/{hostId}/{function}.Listener`); the status blob `timers/{hostId}/{function}/status` remembers
 * the next occurrence, so one missed while no process ran fires once at start, flagged past due. An
 * occurrence fires only after its status moved on under the ETag it was read with, so two processes
 * never both fire it even if a lease changed hands in between.
 */
export class TimerListener implements Listener {
  readonly fn: RegisteredFunction;
  readonly #options: TimerTriggerOptions;
  readonly #schedule: TimerSchedule;
  readonly #deps: InvokeDeps;
  readonly #hostId: string;
  #stopping = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #running: Promise<unknown> | null = null;

  constructor(fn: RegisteredFunction, deps: InvokeDeps, hostId: string) {
    this.fn = fn;
    this.#options = fn.trigger.options as TimerTriggerOptions;
    const zone = this.#options.timeZone ?? process.env.WEBSITE_TIME_ZONE ?? "UTC";
    this.#schedule = parseTimerSchedule(`app.timer('${fn.name}')`, this.#options.schedule, zone);
    this.#deps = deps;
    this.#hostId = hostId;
  }

  get source(): string {
    return this.#options.schedule;
  }

  start(): void {
    this.#loop ??= this.#run().catch((error: unknown) =>
      console.error(`[${this.fn.name}] timer stopped: ${messageOf(error)}`),
    );
  }

  async #run(): Promise<void> {
    const blobs = storageAccount(this.#options.connection).blobs;
    const container = blobs.getContainerClient(HOSTS_CONTAINER);
    const prefix = `${this.#hostId}/${this.fn.name}`;
    const lock = new BlobLock(container.getBlobClient(`locks/${prefix}.Listener`), LOCK_SECONDS);
    const statusBlob = container.getBlobClient(`timers/${prefix}/status`);
    let reported = "";
    while (!this.#stopping) {
      try {
        await ensureHostsContainer(blobs);
        if (!(await lock.tryAcquire())) {
          await this.#sleep(LOCK_RETRY_MS);
          continue;
        }
        reported = "";
        await this.#fireWhileHeld(lock, statusBlob);
      } catch (error) {
        const setting = storageAccount(this.#options.connection).setting;
        const text = `timer storage unavailable: ${storageProblem(error, setting)}`;
        if (text !== reported) console.error(`[${this.fn.name}] ${text}`);
        reported = text;
        await this.#sleep(5000);
      } finally {
        await lock.release();
      }
    }
  }

  async #fireWhileHeld(lock: BlobLock, statusBlob: BlobClient): Promise<void> {
    const monitor = this.#options.useMonitor !== false && !this.#schedule.frequent;
    let { status, etag } = await readStatus(statusBlob);
    const now = new Date();
    const upcoming = this.#schedule.next(now);
    if (upcoming === null) return;
    let due: Date;
    let pastDue = false;
    if (monitor && status && new Date(status.Next) <= now) {
      due = new Date(status.Next);
      pastDue = true;
    } else {
      if (!status || status.Next !== upcoming.toISOString()) {
        // First start, or the schedule changed: no false past-due run.
        status = { Last: status?.Last ?? null, Next: upcoming.toISOString(), LastUpdated: now.toISOString() };
        etag = await writeStatus(statusBlob, status, etag);
      }
      due = this.#options.runOnStartup ? now : upcoming;
    }
    const onStartup = this.#options.runOnStartup === true && !pastDue;
    let first = true;
    while (!this.#stopping && lock.held) {
      if (!(first && (pastDue || onStartup))) {
        await this.#sleepUntil(due);
        if (this.#stopping || !lock.held) return;
      }
      first = false;
      const fired = due;
      const next = this.#schedule.next(new Date(Math.max(fired.getTime(), Date.now())));
      if (next === null) return;
      const moved: Status = {
        Last: status?.Last ?? null,
        Next: next.toISOString(),
        LastUpdated: new Date().toISOString(),
      };
      try {
        etag = await writeStatus(statusBlob, moved, etag);
      } catch (error) {
        if (statusOf(error) === 412) return; // Another process moved it: it fires this one.
        throw error;
      }
      const timer: Timer = {
        isPastDue: pastDue,
        schedule: { adjustForDST: this.#schedule.adjustForDST },
        scheduleStatus: { last: moved.Last ?? "", next: moved.Next, lastUpdated: moved.LastUpdated },
      };
      this.#running = this.#invokeWithRetry(timer, fired);
      await this.#running;
      this.#running = null;
      const ran: Status = { ...moved, Last: fired.toISOString(), LastUpdated: new Date().toISOString() };
      status = ran;
      etag = await writeStatus(statusBlob, ran, etag).catch(() => etag);
      pastDue = false;
      due = next;
    }
  }

  async #invokeWithRetry(timer: Timer, fired: Date): Promise<void> {
    const retry = this.#options.retry;
    const max = retry?.maxRetryCount ?? 0;
    for (let attempt = 0; ; attempt++) {
      const result = await invoke(
        this.fn,
        {
          value: timer,
          bindingData: {},
          details: { scheduled_time: fired.toISOString(), is_past_due: timer.isPastDue },
          reason: timer.isPastDue ? "Timer fired (past due)." : `Timer fired at ${fired.toISOString()}.`,
          argument: JSON.stringify({ isPastDue: timer.isPastDue }),
          retryContext: { retryCount: attempt, maxRetryCount: max },
        },
        this.#deps,
      );
      if (result.ok || attempt >= max || this.#stopping) return;
      await this.#sleep(retryDelay(retry!, attempt));
    }
  }

  async #sleepUntil(when: Date): Promise<void> {
    while (!this.#stopping && Date.now() < when.getTime()) {
      await this.#sleep(Math.min(MAX_SLEEP_MS, when.getTime() - Date.now()));
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async stop(deadline: number): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    if (this.#running) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#running,
        new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now())))),
      ]);
      clearTimeout(timer);
    }
    await Promise.race([this.#loop, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
  }
}

function toMs(value: number | string | undefined, fallback: number): number {
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    const m = /^(\d+):(\d{2}):(\d{2})$/.exec(value);
    if (m) return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000;
    throw new SdkError("options", `retry interval '${value}' must be ms or 'hh:mm:ss'`);
  }
  return fallback;
}

function retryDelay(retry: NonNullable<TimerTriggerOptions["retry"]>, attempt: number): number {
  if (retry.strategy === "fixedDelay") return toMs(retry.delayInterval, 1000);
  const min = toMs(retry.minimumInterval, 1000);
  return Math.min(toMs(retry.maximumInterval, 15 * 60_000), min * 2 ** attempt);
}

async function readStatus(blob: BlobClient): Promise<{ status: Status | null; etag: string | null }> {
  try {
    const response = await blob.download();
    const text = await streamText(response.readableStreamBody);
    const parsed = text ? (JSON.parse(text) as Status) : null;
    return { status: parsed?.Next ? parsed : null, etag: response.etag ?? null };
  } catch (error) {
    if (statusOf(error) === 404) return { status: null, etag: null };
    if (error instanceof SyntaxError) return { status: null, etag: null };
    throw error;
  }
}

async function writeStatus(blob: BlobClient, status: Status, etag: string | null): Promise<string | null> {
  const body = JSON.stringify(status);
  const response = await blob.getBlockBlobClient().upload(body, Buffer.byteLength(body), {
    conditions: etag ? { ifMatch: etag } : { ifNoneMatch: "*" },
  });
  return response.etag ?? null;
}

async function streamText(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
