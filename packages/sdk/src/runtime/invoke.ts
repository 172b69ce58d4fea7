import { randomUUID } from "node:crypto";
import { resolveBindingPath } from "../binding-expressions.ts";
import { readBlob, writeBlob } from "../blob/io.ts";
import { InvocationContext, type LogLevel } from "../context.ts";
import { SdkError, messageOf } from "../errors.ts";
import { sendToQueue } from "../queue/output.ts";
import type { OutputRecord, Recorder } from "../record/recorder.ts";
import type { RegisteredFunction } from "../registry.ts";
import { readTable, writeTable } from "../table/io.ts";
import type {
  FunctionInput,
  FunctionOutput,
  StorageBlobIoOptions,
  StorageQueueOutputOptions,
  TableInputOptions,
  TableOutputOptions,
} from "../types.ts";
import type { SingletonLocks } from "./singleton.ts";

/** What a listener knows about the event that triggers an invocation. */
export interface TriggerEvent {
  value: unknown;
  /** Binding data: `triggerMetadata`, and the `{name}` values of binding paths. */
  bindingData: Record<string, unknown>;
  /** Shown in the invocation record (message id and dequeue count, blob name and ETag…). */
  details: Record<string, unknown>;
  reason: string;
  /** A summary of the trigger argument for the record. */
  argument: string;
  retryContext?: { retryCount: number; maxRetryCount: number };
}

export interface InvocationResult {
  id: string;
  ok: boolean;
  error?: unknown;
}

const MAX_LOG_LINES = 200;
const MAX_LOG_LINE = 2000;

export interface InvokeDeps {
  recorder: Recorder;
  singletons: SingletonLocks;
  /** Aborted when the job shuts down. */
  shutdown: AbortSignal;
}

/** A short, single-line summary of a value for the invocation record. */
export function summarize(value: unknown): string {
  let text: string;
  if (Buffer.isBuffer(value)) text = `<${value.length} bytes>`;
  else if (typeof value === "string") text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  text = text.replace(/\s+/g, " ");
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/**
 * One invocation: inputs, the handler (under its singleton lock and timeout), outputs, and the record.
 * Never throws: the result says whether it succeeded, and the listener decides what to do with its
 * message or blob.
 */
export async function invoke(
  fn: RegisteredFunction,
  event: TriggerEvent,
  deps: InvokeDeps,
): Promise<InvocationResult> {
  const id = randomUUID();
  const started = Date.now();
  const lines: string[] = [];
  const controller = new AbortController();
  const onShutdown = () => controller.abort(new SdkError("timeout", "the job is shutting down"));
  deps.shutdown.addEventListener("abort", onShutdown, { once: true });
  const logHandler = (level: LogLevel, message: string) => {
    const line = `${new Date().toISOString()} ${level}: ${message}`;
    if (lines.length < MAX_LOG_LINES)
      lines.push(line.length > MAX_LOG_LINE ? line.slice(0, MAX_LOG_LINE) : line);
    else if (lines.length === MAX_LOG_LINES)
      lines.push("(further log lines of this invocation were dropped)");
    console.log(`[${fn.name}] ${level === "information" ? "" : `${level}: `}${message}`);
  };
  const args: Record<string, string> = { trigger: event.argument };
  const outputs: OutputRecord[] = [];
  deps.recorder.started({
    id,
    function: fn.name,
    trigger: fn.trigger.type,
    start_time: new Date(started).toISOString(),
    trigger_details: event.details,
    arguments: args,
    reason: event.reason,
  });
  let error: unknown;
  let timer: NodeJS.Timeout | undefined;
  try {
    const inputs = new Map<string, unknown>();
    for (const binding of fn.extraInputs) {
      const value = await readInput(binding, event.bindingData);
      inputs.set(binding.name, value);
      args[binding.name] = summarize(value);
    }
    const context = new InvocationContext(
      {
        invocationId: id,
        functionName: fn.name,
        triggerMetadata: event.bindingData,
        logHandler,
        signal: controller.signal,
        ...(event.retryContext ? { retryContext: event.retryContext } : {}),
      },
      inputs,
    );
    const run = async () => {
      const returned = await fn.handler(event.value, context);
      if (fn.returnOutput && returned !== undefined)
        await writeOutput(fn.returnOutput, returned, event.bindingData, id, outputs);
      for (const binding of fn.extraOutputs) {
        const value = context.extraOutputs.get(binding);
        if (value !== undefined) await writeOutput(binding, value, event.bindingData, id, outputs);
      }
    };
    const guarded = fn.singleton ? () => deps.singletons.run(fn, event.bindingData, controller, run) : run;
    if (fn.timeout === undefined) await guarded();
    else {
      const timedOut = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          const reason = new SdkError(
            "timeout",
            `the invocation took longer than its timeout (${fn.timeout} ms)`,
          );
          controller.abort(reason);
          reject(reason);
        }, fn.timeout);
      });
      await Promise.race([guarded(), timedOut]);
    }
  } catch (caught) {
    error = caught;
  } finally {
    if (timer) clearTimeout(timer);
    deps.shutdown.removeEventListener("abort", onShutdown);
  }
  deps.recorder.ended({
    id,
    function: fn.name,
    status: error === undefined ? "Succeeded" : "Failed",
    end_time: new Date().toISOString(),
    duration_ms: Date.now() - started,
    error: error === undefined ? null : describeError(error),
    log: lines,
    ...(outputs.length > 0 ? { outputs } : {}),
  });
  return error === undefined ? { id, ok: true } : { id, ok: false, error };
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const stack = error.stack?.split("\n").slice(1, 4).join("\n") ?? "";
    return `${error.name}: ${error.message}${stack ? `\n${stack}` : ""}`;
  }
  return messageOf(error);
}

async function readInput(binding: FunctionInput, data: Record<string, unknown>): Promise<unknown> {
  if (binding.type === "storageBlob") {
    const options = binding.options as StorageBlobIoOptions;
    return readBlob(options.connection, resolveBindingPath(options.path, data));
  }
  const options = binding.options as TableInputOptions;
  const resolve = (value: string | undefined) =>
    value === undefined ? undefined : resolveBindingPath(value, data);
  const query: { partitionKey?: string; rowKey?: string; filter?: string; take?: number } = {};
  const partitionKey = resolve(options.partitionKey);
  const rowKey = resolve(options.rowKey);
  const filter = resolve(options.filter);
  if (partitionKey !== undefined) query.partitionKey = partitionKey;
  if (rowKey !== undefined) query.rowKey = rowKey;
  if (filter !== undefined) query.filter = filter;
  if (options.take !== undefined) query.take = options.take;
  return readTable(options.connection, resolveBindingPath(options.tableName, data), query);
}

async function writeOutput(
  binding: FunctionOutput,
  value: unknown,
  data: Record<string, unknown>,
  id: string,
  outputs: OutputRecord[],
) {
  if (binding.type === "storageQueue") {
    const options = binding.options as StorageQueueOutputOptions;
    const queue = resolveBindingPath(options.queueName, data);
    for (const messageId of await sendToQueue(options.connection, queue, value, id)) {
      outputs.push({ queue, message_id: messageId });
    }
  } else if (binding.type === "storageBlob") {
    const options = binding.options as StorageBlobIoOptions;
    const blob = resolveBindingPath(options.path, data);
    const etag = await writeBlob(options.connection, blob, value, id);
    if (etag) outputs.push({ blob, etag });
  } else {
    const options = binding.options as TableOutputOptions;
    const defaults: { partitionKey?: string; rowKey?: string; mode: "insert" | "upsert" } = {
      mode: options.mode ?? "insert",
    };
    if (options.partitionKey !== undefined)
      defaults.partitionKey = resolveBindingPath(options.partitionKey, data);
    if (options.rowKey !== undefined) defaults.rowKey = resolveBindingPath(options.rowKey, data);
    await writeTable(options.connection, resolveBindingPath(options.tableName, data), value, defaults);
  }
}
