import { watch, type FSWatcher } from "node:fs";
import { mkdir, open, readdir, stat } from "node:fs/promises";
import path from "node:path";

/**
 * Follows every log file under a folder (run logs, continuous job logs, scheduler logs) from the
 * moment it starts: what existed is skipped, what is appended or created afterwards is passed on
 * line by line. One recursive watch per follower; reads are serialised per file.
 */
export class LogTail {
  private readonly offsets = new Map<string, number>();
  private readonly partial = new Map<string, string>();
  private readonly reading = new Map<string, Promise<void>>();
  private watcher: FSWatcher | null = null;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly onLine: (line: string, file: string) => void,
  ) {}

  async start(): Promise<void> {
    // Watched from the start even when no job has written anything yet.
    await mkdir(this.dir, { recursive: true });
    await this.recordSizes(this.dir);
    if (this.closed) return;
    try {
      this.watcher = watch(this.dir, { recursive: true }, (_event, name) => {
        if (name && /\.(txt|log)$/.test(name)) this.read(path.join(this.dir, name.toString()));
      });
      this.watcher.on("error", () => this.close());
    } catch {
      // The folder does not exist yet: no job has written anything. Nothing to follow.
    }
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
  }

  private async recordSizes(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) await this.recordSizes(file);
      else if (entry.isFile()) this.offsets.set(file, (await stat(file).catch(() => null))?.size ?? 0);
    }
  }

  private read(file: string): void {
    const previous = this.reading.get(file) ?? Promise.resolve();
    const next = previous.then(() => this.readNew(file)).catch(() => undefined);
    this.reading.set(file, next);
    void next.finally(() => {
      if (this.reading.get(file) === next) this.reading.delete(file);
    });
  }

  private async readNew(file: string): Promise<void> {
    if (this.closed) return;
    const size = (await stat(file).catch(() => null))?.size;
    if (size === undefined) return;
    let from = this.offsets.get(file) ?? 0;
    // Rotated or truncated: start over from its beginning.
    if (size < from) from = 0;
    if (size === from) return;
    const handle = await open(file, "r");
    try {
      const buffer = Buffer.alloc(Math.min(size - from, 1024 * 1024));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
      this.offsets.set(file, from + bytesRead);
      const text = (this.partial.get(file) ?? "") + buffer.subarray(0, bytesRead).toString("utf8");
      const lines = text.split("\n");
      this.partial.set(file, lines.pop() ?? "");
      for (const line of lines)
        if (line.length > 0 && !this.closed) this.onLine(line.replace(/\r$/, ""), file);
    } finally {
      await handle.close();
    }
    // More than one read's worth was appended: go on.
    if (this.offsets.get(file)! < size) this.read(file);
  }
}
