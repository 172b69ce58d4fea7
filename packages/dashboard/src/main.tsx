import { render } from "preact";
import { HistoryPage } from "./pages/HistoryPage.tsx";
import { DeployPage } from "./pages/DeployPage.tsx";
import { JobPage } from "./pages/JobPage.tsx";
import { JobsPage } from "./pages/JobsPage.tsx";
import { RunPage } from "./pages/RunPage.tsx";
import { TokensPage } from "./pages/TokensPage.tsx";
import { useRoute, type Route } from "./router.ts";
import "./style.css";

function page(route: Route) {
  const [first, type, name, runs, id] = route.path;
  if (first === "jobs" && (type === "triggered" || type === "continuous") && name) {
    if (runs === "runs" && id && type === "triggered")
      return <RunPage key={`${name}/${id}`} job={name} id={id} />;
    return <JobPage key={`${type}/${name}`} type={type} name={name} />;
  }
  if (first === "history") return <HistoryPage route={route} />;
  if (first === "deploy") return <DeployPage />;
  if (first === "tokens") return <TokensPage />;
  return <JobsPage />;
}

const sections = [
  ["", "Jobs"],
  ["history", "History"],
  ["deploy", "Deploy"],
  ["tokens", "Tokens"],
] as const;

function App() {
  const route = useRoute();
  const section = route.path[0] === "jobs" ? "" : (route.path[0] ?? "");
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
          {sections.map(([path, label]) => (
            <a key={path} href={`#/${path}`} aria-current={section === path ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {page(route)}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
