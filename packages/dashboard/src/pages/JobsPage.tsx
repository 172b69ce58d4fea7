import { useMemo, useState } from "preact/hooks";
import { jobKind, type Job } from "../api.ts";
import { Status } from "../components/Status.tsx";
import { runDurationMs } from "../components/RunsTable.tsx";
import { exactUtc, humanDuration, parseTime, whenText } from "../format.ts";
import { useResource, useTick } from "../live.ts";
import { href } from "../router.ts";

/** What the list shows as a job's status: its last run's, or the continuous job's state. */
export function jobStatus(job: Job): string {
  if (job.type === "continuous") return job.crash_loop ? "Failed" : job.status;
  if (job.schedule_paused && job.settings.schedule) return "Paused";
  return job.latest_run?.status ?? "never";
}

function statusLabel(job: Job): string {
  if (job.type === "continuous" && job.crash_loop) return "Crash loop";
  const status = jobStatus(job);
  return status === "never" ? "Never run" : status;
}

type SortKey = "name" | "status" | "last";

function lastRunTime(job: Job): number {
  if (job.type === "continuous") return job.started_at ? Date.parse(job.started_at) : 0;
  return parseTime(job.latest_run?.start_time)?.getTime() ?? 0;
}

export function JobsPage() {
  const jobs = useResource<Job[]>("/api/webjobs", () => true);
  const [search, setSearch] = useState("");
  const [type, setType] = useState("all");
  const [status, setStatus] = useState("all");
  const [sort, setSort] = useState<SortKey>("name");
  const now = useTick(15_000);

  const statuses = useMemo(() => [...new Set((jobs.data ?? []).map(jobStatus))].sort(), [jobs.data]);
  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const list = (jobs.data ?? []).filter(
      (job) =>
        (!needle || job.name.toLowerCase().includes(needle)) &&
        (type === "all" || jobKind(job) === type) &&
        (status === "all" || jobStatus(job) === status),
    );
    const by: Record<SortKey, (a: Job, b: Job) => number> = {
      name: (a, b) => a.name.localeCompare(b.name),
      status: (a, b) => jobStatus(a).localeCompare(jobStatus(b)) || a.name.localeCompare(b.name),
      last: (a, b) => lastRunTime(b) - lastRunTime(a),
    };
    return list.sort(by[sort]);
  }, [jobs.data, search, type, status, sort]);

  return (
    <>
      <h1>Jobs</h1>
      <div class="filters" role="search">
        <label>
          Search
          <input
            type="search"
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
            placeholder="name"
          />
        </label>
        <label>
          Type
          <select value={type} onChange={(e) => setType(e.currentTarget.value)}>
            <option value="all">all</option>
            <option value="on demand">on demand</option>
            <option value="scheduled">scheduled</option>
            <option value="continuous">continuous</option>
          </select>
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="all">all</option>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {s === "never" ? "never run" : s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Sort by
          <select value={sort} onChange={(e) => setSort(e.currentTarget.value as SortKey)}>
            <option value="name">name</option>
            <option value="status">status</option>
            <option value="last">last run</option>
          </select>
        </label>
        <a class="button primary" href="#/deploy">
          Deploy a job
        </a>
      </div>
      {jobs.error && <p class="error">{jobs.error.message}</p>}
      {!jobs.data && !jobs.error && <p class="muted">Loading…</p>}
      {jobs.data && (
        <div class="table-wrap">
          <table class="jobs">
            <caption class="visually-hidden">
              {shown.length} of {jobs.data.length} jobs
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col" class="wide">
                  Schedule
                </th>
                <th scope="col">Last run</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((job) => (
                <JobRow key={`${job.type}/${job.name}`} job={job} now={now} />
              ))}
            </tbody>
          </table>
          {shown.length === 0 && <p class="muted">{jobs.data.length ? "No job matches." : "No jobs yet."}</p>}
        </div>
      )}
    </>
  );
}

function JobRow({ job, now }: { job: Job; now: number }) {
  const kind = jobKind(job);
  const last = job.type === "triggered" ? job.latest_run : null;
  const start = parseTime(last?.start_time);
  const duration = last ? runDurationMs(last, now) : null;
  const next = job.type === "triggered" ? job.next_runs?.[0] : undefined;
  return (
    <tr>
      <th scope="row">
        <a href={href("jobs", job.type, job.name)}>{job.name}</a>
        {job.error && (
          <span class="error-mark" title={job.error}>
            {" "}
            ⚠<span class="visually-hidden">{job.error}</span>
          </span>
        )}
      </th>
      <td>{kind}</td>
      <td>
        <Status status={jobStatus(job)} label={statusLabel(job)} />
      </td>
      <td class="wide">
        {job.type === "triggered" && job.settings.schedule ? (
          <>
            <span>{job.schedule_description ?? String(job.settings.schedule)}</span>
            {next && (
              <span class="muted" title={exactUtc(new Date(next))}>
                {" "}
                · next {whenText(new Date(next), now)}
              </span>
            )}
          </>
        ) : (
          <span class="muted">—</span>
        )}
      </td>
      <td title={exactUtc(start)}>
        {last ? (
          <a href={href("jobs", "triggered", job.name, "runs", last.id)}>
            {whenText(start, now)}
            {duration !== null && ` · ${humanDuration(duration)}`}
          </a>
        ) : job.type === "continuous" ? (
          <span>{job.restarts ? `${job.restarts} restarts` : "—"}</span>
        ) : (
          <span class="muted">never run</span>
        )}
      </td>
    </tr>
  );
}
