import { randomBytes } from "node:crypto";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";

/**
 * Folders a deploy replaces (the previous version, the previous site folder) are thousands of
 * files, and deleting them took as long as writing the new ones. A deploy moves them out of the
 * way at once (one rename) and they are deleted after the client has its answer, one at a time in
 * the background. Host stop waits for the queue (`drain`), and names in the trash are random, so
 * no later deploy can collide with a folder still being deleted. A host that dies first leaves the
 * trash inside `<data>/tmp`, which the next start empties.
 */
export class Trash {
  private queue: Promise<void> = Promise.resolve();

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
      rm(folder, { recursive: true, force: true }).catch((error: unknown) => this.onError(error, folder)),
    );
  }

  /** Resolves once everything queued so far is deleted. */
  async drain(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.queue;
      await seen;
    } while (seen !== this.queue);
  }
}
