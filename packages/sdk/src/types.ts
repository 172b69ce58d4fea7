import type { InvocationContext } from "./context.ts";

/**
 * Glossary.
 * - function: a handler registered with `app.*`, run once per trigger event (an invocation).
 * - trigger: what starts an invocation (a queue message, a blob version, a timer occurrence).
 * - binding: a declared input or output of a function (`input.*`, `output.*`).
 * - binding data: named values of the trigger (`triggerMetadata`) usable as `{name}` in binding paths.
 * - connection: the name of a setting (environment variable) that holds a storage connection string.
 */

export type FunctionHandler<T = unknown> = (triggerInput: T, context: InvocationContext) => unknown;

/** A declared input, passed to `extraInputs` and read with `context.extraInputs.get(…)`. */
export interface FunctionInput {
  readonly kind: "input";
  readonly type: "table" | "storageBlob";
  readonly name: string;
  readonly options: TableInputOptions | StorageBlobIoOptions;
}

/** A declared output, passed to `return` or `extraOutputs` and set with `context.extraOutputs.set(…)`. */
export interface FunctionOutput {
  readonly kind: "output";
  readonly type: "table" | "storageQueue" | "storageBlob";
  readonly name: string;
  readonly options: TableOutputOptions | StorageQueueOutputOptions | StorageBlobIoOptions;
}

interface CommonFunctionOptions {
  /** The output fed by the handler's return value. */
  return?: FunctionOutput;
  extraInputs?: FunctionInput[];
  extraOutputs?: FunctionOutput[];
  /**
   * Ours: at most one invocation of this function at a time across every process sharing the storage
   * account (a blob lease, the original's `[Singleton]`). `true` locks the whole function; a string is
   * a scope that may hold binding expressions (`"{region}"`).
   */
  singleton?: boolean | string;
  /** Ms after which an invocation is failed and its `context.signal` aborted (none). */
  timeout?: number;
}

export interface StorageQueueTriggerOptions extends CommonFunctionOptions {
  queueName: string;
  /** The setting holding the connection string; `AzureWebJobsStorage` by default. */
  connection?: string;
  handler: FunctionHandler;
  /** Messages fetched per receive, 1–32 (16). */
  batchSize?: number;
  /** Fetch again once this many or fewer are still running (`floor(batchSize/2) × CPUs`). */
  newBatchThreshold?: number;
  /** The longest wait between polls of an idle queue, in ms (900: idle pickup p99 ≤ 1 s). */
  maxPollingInterval?: number;
  /** After this many failed attempts the message moves to the poison queue (5). */
  maxDequeueCount?: number;
  /** How message bodies are encoded on the queue: "base64" (the original's default) or "none". */
  messageEncoding?: "base64" | "none";
  /** "binary": the handler gets the body's bytes as a Buffer instead of JSON or text. */
  dataType?: "string" | "binary";
  /**
   * The delay before a failed message is tried again, in ms. By default it grows with the dequeue
   * count: `min(1 s × 2^(n−1), 60 s)`.
   */
  visibilityTimeout?: number;
  /** The poison queue's name (`{queueName}-poison`). */
  poisonQueueName?: string;
  /** Seconds a received message stays hidden, renewed at half of it while the function runs (600). */
  receiveVisibility?: number;
}

export interface StorageBlobTriggerOptions extends CommonFunctionOptions {
  /** `container/pattern`, e.g. `images/{name}.png`, or a bare container. */
  path: string;
  connection?: string;
  handler: FunctionHandler;
  /** Only a container scan is offered; both values are accepted for compatibility. */
  source?: "EventGrid" | "LogsAndContainerScan";
  /** Ms between scans of the container (2,000). */
  pollingInterval?: number;
  /** Failed attempts before a blob is given up and recorded in `webjobs-blobtrigger-poison` (5). */
  maxDequeueCount?: number;
}

export interface RetryOptions {
  strategy: "fixedDelay" | "exponentialBackoff";
  maxRetryCount: number;
  delayInterval?: number | string;
  minimumInterval?: number | string;
  maximumInterval?: number | string;
}

export interface TimerTriggerOptions extends CommonFunctionOptions {
  /** A 6-field NCRONTAB expression (`sec min hour day month weekday`) or an `hh:mm:ss` interval. */
  schedule: string;
  runOnStartup?: boolean;
  /** Keep a status blob so missed occurrences run once, flagged past due (true). */
  useMonitor?: boolean;
  /** IANA or Windows zone of the schedule (`WEBSITE_TIME_ZONE`, else UTC). */
  timeZone?: string;
  retry?: RetryOptions;
  connection?: string;
  handler: FunctionHandler<Timer>;
}

export interface Timer {
  isPastDue: boolean;
  schedule: { adjustForDST: boolean };
  scheduleStatus?: { last: string; next: string; lastUpdated: string };
}

export interface TableInputOptions {
  tableName: string;
  connection?: string;
  partitionKey?: string;
  rowKey?: string;
  take?: number;
  filter?: string;
}

export interface TableOutputOptions {
  tableName: string;
  connection?: string;
  partitionKey?: string;
  rowKey?: string;
  /** Ours: "insert" (the original: fails if the entity exists) or "upsert" (insert or replace). */
  mode?: "insert" | "upsert";
}

export interface StorageQueueOutputOptions {
  queueName: string;
  connection?: string;
}

export interface StorageBlobIoOptions {
  path: string;
  connection?: string;
}

export type TriggerType = "queue" | "blob" | "timer";
