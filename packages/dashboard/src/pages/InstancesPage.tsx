import { useEffect, useState } from "preact/hooks";
import { api, type InstanceJson } from "../api.ts";
import { exactUtc, whenText } from "../format.ts";

/** Heartbeats come every 2 s: so does this page's refresh, while it is shown. */
const REFRESH_MS = 2_000;

/**
 * The hosts sharing this host's store (one on SQLite; several on PostgreSQL), as the store sees
 * them: live or dead by their last heartbeat, with their load.
 */
export function InstancesPage() {
  const [instances, setInstances] = useState<InstanceJson[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const list = await api<InstanceJson[]>("/api/instances");
        if (stopped) return;
        setInstances(list);
        setError(null);
      } catch (e) {
        if (!stopped) setError((e as Error).message);
      }
    };
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  return (
    <>
      <h1>Instances</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="table-wrap">
        <table class="instances">
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">State</th>
              <th scope="col">Host</th>
              <th scope="col">URL</th>
              <th scope="col">Active runs</th>
              <th scope="col">Started</th>
              <th scope="col">Last heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {(instances ?? []).map((instance) => (
              <tr key={instance.id} class={`instance-${instance.state}`}>
                <td>{instance.id}</td>
                <td>{instance.state === "live" ? "Live" : "Dead"}</td>
                <td>{instance.host_name}</td>
                <td>{instance.url}</td>
                <td>{instance.active_runs}</td>
                <td title={exactUtc(new Date(instance.started_at))}>
                  {whenText(new Date(instance.started_at))}
                </td>
                <td title={exactUtc(new Date(instance.last_heartbeat))}>
                  {whenText(new Date(instance.last_heartbeat))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {instances?.length === 0 && <p class="muted">No instance has registered.</p>}
    </>
  );
}
