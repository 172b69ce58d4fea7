import { useState } from "preact/hooks";
import { api, post, send, type Role, type UserJson } from "../api.ts";
import { exactUtc, whenText } from "../format.ts";
import { useResource } from "../live.ts";

const roles: Role[] = ["reader", "operator", "admin"];

/** Users (admins only): add with a role, change the role, remove. */
export function UsersPage() {
  const users = useResource<UserJson[]>("/api/users", () => false);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("reader");
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<string | null>(null);

  const attempt = async (action: () => Promise<unknown>) => {
    try {
      await action();
      setError(null);
      users.reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const add = (event: Event) => {
    event.preventDefault();
    void attempt(async () => {
      await post("/api/users", { username, password, role });
      setUsername("");
      setPassword("");
    });
  };

  return (
    <>
      <h1>Users</h1>
      <p class="muted">
        Readers look; operators also deploy, run, cancel, start and stop jobs and edit their settings; admins
        also manage users, tokens, host-wide app settings and see the audit trail.
      </p>
      <form class="row" onSubmit={add}>
        <label>
          User name
          <input value={username} required onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input
            type="password"
            autocomplete="new-password"
            required
            minLength={8}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            {roles.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary">
          Add user
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {users.data && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((user) => (
                <tr key={user.username}>
                  <td>{user.username}</td>
                  <td>
                    <select
                      aria-label={`Role of ${user.username}`}
                      value={user.role}
                      onChange={(e) =>
                        void attempt(() =>
                          send("PATCH", `/api/users/${encodeURIComponent(user.username)}`, {
                            role: e.currentTarget.value,
                          }),
                        )
                      }
                    >
                      {roles.map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                    </select>
                  </td>
                  <td title={exactUtc(new Date(user.created_at))}>{whenText(new Date(user.created_at))}</td>
                  <td>
                    {confirm === user.username ? (
                      <>
                        <button
                          type="button"
                          class="danger"
                          onClick={() =>
                            void attempt(() =>
                              api(`/api/users/${encodeURIComponent(user.username)}`, { method: "DELETE" }),
                            ).then(() => setConfirm(null))
                          }
                        >
                          Remove {user.username}
                        </button>{" "}
                        <button type="button" onClick={() => setConfirm(null)}>
                          Keep
                        </button>
                      </>
                    ) : (
                      <button type="button" onClick={() => setConfirm(user.username)}>
                        Remove…
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
