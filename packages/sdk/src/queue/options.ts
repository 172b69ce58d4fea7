import os from "node:os";
import { SdkError } from "../errors.ts";
import { checkQueueName, readChoice, readInt } from "../options.ts";
import type { StorageQueueTriggerOptions } from "../types.ts";
import type { MessageEncoding } from "./encoding.ts";

/** Queue trigger options with every default filled in. */
export interface ResolvedQueueOptions {
  queueName: string;
  connection: string | undefined;
  batchSize: number;
  newBatchThreshold: number;
  maxPollingInterval: number;
  maxDequeueCount: number;
  messageEncoding: MessageEncoding;
  /** Fixed retry delay in ms, or null for the back-off by dequeue count. */
  visibilityTimeout: number | null;
  /** Null when there is none (the queue is itself a poison queue, or the name would be too long). */
  poisonQueueName: string | null;
  /** Seconds a received message stays hidden; renewed at half of it while the function runs. */
  receiveVisibility: number;
}

export function resolveQueueOptions(name: string, options: StorageQueueTriggerOptions): ResolvedQueueOptions {
  const where = `app.storageQueue('${name}')`;
  const batchSize = readInt(where, "batchSize", options.batchSize, 16, 1, 32);
  const newBatchThreshold = readInt(
    where,
    "newBatchThreshold",
    options.newBatchThreshold,
    Math.floor(batchSize / 2) * os.availableParallelism(),
    0,
    10_000,
  );
  const defaultPoison = `${options.queueName}-poison`;
  let poisonQueueName: string | null = options.poisonQueueName ?? defaultPoison;
  if (
    options.poisonQueueName === undefined &&
    (options.queueName.endsWith("-poison") || defaultPoison.length > 63)
  ) {
    poisonQueueName = null;
  }
  if (poisonQueueName !== null) checkQueueName(where, poisonQueueName);
  const receiveVisibility = readInt(
    where,
    "receiveVisibility",
    options.receiveVisibility,
    600,
    2,
    7 * 24 * 3600,
  );
  if (options.visibilityTimeout !== undefined && options.visibilityTimeout < 0) {
    throw new SdkError("options", `${where}: visibilityTimeout must be 0 or more ms`);
  }
  return {
    queueName: options.queueName,
    connection: options.connection,
    batchSize,
    newBatchThreshold,
    maxPollingInterval: readInt(where, "maxPollingInterval", options.maxPollingInterval, 900, 100, 600_000),
    maxDequeueCount: readInt(where, "maxDequeueCount", options.maxDequeueCount, 5, 1, 10_000),
    messageEncoding: readChoice(
      where,
      "messageEncoding",
      options.messageEncoding,
      ["base64", "none"],
      "base64",
    ),
    visibilityTimeout: options.visibilityTimeout ?? null,
    poisonQueueName,
    receiveVisibility,
  };
}

/** The delay before a failed message is tried again: fixed, or `min(1 s × 2^(n−1), 60 s)`. */
export function retryDelayMs(options: ResolvedQueueOptions, dequeueCount: number): number {
  if (options.visibilityTimeout !== null) return options.visibilityTimeout;
  return Math.min(1000 * 2 ** Math.max(0, dequeueCount - 1), 60_000);
}

/** The idle wait after `n` empty polls in a row: `100 ms × 2^(n−1) × rand(0.8–1.2)`, capped. */
export function idleDelayMs(options: ResolvedQueueOptions, emptyPolls: number): number {
  const grown = 100 * 2 ** Math.min(20, Math.max(0, emptyPolls - 1)) * (0.8 + Math.random() * 0.4);
  return Math.min(options.maxPollingInterval, grown);
}
