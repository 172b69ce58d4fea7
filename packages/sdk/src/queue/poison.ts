import type { QueueClient } from "@azure/storage-queue";

const SEVEN_DAYS = 7 * 24 * 3600;

/**
 * `{queue}-poison`: created on first use. The body is copied unchanged (still encoded as it was), so a
 * message can be replayed by moving it back; why it was poisoned goes to the invocation record.
 */
export class PoisonQueue {
  readonly #queue: QueueClient;
  #created = false;

  constructor(queue: QueueClient) {
    this.#queue = queue;
  }

  get name(): string {
    return this.#queue.name;
  }

  async add(rawText: string): Promise<void> {
    if (!this.#created) {
      await this.#queue.createIfNotExists();
      this.#created = true;
    }
    await this.#queue.sendMessage(rawText, { messageTimeToLive: SEVEN_DAYS });
  }
}
