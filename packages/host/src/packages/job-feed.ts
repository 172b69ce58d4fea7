import type { Logger } from "pino";
import type { ClusterSignals } from "../instances/signals.ts";
import type { JobRegistry } from "../jobs/registry.ts";
import { JobType, type JobRecord, type Store } from "../store/types.ts";
import type { LocalPackages } from "./local-packages.ts";

/** The slow look at the jobs table, in case a signal was lost (a dropped connection). */
const POLL_MS = 5_000;
const CHANNEL = "jobs";
const key = (type: JobType, name: string) => `${type}/${name}`;

export interface JobFeedDeps {
  store: Store;
  registry: JobRegistry;
  packages: LocalPackages;
  signals: ClusterSignals;
  log: Logger;
  pollMs?: number;
}

/**
 * The job change feed of several instances (PostgreSQL only). A deploy, a removal or a desired
 * state change made through this instance is signalled to the others; a change signalled by
 * another instance (or seen by the slow poll of the jobs table) is followed here: a new version
 * is fetched and published in this machine's site folder, a removed job is removed from it, and
 * the registry's local events are emitted again (flagged `elsewhere`) so that the scheduler arms,
 * the supervisor restarts and the dashboard hears. Nothing is installed or stored again.
 */
export class JobFeed {
  /** The job as this instance last saw it (its desired state), to tell what changed elsewhere. */
  private readonly seen = new Map<string, JobRecord>();
  /** Jobs that failed to follow, and why: said once per version, tried again at every poll. */
  private readonly failed = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private offs: (() => void)[] = [];
  private queue: Promise<void> = Promise.resolve();
  private pendingFull = false;
  private readonly pendingJobs = new Set<string>();
  private running = false;

  constructor(private readonly deps: JobFeedDeps) {}

  /** Follows what changed while this instance was down, then listens. Before the watcher starts. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { registry, signals, packages } = this.deps;
    await packages.load();
    const announce = (type: JobType, name: string) => {
      signals.notify(CHANNEL, key(type, name)).catch((error: unknown) => {
        this.deps.log.warn({ err: error }, "job feed: could not signal a change (the others poll)");
      });
    };
    const deployed = (job: JobRecord, _previous: JobRecord | null, elsewhere?: boolean) => {
      this.seen.set(key(job.type, job.name), job);
      if (!elsewhere) announce(job.type, job.name);
    };
    const desiredState = (job: JobRecord, elsewhere?: boolean) => {
      this.seen.set(key(job.type, job.name), job);
      if (!elsewhere) announce(job.type, job.name);
    };
    const removed = (type: JobType, name: string, elsewhere?: boolean) => {
      this.seen.delete(key(type, name));
      if (!elsewhere) announce(type, name);
    };
    registry.on("deployed", deployed).on("desiredState", desiredState).on("removed", removed);
    this.offs.push(() => {
      registry.off("deployed", deployed).off("desiredState", desiredState).off("removed", removed);
    });
    this.offs.push(signals.on(CHANNEL, (payload) => this.request(payload)));
    await this.syncAll();
    this.schedulePoll();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const off of this.offs.splice(0)) off();
    await this.queue;
  }

  private schedulePoll(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.request(null);
      this.schedulePoll();
    }, this.deps.pollMs ?? POLL_MS);
    this.timer.unref();
  }

  /** One job (a signal names it) or all of them (the poll); bursts are looked at once. */
  private request(jobKey: string | null): void {
    if (!this.running) return;
    if (jobKey === null) this.pendingFull = true;
    else this.pendingJobs.add(jobKey);
    this.queue = this.queue.then(() => this.drain());
  }

  private async drain(): Promise<void> {
    if (!this.running) return;
    if (this.pendingFull) {
      this.pendingFull = false;
      this.pendingJobs.clear();
      await this.syncAll();
      return;
    }
    const keys = [...this.pendingJobs];
    this.pendingJobs.clear();
    for (const jobKey of keys) {
      const [type, name] = jobKey.split("/") as [JobType, string];
      if (type !== JobType.Triggered && type !== JobType.Continuous) continue;
      const job = await this.deps.store.getJob(type, name).catch(() => undefined);
      if (job !== undefined) await this.follow(type, name, job);
    }
  }

  private async syncAll(): Promise<void> {
    let jobs: JobRecord[];
    try {
      jobs = await this.deps.store.listJobs();
    } catch (error) {
      this.deps.log.warn({ err: error }, "job feed: could not read the jobs (tried again at the next poll)");
      return;
    }
    const stored = new Set(jobs.map((job) => key(job.type, job.name)));
    for (const job of jobs) await this.follow(job.type, job.name, job);
    for (const { type, name } of this.deps.packages.publishedJobs()) {
      if (!stored.has(key(type, name))) await this.follow(type, name, null);
    }
  }

  /** Brings one job in line with its row (null: removed elsewhere). */
  private async follow(type: JobType, name: string, job: JobRecord | null): Promise<void> {
    const { registry, packages, log } = this.deps;
    const jobKey = key(type, name);
    const seen = this.seen.get(jobKey) ?? null;
    try {
      if (!job || packages.publishedVersion(type, name) !== job.version) {
        await registry.follow(type, name, seen);
        if (job) this.seen.set(jobKey, this.seen.get(jobKey) ?? job);
      } else if (!seen) {
        this.seen.set(jobKey, job);
      } else if (seen.desiredState !== job.desiredState) {
        registry.followDesiredState(job);
      }
      this.failed.delete(jobKey);
    } catch (error) {
      const message = (error as Error).message;
      if (this.failed.get(jobKey) !== message) {
        log.warn(
          { type, name, version: job?.version, err: message },
          "job feed: could not follow a job changed elsewhere",
        );
      }
      this.failed.set(jobKey, message);
    }
  }
}
