import { render } from "preact";
import { HistoryPage } from "./pages/HistoryPage.tsx";
import { DeployPage } from "./pages/DeployPage.tsx";
import { JobPage } from "./pages/JobPage.tsx";
import { JobsPage } from "./pages/JobsPage.tsx";
import { RunPage } from "./pages/RunPage.tsx";
import { FunctionsPage } from "./pages/FunctionsPage.tsx";
import { TokensPage } from "./pages/TokensPage.tsx";
import { AppSettingsPage } from "./pages/AppSettingsPage.tsx";
import { AuditPage } from "./pages/AuditPage.tsx";
import { InstancesPage } from "./pages/InstancesPage.tsx";
import { LoginPage } from "./pages/LoginPage.tsx";
import { UsersPage } from "./pages/UsersPage.tsx";
import { api, type SessionJson } from "./api.ts";
import { can, useSession } from "./session.ts";
import { useRoute, type Route } from "./router.ts";
import "./style.css";

function page(route: Route, session: SessionJson | null | undefined) {
  const [first, type, name, runs, id] = route.path;
  if (first === "jobs" && (type === "triggered" || type === "continuous") && name) {
    if (runs === "runs" && id && type === "triggered")
      return <RunPage key={`${name}/${id}`} job={name} id={id} />;
    if (runs === "functions")
      return (
        <FunctionsPage
          key={`${type}/${name}`}
          type={type}
          name={name}
          fn={id}
          opened={route.query.get("invocation") ?? undefined}
        />
      );
    return <JobPage key={`${type}/${name}`} type={type} name={name} />;
  }
  if (first === "history") return <HistoryPage route={route} />;
  if (first === "deploy") return <DeployPage />;
  if (first === "tokens") return <TokensPage />;
  if (first === "users") return <UsersPage />;
  if (first === "settings") return <AppSettingsPage route={route} canEditHost={can(session, "admin")} />;
  if (first === "audit") return <AuditPage />;
  if (first === "instances") return <InstancesPage />;
  return <JobsPage />;
}

/** Sections and the least role that may use them (the host refuses the rest anyway). */
const sections = [
  ["", "Jobs", "reader"],
  ["history", "History", "reader"],
  ["deploy", "Deploy", "operator"],
  ["settings", "App settings", "reader"],
  ["instances", "Instances", "reader"],
  ["tokens", "Tokens", "admin"],
  ["users", "Users", "admin"],
  ["audit", "Audit", "admin"],
] as const;

async function logOut(): Promise<void> {
  await api("/api/session", { method: "DELETE" }).catch(() => undefined);
  location.hash = "/login";
  location.reload();
}

function App() {
  const route = useRoute();
  const section = route.path[0] === "jobs" ? "" : (route.path[0] ?? "");
  const session = useSession(section);
  if (section === "login") {
    return (
      <main id="main" tabIndex={-1}>
        <LoginPage route={route} />
      </main>
    );
  }
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}
      >
        Skip to content
      </a>
      <header>
        <a class="brand" href="#/">
          webjobs
        </a>
        <nav aria-label="Main">
          {sections
            .filter(([, , role]) => session === undefined || can(session, role))
            .map(([path, label]) => (
              <a key={path} href={`#/${path}`} aria-current={section === path ? "page" : undefined}>
                {label}
              </a>
            ))}
        </nav>
        {session && (
          <div class="who">
            <span title={`role: ${session.role}`}>
              {session.name} ({session.role})
            </span>{" "}
            {session.kind === "session" && (
              <button type="button" onClick={() => void logOut()}>
                Log out
              </button>
            )}
          </div>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {page(route, session)}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
