import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import path from "node:path";
import { formatLogLine, type LogKind } from "./kudu-format.ts";

export interface LogWriterOptions {
  path: string;
  instanceId: string;
  /** A cap for the whole file (triggered runs): past it one marker line, then nothing. */
  maxBytes?: number;
  /**
   * Size-based rotation (continuous jobs): `dir/job_log.txt` moves to `dir/job_log.1.txt`, the
   * older ones shift up to `job_log.{files}.txt`, and the oldest is dropped.
   */
  rotate?: { maxBytes: number; files: number };
  /** Told of every piece of text written to the file (whole lines), e.g. to ship it elsewhere. */
  onWritten?: (text: string) => void;
}

const FLUSH_BYTES = 64 * 1024;

/**
 * Appends Kudu-format lines to a log file. Lines are buffered briefly and written in order with
 * synchronous appends, so `close()` (and a crash right after a flush) leaves a whole file.
 */
export class LogWriter {
  bytesWritten = 0;
  discardedBytes = 0;
  truncated = false;
  private fd: number | null = null;
  private buffer: string[] = [];
  private bufferBytes = 0;
  private flushScheduled = false;
  private fileBytes = 0;

  constructor(private readonly options: LogWriterOptions) {
    mkdirSync(path.dirname(options.path), { recursive: true });
    this.open();
  }

  write(kind: LogKind, text: string): void {
    if (this.fd === null) return;
    const line = formatLogLine(new Date(), this.options.instanceId, kind, text) + "\n";
    const size = Buffer.byteLength(line);
    const { maxBytes } = this.options;
    // The host's own lines (status changes, the end of the run) pass the cap: they are few, and a
    // capped log must still say how its run ended.
    const isOutput = !kind.startsWith("SYS");
    if (this.truncated && isOutput) {
      this.discardedBytes += size;
      return;
    }
    if (isOutput && maxBytes !== undefined && this.fileBytes + this.bufferBytes + size > maxBytes) {
      this.truncated = true;
      this.discardedBytes += size;
      const mb = maxBytes / 1024 / 1024;
      const limit = mb >= 1 ? `${Math.round(mb)} MB` : `${maxBytes} bytes`;
      this.append(
        formatLogLine(
          new Date(),
          this.options.instanceId,
          "SYS WARN",
          `Log truncated: the output passed the ${limit} limit; further output is discarded.`,
        ) + "\n",
      );
      return;
    }
    const rotate = this.options.rotate;
    const pending = this.fileBytes + this.bufferBytes;
    if (rotate && pending > 0 && pending + size > rotate.maxBytes) {
      this.flush();
      this.rotateFiles();
    }
    this.append(line);
  }

  /** Writes what is buffered now. */
  flush(): void {
    this.flushScheduled = false;
    if (this.fd === null || this.buffer.length === 0) return;
    const text = this.buffer.join("");
    this.buffer = [];
    this.bufferBytes = 0;
    const bytes = Buffer.from(text);
    writeSync(this.fd, bytes);
    this.fileBytes += bytes.length;
    this.bytesWritten += bytes.length;
    this.options.onWritten?.(text);
  }

  async close(): Promise<void> {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private append(line: string): void {
    this.buffer.push(line);
    this.bufferBytes += Buffer.byteLength(line);
    if (this.bufferBytes >= FLUSH_BYTES) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private open(): void {
    this.fd = openSync(this.options.path, "a");
    this.fileBytes = existsSync(this.options.path) ? statSync(this.options.path).size : 0;
  }

  private rotateFiles(): void {
    const { path: file, rotate } = this.options;
    if (!rotate || this.fd === null) return;
    closeSync(this.fd);
    const rotated = (n: number) => rotatedLogPath(file, n);
    rmSync(rotated(rotate.files), { force: true });
    for (let n = rotate.files - 1; n >= 1; n--) {
      if (existsSync(rotated(n))) renameSync(rotated(n), rotated(n + 1));
    }
    renameSync(file, rotated(1));
    this.open();
  }
}

/** The name of the n-th rotated file of a log (`job_log.txt` → `job_log.1.txt`). */
export const rotatedLogPath = (file: string, n: number) =>
  file.replace(/(\.[^./]*)?$/, (ext) => `.${n}${ext}`);
