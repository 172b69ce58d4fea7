import type { Scheduler } from "../schedules/scheduler.ts";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ContinuousView } from "../api/kudu-json.ts";
import type { ContinuousSupervisor } from "../continuous/supervisor.ts";
import type { JobRegistry } from "../jobs/registry.ts";
import type { TriggeredRunner } from "../runs/runner.ts";
import { JobType, type RunRecord } from "../store/types.ts";

/**
 * Prometheus metrics of one host (`GET /metrics`): runs by job and outcome, run durations,
 * what runs now, continuous jobs' state and restarts, plus Node's own process metrics.
 * Counters are fed by events; gauges are read from the components when scraped.
 */
export class HostMetrics {
  readonly registry = new Registry();

  constructor(deps: {
    runner: TriggeredRunner;
    supervisor: ContinuousSupervisor;
    jobs: JobRegistry;
    scheduler: Scheduler;
  }) {
    const { runner, supervisor, jobs, scheduler } = deps;
    collectDefaultMetrics({ register: this.registry, prefix: "webjobs_host_" });

    const runs = new Counter({
      name: "webjobs_runs_total",
      help: "Finished runs of triggered jobs, by job and final status",
      labelNames: ["job", "status"] as const,
      registers: [this.registry],
    });
    const durations = new Histogram({
      name: "webjobs_run_duration_seconds",
      help: "Duration of finished runs of triggered jobs",
      labelNames: ["job"] as const,
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers: [this.registry],
    });
    runner.on("finished", (run: RunRecord) => {
      runs.inc({ job: run.jobName, status: run.status });
      if (run.endTime)
        durations.observe({ job: run.jobName }, (run.endTime.getTime() - run.startTime.getTime()) / 1000);
    });

    const fires = new Counter({
      name: "webjobs_schedule_fires_total",
      help: "Due instants of schedules, by job and outcome (started, skipped_overlap, missed, queued, coalesced, caught_up)",
      labelNames: ["job", "outcome"] as const,
      registers: [this.registry],
    });
    scheduler.on("fire", (job, outcome) => fires.inc({ job, outcome }));

    new Gauge({
      name: "webjobs_runs_active",
      help: "Runs of triggered jobs going on now",
      registers: [this.registry],
      collect() {
        this.set(runner.activeCount);
      },
    });
    new Gauge({
      name: "webjobs_jobs",
      help: "Installed jobs, by type",
      labelNames: ["type"] as const,
      registers: [this.registry],
      async collect() {
        const all = await jobs.list();
        for (const type of Object.values(JobType))
          this.set({ type }, all.filter((j) => j.type === type).length);
      },
    });
    // One gauge per fact about continuous jobs, each read from the supervisor's view when scraped.
    const perContinuousJob = (name: string, help: string, value: (view: ContinuousView) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["job"] as const,
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const job of await jobs.list(JobType.Continuous))
            this.set({ job: job.name }, value(supervisor.view(job)));
        },
      });
    perContinuousJob(
      "webjobs_continuous_running",
      "1 when the continuous job's process runs on this instance, else 0",
      // Its own status here: `status` sums up every instance's.
      (view) => ((view.instance_status ?? view.status) === "Running" ? 1 : 0),
    );
    perContinuousJob(
      "webjobs_continuous_restarts",
      "Restarts of the continuous job since this host started",
      (view) => Number(view.restarts ?? 0),
    );
    perContinuousJob(
      "webjobs_continuous_crash_loop",
      "1 when the continuous job keeps exiting quickly (crash loop), else 0",
      (view) => (view.crash_loop ? 1 : 0),
    );
  }
}
