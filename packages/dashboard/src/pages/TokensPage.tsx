import { useState } from "preact/hooks";
import { api, post, type CreatedTokenJson, type Role, type TokenJson } from "../api.ts";
import { exactUtc, whenText } from "../format.ts";
import { useResource } from "../live.ts";

/** API tokens: create (the secret is shown once), list, revoke. */
export function TokensPage() {
  const tokens = useResource<TokenJson[]>("/api/tokens", () => false);
  const [label, setLabel] = useState("");
  const [role, setRole] = useState<Role>("admin");
  const [jobs, setJobs] = useState("");
  const [created, setCreated] = useState<CreatedTokenJson | null>(null);
  const [confirm, setConfirm] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const create = async (event: Event) => {
    event.preventDefault();
    try {
      const limitedTo = jobs
        .split(",")
        .map((name) => name.trim())
        .filter(Boolean);
      setCreated(
        await post<CreatedTokenJson>("/api/tokens", {
          ...(label ? { label } : {}),
          role,
          ...(limitedTo.length ? { jobs: limitedTo } : {}),
        }),
      );
      setLabel("");
      setJobs("");
      setError(null);
      tokens.reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const revoke = async (id: string) => {
    try {
      await api(`/api/tokens/${encodeURIComponent(id)}`, { method: "DELETE" });
      setConfirm(null);
      tokens.reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <>
      <h1>API tokens</h1>
      <p class="muted">
        Use a token as <code>Authorization: Bearer …</code> or <code>webjobs --token</code>.
      </p>
      <form class="row" onSubmit={create}>
        <label>
          Label
          <input value={label} onInput={(e) => setLabel(e.currentTarget.value)} maxLength={200} />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            <option>admin</option>
            <option>operator</option>
            <option>reader</option>
          </select>
        </label>
        <label>
          Only for jobs
          <input
            value={jobs}
            placeholder="all jobs"
            onInput={(e) => setJobs(e.currentTarget.value)}
            title="Comma-separated job names; empty for every job"
          />
        </label>
        <button type="submit" class="primary">
          Create token
        </button>
      </form>
      {created && (
        <div class="notice" role="status">
          <p>
            Token <strong>{created.label}</strong> created. Copy it now: it is not shown again.
          </p>
          <code class="secret">{created.token}</code>{" "}
          <button
            type="button"
            onClick={() => navigator.clipboard.writeText(created.token).catch(() => undefined)}
          >
            Copy
          </button>
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {tokens.data && tokens.data.length === 0 && <p class="muted">No tokens.</p>}
      {tokens.data && tokens.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col">Role</th>
                <th scope="col">Jobs</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((token) => (
                <tr key={token.id}>
                  <td>{token.label}</td>
                  <td>{token.role}</td>
                  <td>{token.jobs ? token.jobs.join(", ") : "all"}</td>
                  <td title={exactUtc(new Date(token.created_at))}>{whenText(new Date(token.created_at))}</td>
                  <td>
                    {confirm === token.id ? (
                      <>
                        <button type="button" class="danger" onClick={() => revoke(token.id)}>
                          Revoke {token.label}
                        </button>{" "}
                        <button type="button" onClick={() => setConfirm(null)}>
                          Keep
                        </button>
                      </>
                    ) : (
                      <button type="button" onClick={() => setConfirm(token.id)}>
                        Revoke…
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
