import { useState } from "preact/hooks";
import {
  api,
  jobKind,
  jobPath,
  post,
  runPath,
  type ContinuousJob,
  type Job,
  type JobType,
  type LiveEvent,
  type RunPage,
  type TriggeredJob,
} from "../api.ts";
import { DurationChart } from "../components/DurationChart.tsx";
import { LogView } from "../components/LogView.tsx";
import { RunsTable } from "../components/RunsTable.tsx";
import { SchedulePause, ScheduleForm } from "../components/ScheduleForm.tsx";
import { Status } from "../components/Status.tsx";
import { exactUtc, parseTime, whenText } from "../format.ts";
import { useResource } from "../live.ts";
import { href, navigate } from "../router.ts";
import { jobStatus } from "./JobsPage.tsx";

const PAGE = 10;

const concerns = (type: JobType, name: string) => (event: LiveEvent) => {
  if (event.kind === "run") return type === "triggered" && event.job === name;
  // The job's JSON holds no invocation counts.
  if (event.kind === "invocation") return false;
  return event.name === name;
};

export function JobPage({ type, name }: { type: JobType; name: string }) {
  const job = useResource<Job>(jobPath(type, name), concerns(type, name));
  if (job.error) return <p class="error">{job.error.message}</p>;
  if (!job.data) return <p class="muted">Loading…</p>;
  const data = job.data;
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href="#/">Jobs</a> › <span aria-current="page">{name}</span>
      </nav>
      <h1>
        {name} <Status status={jobStatus(data)} />
      </h1>
      <dl class="facts">
        <dt>Type</dt>
        <dd>{jobKind(data)}</dd>
        <dt>Command</dt>
        <dd>
          <code>{data.run_command || "—"}</code>
        </dd>
        {"using_sdk" in data && data.using_sdk && (
          <>
            <dt>Functions</dt>
            <dd>
              <a href={href("jobs", type, name, "functions")}>Functions and invocations (webjobs-sdk)</a>
            </dd>
          </>
        )}
        {data.error && (
          <>
            <dt>Problem</dt>
            <dd class="error">{data.error}</dd>
          </>
        )}
      </dl>
      {data.type === "triggered" ? (
        <TriggeredPanel job={data} reload={job.reload} />
      ) : (
        <ContinuousPanel job={data} reload={job.reload} />
      )}
      <SettingsEditor job={data} reload={job.reload} />
      <DeleteJob job={data} />
    </>
  );
}

function useAction() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, run };
}

function TriggeredPanel({ job, reload }: { job: TriggeredJob; reload: () => void }) {
  const [args, setArgs] = useState("");
  const [cursors, setCursors] = useState<string[]>([""]);
  const action = useAction();
  const cursor = cursors[cursors.length - 1];
  const page = useResource<RunPage>(
    `/api/runs?job=${encodeURIComponent(job.name)}&limit=${PAGE}&cursor=${encodeURIComponent(cursor)}`,
    (event) => event.kind === "run" && event.job === job.name,
  );
  const recent = useResource<{ runs: TriggeredJob["latest_run"][] }>(
    `${jobPath("triggered", job.name)}/history`,
    (event) =>
      event.kind === "run" && event.job === job.name && !["Initializing", "Running"].includes(event.status),
  );
  const latest = job.latest_run;
  const active = latest && (latest.status === "Running" || latest.status === "Initializing");
  const finished = (recent.data?.runs ?? []).filter(
    (r) => r && !["Running", "Initializing"].includes(r.status),
  );
  const successes = finished.filter((r) => r?.status === "Success").length;

  const start = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      await post(`${jobPath("triggered", job.name)}/run?arguments=${encodeURIComponent(args)}`);
      reload();
    });
  };

  return (
    <>
      <section aria-labelledby="run-title">
        <h2 id="run-title">Run</h2>
        <form class="row" onSubmit={start}>
          <label>
            Arguments
            <input
              name="arguments"
              aria-label="arguments"
              value={args}
              onInput={(e) => setArgs(e.currentTarget.value)}
              placeholder="--verbose 'two words'"
              autocomplete="off"
            />
          </label>
          <button type="submit" class="primary" disabled={action.busy || !!active || !!job.error}>
            Run
          </button>
          {active && latest && (
            <button
              type="button"
              onClick={() => action.run(() => post(`${runPath(job.name, latest.id)}/cancel`))}
              disabled={action.busy}
            >
              Cancel
            </button>
          )}
          <SchedulePause job={job} onDone={reload} />
        </form>
        {action.error && (
          <p class="error" role="alert">
            {action.error}
          </p>
        )}
        <p>
          Last run:{" "}
          {latest ? (
            <a href={href("jobs", "triggered", job.name, "runs", latest.id)}>
              <Status status={latest.status} /> {whenText(parseTime(latest.start_time))}
            </a>
          ) : (
            "never"
          )}
          {job.next_runs?.[0] && (
            <span title={exactUtc(new Date(job.next_runs[0]))}>
              {" "}
              · next run {whenText(new Date(job.next_runs[0]))}
            </span>
          )}
        </p>
      </section>

      <section aria-labelledby="recent-title">
        <h2 id="recent-title">Recent runs</h2>
        {finished.length > 0 && (
          <p>
            Success rate: <strong>{Math.round((successes / finished.length) * 100)} %</strong> ({successes} of{" "}
            {finished.length} finished runs)
          </p>
        )}
        <DurationChart runs={finished.filter((r) => r !== null)} />
        {page.data && <RunsTable runs={page.data.runs} />}
        <div class="pager">
          <button
            type="button"
            disabled={cursors.length === 1}
            onClick={() => setCursors(cursors.slice(0, -1))}
          >
            Newer
          </button>
          <button
            type="button"
            disabled={!page.data?.next_cursor}
            onClick={() => page.data?.next_cursor && setCursors([...cursors, page.data.next_cursor])}
          >
            Older
          </button>
        </div>
      </section>

      <ScheduleForm job={job} onSaved={reload} />
    </>
  );
}

function ContinuousPanel({ job, reload }: { job: ContinuousJob; reload: () => void }) {
  const action = useAction();
  const wantsRunning = job.desired_state === "running";
  const act = (what: "start" | "stop") =>
    action.run(async () => {
      await post(`${jobPath("continuous", job.name)}/${what}`);
      reload();
    });
  return (
    <>
      <section aria-labelledby="state-title">
        <h2 id="state-title">State</h2>
        <div class="row">
          <button
            type="button"
            class="primary"
            disabled={wantsRunning || action.busy}
            onClick={() => act("start")}
          >
            Start
          </button>
          <button type="button" disabled={!wantsRunning || action.busy} onClick={() => act("stop")}>
            Stop
          </button>
        </div>
        {action.error && (
          <p class="error" role="alert">
            {action.error}
          </p>
        )}
        <dl class="facts">
          <dt>Status</dt>
          <dd>
            <Status status={job.status} />
          </dd>
          <dt>Desired</dt>
          <dd>{job.desired_state}</dd>
          <dt>Started</dt>
          <dd title={exactUtc(job.started_at ? new Date(job.started_at) : null)}>
            {job.started_at ? whenText(new Date(job.started_at)) : "—"}
          </dd>
          <dt>Restarts</dt>
          <dd>{job.restarts}</dd>
          {job.last_exit_codes.length > 0 && (
            <>
              <dt>Last exit codes</dt>
              <dd>{job.last_exit_codes.join(", ")}</dd>
            </>
          )}
          {job.next_restart_at && (
            <>
              <dt>Next restart</dt>
              <dd title={exactUtc(new Date(job.next_restart_at))}>
                {whenText(new Date(job.next_restart_at))}
              </dd>
            </>
          )}
          {job.start_error && (
            <>
              <dt>Cannot start</dt>
              <dd class="error">{job.start_error}</dd>
            </>
          )}
        </dl>
        {job.crash_loop && (
          <p class="error" role="alert">
            Crash loop: the job keeps exiting soon after it starts (last exit codes{" "}
            {job.last_exit_codes.join(", ")}); restarts are spaced out up to the host's longest back-off.
          </p>
        )}
      </section>
      <LogView url={`${jobPath("continuous", job.name)}/log`} live downloadUrl={job.log_url} />
    </>
  );
}

function SettingsEditor({ job, reload }: { job: Job; reload: () => void }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState("");
  const action = useAction();
  const save = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw new Error(`Not valid JSON: ${(e as Error).message}`, { cause: e });
      }
      await api(`${jobPath(job.type, job.name)}/settings`, { method: "PUT", body: JSON.stringify(body) });
      setEditing(false);
      reload();
    });
  };
  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      {editing ? (
        <form onSubmit={save}>
          <label>
            settings.job
            <textarea
              rows={8}
              value={text}
              onInput={(e) => setText(e.currentTarget.value)}
              spellcheck={false}
            />
          </label>
          {action.error && (
            <p class="error" role="alert">
              {action.error}
            </p>
          )}
          <div class="row">
            <button type="submit" class="primary" disabled={action.busy}>
              Save settings
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <>
          <pre class="settings" tabIndex={0}>
            {JSON.stringify(job.settings, null, 2)}
          </pre>
          <button
            type="button"
            onClick={() => {
              setText(JSON.stringify(job.settings, null, 2));
              setEditing(true);
            }}
          >
            Edit settings
          </button>
        </>
      )}
    </section>
  );
}

function DeleteJob({ job }: { job: Job }) {
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  return (
    <section aria-labelledby="delete-title" class="danger-zone">
      <h2 id="delete-title">Delete</h2>
      {!confirming ? (
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          Delete job…
        </button>
      ) : (
        <div role="alertdialog" aria-labelledby="confirm-text" class="confirm">
          <p id="confirm-text">
            Delete <strong>{job.name}</strong>? This stops it and removes its code, data and history.
          </p>
          <div class="row">
            <button
              type="button"
              class="danger"
              disabled={action.busy}
              autoFocus
              onClick={() =>
                action.run(async () => {
                  await api(jobPath(job.type, job.name), { method: "DELETE" });
                  navigate("#/");
                })
              }
            >
              Delete {job.name}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </div>
          {action.error && <p class="error">{action.error}</p>}
        </div>
      )}
    </section>
  );
}
