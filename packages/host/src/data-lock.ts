import { openSync, readFileSync, renameSync, rmSync, writeFileSync, closeSync } from "node:fs";
import path from "node:path";
import { ErrorCode, WebJobsError } from "./errors.ts";
import { processStartTicks } from "./runs/proc-sampler.ts";

/**
 * One host per data folder. A second host on the same folder would take the first one's
 * processes for leftovers of a crash and kill them, so it must refuse to start. The lock file
 * holds the owner's pid and start time; a lock whose owner is gone (crash, kill -9) is taken over.
 */
export class DataLock {
  private readonly file: string;
  private held = false;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, "host.lock");
  }

  acquire(): void {
    const mine = JSON.stringify({ pid: process.pid, startTicks: processStartTicks(process.pid) });
    try {
      const fd = openSync(this.file, "wx");
      writeFileSync(fd, mine);
      closeSync(fd);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = this.owner();
      if (owner && owner.pid !== process.pid && processStartTicks(owner.pid) === owner.startTicks) {
        throw new WebJobsError(
          ErrorCode.Conflict,
          `Another webjobs host (pid ${owner.pid}) is using the data folder ${path.dirname(this.file)}; stop it first or use another --data folder.`,
        );
      }
      // Stale: its owner died without releasing it.
      const temp = `${this.file}.${process.pid}`;
      writeFileSync(temp, mine);
      renameSync(temp, this.file);
    }
    this.held = true;
  }

  release(): void {
    if (!this.held) return;
    const owner = this.owner();
    if (owner?.pid === process.pid) rmSync(this.file, { force: true });
    this.held = false;
  }

  private owner(): { pid: number; startTicks: string | null } | null {
    try {
      return JSON.parse(readFileSync(this.file, "utf8"));
    } catch {
      return null;
    }
  }
}
