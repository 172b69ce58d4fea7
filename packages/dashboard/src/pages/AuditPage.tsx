import { useEffect, useState } from "preact/hooks";
import { api, type AuditEntryJson, type AuditPageJson } from "../api.ts";
import { exactUtc, whenText } from "../format.ts";

/** The audit trail (admins only): who changed what, when and from where, newest first. */
export function AuditPage() {
  const [filters, setFilters] = useState({ action: "", actor: "", target: "" });
  const [entries, setEntries] = useState<AuditEntryJson[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async (after: string | null) => {
    const query = new URLSearchParams({ limit: "50" });
    for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
    if (after) query.set("cursor", after);
    try {
      const page = await api<AuditPageJson>(`/api/audit?${query}`);
      setEntries((shown) => (after ? [...shown, ...page.entries] : page.entries));
      setCursor(page.next_cursor);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => void load(null), [filters]);

  const field = (key: keyof typeof filters, label: string) => (
    <label>
      {label}
      <input
        value={filters[key]}
        onChange={(e) => setFilters({ ...filters, [key]: e.currentTarget.value.trim() })}
      />
    </label>
  );

  return (
    <>
      <h1>Audit trail</h1>
      <div class="filters">
        {field("action", "Action")}
        {field("actor", "Who")}
        {field("target", "Target")}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="table-wrap">
        <table class="audit">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Answer</th>
              <th scope="col">From</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id}>
                <td title={exactUtc(new Date(entry.at))}>{whenText(new Date(entry.at))}</td>
                <td title={entry.actor_kind}>{entry.actor}</td>
                <td>{entry.action}</td>
                <td>{entry.target}</td>
                <td>{entry.status}</td>
                <td>{entry.address}</td>
                <td>{entry.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {entries.length === 0 && !error && <p class="muted">Nothing recorded.</p>}
      {cursor && (
        <button type="button" onClick={() => void load(cursor)}>
          Older entries
        </button>
      )}
    </>
  );
}
