import type { Run } from "../api.ts";
import { exactUtc, humanDuration, parseTime, shortTrigger, whenText } from "../format.ts";
import { useTick } from "../live.ts";
import { href } from "../router.ts";
import { Status } from "./Status.tsx";

export function runDurationMs(run: Run, now = Date.now()): number | null {
  const start = parseTime(run.start_time);
  if (!start) return null;
  return (parseTime(run.end_time)?.getTime() ?? now) - start.getTime();
}

/** Runs, newest first; `showJob` adds the job column (the history of all jobs). */
export function RunsTable({ runs, showJob = false }: { runs: Run[]; showJob?: boolean }) {
  const running = runs.some((run) => run.status === "Running" || run.status === "Initializing");
  const now = useTick(1000, running);
  if (runs.length === 0) return <p class="muted">No runs.</p>;
  return (
    <div class="table-wrap">
      <table class="runs">
        <thead>
          <tr>
            {showJob && <th scope="col">Job</th>}
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col" class="wide">
              Trigger
            </th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => {
            const start = parseTime(run.start_time);
            const duration = runDurationMs(run, now);
            return (
              <tr key={`${run.job_name}/${run.id}`}>
                {showJob && (
                  <td>
                    <a href={href("jobs", "triggered", run.job_name)}>{run.job_name}</a>
                  </td>
                )}
                <td>
                  <a href={href("jobs", "triggered", run.job_name, "runs", run.id)} title={`Run ${run.id}`}>
                    {run.id.slice(-8)}
                  </a>
                </td>
                <td>
                  <Status status={run.status} />
                </td>
                <td title={exactUtc(start)}>{whenText(start, now)}</td>
                <td title={duration === null ? "" : `${duration} ms`}>
                  {duration === null ? "—" : humanDuration(duration)}
                </td>
                <td class="wide" title={run.trigger}>
                  {shortTrigger(run.trigger)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
