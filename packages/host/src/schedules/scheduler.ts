import { EventEmitter } from "node:events";
import { retryDelaySeconds } from "@webjobs/schedule";
import { ErrorCode, WebJobsError, isWebJobsError } from "../errors.ts";
import type { HostDeps } from "../host-deps.ts";
import { formatDuration } from "../runs/kudu-format.ts";
import { INSTANCE_LOST_REASON } from "../instances/lost-instances.ts";
import { HOST_LOST_REASON } from "../runs/recovery.ts";
import type { TriggeredRunner } from "../runs/runner.ts";
import { JobType, RunStatus, activeRunStatuses, type JobRecord, type RunRecord } from "../store/types.ts";
import { DueHeap } from "./due-heap.ts";
import { jobScheduleOf, type JobSchedule } from "./job-schedule.ts";
import { SchedulerLog } from "./scheduler-log.ts";
import { SharedPauses } from "./shared-pauses.ts";
import { FireOutcome, type FireRecord, type ScheduleState } from "./types.ts";

/** Timers re-arm at least this often, so a suspended machine or a clock jump is noticed. */
const MAX_SLEEP_MS = 30_000;
/** A due instant seen later than this after it passed was missed (suspended machine, clock jump). */
const LATE_TOLERANCE_MS = 5_000;
/** `missed_runs: all` runs at most this many missed occurrences. */
const MAX_CATCH_UP = 100;
/** Counting missed occurrences stops here (an every-second schedule after a year down). */
const MISSED_COUNT_CAP = 100_000;
const FIRES_KEPT = 500;
const NEXT_RUNS_SHOWN = 10;
/** How long one due job may hold the others back (see processInTurn). */
const TURN_MS = 50;
/** Several instances: a queued occurrence looks this often whether the run it waits for ended (lost signals). */
const QUEUE_POLL_MS = 2_000;
const REPLACED_REASON = "replaced by schedule";

export interface SchedulerEvents {
  /** A due instant was recorded with this outcome (metrics). */
  fire: [jobName: string, outcome: FireOutcome];
}

export interface SchedulerDeps extends HostDeps {
  runner: TriggeredRunner;
  /** Wall-clock time in ms: the database's on several instances (DatabaseClock); tests make it jump. */
  clock?: () => number;
  /** Several instances on one database: the overlap policies see and stop runs of every instance. */
  cluster?: SchedulerCluster;
}

/** What the overlap policies `queue` and `replace` need when a job's run may be on another instance. */
export interface SchedulerCluster {
  /** Stops a run going on any instance with `reason` (RunCancels); resolves when it ended or the wait ran out. */
  abort(name: string, id: string, reason: string): Promise<unknown>;
  /** Calls `listener` when a run of another instance changes status (RunEventRelay); returns an unsubscribe. */
  onRemoteRun(listener: (event: { jobName: string; id: string; status: RunStatus }) => void): () => void;
}

/** What the API shows of a job's schedule. */
export interface ScheduleView {
  description: string;
  /** NCrontab's `ToString()` of a cron string, or the recurrence in plain words. */
  expression: string;
  timeZone: string;
  paused: boolean;
  nextRuns: Date[];
}

/** One job whose schedule is armed. */
interface Armed {
  name: string;
  schedule: JobSchedule;
  /** Bumped at every (re-)arming: heap entries of an older generation are stale. */
  generation: number;
  /** Occurrences after this instant are still to come. */
  cursor: Date;
  paused: boolean;
  log: SchedulerLog;
  /**
   * `overlap: queue`: the one occurrence waiting for the current run to end, held here. Several
   * instances: held by the store instead (a fire waiting for a run id), claimed by any instance.
   */
  queued: Date | null;
  /** `missed_runs: all`: missed occurrences still to run, oldest first, one after another. */
  catchUp: Date[];
  /** A failed scheduled run's next attempt, while it waits. */
  pendingRetry: { scheduledTime: Date; attempt: number; timer: NodeJS.Timeout | null } | null;
  /** Operations on one job run one after another. */
  ops: Promise<void>;
  /** Called when a run of this job has started (see processInTurn). */
  onRunStarted: (() => void) | null;
}

/**
 * Fires scheduled triggered jobs (schedule-reference.md). The maths lives in @webjobs/schedule;
 * this component only keeps one timer for all jobs (a heap of due instants, re-armed at least
 * every 30 s) and applies the run policies. What makes an occurrence fire once is the store:
 * each fire is a row keyed by (job, due instant), written before its run starts, so a restarted
 * host, or several hosts sharing one database, never fire the same due instant twice.
 */
export class Scheduler extends EventEmitter<SchedulerEvents> {
  private readonly armed = new Map<string, Armed>();
  private readonly logs = new Map<string, SchedulerLog>();
  private readonly heap = new DueHeap();
  private readonly inFlight = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  /** Several instances: looks after queued occurrences whose run to wait for is elsewhere. */
  private queuePoll: NodeJS.Timeout | null = null;
  private unsubscribeRemote: (() => void) | null = null;
  /** Several instances: pauses and resumes made through the others. */
  private sharedPauses: SharedPauses | null = null;
  private timerDue = Infinity;
  private generation = 0;
  private running = false;

  constructor(private readonly deps: SchedulerDeps) {
    super();
  }

  private now(): number {
    return this.deps.clock ? this.deps.clock() : Date.now();
  }

  /** WEBJOBS_STOPPED or WEBJOBS_DISABLE_SCHEDULE: occurrences pass without running or counting as missed. */
  private get suppressed(): boolean {
    return this.deps.config.stopped || this.deps.config.disableSchedule;
  }

  /** Arms every scheduled job; `recovered` are runs a crashed host left, to retry if their policy says so. */
  async start(recovered: readonly RunRecord[] = []): Promise<void> {
    const { registry, runner, store } = this.deps;
    this.running = true;
    registry.on("deployed", (job) => {
      if (job.type === JobType.Triggered) this.track(this.arm(job));
    });
    registry.on("removing", (type, name) => (type === JobType.Triggered ? this.forget(name) : undefined));
    runner.on("finished", (run) => this.track(this.onRunFinished(run)));
    this.watchRemoteRuns();
    if (this.deps.cluster) {
      this.sharedPauses = new SharedPauses({ ...this.deps, apply: (paused) => this.applyPaused(paused) });
      this.sharedPauses.start();
    }
    const jobs = await registry.list(JobType.Triggered);
    for (let i = 0; i < jobs.length; i++) {
      await this.arm(jobs[i]);
      // Let log writes and other I/O through now and then: arming 10,000 jobs in one go would hold
      // every pending line (and their promises) in memory until the end.
      if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
    }
    for (const run of recovered) await this.onRunFinished(run);
    for (const fire of await store.pendingRetries()) {
      const armed = this.armed.get(fire.jobName);
      if (armed && fire.retryAt) this.setRetry(armed, fire.scheduledTime, fire.attempt, fire.retryAt);
    }
    if (this.suppressed) {
      this.deps.log.info(
        this.deps.config.stopped ? "WEBJOBS_STOPPED is set: schedules do not fire" : "schedules are disabled",
      );
    }
    this.rearmTimer();
  }

  /** A run this host did not see end: one of a dead instance, closed here (retried if its policy says so). */
  runEndedElsewhere(run: RunRecord): void {
    if (this.running) this.track(this.onRunFinished(run));
  }

  /** Stops firing; resolves when what was being fired is done. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.queuePoll) clearInterval(this.queuePoll);
    this.queuePoll = null;
    this.unsubscribeRemote?.();
    this.unsubscribeRemote = null;
    this.sharedPauses?.stop();
    this.sharedPauses = null;
    for (const armed of this.armed.values())
      if (armed.pendingRetry?.timer) clearTimeout(armed.pendingRetry.timer);
    await Promise.allSettled([...this.inFlight]);
    await Promise.all([...this.logs.values()].map((log) => log.flushed()));
  }

  /** The schedule of a job as the API shows it, or null when it has none (or an invalid one). */
  view(name: string, now = new Date(this.now())): ScheduleView | null {
    const armed = this.armed.get(name);
    if (!armed) return null;
    const { schedule, timeZone } = armed.schedule;
    const nextRuns: Date[] = [];
    let after = armed.cursor > now ? armed.cursor : now;
    while (nextRuns.length < NEXT_RUNS_SHOWN) {
      const next = schedule.next(after);
      if (!next) break;
      nextRuns.push(next);
      after = next;
    }
    return {
      description: schedule.description,
      expression: schedule.expression,
      timeZone,
      paused: armed.paused,
      nextRuns,
    };
  }

  /** Pauses a job's schedule (kept across restarts and redeploys); on-demand runs still work. */
  async pause(name: string): Promise<void> {
    const armed = await this.requireArmed(name);
    await this.deps.store.setSchedulePaused(name, true, new Date(this.now()));
    this.sharedPauses?.announce();
    await this.serially(armed, async () => {
      armed.paused = true;
      armed.generation = ++this.generation;
      armed.log.write("SYS INFO", "Schedule paused");
    });
  }

  /** Resumes a paused schedule; what fell due while paused is neither run nor missed. */
  async resume(name: string): Promise<void> {
    await this.requireArmed(name);
    await this.deps.store.setSchedulePaused(name, false, new Date(this.now()));
    this.sharedPauses?.announce();
    this.logFor(name).write("SYS INFO", "Schedule resumed");
    await this.arm(await this.deps.registry.require(JobType.Triggered, name));
  }

  /** Several instances: follows the pauses and resumes made through the others (SharedPauses). */
  private applyPaused(paused: ReadonlySet<string>): void {
    if (!this.running) return;
    for (const armed of this.armed.values()) {
      if (paused.has(armed.name) && !armed.paused) {
        this.track(
          this.serially(armed, async () => {
            if (armed.paused || armed.generation < 0) return;
            armed.paused = true;
            armed.generation = ++this.generation;
            armed.log.write("SYS INFO", "Schedule paused through another instance");
          }),
        );
      } else if (!paused.has(armed.name) && armed.paused) {
        armed.log.write("SYS INFO", "Schedule resumed through another instance");
        // Armed again from the store's state, as a resume here does.
        this.track(
          this.deps.registry
            .require(JobType.Triggered, armed.name)
            .then((job) => this.arm(job))
            .catch((error: unknown) =>
              this.deps.log.warn({ err: error, job: armed.name }, "could not resume a schedule"),
            ),
        );
      }
    }
  }

  private async requireArmed(name: string): Promise<Armed> {
    const job = await this.deps.registry.require(JobType.Triggered, name);
    const armed = this.armed.get(name);
    if (!armed) {
      throw new WebJobsError(
        ErrorCode.Conflict,
        job.settings.schedule === undefined
          ? `Job '${name}' has no schedule.`
          : `Job '${name}' has an invalid schedule: ${job.error ?? "see its job_scheduler.log"}.`,
      );
    }
    return armed;
  }

  // ---- arming ---------------------------------------------------------------------------------

  /** (Re-)arms a job from its settings and its stored schedule state. */
  private async arm(job: JobRecord): Promise<void> {
    const { config, store } = this.deps;
    const previous = this.armed.get(job.name);
    if (previous) {
      previous.generation = -1;
      if (previous.pendingRetry?.timer) clearTimeout(previous.pendingRetry.timer);
    }
    this.armed.delete(job.name);
    if (job.settings.schedule === undefined) {
      if (previous) previous.log.write("SYS INFO", "Schedule removed; the job runs on demand only");
      return;
    }
    const log = this.logFor(job.name);
    let schedule: JobSchedule;
    let state: ScheduleState;
    try {
      const probe = jobScheduleOf(job.settings, config.timeZone);
      if (!probe) return;
      state = await store.armSchedule(job.name, probe.key, new Date(this.now()));
      // A recurrence without startTime starts when its schedule was first armed (persisted).
      schedule = jobScheduleOf(job.settings, config.timeZone, floorSecond(state.armedAt))!;
    } catch (error) {
      if (!isWebJobsError(error)) throw error;
      log.write(
        "SYS ERR ",
        `Failed to parse schedule ${JSON.stringify(job.settings.schedule)}. Error: ${error.message}`,
      );
      return;
    }
    const base = latest(state.lastProcessed, state.suppressedUntil);
    const sameSchedule = previous?.schedule.key === schedule.key;
    const armed: Armed = {
      name: job.name,
      schedule,
      generation: ++this.generation,
      cursor: base ?? new Date(floorSecond(state.armedAt).getTime() - 1),
      paused: state.paused,
      log,
      queued: sameSchedule ? (previous?.queued ?? null) : null,
      catchUp: sameSchedule ? (previous?.catchUp ?? []) : [],
      pendingRetry: null,
      ops: previous?.ops ?? Promise.resolve(),
      onRunStarted: null,
    };
    if (sameSchedule && previous?.pendingRetry) {
      const { scheduledTime, attempt } = previous.pendingRetry;
      const fire = await store.getFire(job.name, scheduledTime);
      if (fire?.retryAt) this.setRetry(armed, scheduledTime, attempt, fire.retryAt);
    }
    this.armed.set(job.name, armed);
    if (armed.paused) {
      log.write("SYS INFO", `Schedule ${schedule.schedule.expression} is paused`);
      return;
    }
    await this.serially(armed, () => this.process(armed, this.now()));
  }

  private forget(name: string): Promise<void> {
    const armed = this.armed.get(name);
    if (armed) {
      armed.generation = -1;
      if (armed.pendingRetry?.timer) clearTimeout(armed.pendingRetry.timer);
    }
    this.armed.delete(name);
    this.logs.delete(name);
    return this.deps.store.deleteSchedule(name);
  }

  // ---- the timer ------------------------------------------------------------------------------

  private pushNext(armed: Armed): void {
    const next = armed.schedule.schedule.next(armed.cursor);
    if (!next) {
      armed.log.write("SYS INFO", "The schedule has no more occurrences");
      return;
    }
    this.heap.push({ due: next.getTime(), name: armed.name, generation: armed.generation });
    const wait = next.getTime() - this.now();
    armed.log.write(
      "SYS INFO",
      `Scheduling WebJob with ${armed.schedule.schedule.expression} next schedule expected in ${formatDuration(wait)}`,
    );
    if (next.getTime() < this.timerDue) this.rearmTimer();
  }

  private rearmTimer(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    const now = this.now();
    const top = this.heap.peek();
    const delay = Math.max(0, Math.min(MAX_SLEEP_MS, top ? top.due - now : MAX_SLEEP_MS));
    this.timerDue = now + delay;
    this.timer = setTimeout(() => this.tick(), delay);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = null;
    this.timerDue = Infinity;
    if (!this.running) return;
    const now = this.now();
    const due: Armed[] = [];
    for (let top = this.heap.peek(); top && top.due <= now; top = this.heap.peek()) {
      this.heap.pop();
      const armed = this.armed.get(top.name);
      if (armed && armed.generation === top.generation && !armed.paused) due.push(armed);
    }
    if (due.length > 0) this.track(this.processInTurn(due));
    if (this.suppressed && this.armed.size > 0) {
      this.track(this.deps.store.suppressSchedules([...this.armed.keys()], new Date(now)));
    }
    this.rearmTimer();
  }

  // ---- firing ---------------------------------------------------------------------------------

  /**
   * Jobs due at the same instant are handled one after another, each up to its process start:
   * the first starts as soon as it can instead of after every job's bookkeeping. One that takes
   * longer (overlap `replace` waits for the previous run to stop) lets the next go after a moment.
   */
  private async processInTurn(due: Armed[]): Promise<void> {
    for (const armed of due) {
      const started = new Promise<void>((resolve) => (armed.onRunStarted = resolve));
      const work = this.serially(armed, () => this.process(armed, this.now()));
      this.track(work);
      // The next job's turn comes once this one's process is started; its bookkeeping goes on.
      await Promise.race([started, work, delay(TURN_MS)]);
      armed.onRunStarted = null;
    }
  }

  /** Handles the occurrences of (cursor, now]: fires one on time, or applies the missed-run policy. */
  private async process(armed: Armed, now: number): Promise<void> {
    if (!this.running || armed.generation < 0) return;
    if (this.suppressed) {
      armed.cursor = new Date(now);
      await this.deps.store.suppressSchedules([armed.name], armed.cursor);
      this.pushNext(armed);
      return;
    }
    const due = this.scanDue(armed, now);
    if (due.total === 1 && now - due.newest[0].getTime() <= LATE_TOLERANCE_MS) {
      armed.cursor = due.newest[0];
      await this.fire(armed, due.newest[0], FireOutcome.Started);
    } else if (due.total > 0) {
      armed.cursor = due.newest[due.newest.length - 1];
      await this.catchUpMissed(armed, due, now);
    }
    this.pushNext(armed);
  }

  /** The occurrences in (cursor, now]: how many, and the newest ones (oldest first). */
  private scanDue(armed: Armed, now: number): { total: number; capped: boolean; newest: Date[] } {
    const { schedule } = armed.schedule;
    const newest: Date[] = [];
    let total = 0;
    let after = armed.cursor;
    for (;;) {
      const next = schedule.next(after);
      if (!next || next.getTime() > now) return { total, capped: false, newest };
      total += 1;
      newest.push(next);
      if (newest.length > MAX_CATCH_UP + 1) newest.shift();
      after = next;
      if (total >= MISSED_COUNT_CAP) break;
    }
    // Too many to count: the newest ones are those of the last missed-run window.
    const windowMs = armed.schedule.policies.missedRunsWindowSeconds * 1000;
    const recent: Date[] = [];
    after = new Date(Math.max(after.getTime(), now - windowMs - 1000));
    for (let next = schedule.next(after); next && next.getTime() <= now; next = schedule.next(next)) {
      recent.push(next);
      if (recent.length > MAX_CATCH_UP + 1) recent.shift();
    }
    return { total, capped: true, newest: recent.length > 0 ? recent : newest };
  }

  private async catchUpMissed(
    armed: Armed,
    due: { total: number; capped: boolean; newest: Date[] },
    now: number,
  ): Promise<void> {
    const { policies } = armed.schedule;
    const windowMs = policies.missedRunsWindowSeconds * 1000;
    const inWindow = due.newest.filter((instant) => now - instant.getTime() <= windowMs);
    let toRun: Date[] = [];
    if (policies.missedRuns === "once") toRun = inWindow.slice(-1);
    if (policies.missedRuns === "all") {
      toRun = inWindow.slice(-MAX_CATCH_UP);
      if (inWindow.length > MAX_CATCH_UP) {
        armed.log.write(
          "SYS WARN",
          `More than ${MAX_CATCH_UP} missed schedules within the catch-up window; running the newest ${MAX_CATCH_UP}`,
        );
      }
    }
    const dropped = due.total - toRun.length;
    if (dropped > 0) {
      const ran = new Set(toRun.map((instant) => instant.getTime()));
      const mostRecent = [...due.newest].reverse().find((instant) => !ran.has(instant.getTime()));
      const count = `${dropped}${due.capped ? "+" : ""}`;
      armed.log.write(
        "SYS WARN",
        `Missed ${count} schedules, most recent at ${mostRecent?.toISOString() ?? "an earlier time"}`,
      );
      if (mostRecent) {
        await this.record(armed, mostRecent, FireOutcome.Missed, {
          reason: `${count} occurrences passed while the schedule could not fire (missed_runs: ${policies.missedRuns}, window ${policies.missedRunsWindowSeconds} s)`,
        });
      }
    }
    if (toRun.length === 0) return;
    armed.catchUp = toRun.slice(1);
    await this.fire(armed, toRun[0], FireOutcome.CaughtUp);
  }

  /** One due instant: runs it, or applies the overlap policy when a run is in progress. */
  private async fire(armed: Armed, due: Date, outcome: FireOutcome): Promise<void> {
    await this.dropPendingRetry(armed, due);
    const { runner, store, cluster } = this.deps;
    const here = runner.isRunning(armed.name);
    // One machine, or `skip`: this instance's runs are all there is to see, or all it takes (the
    // store refuses a second active run on any instance: the fire is then recorded as skipped).
    if (!cluster || armed.schedule.policies.overlap === "skip") {
      if (here) return this.overlap(armed, due, outcome, null);
    } else {
      // Several instances, `queue` or `replace`: the run in progress may be on another instance.
      let active = await store.remoteRuns.activeRun(armed.name);
      if (!active && !here && armed.schedule.policies.overlap === "queue") {
        // An occurrence queued behind a run that has just ended (its signal not here yet) goes
        // first; this one then waits behind it.
        const ready = (await store.readyWaitingFires()).filter((f) => f.jobName === armed.name);
        const heldHere = armed.queued !== null;
        if (heldHere) await this.startQueued(armed);
        for (const fire of ready) if (fire.waitingFor) await this.claimQueued(armed, fire.waitingFor);
        if (heldHere || ready.length > 0) active = await store.remoteRuns.activeRun(armed.name);
      }
      if (active || runner.isRunning(armed.name)) return this.overlap(armed, due, outcome, active);
    }
    if (!(await this.record(armed, due, outcome))) return;
    await this.startRun(armed, due, 1, outcome);
  }

  /** `active`: the run in progress as the store has it (several instances), else null. */
  private async overlap(
    armed: Armed,
    due: Date,
    outcome: FireOutcome,
    active: RunRecord | null,
  ): Promise<void> {
    const at = due.toISOString();
    switch (armed.schedule.policies.overlap) {
      case "skip":
        if (await this.record(armed, due, FireOutcome.SkippedOverlap, { reason: "a run was in progress" })) {
          armed.log.write(
            "SYS WARN",
            `Skipped the schedule at ${at}: a run is still in progress (overlap: skip)`,
          );
        }
        return;
      case "queue": {
        // Several instances: the one waiting may be held by another instance (one per run in progress).
        const waiting =
          armed.queued ??
          (active ? (await this.deps.store.waitingFire(armed.name, active.id))?.scheduledTime : null);
        if (waiting) {
          const reason = `merged into the occurrence at ${waiting.toISOString()}, waiting for the current run`;
          if (await this.record(armed, due, FireOutcome.Coalesced, { reason })) {
            armed.log.write("SYS WARN", `Skipped the schedule at ${at}: ${reason} (overlap: queue)`);
          }
        } else if (
          await this.record(armed, due, FireOutcome.Queued, {
            reason: "waiting for the current run",
            waitingFor: active?.id ?? null,
          })
        ) {
          // Several instances: the store holds it (waiting for that run), for any instance to start.
          if (!active) armed.queued = due;
          armed.log.write(
            "SYS INFO",
            `Queued the schedule at ${at} until the current run ends (overlap: queue)`,
          );
        }
        return;
      }
      case "replace":
        if (!(await this.record(armed, due, outcome))) return;
        armed.log.write("SYS WARN", `Stopping the run in progress: replaced by the schedule at ${at}`);
        if (this.deps.runner.isRunning(armed.name) || !active || !this.deps.cluster) {
          await this.deps.runner.abortActive(armed.name, REPLACED_REASON);
        } else {
          // On another instance: stopped there (its grace, then a kill), waited for here, bounded.
          await this.deps.cluster.abort(armed.name, active.id, REPLACED_REASON).catch((error: unknown) => {
            // It ended meanwhile (Conflict: not running), or the store is out of reach: the start says.
            this.deps.log.debug({ err: error, job: armed.name, run: active.id }, "could not replace a run");
          });
        }
        await this.startRun(armed, due, 1, outcome);
    }
  }

  /**
   * Starts the occurrence queued here (overlap `queue`) once the run it waits for has ended. On
   * several instances this is the fallback for a run the store did not show (claimQueued is the
   * rule); a run another instance started first takes its place (it is recorded as coalesced).
   */
  private async startQueued(armed: Armed): Promise<void> {
    const due = armed.queued;
    if (!due || !this.running || armed.paused || armed.generation < 0) return;
    const { runner, store, cluster } = this.deps;
    if (runner.isRunning(armed.name)) return;
    if (cluster && (await store.remoteRuns.activeRun(armed.name))) return;
    if (armed.queued !== due) return;
    armed.queued = null;
    await this.startRun(armed, due, 1, FireOutcome.Started, cluster ? FireOutcome.Coalesced : undefined);
  }

  /**
   * Several instances: starts the occurrence queued behind run `runId` (by any instance) if that
   * run has ended and this instance claims it (a conditional write: one instance does). True when
   * it did.
   */
  private async claimQueued(armed: Armed, runId: string): Promise<boolean> {
    if (!this.running || armed.paused || armed.generation < 0) return false;
    const fire = await this.deps.store.claimWaitingFire(armed.name, runId);
    if (!fire) return false;
    armed.log.write(
      "SYS INFO",
      `Starting the schedule at ${fire.scheduledTime.toISOString()}, queued until run ${runId} ended (overlap: queue)`,
    );
    await this.startRun(armed, fire.scheduledTime, 1, FireOutcome.Started, FireOutcome.Coalesced);
    return true;
  }

  /**
   * Several instances: occurrences queued behind a run start when it ends, on whichever instance
   * hears of it first (its end signal), and every 2 s from the store in case a signal was lost.
   */
  private watchRemoteRuns(): void {
    const { cluster, store, log } = this.deps;
    if (!cluster || this.queuePoll) return;
    const claim = (name: string, runId: string) => {
      const armed = this.armed.get(name);
      if (armed) this.track(this.serially(armed, () => this.claimQueued(armed, runId).then(() => undefined)));
    };
    this.unsubscribeRemote = cluster.onRemoteRun((event) => {
      if (!activeRunStatuses.includes(event.status)) claim(event.jobName, event.id);
    });
    this.queuePoll = setInterval(() => {
      store.readyWaitingFires().then(
        (fires) => {
          for (const fire of fires) if (fire.waitingFor) claim(fire.jobName, fire.waitingFor);
        },
        (error: unknown) => log.warn({ err: error }, "could not look for queued occurrences"),
      );
      // Occurrences queued here behind a run the store did not show.
      for (const armed of this.armed.values()) {
        if (armed.queued) this.track(this.serially(armed, () => this.startQueued(armed)));
      }
    }, QUEUE_POLL_MS);
    this.queuePoll.unref();
  }

  /** Records a fire; false when this (job, due instant) already fired (here before a restart, or elsewhere). */
  private async record(
    armed: Armed,
    due: Date,
    outcome: FireOutcome,
    extra: { reason?: string; waitingFor?: string | null } = {},
  ): Promise<boolean> {
    const fire: FireRecord = {
      jobName: armed.name,
      scheduledTime: due,
      outcome,
      runId: null,
      attempt: 1,
      reason: extra.reason ?? null,
      retryAt: null,
      recordedAt: new Date(this.now()),
      ...(extra.waitingFor ? { waitingFor: extra.waitingFor } : {}),
    };
    const recorded = await this.deps.store.recordFire(fire);
    if (recorded) this.emit("fire", armed.name, outcome);
    return recorded;
  }

  /** `onConflict`: what the fire becomes when another run is in progress (default: skipped as overlapping). */
  private async startRun(
    armed: Armed,
    due: Date,
    attempt: number,
    outcome: FireOutcome,
    onConflict: FireOutcome = FireOutcome.SkippedOverlap,
  ): Promise<void> {
    const { runner, store } = this.deps;
    const { expression } = armed.schedule.schedule;
    const retries = armed.schedule.policies.retryCount;
    const trigger =
      attempt === 1
        ? `Schedule - ${expression}`
        : `Retry ${attempt - 1}/${retries} - Schedule - ${expression}`;
    try {
      const run = await runner.start(armed.name, { trigger, scheduledTime: due, attempt });
      armed.onRunStarted?.();
      // The rest is bookkeeping: let the other jobs of a burst spawn first.
      await new Promise((resolve) => setImmediate(resolve));
      await store.updateFire(armed.name, due, { runId: run.id, attempt, outcome, reason: null });
      armed.log.write(
        "SYS INFO",
        attempt === 1 ? "WebJob invoked" : `WebJob invoked (retry ${attempt - 1}/${retries})`,
      );
    } catch (error) {
      const conflict = isWebJobsError(error) && error.code === ErrorCode.Conflict;
      const reason = isWebJobsError(error) ? error.message : `could not start: ${String(error)}`;
      if (!isWebJobsError(error))
        this.deps.log.error({ err: error, job: armed.name }, "scheduled run failed to start");
      await store.updateFire(armed.name, due, {
        outcome: conflict ? onConflict : FireOutcome.Missed,
        reason,
      });
      armed.log.write("SYS WARN", `Could not run the schedule at ${due.toISOString()}: ${reason}`);
    }
  }

  // ---- after a run ----------------------------------------------------------------------------

  private async onRunFinished(run: RunRecord): Promise<void> {
    const armed = this.armed.get(run.jobName);
    if (!this.running || !armed) return;
    await this.serially(armed, async () => {
      // Several instances: an occurrence queued behind this run (through any instance) starts now.
      const queuedBehind = this.deps.cluster ? await this.claimQueued(armed, run.id) : false;
      if (
        run.scheduledTime &&
        run.attempt &&
        isRetryable(run) &&
        !armed.queued &&
        !queuedBehind &&
        armed.catchUp.length === 0
      ) {
        if (run.attempt <= armed.schedule.policies.retryCount) await this.planRetry(armed, run);
      }
      if (run.scheduledTime) await this.deps.store.pruneFires(armed.name, FIRES_KEPT);
      if (armed.paused || armed.generation < 0) return;
      if (armed.queued) {
        await this.startQueued(armed);
      } else if (armed.catchUp.length > 0) {
        await this.fire(armed, armed.catchUp.shift()!, FireOutcome.CaughtUp);
      }
    });
  }

  private async planRetry(armed: Armed, run: RunRecord): Promise<void> {
    const { policies } = armed.schedule;
    const retry = run.attempt!;
    const delaySeconds = retryDelaySeconds(policies, retry);
    const retryAt = new Date(this.now() + delaySeconds * 1000);
    const why = `attempt ${retry} ended ${run.status}${run.reason ? ` (${run.reason})` : ""}`;
    await this.deps.store.updateFire(run.jobName, run.scheduledTime!, { retryAt, reason: why });
    armed.log.write(
      "SYS WARN",
      `Run ${run.id} ${why}; retry ${retry}/${policies.retryCount} in ${delaySeconds} s`,
    );
    this.setRetry(armed, run.scheduledTime!, retry, retryAt);
  }

  private setRetry(armed: Armed, scheduledTime: Date, attempt: number, retryAt: Date): void {
    if (armed.pendingRetry?.timer) clearTimeout(armed.pendingRetry.timer);
    const pending = { scheduledTime, attempt, timer: null as NodeJS.Timeout | null };
    pending.timer = setTimeout(
      () => this.track(this.serially(armed, () => this.retry(armed, pending))),
      Math.max(0, retryAt.getTime() - this.now()),
    );
    pending.timer.unref();
    armed.pendingRetry = pending;
  }

  private async retry(armed: Armed, pending: NonNullable<Armed["pendingRetry"]>): Promise<void> {
    if (!this.running || armed.pendingRetry !== pending || armed.generation < 0) return;
    armed.pendingRetry = null;
    const { scheduledTime, attempt } = pending;
    // A conditional write: of all the hosts that may hold this timer, one starts the retry.
    const claimed = await this.deps.store.updateFire(
      armed.name,
      scheduledTime,
      { attempt: attempt + 1, retryAt: null, outcome: FireOutcome.Retried },
      attempt,
    );
    if (!claimed) return;
    this.emit("fire", armed.name, FireOutcome.Retried);
    // Several instances: the run in progress may be on another one.
    const { runner, store, cluster } = this.deps;
    if (runner.isRunning(armed.name) || (cluster && (await store.remoteRuns.activeRun(armed.name)))) {
      await this.deps.store.updateFire(armed.name, scheduledTime, {
        reason: "retry dropped: a run was in progress",
      });
      armed.log.write(
        "SYS WARN",
        `Dropped retry ${attempt} of the schedule at ${scheduledTime.toISOString()}: a run is in progress`,
      );
      return;
    }
    await this.startRun(armed, scheduledTime, attempt + 1, FireOutcome.Retried);
  }

  /** A new occurrence wins over a retry that has not started yet. */
  private async dropPendingRetry(armed: Armed, due: Date): Promise<void> {
    const pending = armed.pendingRetry;
    if (!pending) return;
    if (pending.timer) clearTimeout(pending.timer);
    armed.pendingRetry = null;
    const reason = `retry dropped: the occurrence at ${due.toISOString()} came first`;
    await this.deps.store.updateFire(
      armed.name,
      pending.scheduledTime,
      { retryAt: null, reason },
      pending.attempt,
    );
    armed.log.write(
      "SYS WARN",
      `Dropped retry ${pending.attempt} of the schedule at ${pending.scheduledTime.toISOString()}: the next occurrence is due`,
    );
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private logFor(name: string): SchedulerLog {
    let log = this.logs.get(name);
    if (!log) {
      log = new SchedulerLog(this.deps.paths.schedulerLog(name), this.deps.instanceId);
      this.logs.set(name, log);
    }
    return log;
  }

  private serially(armed: Armed, work: () => Promise<void>): Promise<void> {
    const next = armed.ops.then(work).catch((error: unknown) => {
      this.deps.log.error({ err: error, job: armed.name }, "scheduler error");
    });
    armed.ops = next;
    return next;
  }

  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }
}

/**
 * Failed runs, and runs whose host or instance died under them, are retried; runs stopped on
 * purpose are not.
 */
function isRetryable(run: RunRecord): boolean {
  return (
    run.status === RunStatus.Failed ||
    (run.status === RunStatus.Aborted &&
      (run.reason === HOST_LOST_REASON || run.reason === INSTANCE_LOST_REASON))
  );
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function floorSecond(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function latest(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}
