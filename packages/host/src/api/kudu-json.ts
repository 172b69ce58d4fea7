import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
// The `publicUrl` decoration's type, also for whoever compiles this file alone (the dashboard).
import type {} from "./public-url.ts";
import { formatDuration, formatKuduTime } from "../runs/kudu-format.ts";
import { usesSdk } from "../sdk/invocations.ts";
import type { ScheduleView } from "../schedules/scheduler.ts";
import type { JobRecord, RunRecord } from "../store/types.ts";

/**
 * Kudu's JSON shapes (kudu-reference §5), field names exactly; our additions use new names and
 * never rename Kudu's. URLs are absolute, built from the configured public URL or the address the
 * host listens on (api/public-url.ts), never from the request's Host header.
 */
export const baseUrl = (request: FastifyRequest) => request.server.publicUrl();

const apiCollection = (type: JobRecord["type"]) => `${type}webjobs`;

export function jobUrl(base: string, type: JobRecord["type"], name: string): string {
  return `${base}/api/${apiCollection(type)}/${encodeURIComponent(name)}`;
}

export function runUrl(base: string, jobName: string, runId: string): string {
  return `${jobUrl(base, "triggered", jobName)}/history/${runId}`;
}

export function runJson(base: string, run: RunRecord, now = new Date()) {
  const end = run.endTime ?? now;
  const outputUrl = `${base}/vfs/data/jobs/triggered/${encodeURIComponent(run.jobName)}/${run.id}/output_log.txt`;
  return {
    id: run.id,
    name: run.id,
    status: run.status,
    start_time: formatKuduTime(run.startTime),
    end_time: formatKuduTime(run.endTime),
    duration: formatDuration(end.getTime() - run.startTime.getTime()),
    output_url: outputUrl,
    error_url: null,
    url: runUrl(base, run.jobName, run.id),
    job_name: run.jobName,
    trigger: run.trigger,
    // Ours:
    reason: run.reason,
    exit_code: run.exitCode,
    signal: run.signal,
    cpu_time_ms: run.cpuMs,
    peak_memory_bytes: run.peakRssBytes,
    instance: run.instanceId,
    arguments: run.arguments,
    version: run.version,
    log_url: `${runUrl(base, run.jobName, run.id)}/log`,
    // Runs started by a schedule: the due instant served (UTC) and the attempt (1, then 2… for retries).
    scheduled_time: run.scheduledTime?.toISOString() ?? null,
    attempt: run.attempt,
  };
}

export interface ContinuousView {
  status: string;
  detailed_status: string;
  /** Ours: restarts, last exit codes, crash-loop state… */
  [extra: string]: unknown;
}

export function jobJson(
  base: string,
  job: JobRecord,
  extra: {
    latestRun?: RunRecord | null;
    continuous?: ContinuousView;
    /** The job's armed schedule, and whether its job_scheduler.log exists. */
    schedule?: ScheduleView | null;
    schedulerLog?: boolean;
  },
) {
  const common = {
    name: job.name,
    run_command: job.script ?? "",
    url: jobUrl(base, job.type, job.name),
    extra_info_url: `${base}/#/jobs/${job.type}/${encodeURIComponent(job.name)}`,
    type: job.type,
    error: job.error,
    using_sdk: usesSdk(job.type, job.name),
    settings: job.settings,
  };
  if (job.type === "triggered") {
    return {
      ...common,
      latest_run: extra.latestRun ? runJson(base, extra.latestRun) : null,
      history_url: `${jobUrl(base, job.type, job.name)}/history`,
      scheduler_logs_url: extra.schedulerLog
        ? `${base}/vfs/data/jobs/triggered/${encodeURIComponent(job.name)}/job_scheduler.log`
        : null,
      // Ours: the schedule in plain words, its zone, the next 10 due instants (UTC), paused or not.
      schedule_description: extra.schedule?.description ?? null,
      schedule_expression: extra.schedule?.expression ?? null,
      time_zone: extra.schedule?.timeZone ?? null,
      next_runs: extra.schedule?.nextRuns.map((instant) => instant.toISOString()) ?? [],
      schedule_paused: extra.schedule?.paused ?? false,
      version: job.version,
    };
  }
  return {
    ...common,
    ...extra.continuous,
    log_url: `${base}/vfs/data/jobs/continuous/${encodeURIComponent(job.name)}/job_log.txt`,
    version: job.version,
  };
}

/** Sends JSON with a strong ETag; answers 304 when the client already has it. */
export function sendWithEtag(request: FastifyRequest, reply: FastifyReply, body: unknown): FastifyReply {
  const text = JSON.stringify(body);
  const etag = `"${createHash("sha1").update(text).digest("base64url")}"`;
  reply.header("etag", etag).header("cache-control", "no-cache");
  const ifNoneMatch = request.headers["if-none-match"];
  if (ifNoneMatch && ifNoneMatch.split(",").some((tag) => tag.trim() === etag)) return reply.code(304).send();
  return reply.type("application/json; charset=utf-8").send(text);
}
