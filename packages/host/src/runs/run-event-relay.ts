import type { Logger } from "pino";
import type { ClusterSignals } from "../instances/signals.ts";
import type { RunRecord, RunStatus, Store } from "../store/types.ts";
import type { TriggeredRunner } from "./runner.ts";

/** Payload: `[instance, job, run id, status]` as JSON. */
const CHANNEL = "run_events";

export interface RemoteRunEvent {
  jobName: string;
  id: string;
  status: RunStatus;
}

/**
 * Several instances: tells the others when a run here changes status, and hands their changes to
 * listeners here (the live events of the API: the dashboard and list ETags of every instance move
 * with runs going anywhere). A lost signal costs only freshness: list ETags also change every 10 s.
 * Nothing on one machine (SQLite).
 */
export class RunEventRelay {
  private readonly listeners = new Set<(event: RemoteRunEvent) => void>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly deps: {
      store: Store;
      signals: ClusterSignals;
      runner: TriggeredRunner;
      instanceId: string;
      log: Logger;
    },
  ) {}

  start(): void {
    const { store, signals, runner } = this.deps;
    if (!store.remoteRuns.shared || this.unsubscribe) return;
    const send = (run: RunRecord) => this.send(run);
    runner.on("status", send).on("finished", send);
    const stopListening = signals.on(CHANNEL, (payload) => this.receive(payload));
    this.unsubscribe = () => {
      runner.off("status", send).off("finished", send);
      stopListening();
    };
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** Calls `listener` for each status change of a run of another instance. */
  on(listener: (event: RemoteRunEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** A run this instance changed without running it (closed as `instance lost`): told everywhere. */
  announce(run: RunRecord): void {
    if (!this.unsubscribe) return;
    this.send(run);
    this.tell({ jobName: run.jobName, id: run.id, status: run.status });
  }

  private tell(event: RemoteRunEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private send(run: RunRecord): void {
    const payload = JSON.stringify([this.deps.instanceId, run.jobName, run.id, run.status]);
    this.deps.signals
      .notify(CHANNEL, payload)
      .catch((error: unknown) => this.deps.log.debug({ err: error }, "could not signal a run change"));
  }

  private receive(payload: string): void {
    let event: unknown;
    try {
      event = JSON.parse(payload);
    } catch {
      return;
    }
    if (!Array.isArray(event) || event.length !== 4 || !event.every((part) => typeof part === "string"))
      return;
    const [instance, jobName, id, status] = event as string[];
    if (instance === this.deps.instanceId) return;
    this.tell({ jobName: jobName!, id: id!, status: status as RunStatus });
  }
}
