import { watch, type FSWatcher } from "node:fs";
import path from "node:path";

interface Watched {
  inode: number;
  watcher: FSWatcher;
}

/**
 * One `fs.watch` per folder of a tree (one inotify watch each on Linux), and nothing per file: a
 * job's node_modules is thousands of files in hundreds of folders, and a watcher that stats and
 * tracks every file (as chokidar does) walked all of them again after each deploy and held
 * hundreds of megabytes for a large site. A change anywhere in a folder (a file created, written,
 * renamed or deleted) is reported with the folder; what changed is for the caller to find out
 * (the site watcher takes a fingerprint of the job folder).
 *
 * The folders to watch come from a walk of the tree (see fingerprintDir's `onFolder`): `begin`,
 * `folder` for each folder as it is reached, `end` to drop folders the walk did not reach. A
 * folder replaced by another under the same path (a swap by renames) has another inode and is
 * watched again.
 */
export class TreeWatch {
  private readonly watched = new Map<string, Watched>();
  private seen: Set<string> | null = null;

  constructor(
    readonly root: string,
    private readonly onChange: () => void,
    /** A folder that could not be watched (e.g. the inotify watch limit); the tree still works. */
    private readonly onWatchError: (folder: string, error: unknown) => void,
  ) {}

  begin(): void {
    this.seen = new Set();
  }

  folder(relative: string, inode: number): void {
    this.seen?.add(relative);
    const current = this.watched.get(relative);
    if (current?.inode === inode) return;
    current?.watcher.close();
    this.watched.delete(relative);
    const folder = path.join(this.root, relative);
    try {
      const watcher = watch(folder, { persistent: false }, () => this.onChange());
      // A folder deleted under its watch (or any other watch failure) is a change like another.
      watcher.on("error", () => {
        watcher.close();
        if (this.watched.get(relative)?.watcher === watcher) this.watched.delete(relative);
        this.onChange();
      });
      this.watched.set(relative, { inode, watcher });
    } catch (error) {
      // Gone already: the walk fails too and says so. Anything else is worth telling.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.onWatchError(folder, error);
    }
  }

  /** Stops watching the folders the walk since `begin` did not reach (all of them if it failed). */
  end(completed: boolean): void {
    const seen = completed ? this.seen : new Set<string>();
    this.seen = null;
    for (const [relative, { watcher }] of this.watched) {
      if (seen?.has(relative)) continue;
      watcher.close();
      this.watched.delete(relative);
    }
  }

  close(): void {
    this.seen = null;
    for (const { watcher } of this.watched.values()) watcher.close();
    this.watched.clear();
  }

  get size(): number {
    return this.watched.size;
  }
}
