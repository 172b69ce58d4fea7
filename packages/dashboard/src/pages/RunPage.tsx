import { useState } from "preact/hooks";
import { post, runPath, type Run } from "../api.ts";
import { LogView } from "../components/LogView.tsx";
import { runDurationMs } from "../components/RunsTable.tsx";
import { Status } from "../components/Status.tsx";
import { bytes, exactUtc, humanDuration, parseTime, shortTrigger } from "../format.ts";
import { useResource, useTick } from "../live.ts";
import { href } from "../router.ts";

export function RunPage({ job, id }: { job: string; id: string }) {
  const run = useResource<Run>(runPath(job, id), (e) => e.kind === "run" && e.job === job && e.id === id);
  const [cancelError, setCancelError] = useState<string | null>(null);
  const data = run.data;
  const active = !!data && (data.status === "Running" || data.status === "Initializing");
  const now = useTick(1000, active);
  if (run.error) return <p class="error">{run.error.message}</p>;
  if (!data) return <p class="muted">Loading…</p>;
  const start = parseTime(data.start_time);
  const end = parseTime(data.end_time);
  const duration = runDurationMs(data, now);
  const scheduled = data.scheduled_time ? new Date(data.scheduled_time) : null;
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href="#/">Jobs</a> › <a href={href("jobs", "triggered", job)}>{job}</a> ›{" "}
        <span aria-current="page">run {id}</span>
      </nav>
      <h1>
        Run of {job} <Status status={data.status} />
      </h1>
      {active && (
        <p>
          <button
            type="button"
            onClick={() => post(`${runPath(job, id)}/cancel`).catch((e: Error) => setCancelError(e.message))}
          >
            Cancel
          </button>
          {cancelError && (
            <span class="error" role="alert">
              {cancelError}
            </span>
          )}
        </p>
      )}
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          {data.status}
          {data.reason && ` (${data.reason})`}
        </dd>
        <dt>Started</dt>
        <dd>
          <time dateTime={start?.toISOString()} title={exactUtc(start)}>
            {start?.toLocaleString() ?? "—"}
          </time>
        </dd>
        <dt>Ended</dt>
        <dd>
          <time dateTime={end?.toISOString()} title={exactUtc(end)}>
            {end?.toLocaleString() ?? "—"}
          </time>
        </dd>
        <dt>Duration</dt>
        <dd title={duration === null ? "" : `${duration} ms`}>
          {duration === null ? "—" : humanDuration(duration)}
        </dd>
        <dt>Exit code</dt>
        <dd>{data.exit_code ?? "—"}</dd>
        <dt>Signal</dt>
        <dd>{data.signal ?? "—"}</dd>
        <dt>CPU time</dt>
        <dd>{data.cpu_time_ms == null ? "—" : humanDuration(data.cpu_time_ms)}</dd>
        <dt>Peak memory</dt>
        <dd>{bytes(data.peak_memory_bytes)}</dd>
        <dt>Trigger</dt>
        <dd title={data.trigger}>{shortTrigger(data.trigger)}</dd>
        {scheduled && (
          <>
            <dt>Scheduled for</dt>
            <dd title={exactUtc(scheduled)}>
              {scheduled.toLocaleString()}
              {data.attempt && data.attempt > 1 ? ` (attempt ${data.attempt})` : ""}
            </dd>
          </>
        )}
        <dt>Arguments</dt>
        <dd>
          <code>{data.arguments || "—"}</code>
        </dd>
        <dt>Instance</dt>
        <dd>{data.instance}</dd>
      </dl>
      <LogView url={data.log_url} live={active} downloadUrl={data.output_url} />
    </>
  );
}
