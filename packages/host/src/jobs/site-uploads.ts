import path from "node:path";

/**
 * Files that the host's own FTP server is writing into the site folder right now, so that the site
 * watcher (site-watcher.ts) never installs a job folder while an upload into it is still open.
 *
 * The watcher installs a folder once it has been quiet for the debounce; a slow upload can be
 * quiet that long in the middle of a file (a stalled link, a client that sends in bursts), and the
 * job would be installed half-written. So the FTP side says when each upload opens and closes
 * (ftp/upload-tracking.ts); the watcher postpones a folder that has one open and, when the last
 * one closes, syncs it after the usual debounce.
 *
 * Why not upload to a temporary name and rename it when complete instead: that makes each file
 * whole, not the folder. A job is several files sent one after another; with renames, a slow
 * second file would still let the watcher install the folder without it (then again with it).
 * It would also break what clients do with the real name: appending (APPE), resuming (REST), and
 * WinSCP's own `.filepart` renames. Knowing which uploads are open covers every file and every
 * command without changing what lands on disk.
 */
export class SiteUploads {
  /** Open uploads per absolute file path (one file may be written by two connections). */
  private readonly open = new Map<string, number>();
  private readonly listeners = new Set<(file: string) => void>();

  /** An upload into `file` has opened; the returned function closes it (once, however often called). */
  begin(file: string): () => void {
    const key = path.resolve(file);
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left > 0) this.open.set(key, left);
      else this.open.delete(key);
      for (const listener of this.listeners) listener(key);
    };
  }

  /** Whether an upload is open anywhere inside `folder`. */
  busy(folder: string): boolean {
    const prefix = path.resolve(folder) + path.sep;
    for (const file of this.open.keys()) if (file.startsWith(prefix)) return true;
    return false;
  }

  /** Calls `listener` with the file's path each time an upload closes; returns the unsubscribe. */
  onClosed(listener: (file: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
