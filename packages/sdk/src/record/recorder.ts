import { appendFile, mkdir, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { randomUUID } from "node:crypto";
import type { TriggerType } from "../types.ts";

/**
 * Invocation records. Under the host (`WEBJOBS_DATA_PATH` set) they are appended as JSON lines to
 * `{WEBJOBS_DATA_PATH}/sdk/invocations.jsonl`, which the host reads to serve the functions API and the
 * dashboard; `webjobssdk.marker` in that folder tells the host the job uses the SDK (Kudu's `using_sdk`).
 * Everywhere, a line per start and end goes to stdout (the job log). Recording never fails an invocation.
 */
export interface InvocationStart {
  id: string;
  function: string;
  trigger: TriggerType;
  start_time: string;
  trigger_details: Record<string, unknown>;
  arguments: Record<string, string>;
  reason: string;
}

export interface InvocationEnd {
  id: string;
  function: string;
  status: "Succeeded" | "Failed";
  end_time: string;
  duration_ms: number;
  error: string | null;
  log: string[];
  /** What its output bindings wrote: the host links the invocations they trigger to this one. */
  outputs?: OutputRecord[];
}

export type OutputRecord = { queue: string; message_id: string } | { blob: string; etag: string };

export interface FunctionInfo {
  name: string;
  trigger: TriggerType;
  /** The queue, blob path or schedule. */
  source: string;
}

/** The file is rotated once past this size, keeping one older file (`invocations.1.jsonl`). */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
const FLUSH_MS = 200;

export class Recorder {
  readonly #dir: string | null;
  #pending: string[] = [];
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();
  #ready: Promise<void> | null = null;

  constructor(dataPath: string | undefined = process.env.WEBJOBS_DATA_PATH) {
    this.#dir = dataPath ? path.join(dataPath, "sdk") : null;
  }

  get underHost(): boolean {
    return this.#dir !== null;
  }

  /** Writes the marker and the list of functions; called once at start. */
  async announce(functions: FunctionInfo[]): Promise<void> {
    if (!this.#dir) return;
    const dir = this.#dir;
    this.#ready = (async () => {
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(path.dirname(dir), "webjobssdk.marker"), "");
      await writeFile(path.join(dir, "functions.json"), JSON.stringify(functions));
    })().catch((error: unknown) => console.error(`webjobs-sdk: cannot write records: ${String(error)}`));
    await this.#ready;
  }

  started(record: InvocationStart): void {
    console.log(`Executing '${record.function}' (Reason='${record.reason}', Id=${record.id})`);
    this.#append({ kind: "start", ...record });
  }

  ended(record: InvocationEnd): void {
    const outcome = record.status === "Succeeded" ? "Succeeded" : `Failed: ${record.error}`;
    console.log(
      `Executed '${record.function}' (${outcome}, Id=${record.id}, Duration=${record.duration_ms}ms)`,
    );
    this.#append({ kind: "end", ...record });
  }

  /**
   * A message moved to the poison queue: recorded as a failed entry of its function (with no handler
   * run when it arrived poisoned), so the reason shows beside its invocations.
   */
  poisoned(fn: string, details: Record<string, unknown> & { reason: string }): void {
    const id = randomUUID();
    const now = new Date().toISOString();
    this.#append({
      kind: "start",
      id,
      function: fn,
      trigger: "queue",
      start_time: now,
      trigger_details: details,
      arguments: {},
      reason: "Poison message",
    });
    this.#append({
      kind: "end",
      id,
      function: fn,
      status: "Failed",
      end_time: now,
      duration_ms: 0,
      error: `moved to the poison queue: ${details.reason}`,
      log: [],
    });
  }

  #append(line: object): void {
    if (!this.#dir) return;
    this.#pending.push(JSON.stringify(line) + "\n");
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what is pending; resolves when it is on disk. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const lines = this.#pending;
    this.#pending = [];
    const dir = this.#dir;
    if (!dir || lines.length === 0) return this.#flushing;
    this.#flushing = this.#flushing.then(async () => {
      try {
        await this.#ready;
        const file = path.join(dir, "invocations.jsonl");
        const size = await stat(file).then(
          (s) => s.size,
          () => 0,
        );
        if (size > MAX_FILE_BYTES) await rename(file, path.join(dir, "invocations.1.jsonl"));
        await appendFile(file, lines.join(""));
      } catch (error) {
        console.error(`webjobs-sdk: cannot write invocation records: ${String(error)}`);
      }
    });
    return this.#flushing;
  }
}
