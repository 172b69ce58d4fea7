import { useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import type { Route } from "../router.ts";

/** Where to go after logging in: a page of the dashboard, or a path of this host, never elsewhere. */
function destination(next: string | null): string {
  if (!next) return "/#/";
  if (next.startsWith("#/") && !next.startsWith("#/login")) return "/" + next;
  if (next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\")) return next;
  return "/#/";
}

/**
 * The login page: exchanges the user's name and password for a session cookie (HttpOnly, so no
 * script of the page ever holds it), then goes back where the user was sent from.
 */
export function LoginPage({ route }: { route: Route }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // Basic credentials, encoded as UTF-8 (btoa takes Latin-1 only).
      const bytes = new TextEncoder().encode(`${username}:${password}`);
      const basic = btoa(String.fromCharCode(...bytes));
      const response = await fetch("/api/session", {
        method: "POST",
        headers: { authorization: `Basic ${basic}`, "x-requested-with": "webjobs-dashboard" },
      });
      if (response.status === 401) throw new ApiError(401, "Wrong user name or password.");
      if (!response.ok) throw new ApiError(response.status, `${response.status} ${response.statusText}`);
      location.assign(destination(route.query.get("next")));
      if (destination(route.query.get("next")).startsWith("/#")) location.reload();
    } catch (caught) {
      setError((caught as Error).message);
      setBusy(false);
    }
  };

  return (
    <div class="login">
      <h1>Log in to webjobs</h1>
      <form onSubmit={submit}>
        <label>
          User name
          <input
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          Log in
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
