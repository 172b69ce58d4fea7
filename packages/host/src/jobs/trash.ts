import { randomBytes } from "node:crypto";
import { readdirSync, rmdirSync, unlinkSync } from "node:fs";
import { mkdir, rename } from "node:fs/promises";
import path from "node:path";
import { TimeSlice } from "./time-slice.ts";

/**
 * Folders a deploy replaces (the previous version, the previous site folder) are thousands of
 * files, and deleting them took as long as writing the new ones. A deploy moves them out of the
 * way at once (one rename) and they are deleted after the client has its answer, one at a time in
 * the background. Host stop waits for the queue (`drain`), and names in the trash are random, so
 * no later deploy can collide with a folder still being deleted. A host that dies first leaves the
 * trash inside `<data>/tmp`, which the next start empties.
 *
 * Deleting competes with writing for the disk: while a deploy holds the trash (`hold`), deletion
 * waits, so that back-to-back deploys do not each pay for the clean-up of the one before.
 */
export class Trash {
  private queue: Promise<void> = Promise.resolve();
  private holds = 0;
  private waiting: Array<() => void> = [];

  /** Told about a folder that could not be deleted (the host logs it); the queue goes on. */
  onError: (error: unknown, folder: string) => void = () => undefined;

  constructor(private readonly dir: string) {}

  /**
   * Moves `target` out of its folder into the trash at once, and queues its deletion. Resolves
   * false when there was nothing to move. A target on another file system than the trash (a site
   * folder kept elsewhere) cannot be moved: it is deleted where it is, so callers pass a folder
   * that already has a hidden name its owner ignores (and removes after a crash).
   */
  async discard(target: string): Promise<boolean> {
    await mkdir(this.dir, { recursive: true });
    const moved = path.join(this.dir, `${randomBytes(6).toString("hex")}-${path.basename(target)}`);
    try {
      await rename(target, moved);
      this.deleteLater(moved);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return false;
      if (code !== "EXDEV") throw error;
      this.deleteLater(target);
    }
    return true;
  }

  /** Queues the deletion of a folder that is already out of the way. */
  deleteLater(folder: string): void {
    this.queue = this.queue.then(() =>
      this.remove(folder).catch((error: unknown) => this.onError(error, folder)),
    );
  }

  /** Pauses deletion until the returned function is called (a deploy writing files). */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds > 0) return;
      for (const wake of this.waiting.splice(0)) wake();
    };
  }

  /** Resolves once everything queued so far is deleted. */
  async drain(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.queue;
      await seen;
    } while (seen !== this.queue);
  }

  /**
   * Deletes a folder depth first, synchronously in slices (see TimeSlice), waiting between
   * entries while a deploy holds the trash.
   */
  private async remove(folder: string): Promise<void> {
    const slice = new TimeSlice();
    const pause = async () => {
      await slice.yieldIfDue();
      while (this.holds > 0) await new Promise<void>((resolve) => this.waiting.push(resolve));
    };
    const removeFolder = async (dir: string): Promise<void> => {
      for (const entry of goneIsEmpty(() => readdirSync(dir, { withFileTypes: true })) ?? []) {
        const entryPath = path.join(dir, entry.name);
        if (entry.isDirectory()) await removeFolder(entryPath);
        else goneIsEmpty(() => unlinkSync(entryPath));
        await pause();
      }
      goneIsEmpty(() => rmdirSync(dir));
    };
    await pause();
    await removeFolder(folder);
  }
}

/** Runs a file system call; what is already gone counts as done (`undefined`). */
function goneIsEmpty<T>(call: () => T): T | undefined {
  try {
    return call();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
