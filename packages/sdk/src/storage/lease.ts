import type { BlobClient, BlobServiceClient } from "@azure/storage-blob";
import { statusOf } from "../errors.ts";

/** The container of the SDK's own state, shared with the original SDK's layout. */
export const HOSTS_CONTAINER = "azure-webjobs-hosts";

let hostsContainerReady: Promise<unknown> | null = null;

export function ensureHostsContainer(blobs: BlobServiceClient): Promise<unknown> {
  hostsContainerReady ??= blobs
    .getContainerClient(HOSTS_CONTAINER)
    .createIfNotExists()
    .catch((error: unknown) => {
      hostsContainerReady = null;
      throw error;
    });
  return hostsContainerReady;
}

/**
 * A lease on a blob of `azure-webjobs-hosts`, renewed at half its period while held: the lock between
 * processes for timers (one listener), singletons and blob receipts. `lost` fires when a renewal is
 * refused (another process took it after we stalled).
 */
export class BlobLock {
  readonly #blob: BlobClient;
  readonly #seconds: number;
  #leaseId: string | null = null;
  #renewTimer: NodeJS.Timeout | null = null;
  lost: (() => void) | null = null;

  constructor(blob: BlobClient, seconds: number) {
    this.#blob = blob;
    this.#seconds = seconds;
  }

  get held(): boolean {
    return this.#leaseId !== null;
  }

  get leaseId(): string | null {
    return this.#leaseId;
  }

  /** True when acquired; false when another process holds it. The blob is created when missing. */
  async tryAcquire(): Promise<boolean> {
    const lease = this.#blob.getBlobLeaseClient();
    try {
      await lease.acquireLease(this.#seconds);
    } catch (error) {
      const status = statusOf(error);
      if (status === 409) return false;
      if (status !== 404) throw error;
      await this.#blob
        .getBlockBlobClient()
        .upload("", 0, { conditions: { ifNoneMatch: "*" } })
        .catch((e: unknown) => {
          if (statusOf(e) !== 409 && statusOf(e) !== 412) throw e;
        });
      return this.tryAcquire();
    }
    this.#leaseId = lease.leaseId;
    this.#renewTimer = setInterval(() => void this.#renew(), (this.#seconds * 1000) / 2);
    this.#renewTimer.unref();
    return true;
  }

  async #renew(): Promise<void> {
    if (!this.#leaseId) return;
    try {
      await this.#blob.getBlobLeaseClient(this.#leaseId).renewLease();
    } catch (error) {
      const status = statusOf(error);
      // A 5xx or a network error may pass; anything else means the lease is someone else's now.
      if (status !== undefined && status < 500) {
        this.#stopRenewing();
        this.#leaseId = null;
        this.lost?.();
      }
    }
  }

  #stopRenewing(): void {
    if (this.#renewTimer) clearInterval(this.#renewTimer);
    this.#renewTimer = null;
  }

  async release(): Promise<void> {
    this.#stopRenewing();
    const leaseId = this.#leaseId;
    this.#leaseId = null;
    if (!leaseId) return;
    await this.#blob
      .getBlobLeaseClient(leaseId)
      .releaseLease()
      .catch(() => {
        // Gone or already someone else's: nothing to release.
      });
  }
}
