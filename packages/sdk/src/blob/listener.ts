import os from "node:os";
import type { BlobItem, ContainerClient } from "@azure/storage-blob";
import { messageOf, statusOf, storageProblem } from "../errors.ts";
import type { RegisteredFunction } from "../registry.ts";
import { invoke, type InvokeDeps } from "../runtime/invoke.ts";
import type { Listener } from "../runtime/listener.ts";
import { storageAccount } from "../storage/connection.ts";
import { BlobLock, ensureHostsContainer, HOSTS_CONTAINER } from "../storage/lease.ts";
import type { StorageBlobTriggerOptions } from "../types.ts";
import { compileBlobPattern, type BlobPattern } from "./path-pattern.ts";

const PAGE_SIZE = 5000;
/** Pages listed per poll: a large container is swept over several polls, never in one long burst. */
const PAGES_PER_POLL = 4;
const RECEIPT_LEASE_SECONDS = 30;
export const BLOB_POISON_QUEUE = "webjobs-blobtrigger-poison";

/**
 * The blob trigger. Polls a listing of the pattern's literal prefix (with continuation across polls);
 * listings carry ETags, so only (name, ETag) pairs this process has not finished reach storage again.
 * Each blob version runs once per host ID thanks to a receipt blob
 * `azure-webjobs-hosts/blobreceipts/{hostId}/{function}/{etag}/{container}/{blob}`, held under a lease
 * while the function runs (so processes never run one version together, and a crash leaves it
 * incomplete for another try). Writes by this process's outputs wake the scan at once.
 */
export class BlobListener implements Listener {
  readonly fn: RegisteredFunction;
  readonly #options: StorageBlobTriggerOptions;
  readonly #pattern: BlobPattern;
  readonly #deps: InvokeDeps;
  readonly #hostId: string;
  readonly #container: ContainerClient;
  readonly #hosts: ContainerClient;
  /** Blob name → the ETag whose receipt is complete. */
  readonly #done = new Map<string, string>();
  /** Blob name + ETag → when a failed one may be tried again. */
  readonly #retryAt = new Map<string, number>();
  readonly #running = new Set<Promise<void>>();
  #continuation: string | undefined;
  #stopping = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #lastError = "";

  constructor(fn: RegisteredFunction, deps: InvokeDeps, hostId: string) {
    this.fn = fn;
    this.#options = fn.trigger.options as StorageBlobTriggerOptions;
    this.#pattern = compileBlobPattern(`app.storageBlob('${fn.name}')`, this.#options.path);
    this.#deps = deps;
    this.#hostId = hostId;
    const blobs = storageAccount(this.#options.connection).blobs;
    this.#container = blobs.getContainerClient(this.#pattern.container);
    this.#hosts = blobs.getContainerClient(HOSTS_CONTAINER);
  }

  get source(): string {
    return this.#options.path;
  }

  get account(): string {
    return storageAccount(this.#options.connection).setting;
  }

  get container(): string {
    return this.#pattern.container;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  wake(): void {
    this.#wake?.();
  }

  async #run(): Promise<void> {
    const interval = this.#options.pollingInterval ?? 2000;
    const parallel = 8 * os.availableParallelism();
    while (!this.#stopping) {
      let finishedPass = false;
      try {
        await ensureHostsContainer(storageAccount(this.#options.connection).blobs);
        const pages = this.#container.listBlobsFlat({ prefix: this.#pattern.prefix }).byPage({
          maxPageSize: PAGE_SIZE,
          ...(this.#continuation ? { continuationToken: this.#continuation } : {}),
        });
        let count = 0;
        for await (const page of pages) {
          for (const item of page.segment.blobItems) {
            if (this.#stopping) break;
            if (!this.#isCandidate(item)) continue;
            while (this.#running.size >= parallel) await Promise.race(this.#running);
            const task = this.#process(item).finally(() => this.#running.delete(task));
            this.#running.add(task);
          }
          this.#continuation = page.continuationToken || undefined;
          if (!this.#continuation) finishedPass = true;
          if (++count >= PAGES_PER_POLL || finishedPass) break;
        }
        this.#lastError = "";
      } catch (error) {
        const text =
          statusOf(error) === 404
            ? `container '${this.#pattern.container}' does not exist yet; waiting for it`
            : `cannot list '${this.#pattern.container}': ${storageProblem(error, this.account)}`;
        if (text !== this.#lastError) console.error(`[${this.fn.name}] ${text}`);
        this.#lastError = text;
        finishedPass = true;
        this.#continuation = undefined;
      }
      if (!finishedPass) continue;
      await this.#sleep(interval);
    }
  }

  #isCandidate(item: BlobItem): boolean {
    const etag = item.properties.etag ?? "";
    if (this.#done.get(item.name) === etag) return false;
    if (this.#pattern.match(item.name) === null) return false;
    const retryAt = this.#retryAt.get(`${item.name}\n${etag}`);
    return retryAt === undefined || retryAt <= Date.now();
  }

  async #process(item: BlobItem): Promise<void> {
    const etag = (item.properties.etag ?? "").replace(/"/g, "");
    const receipt = this.#hosts.getBlockBlobClient(
      `blobreceipts/${this.#hostId}/${this.fn.name}/${etag}/${this.#pattern.container}/${item.name}`,
    );
    try {
      const metadata = await readMetadata(receipt);
      if (metadata && metadata.incomplete === undefined) {
        this.#done.set(item.name, item.properties.etag ?? "");
        return;
      }
      if (!metadata) {
        await receipt
          .upload("", 0, { conditions: { ifNoneMatch: "*" }, metadata: { Incomplete: "Incomplete" } })
          .catch((error: unknown) => {
            if (statusOf(error) !== 409 && statusOf(error) !== 412) throw error;
          });
      }
      const lock = new BlobLock(receipt, RECEIPT_LEASE_SECONDS);
      if (!(await lock.tryAcquire())) return; // Another process runs it now.
      try {
        const current = await readMetadata(receipt);
        if (current && current.incomplete === undefined) {
          this.#done.set(item.name, item.properties.etag ?? "");
          return;
        }
        await this.#runFunction(item, etag, receipt.url, current ?? {}, async (meta) => {
          await receipt.setMetadata(meta, { conditions: { leaseId: lock.leaseId! } });
        });
      } finally {
        await lock.release();
      }
    } catch (error) {
      console.error(`[${this.fn.name}] blob '${item.name}': ${messageOf(error)}`);
      this.#retryAt.set(`${item.name}\n${item.properties.etag}`, Date.now() + 5000);
    }
  }

  async #runFunction(
    item: BlobItem,
    etag: string,
    _receiptUrl: string,
    metadata: Record<string, string>,
    setReceipt: (metadata: Record<string, string>) => Promise<void>,
  ): Promise<void> {
    const blob = this.#container.getBlobClient(item.name);
    let content: Buffer;
    try {
      content = await blob.downloadToBuffer(undefined, undefined, {
        conditions: { ifMatch: item.properties.etag! },
      });
    } catch (error) {
      const status = statusOf(error);
      // Deleted, or changed since the listing (the new version has its own receipt): done here.
      if (status === 404 || status === 412) {
        await setReceipt({});
        this.#done.set(item.name, item.properties.etag ?? "");
        return;
      }
      throw error;
    }
    const failures = Number(metadata.failures ?? 0);
    const max = this.#options.maxDequeueCount ?? 5;
    const blobPath = `${this.#pattern.container}/${item.name}`;
    const tokens = this.#pattern.match(item.name) ?? {};
    const builtIns = {
      blobTrigger: blobPath,
      uri: blob.url,
      properties: {
        etag: item.properties.etag,
        lastModified: item.properties.lastModified,
        length: item.properties.contentLength,
      },
      metadata: item.metadata ?? {},
    };
    const result = await invoke(
      this.fn,
      {
        value: content,
        bindingData: { ...tokens, ...builtIns },
        details: {
          blob_name: blobPath,
          etag,
          last_modified: item.properties.lastModified,
          attempt: failures + 1,
        },
        reason: `New blob detected: ${blobPath}`,
        argument: `${blobPath} <${content.length} bytes>`,
        retryContext: { retryCount: failures, maxRetryCount: max - 1 },
      },
      this.#deps,
    );
    if (result.ok) {
      await setReceipt({});
      this.#done.set(item.name, item.properties.etag ?? "");
      return;
    }
    if (this.#deps.shutdown.aborted) return; // Not a failure: another run will take it.
    if (failures + 1 >= max) {
      const account = storageAccount(this.#options.connection);
      const poison = account.queues.getQueueClient(BLOB_POISON_QUEUE);
      await poison.createIfNotExists();
      const message = JSON.stringify({
        Type: "BlobTrigger",
        FunctionId: this.fn.name,
        BlobType: "BlockBlob",
        ContainerName: this.#pattern.container,
        BlobName: item.name,
        ETag: item.properties.etag,
      });
      await poison.sendMessage(Buffer.from(message).toString("base64"));
      await setReceipt({ Poisoned: String(failures + 1) });
      this.#done.set(item.name, item.properties.etag ?? "");
      console.error(
        `[${this.fn.name}] blob '${blobPath}' failed ${failures + 1} times; recorded in '${BLOB_POISON_QUEUE}'`,
      );
      return;
    }
    await setReceipt({ Incomplete: "Incomplete", Failures: String(failures + 1) });
    this.#retryAt.set(
      `${item.name}\n${item.properties.etag}`,
      Date.now() + Math.min(1000 * 2 ** failures, 60_000),
    );
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        this.#wake = null;
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async stop(deadline: number): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
    await Promise.race([Promise.all([this.#loop, ...this.#running]), limit]);
    clearTimeout(timer);
  }
}

/** The receipt's metadata (keys lower-cased by the service), or null when there is no receipt. */
async function readMetadata(receipt: { getProperties(): Promise<{ metadata?: Record<string, string> }> }) {
  try {
    const properties = await receipt.getProperties();
    return Object.fromEntries(
      Object.entries(properties.metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw error;
  }
}
