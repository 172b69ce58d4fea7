import type { DequeuedMessageItem, QueueClient } from "@azure/storage-queue";
import { messageOf, statusOf, storageProblem } from "../errors.ts";
import type { RegisteredFunction } from "../registry.ts";
import { invoke, summarize, type InvokeDeps } from "../runtime/invoke.ts";
import type { Listener } from "../runtime/listener.ts";
import { storageAccount } from "../storage/connection.ts";
import type { StorageQueueTriggerOptions } from "../types.ts";
import { bodyValue, decodeBody } from "./encoding.ts";
import { idleDelayMs, resolveQueueOptions, retryDelayMs, type ResolvedQueueOptions } from "./options.ts";
import { PoisonQueue } from "./poison.ts";

/** A received message while its function runs: the pop receipt changes with every update. */
interface InFlight {
  id: string;
  popReceipt: string;
  /** Updates of one message are serialized: each needs the previous one's pop receipt. */
  ops: Promise<unknown>;
  finished: boolean;
}

/**
 * The queue trigger: receives up to `batchSize` messages, runs each unawaited, and receives again as
 * soon as no more than `newBatchThreshold` run. An empty poll or an error waits, growing up to
 * `maxPollingInterval`; a write by this process to the queue wakes it at once.
 */
export class QueueListener implements Listener {
  readonly fn: RegisteredFunction;
  readonly options: ResolvedQueueOptions;
  readonly #deps: InvokeDeps;
  readonly #queue: QueueClient;
  readonly #poison: PoisonQueue | null;
  readonly #inFlight = new Set<InFlight>();
  #stopping = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #slotFreed: (() => void) | null = null;
  #lastError = "";

  constructor(fn: RegisteredFunction, deps: InvokeDeps) {
    this.fn = fn;
    this.options = resolveQueueOptions(fn.name, fn.trigger.options as StorageQueueTriggerOptions);
    this.#deps = deps;
    const account = storageAccount(this.options.connection);
    this.#queue = account.queues.getQueueClient(this.options.queueName);
    this.#poison = this.options.poisonQueueName
      ? new PoisonQueue(account.queues.getQueueClient(this.options.poisonQueueName))
      : null;
  }

  get source(): string {
    return this.options.queueName;
  }

  get account(): string {
    return storageAccount(this.options.connection).setting;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Ends an idle wait: a message was just written to the queue by this process. */
  wake(): void {
    this.#wake?.();
  }

  async #run(): Promise<void> {
    let emptyPolls = 0;
    while (!this.#stopping) {
      while (this.#inFlight.size > this.options.newBatchThreshold && !this.#stopping) {
        await new Promise<void>((resolve) => (this.#slotFreed = resolve));
      }
      if (this.#stopping) break;
      let messages: DequeuedMessageItem[];
      try {
        const response = await this.#queue.receiveMessages({
          numberOfMessages: this.options.batchSize,
          visibilityTimeout: this.options.receiveVisibility,
        });
        messages = response.receivedMessageItems;
        this.#lastError = "";
      } catch (error) {
        this.#reportPollError(error);
        emptyPolls += 1;
        await this.#idle(idleDelayMs(this.options, emptyPolls));
        continue;
      }
      if (messages.length === 0) {
        emptyPolls += 1;
        await this.#idle(idleDelayMs(this.options, emptyPolls));
        continue;
      }
      emptyPolls = 0;
      for (const message of messages) this.#start(message);
    }
  }

  /** One line per kind of failure, not per poll, so a missing queue does not flood the log. */
  #reportPollError(error: unknown): void {
    const text =
      statusOf(error) === 404
        ? `queue '${this.options.queueName}' does not exist yet; waiting for it`
        : `cannot read queue '${this.options.queueName}': ${storageProblem(error, this.account)}`;
    if (text !== this.#lastError) console.error(`[${this.fn.name}] ${text}`);
    this.#lastError = text;
  }

  #idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
  }

  #start(message: DequeuedMessageItem): void {
    const entry: InFlight = {
      id: message.messageId,
      popReceipt: message.popReceipt,
      ops: Promise.resolve(),
      finished: false,
    };
    this.#inFlight.add(entry);
    void this.#process(message, entry)
      .catch((error: unknown) => console.error(`[${this.fn.name}] message ${entry.id}: ${messageOf(error)}`))
      .finally(() => {
        entry.finished = true;
        this.#inFlight.delete(entry);
        this.#slotFreed?.();
        this.#slotFreed = null;
      });
  }

  async #process(message: DequeuedMessageItem, entry: InFlight): Promise<void> {
    const { maxDequeueCount, messageEncoding } = this.options;
    const bytes = decodeBody(message.messageText, messageEncoding);
    if (bytes === null) {
      return this.#toPoison(entry, message, `the body is not valid base64 (messageEncoding is 'base64')`);
    }
    if (message.dequeueCount > maxDequeueCount) {
      return this.#toPoison(
        entry,
        message,
        `dequeued ${message.dequeueCount} times (maxDequeueCount ${maxDequeueCount})`,
      );
    }
    const text = bytes.toString("utf8");
    const value =
      (this.fn.trigger.options as StorageQueueTriggerOptions).dataType === "binary" ? bytes : bodyValue(text);
    const renewEvery = (this.options.receiveVisibility * 1000) / 2;
    const renewal = setInterval(() => this.#update(entry, this.options.receiveVisibility), renewEvery);
    const result = await invoke(this.fn, this.#event(message, text, value), this.#deps).finally(() =>
      clearInterval(renewal),
    );
    if (this.#released.has(entry)) return;
    if (result.ok) {
      await this.#serial(entry, () => this.#queue.deleteMessage(entry.id, entry.popReceipt));
    } else if (this.#deps.shutdown.aborted) {
      // Stopped, not failed: make it visible again at once for the next instance.
      await this.#update(entry, 0);
    } else if (message.dequeueCount >= maxDequeueCount && this.#poison) {
      await this.#toPoison(
        entry,
        message,
        `failed ${message.dequeueCount} times; last error: ${messageOf(result.error)}`,
      );
    } else {
      await this.#update(entry, Math.ceil(retryDelayMs(this.options, message.dequeueCount) / 1000));
    }
  }

  #event(message: DequeuedMessageItem, text: string, value: unknown) {
    const builtIns = {
      queueTrigger: text,
      dequeueCount: message.dequeueCount,
      expirationTime: message.expiresOn,
      id: message.messageId,
      insertionTime: message.insertedOn,
      nextVisibleTime: message.nextVisibleOn,
      popReceipt: message.popReceipt,
    };
    // Properties of a JSON body are binding data too; the built-ins win over them.
    const bodyData =
      value !== null && typeof value === "object" && !Array.isArray(value) && !Buffer.isBuffer(value)
        ? value
        : {};
    return {
      value,
      bindingData: { ...bodyData, ...builtIns },
      details: {
        message_id: message.messageId,
        dequeue_count: message.dequeueCount,
        queue: this.options.queueName,
        inserted_on: message.insertedOn,
      },
      reason: `New queue message detected on '${this.options.queueName}'.`,
      argument: summarize(value),
      retryContext: { retryCount: message.dequeueCount - 1, maxRetryCount: this.options.maxDequeueCount - 1 },
    };
  }

  #serial<T>(entry: InFlight, op: () => Promise<T>): Promise<T> {
    const next = entry.ops.then(op);
    entry.ops = next.catch(() => undefined);
    return next;
  }

  /** Hides the message for `seconds` more (0: visible now); keeps the new pop receipt. */
  #update(entry: InFlight, seconds: number): Promise<void> {
    return this.#serial(entry, async () => {
      try {
        const response = await this.#queue.updateMessage(entry.id, entry.popReceipt, undefined, seconds);
        if (response.popReceipt) entry.popReceipt = response.popReceipt;
      } catch (error) {
        // 404/400: deleted, or its receipt expired and another instance has it now.
        console.error(`[${this.fn.name}] cannot update message ${entry.id}: ${messageOf(error)}`);
      }
    });
  }

  async #toPoison(entry: InFlight, message: DequeuedMessageItem, why: string): Promise<void> {
    if (!this.#poison) {
      console.error(
        `[${this.fn.name}] message ${entry.id} is poison (${why}) but there is no poison queue; it stays hidden`,
      );
      return;
    }
    await this.#poison.add(message.messageText);
    await this.#serial(entry, () => this.#queue.deleteMessage(entry.id, entry.popReceipt));
    const text = `message ${entry.id} moved to '${this.options.poisonQueueName}': ${why}`;
    console.error(`[${this.fn.name}] ${text}`);
    this.#deps.recorder.poisoned(this.fn.name, {
      message_id: entry.id,
      dequeue_count: message.dequeueCount,
      reason: why,
      poison_queue: this.options.poisonQueueName,
    });
  }

  readonly #released = new Set<InFlight>();

  /**
   * Stops receiving, waits for running invocations until `deadline`, then makes the messages of those
   * still running visible again (they were not failures, so another instance may take them at once).
   */
  async stop(deadline: number): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    this.#slotFreed?.();
    await this.#loop;
    const waitMs = Math.max(0, deadline - Date.now());
    const pending = [...this.#inFlight];
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(pending.map((entry) => new Promise<void>((resolve) => this.#onFinished(entry, resolve)))),
      new Promise((resolve) => (timer = setTimeout(resolve, waitMs))),
    ]);
    clearTimeout(timer);
    const unfinished = [...this.#inFlight];
    for (const entry of unfinished) this.#released.add(entry);
    await Promise.all(unfinished.map((entry) => this.#update(entry, 0)));
  }

  #onFinished(entry: InFlight, resolve: () => void): void {
    if (entry.finished || !this.#inFlight.has(entry)) return resolve();
    const check = setInterval(() => {
      if (!this.#inFlight.has(entry)) {
        clearInterval(check);
        resolve();
      }
    }, 20);
  }
}
