import { resolveBindingPath } from "../binding-expressions.ts";
import { SdkError } from "../errors.ts";
import type { RegisteredFunction } from "../registry.ts";
import { storageAccount } from "../storage/connection.ts";
import { BlobLock, ensureHostsContainer, HOSTS_CONTAINER } from "../storage/lease.ts";

const LOCK_SECONDS = 15;
const POLL_MS = 1000;

/**
 * `singleton`: one invocation at a time across processes, by a lease on
 * `azure-webjobs-hosts/locks/{hostId}/{function}[.{scope}]`. Waiting polls every second (the original:
 * 5 s); a lost lease aborts the invocation's signal and fails it.
 */
export class SingletonLocks {
  readonly #hostId: string;
  readonly #shutdown: AbortSignal;

  constructor(hostId: string, shutdown: AbortSignal) {
    this.#hostId = hostId;
    this.#shutdown = shutdown;
  }

  async run(
    fn: RegisteredFunction,
    data: Record<string, unknown>,
    controller: AbortController,
    work: () => Promise<void>,
  ): Promise<void> {
    const scope = typeof fn.singleton === "string" ? `.${resolveBindingPath(fn.singleton, data)}` : "";
    const blobs = storageAccount(connectionOf(fn)).blobs;
    await ensureHostsContainer(blobs);
    const blob = blobs
      .getContainerClient(HOSTS_CONTAINER)
      .getBlobClient(`locks/${this.#hostId}/${fn.name}${scope}`);
    const lock = new BlobLock(blob, LOCK_SECONDS);
    while (!(await lock.tryAcquire())) {
      if (this.#shutdown.aborted) throw new SdkError("timeout", "the job is shutting down");
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    let lost = false;
    lock.lost = () => {
      lost = true;
      controller.abort(new SdkError("timeout", "the singleton lease was lost"));
    };
    try {
      await work();
      if (lost) throw new SdkError("timeout", "the singleton lease was lost during the invocation");
    } finally {
      await lock.release();
    }
  }
}

function connectionOf(fn: RegisteredFunction): string | undefined {
  return fn.trigger.options.connection;
}
