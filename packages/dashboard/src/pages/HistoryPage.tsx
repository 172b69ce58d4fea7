import { useEffect, useState } from "preact/hooks";
import type { Job, RunPage } from "../api.ts";
import { RunsTable } from "../components/RunsTable.tsx";
import { useResource } from "../live.ts";
import { navigate, type Route } from "../router.ts";

const STATUSES = ["Initializing", "Running", "Success", "Failed", "Aborted"];
const PAGE = 25;

/** `datetime-local` (the user's local time) to a UTC ISO instant. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : "");

/** All runs of all jobs, newest first; the filters live in the address, so a view can be shared. */
export function HistoryPage({ route }: { route: Route }) {
  const q = route.query;
  const filters = {
    job: q.get("job") ?? "",
    status: q.get("status") ?? "",
    from: q.get("from") ?? "",
    to: q.get("to") ?? "",
  };
  // What is typed in the job box is the user's until they commit it (Enter or leaving the box): a
  // render caused by another filter or a live update must not wipe it.
  const [jobText, setJobText] = useState(filters.job);
  useEffect(() => setJobText(filters.job), [filters.job]);
  const [cursors, setCursors] = useState<string[]>([""]);
  const cursor = cursors[cursors.length - 1];
  const params = new URLSearchParams({
    ...(filters.job && { job: filters.job }),
    ...(filters.status && { status: filters.status }),
    ...(filters.from && { from: toIso(filters.from) }),
    ...(filters.to && { to: toIso(filters.to) }),
    limit: String(PAGE),
    ...(cursor && { cursor }),
  });
  // Only the newest page moves with new runs; older pages stay put while the user reads them.
  const page = useResource<RunPage>(`/api/runs?${params}`, (e) => e.kind === "run" && cursors.length === 1);
  const jobs = useResource<Job[]>("/api/triggeredwebjobs", (e) => e.kind === "job");

  const set = (name: keyof typeof filters, value: string) => {
    // Read from the address, not this render: two changes in a row must both be kept.
    const next = new URLSearchParams(location.hash.split("?")[1] ?? "");
    next.set(name, value);
    for (const [key, v] of [...next]) if (!v) next.delete(key);
    setCursors([""]);
    navigate(`#/history${next.size ? `?${next}` : ""}`, true);
  };

  return (
    <>
      <h1>History</h1>
      <div class="filters" role="search">
        <label>
          Job
          <input
            list="job-names"
            value={jobText}
            onInput={(e) => setJobText(e.currentTarget.value)}
            onChange={(e) => set("job", e.currentTarget.value)}
          />
          <datalist id="job-names">
            {(jobs.data ?? []).map((job) => (
              <option key={job.name} value={job.name} />
            ))}
          </datalist>
        </label>
        <label>
          Status
          <select value={filters.status} onChange={(e) => set("status", e.currentTarget.value)}>
            <option value="">all</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
            <option value="Failed,Aborted">Failed or Aborted</option>
          </select>
        </label>
        <label>
          From
          <input
            type="datetime-local"
            value={filters.from}
            onChange={(e) => set("from", e.currentTarget.value)}
          />
        </label>
        <label>
          To
          <input
            type="datetime-local"
            value={filters.to}
            onChange={(e) => set("to", e.currentTarget.value)}
          />
        </label>
      </div>
      {page.error && <p class="error">{page.error.message}</p>}
      {!page.data && !page.error && <p class="muted">Loading…</p>}
      {page.data && <RunsTable runs={page.data.runs} showJob />}
      <div class="pager">
        <button
          type="button"
          disabled={cursors.length === 1}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          Newer
        </button>
        <span class="muted">Page {cursors.length}</span>
        <button
          type="button"
          disabled={!page.data?.next_cursor}
          onClick={() => page.data?.next_cursor && setCursors([...cursors, page.data.next_cursor])}
        >
          Older
        </button>
      </div>
    </>
  );
}
