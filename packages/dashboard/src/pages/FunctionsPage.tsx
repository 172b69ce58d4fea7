import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { FunctionSummary } from "../../../host/src/sdk/invocations.ts";
import { jobPath, type JobType, type LiveEvent } from "../api.ts";
import { Status } from "../components/Status.tsx";
import { exactUtc, humanDuration, parseTime, whenText } from "../format.ts";
import { useResource, useTick } from "../live.ts";
import { href } from "../router.ts";

/** `GET …/functions/{f}/invocations`: one invocation as the host serves it. */
export interface InvocationJson {
  id: string;
  status: "Running" | "Succeeded" | "Failed";
  start_time: string;
  duration_ms: number | null;
  trigger_details: Record<string, unknown>;
  arguments: Record<string, string>;
  error: string | null;
  reason: string;
  /** Caused by: the invocation whose output triggered this one, and those its outputs triggered. */
  parent_id: string | null;
  parent: InvocationLink | null;
  children: InvocationLink[];
  log_url: string;
}

interface InvocationLink {
  id: string;
  function: string;
}

const statusOf = (status: string) => (status === "Succeeded" ? "Success" : status);

/** The functions of a job using webjobs-sdk, and the recent invocations of the chosen one. */
export function FunctionsPage({
  type,
  name,
  fn,
  opened,
}: {
  type: JobType;
  name: string;
  fn: string | undefined;
  /** An invocation to show opened (a caused-by link). */
  opened?: string | undefined;
}) {
  // The host pushes each invocation's start and end (read from the job's records) on the page's one
  // event stream: the lists are fetched again on those, with no polling.
  const concerns = (event: LiveEvent) => {
    if (event.kind === "invocation") return event.type === type && event.job === name;
    if (event.kind === "run") return type === "triggered" && event.job === name;
    return event.name === name;
  };
  const functions = useResource<FunctionSummary[]>(`${jobPath(type, name)}/functions`, concerns);
  const chosen = fn ?? functions.data?.[0]?.name;
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href="#/">Jobs</a> › <a href={href("jobs", type, name)}>{name}</a> ›{" "}
        <span aria-current="page">Functions</span>
      </nav>
      <h1>Functions of {name}</h1>
      <p class="muted">
        Every invocation of the job's webjobs-sdk functions, recorded by the SDK with nothing in the job's
        code.
      </p>
      {functions.error && <p class="error">{functions.error.message}</p>}
      {functions.data && functions.data.length === 0 && (
        <p class="muted">No functions yet: they appear once the job has started.</p>
      )}
      {functions.data && functions.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Function</th>
                <th scope="col">Trigger</th>
                <th scope="col">Invocations</th>
                <th scope="col">Succeeded</th>
                <th scope="col">Failed</th>
                <th scope="col">Last</th>
              </tr>
            </thead>
            <tbody>
              {functions.data.map((f) => (
                <tr key={f.name}>
                  <td>
                    <a
                      href={href("jobs", type, name, "functions", f.name)}
                      aria-current={f.name === chosen ? "true" : undefined}
                    >
                      {f.name}
                    </a>
                  </td>
                  <td>
                    {f.trigger}
                    {f.source && <code> {f.source}</code>}
                  </td>
                  <td>{f.invocations.total}</td>
                  <td>{f.invocations.succeeded}</td>
                  <td>{f.invocations.failed}</td>
                  <td title={exactUtc(parseTime(f.last_invocation))}>
                    {f.last_invocation ? whenText(parseTime(f.last_invocation)) : "never"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {chosen && (
        <Invocations key={chosen} type={type} name={name} fn={chosen} concerns={concerns} opened={opened} />
      )}
    </>
  );
}

function Invocations({
  type,
  name,
  fn,
  concerns,
  opened,
}: {
  type: JobType;
  name: string;
  fn: string;
  concerns: (event: LiveEvent) => boolean;
  opened: string | undefined;
}) {
  const list = useResource<InvocationJson[]>(
    `${jobPath(type, name)}/functions/${encodeURIComponent(fn)}/invocations?limit=50`,
    // Any function's invocation counts: a child started by another function links back to this one.
    concerns,
  );
  const running = list.data?.some((i) => i.status === "Running") ?? false;
  const now = useTick(1000, running);
  const finished = (list.data ?? []).filter((i) => i.duration_ms !== null);
  return (
    <section aria-labelledby="invocations-title">
      <h2 id="invocations-title">Recent invocations of {fn}</h2>
      {list.error && <p class="error">{list.error.message}</p>}
      <InvocationChart finished={finished} />
      {list.data && list.data.length === 0 && <p class="muted">No invocations yet.</p>}
      {list.data && list.data.length > 0 && (
        <ul class="invocations">
          {list.data.map((i) => (
            <InvocationItem
              key={i.id}
              invocation={i}
              now={now}
              link={(to) =>
                `${href("jobs", type, name, "functions", to.function)}?invocation=${encodeURIComponent(to.id)}`
              }
              opened={i.id === opened}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

/** Bars of the finished invocations' durations, oldest on the left, like the runs' chart. */
function InvocationChart({ finished }: { finished: InvocationJson[] }) {
  if (finished.length === 0) return null;
  const bars = [...finished].reverse();
  const max = Math.max(1, ...bars.map((i) => i.duration_ms ?? 0));
  const width = 300;
  const height = 60;
  const step = width / Math.max(bars.length, 10);
  const failed = bars.filter((i) => i.status === "Failed").length;
  const summary = `Durations of the last ${bars.length} invocations: longest ${humanDuration(max)}; ${bars.length - failed} succeeded, ${failed} failed.`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={summary} preserveAspectRatio="none">
        {bars.map((i, n) => {
          const h = Math.max(2, ((i.duration_ms ?? 0) / max) * (height - 2));
          return (
            <rect
              key={i.id}
              class={`bar bar-${statusOf(i.status)}`}
              x={n * step + 1}
              y={height - h}
              width={Math.max(step - 2, 1)}
              height={h}
            >
              <title>{`${i.id}: ${i.status}, ${humanDuration(i.duration_ms ?? 0)}`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption class="muted">{summary}</figcaption>
    </figure>
  );
}

function InvocationItem({
  invocation: i,
  now,
  link,
  opened,
}: {
  invocation: InvocationJson;
  now: number;
  link: (to: InvocationLink) => string;
  opened: boolean;
}) {
  const [log, setLog] = useState<string | null>(null);
  const start = parseTime(i.start_time);
  const duration = i.duration_ms ?? (start ? now - start.getTime() : null);
  const details = Object.entries(i.trigger_details).filter(([, v]) => v !== null && v !== undefined);
  const loadLog = async () => {
    try {
      const response = await fetch(new URL(i.log_url).pathname, {
        headers: { "x-requested-with": "webjobs-dashboard" },
      });
      setLog(response.ok ? await response.text() : `(the log could not be read: ${response.status})`);
    } catch (error) {
      setLog(`(the log could not be read: ${(error as Error).message})`);
    }
  };
  // Opened by a caused-by link: its log is shown at once.
  useEffect(() => {
    if (opened && log === null) void loadLog();
  }, [opened]);
  // The log of a running invocation grows: read it again when the invocation's status changes.
  useEffect(() => {
    if (log !== null) void loadLog();
  }, [i.status]);
  return (
    <li class="invocation" data-invocation={i.id}>
      <details open={opened} onToggle={(e) => e.currentTarget.open && log === null && void loadLog()}>
        <summary>
          <Status status={statusOf(i.status)} label={i.status} />{" "}
          <span title={exactUtc(start)}>{whenText(start)}</span>
          {duration !== null && <> · {humanDuration(duration)}</>} · <code>{i.arguments.trigger ?? ""}</code>
        </summary>
        <dl class="facts">
          <dt>Id</dt>
          <dd>
            <code>{i.id}</code>
          </dd>
          <dt>Reason</dt>
          <dd>{i.reason}</dd>
          {i.parent && (
            <>
              <dt>Caused by</dt>
              <dd>
                <a href={link(i.parent)}>
                  {i.parent.function} <code>{i.parent.id}</code>
                </a>
              </dd>
            </>
          )}
          {i.children.length > 0 && (
            <>
              <dt>Caused</dt>
              <dd>
                {i.children.map((child, n) => (
                  <Fragment key={child.id}>
                    {n > 0 && ", "}
                    <a href={link(child)}>
                      {child.function} <code>{child.id}</code>
                    </a>
                  </Fragment>
                ))}
              </dd>
            </>
          )}
          {details.map(([key, value]) => (
            <Fragment key={key}>
              <dt>{key.replace(/_/g, " ")}</dt>
              <dd>{typeof value === "string" ? value : JSON.stringify(value)}</dd>
            </Fragment>
          ))}
          {Object.entries(i.arguments).map(([key, value]) => (
            <Fragment key={`argument ${key}`}>
              <dt>argument {key}</dt>
              <dd>
                <code>{value}</code>
              </dd>
            </Fragment>
          ))}
        </dl>
        {i.error && <pre class="error">{i.error}</pre>}
        <h3>Log</h3>
        <pre class="log" tabIndex={0}>
          {log ?? "Loading…"}
        </pre>
      </details>
    </li>
  );
}
