import { appendFile, rename, stat } from "node:fs/promises";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { formatLogLine, type LogKind } from "../runs/kudu-format.ts";

const MAX_BYTES = 1024 * 1024;
const SIZE_CHECK_EVERY = 100;

/**
 * `job_scheduler.log`, Kudu's per-job log of what the scheduler did (`Scheduling WebJob with …`,
 * `WebJob invoked`, `Missed N schedules…`), beside the job's runs. Lines go out in order through
 * a promise chain, without holding a file open per job (a host may have thousands of schedules).
 * Past 1 MB the file moves to `job_scheduler.1.log` and a new one starts.
 */
export class SchedulerLog {
  private chain: Promise<void> = Promise.resolve();
  private linesSinceCheck = 0;

  constructor(
    readonly file: string,
    private readonly instanceId: string,
  ) {}

  write(kind: LogKind, text: string): void {
    const line = formatLogLine(new Date(), this.instanceId, kind, text) + "\n";
    const check = ++this.linesSinceCheck >= SIZE_CHECK_EVERY;
    if (check) this.linesSinceCheck = 0;
    this.chain = this.chain
      .then(async () => {
        if (check) await this.rotateIfLarge();
        await appendFile(this.file, line);
      })
      .catch(async () => {
        // The job's data folder may not exist yet (or was deleted under us): make it and retry once.
        mkdirSync(path.dirname(this.file), { recursive: true });
        await appendFile(this.file, line).catch(() => undefined);
      });
  }

  /** Resolves when every line written so far is on disk. */
  flushed(): Promise<void> {
    return this.chain;
  }

  private async rotateIfLarge(): Promise<void> {
    const size = await stat(this.file).then(
      (s) => s.size,
      () => 0,
    );
    if (size > MAX_BYTES) await rename(this.file, this.file.replace(/\.log$/, ".1.log"));
  }
}
