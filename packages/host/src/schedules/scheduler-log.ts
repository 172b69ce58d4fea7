import { appendFile, rename, stat } from "node:fs/promises";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { formatLogLine, type LogKind } from "../runs/kudu-format.ts";

const MAX_BYTES = 1024 * 1024;
const SIZE_CHECK_EVERY = 100;
/** Appends in flight across all jobs: thousands of schedules armed at once must not mean thousands of open files and buffers. */
const MAX_CONCURRENT_APPENDS = 4;

let appending = 0;
const waiting: (() => void)[] = [];

/** Runs `work` when fewer than MAX_CONCURRENT_APPENDS appends are in flight. */
async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (appending >= MAX_CONCURRENT_APPENDS) await new Promise<void>((resolve) => waiting.push(resolve));
  appending += 1;
  try {
    return await work();
  } finally {
    appending -= 1;
    waiting.shift()?.();
  }
}

/**
 * `job_scheduler.log`, Kudu's per-job log of what the scheduler did (`Scheduling WebJob with …`,
 * `WebJob invoked`, `Missed N schedules…`), beside the job's runs. Lines written in the same turn
 * of the event loop go out in one append, in order, without holding a file open per job (a host
 * may have thousands of schedules) and without competing with the spawns of a burst of fires.
 * Past 1 MB the file moves to `job_scheduler.1.log` and a new one starts.
 */
export class SchedulerLog {
  private chain: Promise<void> = Promise.resolve();
  private pending: string[] = [];
  private linesSinceCheck = 0;

  constructor(
    readonly file: string,
    private readonly instanceId: string,
  ) {}

  write(kind: LogKind, text: string): void {
    this.pending.push(formatLogLine(new Date(), this.instanceId, kind, text) + "\n");
    if (this.pending.length > 1) return;
    setImmediate(() => this.flush());
  }

  /** Resolves when every line written so far is on disk. */
  async flushed(): Promise<void> {
    if (this.pending.length > 0) this.flush();
    await this.chain;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.join("");
    this.linesSinceCheck += this.pending.length;
    this.pending = [];
    const check = this.linesSinceCheck >= SIZE_CHECK_EVERY;
    if (check) this.linesSinceCheck = 0;
    this.chain = this.chain
      .then(() =>
        limited(async () => {
          if (check) await this.rotateIfLarge();
          await appendFile(this.file, text);
        }),
      )
      .catch(async () => {
        // The job's data folder may not exist yet (or was deleted under us): make it and retry once.
        mkdirSync(path.dirname(this.file), { recursive: true });
        await appendFile(this.file, text).catch(() => undefined);
      });
  }

  private async rotateIfLarge(): Promise<void> {
    const size = await stat(this.file).then(
      (s) => s.size,
      () => 0,
    );
    if (size > MAX_BYTES) await rename(this.file, this.file.replace(/\.log$/, ".1.log"));
  }
}
