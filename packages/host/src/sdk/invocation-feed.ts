import { EventEmitter } from "node:events";
import { watch, type FSWatcher, statSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import type { JobType } from "../store/types.ts";

/** An invocation started or ended, as read from a job's `sdk/invocations.jsonl`. */
export interface InvocationChange {
  type: JobType;
  job: string;
  function: string;
  id: string;
  status: "Running" | "Succeeded" | "Failed";
}

interface Tail {
  type: JobType;
  name: string;
  dataDir: string;
  /** Watches `{data}/sdk` once it exists… */
  sdk: FSWatcher | null;
  /** …and the job's data folder until then. */
  parent: FSWatcher | null;
  offset: number;
  /** The end of the last read when it stopped mid-line (the SDK appends whole lines, but reads race). */
  rest: string;
  reading: boolean;
  again: boolean;
}

const FILE = "invocations.jsonl";

/**
 * Follows the invocation records the SDK appends inside jobs' data folders (see invocations.ts) and
 * emits `change` for each start and end line, so the host can push them to live clients instead of
 * clients polling the files through the API. One inotify watch per job that has run since the host
 * started (its `sdk` folder, or its data folder until the SDK creates `sdk`); only the bytes
 * appended since the last read are read. A rotated file (the SDK renames it past 8 MiB) is read
 * again from its start.
 */
export class InvocationFeed extends EventEmitter<{ change: [InvocationChange] }> {
  private readonly tails = new Map<string, Tail>();

  constructor(private readonly jobData: (type: JobType, name: string) => string) {
    super();
  }

  /** Starts following a job (idempotent). Lines already in its file are not emitted. */
  watch(type: JobType, name: string): void {
    const key = `${type}/${name}`;
    if (this.tails.has(key)) return;
    const tail: Tail = {
      type,
      name,
      dataDir: this.jobData(type, name),
      sdk: null,
      parent: null,
      offset: 0,
      rest: "",
      reading: false,
      again: false,
    };
    this.tails.set(key, tail);
    this.attach(tail, true);
  }

  unwatch(type: JobType, name: string): void {
    const key = `${type}/${name}`;
    const tail = this.tails.get(key);
    if (!tail) return;
    tail.sdk?.close();
    tail.parent?.close();
    this.tails.delete(key);
  }

  /** Jobs followed now (tests check that a removed job is let go). */
  get watched(): number {
    return this.tails.size;
  }

  close(): void {
    for (const tail of [...this.tails.values()]) this.unwatch(tail.type, tail.name);
  }

  private attach(tail: Tail, initial: boolean): void {
    const sdkDir = path.join(tail.dataDir, "sdk");
    try {
      tail.sdk = watch(sdkDir, (_event, file) => {
        if (file === null || file === FILE) void this.read(tail);
      });
      tail.sdk.on("error", () => this.unwatch(tail.type, tail.name));
    } catch {
      // No `sdk` folder yet: wait for the SDK to create it.
      if (!tail.parent) {
        try {
          tail.parent = watch(tail.dataDir, (_event, file) => {
            if (file === "sdk" && !tail.sdk) this.attach(tail, false);
          });
          tail.parent.on("error", () => this.unwatch(tail.type, tail.name));
        } catch {
          // No data folder either (never run): followed again at the job's next start.
          this.tails.delete(`${tail.type}/${tail.name}`);
        }
      }
      return;
    }
    tail.parent?.close();
    tail.parent = null;
    if (initial) {
      try {
        tail.offset = statSync(path.join(sdkDir, FILE)).size;
      } catch {
        tail.offset = 0;
      }
    } else {
      void this.read(tail);
    }
  }

  private async read(tail: Tail): Promise<void> {
    if (tail.reading) {
      tail.again = true;
      return;
    }
    tail.reading = true;
    try {
      do {
        tail.again = false;
        await this.readOnce(tail);
      } while (tail.again && this.tails.has(`${tail.type}/${tail.name}`));
    } finally {
      tail.reading = false;
    }
  }

  private async readOnce(tail: Tail): Promise<void> {
    let handle;
    try {
      handle = await open(path.join(tail.dataDir, "sdk", FILE), "r");
    } catch {
      return;
    }
    try {
      const { size } = await handle.stat();
      if (size < tail.offset) {
        tail.offset = 0;
        tail.rest = "";
      }
      if (size === tail.offset) return;
      const buffer = Buffer.alloc(size - tail.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, tail.offset);
      tail.offset += bytesRead;
      const lines = (tail.rest + buffer.subarray(0, bytesRead).toString("utf8")).split("\n");
      tail.rest = lines.pop() ?? "";
      for (const line of lines) this.emitLine(tail, line);
    } catch {
      // A file being rotated: the next change reads it again.
    } finally {
      await handle.close();
    }
  }

  private emitLine(tail: Tail, raw: string): void {
    let line: { kind?: unknown; id?: unknown; function?: unknown; status?: unknown };
    try {
      line = JSON.parse(raw) as typeof line;
    } catch {
      return;
    }
    if (typeof line.id !== "string" || typeof line.function !== "string") return;
    if (line.kind !== "start" && line.kind !== "end") return;
    const status = line.kind === "start" ? "Running" : line.status === "Succeeded" ? "Succeeded" : "Failed";
    this.emit("change", { type: tail.type, job: tail.name, function: line.function, id: line.id, status });
  }
}
