import type { QueueClient } from "@azure/storage-queue";
import { storageAccount } from "../storage/connection.ts";
import { encodeBody, type MessageEncoding } from "./encoding.ts";

const created = new Set<string>();
type Notify = (setting: string, queueName: string) => void;
let notify: Notify = () => {};

/** Same-process listeners are woken when an output writes to their queue (no wait for the next poll). */
export function onQueueWrite(listener: Notify): void {
  notify = listener;
}

async function ensureQueue(setting: string, queue: QueueClient): Promise<void> {
  const key = `${setting}/${queue.name}`;
  if (created.has(key)) return;
  await queue.createIfNotExists();
  created.add(key);
}

/**
 * Sends a queue output value: a string is one message, an object one JSON message (with
 * `$AzureWebJobsParentId`, the writer's invocation), an array one message per element. Returns the
 * ids the service gave the messages: the writer's invocation record lists them, so the host links
 * the invocations they trigger to it whatever the body (text and bytes carry no parent id).
 */
export async function sendToQueue(
  connection: string | undefined,
  queueName: string,
  value: unknown,
  parentId: string,
  encoding: MessageEncoding = "base64",
): Promise<string[]> {
  const account = storageAccount(connection);
  const queue = account.queues.getQueueClient(queueName);
  await ensureQueue(account.setting, queue);
  const items = Array.isArray(value) ? value : [value];
  const ids: string[] = [];
  for (const item of items) {
    const sent = await queue.sendMessage(encodeBody(messageBytes(item, parentId), encoding));
    ids.push(sent.messageId);
  }
  notify(account.setting, queueName);
  return ids;
}

function messageBytes(item: unknown, parentId: string): Buffer {
  if (Buffer.isBuffer(item)) return item;
  if (item instanceof Uint8Array) return Buffer.from(item);
  if (typeof item === "string") return Buffer.from(item, "utf8");
  if (item !== null && typeof item === "object") {
    return Buffer.from(JSON.stringify({ ...item, $AzureWebJobsParentId: parentId }), "utf8");
  }
  return Buffer.from(JSON.stringify(item), "utf8");
}
