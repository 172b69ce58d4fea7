import { BlobListener } from "../blob/listener.ts";
import { onBlobWrite } from "../blob/io.ts";
import { messageOf } from "../errors.ts";
import { QueueListener } from "../queue/listener.ts";
import { onQueueWrite } from "../queue/output.ts";
import { Recorder } from "../record/recorder.ts";
import type { FunctionRegistry, RegisteredFunction } from "../registry.ts";
import { TimerListener } from "../timer/listener.ts";
import { hostId } from "./host-id.ts";
import type { InvokeDeps } from "./invoke.ts";
import type { Listener } from "./listener.ts";
import { graceMs, watchShutdown } from "./shutdown.ts";
import { SingletonLocks } from "./singleton.ts";

/**
 * Runs the registered functions until the job is asked to stop. A function whose options or
 * connection are wrong is reported and left out; the others keep serving.
 */
export class Runtime {
  readonly #registry: FunctionRegistry;
  readonly #shutdown = new AbortController();
  readonly #recorder = new Recorder();
  readonly #hostId = hostId();
  readonly #deps: InvokeDeps;
  readonly #listeners: Listener[] = [];
  #unwatch: (() => void) | null = null;
  #stopping: Promise<void> | null = null;

  constructor(registry: FunctionRegistry) {
    this.#registry = registry;
    this.#deps = {
      recorder: this.#recorder,
      singletons: new SingletonLocks(this.#hostId, this.#shutdown.signal),
      shutdown: this.#shutdown.signal,
    };
  }

  start(): void {
    onQueueWrite((account, queue) => {
      for (const l of this.#listeners)
        if (l instanceof QueueListener && l.account === account && l.source === queue) l.wake();
    });
    onBlobWrite((account, container) => {
      for (const l of this.#listeners)
        if (l instanceof BlobListener && l.account === account && l.container === container) l.wake();
    });
    for (const fn of this.#registry.list()) this.#add(fn);
    this.#registry.onAdd((fn) => {
      this.#add(fn);
      void this.#announce();
    });
    void this.#announce();
    this.#unwatch = watchShutdown(
      (why) => void this.stop(why).then(() => process.exit(0)),
      () => {
        console.error("webjobs-sdk: second stop signal, exiting now");
        process.exit(1);
      },
    );
    console.log(
      `webjobs-sdk: host ${this.#hostId} started ${this.#listeners.length} function(s): ${this.#listeners.map((l) => `${l.fn.name} (${l.fn.trigger.type}: ${l.source})`).join(", ")}`,
    );
  }

  #add(fn: RegisteredFunction): void {
    if (this.#stopping) return;
    try {
      const listener =
        fn.trigger.type === "queue"
          ? new QueueListener(fn, this.#deps)
          : fn.trigger.type === "blob"
            ? new BlobListener(fn, this.#deps, this.#hostId)
            : new TimerListener(fn, this.#deps, this.#hostId);
      this.#listeners.push(listener);
      listener.start();
    } catch (error) {
      console.error(`webjobs-sdk: function '${fn.name}' is not started: ${messageOf(error)}`);
    }
  }

  #announce(): Promise<void> {
    return this.#recorder.announce(
      this.#listeners.map((l) => ({ name: l.fn.name, trigger: l.fn.trigger.type, source: l.source })),
    );
  }

  /** Stops taking work, lets running invocations finish within the grace, releases the rest. */
  stop(why = "stop"): Promise<void> {
    this.#stopping ??= (async () => {
      const deadline = Date.now() + graceMs();
      console.log(`webjobs-sdk: stopping (${why}); running invocations have ${deadline - Date.now()} ms`);
      this.#shutdown.abort();
      await Promise.all(this.#listeners.map((l) => l.stop(deadline).catch(() => undefined)));
      await this.#recorder.flush();
      this.#unwatch?.();
      console.log("webjobs-sdk: stopped");
    })();
    return this.#stopping;
  }
}
