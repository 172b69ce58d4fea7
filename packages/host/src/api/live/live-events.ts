import type { ContinuousStatus } from "../../continuous/supervisor.ts";
import type { JobRecord, JobType, RunRecord, RunStatus } from "../../store/types.ts";
import { InvocationFeed } from "../../sdk/invocation-feed.ts";
import { hasSdkMarker } from "../../sdk/invocations.ts";
import type { ApiContext } from "../context.ts";

/**
 * What `GET /api/events` pushes. Events say *what* changed, not its new JSON: a client fetches
 * the resources it shows again (cheaply, with `If-None-Match`), so one event format serves every
 * page and the REST shapes stay the only definition of the data.
 */
export type LiveEvent =
  | { kind: "run"; job: string; id: string; status: RunStatus }
  | { kind: "job"; type: JobType; name: string; change: "deployed" | "removed" | "desired_state" }
  | { kind: "continuous"; name: string; status: ContinuousStatus }
  | {
      kind: "invocation";
      type: JobType;
      job: string;
      function: string;
      id: string;
      status: "Running" | "Succeeded" | "Failed";
    };

type Listener = (event: LiveEvent) => void;

/**
 * Fans the components' events (runner, registry, supervisor) out to live-event subscribers and
 * counts changes: `generation` moves on every change, so list endpoints can answer
 * `If-None-Match` from it without rendering anything.
 */
export class LiveEvents {
  private readonly listeners = new Set<Listener>();
  private readonly unsubscribe: () => void;
  /** Tells this process's generations from a previous one's (a restarted host starts again at 0). */
  readonly epoch = Date.now().toString(36);
  generation = 0;
  /** Invocations of webjobs-sdk functions, followed in the jobs' data folders. */
  readonly invocations: InvocationFeed;

  constructor(ctx: Pick<ApiContext, "runner" | "registry" | "continuous" | "runEvents" | "paths">) {
    const feed = new InvocationFeed((type, name) => ctx.paths.jobData(type, name));
    this.invocations = feed;
    feed.on("change", (change) => this.publish({ kind: "invocation", ...change }));
    // A job's records are followed from its first start (the SDK creates them then), and those of
    // jobs that used the SDK before this host started from now.
    const runEvent = (run: RunRecord) => {
      feed.watch("triggered", run.jobName);
      this.publish({ kind: "run", job: run.jobName, id: run.id, status: run.status });
    };
    const deployed = (job: JobRecord) =>
      this.publish({ kind: "job", type: job.type, name: job.name, change: "deployed" });
    const removed = (type: JobType, name: string) => {
      feed.unwatch(type, name);
      this.publish({ kind: "job", type, name, change: "removed" });
    };
    const desiredState = (job: JobRecord) =>
      this.publish({ kind: "job", type: job.type, name: job.name, change: "desired_state" });
    const continuous = (name: string, status: ContinuousStatus) => {
      feed.watch("continuous", name);
      this.publish({ kind: "continuous", name, status });
    };
    void ctx.registry.list().then(
      (jobs) => {
        for (const job of jobs) {
          if (hasSdkMarker(ctx.paths.jobData(job.type, job.name))) feed.watch(job.type, job.name);
        }
      },
      () => undefined,
    );
    const { runner, registry } = ctx;
    runner.on("status", runEvent).on("finished", runEvent);
    registry.on("deployed", deployed).on("removed", removed).on("desiredState", desiredState);
    ctx.continuous.on("status", continuous);
    // Runs going on other instances move the generation too.
    const forgetRemote = ctx.runEvents?.on((run) =>
      this.publish({ kind: "run", job: run.jobName, id: run.id, status: run.status }),
    );
    this.unsubscribe = () => {
      forgetRemote?.();
      runner.off("status", runEvent).off("finished", runEvent);
      registry.off("deployed", deployed).off("removed", removed).off("desiredState", desiredState);
      ctx.continuous.off("status", continuous);
      feed.close();
    };
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Open live-event streams (tests check that leaving a page closes its stream). */
  get subscribers(): number {
    return this.listeners.size;
  }

  publish(event: LiveEvent): void {
    // Invocations change no list the generation tags (jobs, runs): a busy queue function must not
    // make every jobs list render again.
    if (event.kind !== "invocation") this.generation += 1;
    for (const listener of this.listeners) listener(event);
  }

  close(): void {
    this.unsubscribe();
    this.listeners.clear();
  }
}
