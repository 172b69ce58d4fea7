import { useState } from "preact/hooks";
import { api, send, type AppSettingJson, type Job } from "../api.ts";
import { useResource } from "../live.ts";
import type { Route } from "../router.ts";
import { navigate } from "../router.ts";

/**
 * App settings: host-wide, or one job's (`?job=NAME`), given to jobs as environment variables. A
 * secret's value is sent once and never shown again; it appears as *** in the jobs' logs.
 */
export function AppSettingsPage({ route, canEditHost }: { route: Route; canEditHost: boolean }) {
  const job = route.query.get("job") ?? "";
  const base = job ? `/api/webjobs/${encodeURIComponent(job)}/appsettings` : "/api/appsettings";
  const settings = useResource<AppSettingJson[]>(base, () => false);
  const jobs = useResource<Job[]>("/api/webjobs", (event) => event.kind === "job");
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [secret, setSecret] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const editable = job !== "" || canEditHost;

  const attempt = async (action: () => Promise<unknown>) => {
    try {
      await action();
      setError(null);
      settings.reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const save = (event: Event) => {
    event.preventDefault();
    void attempt(async () => {
      await send("PUT", `${base}/${encodeURIComponent(name)}`, { value, secret });
      setName("");
      setValue("");
      setSecret(false);
    });
  };

  return (
    <>
      <h1>App settings</h1>
      <p class="muted">
        Given to jobs as environment variables; a job's own settings win over host-wide ones. Secret values
        are stored encrypted, never shown again, and masked as <code>***</code> in the jobs' logs.
      </p>
      <div class="filters">
        <label>
          Settings of
          <select
            value={job}
            onChange={(e) => {
              const chosen = e.currentTarget.value;
              navigate(chosen ? `#/settings?job=${encodeURIComponent(chosen)}` : "#/settings");
            }}
          >
            <option value="">every job (host-wide)</option>
            {[...new Set((jobs.data ?? []).map((j) => j.name))].map((n) => (
              <option key={n} value={n}>
                job {n}
              </option>
            ))}
          </select>
        </label>
      </div>
      {editable && (
        <form class="row" onSubmit={save}>
          <label>
            Name
            <input value={name} required onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            Value
            {secret ? (
              <input
                type="password"
                autocomplete="off"
                value={value}
                onInput={(e) => setValue(e.currentTarget.value)}
              />
            ) : (
              <input
                type="text"
                autocomplete="off"
                value={value}
                onInput={(e) => setValue(e.currentTarget.value)}
              />
            )}
          </label>
          <label class="inline">
            <input type="checkbox" checked={secret} onChange={(e) => setSecret(e.currentTarget.checked)} />{" "}
            Secret
          </label>
          <button type="submit" class="primary">
            Save setting
          </button>
        </form>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {settings.data && settings.data.length === 0 && <p class="muted">No settings.</p>}
      {settings.data && settings.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Value</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {settings.data.map((s) => (
                <tr key={s.name}>
                  <td>
                    <code>{s.name}</code>
                  </td>
                  <td>
                    {s.secret ? (
                      <span class="muted">
                        {s.unreadable ? "secret (unreadable with the current key)" : "secret"}
                      </span>
                    ) : (
                      <code>{s.value}</code>
                    )}
                  </td>
                  <td>
                    {editable && (
                      <button
                        type="button"
                        onClick={() =>
                          void attempt(() =>
                            api(`${base}/${encodeURIComponent(s.name)}`, { method: "DELETE" }),
                          )
                        }
                      >
                        Remove {s.name}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
