import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  launchBrowser,
  logInThroughPage,
  overflowsHorizontally,
  requireBuiltDashboard,
  seriousAxeViolations,
} from "../support/browser.ts";
import {
  PASSWORD,
  USER,
  deployScript,
  makeZip,
  runToEnd,
  startHost,
  waitFor,
  type TestHost,
} from "../support/host.ts";

let t: TestHost;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  requireBuiltDashboard();
  t = await startHost();
  await deployScript(t, "triggered", "greeter", "run.sh", 'echo "hello $1"\necho "oops $1" >&2\n');
  await deployScript(t, "triggered", "slow", "run.sh", "sleep 0.3\necho slept\n");
  await deployScript(t, "continuous", "worker", "run.sh", "echo working\nwhile true; do sleep 0.2; done\n");
  browser = await launchBrowser();
  context = await browser.newContext();
  page = await context.newPage();
  await logInThroughPage(page, t.url, USER, PASSWORD);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

const subscribers = async () => (await t.host.http()).live.subscribers;

describe("dashboard in a real browser", () => {
  it("serves hashed assets for good and the page itself revalidated", async () => {
    const auth = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}` };
    const index = await fetch(t.url, { headers: auth });
    expect(index.headers.get("cache-control")).toBe("no-cache");
    const html = await index.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(t.url + script, { headers: { ...auth, "accept-encoding": "gzip" } });
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(asset.headers.get("content-encoding")).toBe("gzip");
    // The page itself holds no data and shows the login form; the API needs credentials.
    expect((await fetch(t.url)).status).toBe(200);
    expect((await fetch(`${t.url}/api/webjobs`)).status).toBe(401);
  });

  it("shows a run started through the API within a second, without reloading, keeping what is typed", async () => {
    await page.goto(`${t.url}/#/jobs/triggered/slow`);
    const args = page.getByRole("textbox", { name: "arguments" });
    await args.fill("typed by hand");
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const started = Date.now();
    await t.api("/api/triggeredwebjobs/slow/run", { method: "POST" });
    await page.locator("h1 .status-Running").waitFor({ timeout: 1000 });
    expect(Date.now() - started).toBeLessThan(1000);
    await page.locator("h1 .status-Success").waitFor({ timeout: 3000 });
    expect(await args.inputValue()).toBe("typed by hand");
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
    await page.locator("table.runs .status-Success").first().waitFor();
  });

  it("lists jobs with search, type filter and live status", async () => {
    await page.goto(t.url);
    await page.getByRole("link", { name: "greeter" }).waitFor();
    const greeterRow = page.locator("tr", { hasText: "greeter" });
    expect(await greeterRow.textContent()).toContain("Never run");
    expect(await page.locator("tr", { hasText: "worker" }).textContent()).toContain("continuous");
    await page.getByRole("searchbox", { name: "Search" }).fill("gree");
    await waitFor(async () => (await page.locator("tbody tr").count()) === 1);
    await runToEnd(t, "greeter", "live");
    await greeterRow.locator(".status-Success").waitFor({ timeout: 1000 });
    expect(await page.getByRole("searchbox", { name: "Search" }).inputValue()).toBe("gree");
    await page.getByRole("searchbox", { name: "Search" }).fill("");
    await page.getByLabel("Type").selectOption("continuous");
    await waitFor(async () => (await page.locator("tbody tr").count()) === 1);
    expect(await page.locator("tbody tr").textContent()).toContain("worker");
  });

  it("runs a job with arguments and shows the run: human duration, short trigger, stderr marked, log tools", async () => {
    await page.goto(`${t.url}/#/jobs/triggered/greeter`);
    await page.locator("table.runs tbody tr").first().waitFor();
    const before = await page.locator("table.runs tbody tr").count();
    await page.getByRole("textbox", { name: "arguments" }).fill("world");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await waitFor(async () => (await page.locator("table.runs tbody tr").count()) === before + 1);
    await page.locator("tbody tr").first().locator(".status-Success").waitFor();
    await page.locator("tbody tr").first().getByRole("link").click();
    await page.locator("#log", { hasText: "hello world" }).waitFor();
    expect(await page.locator("#log .stderr", { hasText: "oops world" }).count()).toBe(1);
    expect(await page.locator("#log .stderr", { hasText: "hello world" }).count()).toBe(0);
    const facts = (await page.locator("dl.facts").textContent()) ?? "";
    expect(facts).toMatch(/Duration\d+ ms|Duration[\d.]+ s/);
    expect(facts).toContain("Exit code0");
    const trigger = page.locator("dd[title^='External - ']");
    expect(await trigger.textContent()).toMatch(/^External - \S+$/);
    expect(await trigger.getAttribute("title")).toContain("Mozilla");
    const download = await page.getByRole("link", { name: "Download log" }).getAttribute("href");
    // On the page's own origin (the host's public URL may name another address).
    expect(download).toMatch(/^\/vfs\/data\/jobs\/triggered\/greeter\/\d+\/output_log\.txt$/);
    await page.getByRole("searchbox", { name: "Search the log" }).fill("oops");
    await waitFor(async () => !(await page.locator("#log").textContent())?.includes("hello world"));
    await page.getByRole("button", { name: "Hide log" }).click();
    expect(await page.locator("#log").count()).toBe(0);
    await page.getByRole("button", { name: "Show log" }).click();
    await page.locator("#log").waitFor();
  });

  it("stops and starts a continuous job, buttons enabled only where they apply", async () => {
    await page.goto(`${t.url}/#/jobs/continuous/worker`);
    await page.locator("#log", { hasText: "working" }).waitFor();
    await page.locator("h1 .status-Running").waitFor();
    expect(await page.getByRole("button", { name: "Start" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Stop" }).click();
    await page.locator("h1 .status-Stopped").waitFor();
    expect(await page.getByRole("button", { name: "Stop" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Start" }).click();
    await page.locator("h1 .status-Running").waitFor();
  });

  it("edits settings and shows the host's validation message", async () => {
    await page.goto(`${t.url}/#/jobs/triggered/greeter`);
    await page.getByRole("button", { name: "Edit settings" }).click();
    await page.getByLabel("settings.job").fill('{"time_limit": "60"}');
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("alert").filter({ hasText: '"time_limit" must be' }).waitFor();
    await page.getByLabel("settings.job").fill('{"time_limit": 60}');
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.locator("pre.settings", { hasText: '"time_limit": 60' }).waitFor();
  });

  it("deploys a script with a progress bar, checks the name as typed, shows the host's error as is", async () => {
    await page.goto(`${t.url}/#/deploy`);
    await page.getByRole("textbox", { name: "job name" }).fill("bad name!");
    await page.getByText("Invalid job name 'bad name!'").waitFor();
    expect(await page.getByRole("button", { name: "Deploy" }).isDisabled()).toBe(true);

    await page.getByLabel("zip or script").setInputFiles({
      name: "notes.zip",
      mimeType: "application/zip",
      buffer: await makeZip({ "readme.txt": "nothing to run" }),
    });
    await page.getByRole("textbox", { name: "job name" }).fill("nothing");
    await page.getByRole("button", { name: "Deploy" }).click();
    const hostError = (await (
      await t.api("/api/triggeredwebjobs/nothing2", {
        method: "PUT",
        headers: { "content-type": "application/zip", "content-disposition": "attachment; filename=n.zip" },
        body: new Uint8Array(await makeZip({ "readme.txt": "nothing to run" })),
      })
    ).json()) as { error: string };
    await page.getByRole("alert").filter({ hasText: hostError.error }).waitFor();

    await page.evaluate(() => {
      const seen = ((window as unknown as { progressSeen: boolean }).progressSeen = false);
      new MutationObserver(() => {
        if (document.querySelector("progress"))
          (window as unknown as { progressSeen: boolean }).progressSeen = true;
      }).observe(document.body, { childList: true, subtree: true });
      return seen;
    });
    await page.getByLabel("zip or script").setInputFiles({
      name: "run.py",
      mimeType: "text/x-python",
      buffer: Buffer.from(`print('from the browser')\n#${"x".repeat(2_000_000)}\n`),
    });
    await page.getByRole("textbox", { name: "job name" }).fill("uploaded");
    await page.getByRole("button", { name: "Deploy" }).click();
    await page.locator("h1", { hasText: "uploaded" }).waitFor();
    expect(await page.evaluate(() => (window as unknown as { progressSeen: boolean }).progressSeen)).toBe(
      true,
    );
    expect(await page.locator("dl.facts").textContent()).toContain("run.py");
  });

  it("pages through the history of all runs and filters it by status and job", async () => {
    for (let i = 0; i < 3; i++) await runToEnd(t, "slow");
    await deployScript(t, "triggered", "failing", "run.sh", "exit 2\n");
    await runToEnd(t, "failing");
    const total = ((await (await t.api("/api/runs?limit=500")).json()) as { runs: unknown[] }).runs.length;
    await page.goto(`${t.url}/#/history`);
    await page.locator("table.runs tbody tr").first().waitFor();
    expect(await page.locator("table.runs tbody tr").count()).toBe(Math.min(total, 25));
    await page.getByLabel("Status").selectOption("Failed");
    await waitFor(async () => (await page.locator("table.runs tbody tr").count()) === 1);
    expect(page.url()).toContain("status=Failed");
    expect(await page.locator("table.runs tbody tr").textContent()).toContain("failing");
    await page.getByLabel("Status").selectOption("");
    await waitFor(() => !page.url().includes("status=") || undefined);
    await page.getByLabel("Job").fill("slow");
    await page.getByLabel("Job").press("Enter");
    await page.getByLabel("Job").blur();
    // As many rows as the API has runs of `slow` (earlier tests ran it too).
    await waitFor(async () => {
      const slow = ((await (await t.api("/api/runs?job=slow&limit=500")).json()) as { runs: unknown[] }).runs;
      return (await page.locator("table.runs tbody tr").count()) === Math.min(slow.length, 25) || undefined;
    });
  });

  it("creates a token shown once, lists it and revokes it", async () => {
    await page.goto(`${t.url}/#/tokens`);
    await page.getByLabel("Label").fill("deploy bot");
    await page.getByRole("button", { name: "Create token" }).click();
    const secret = (await page.locator("code.secret").textContent()) ?? "";
    expect(secret).toMatch(/^wj_/);
    await page.getByRole("cell", { name: "deploy bot" }).waitFor();
    await page.reload();
    await page.getByRole("cell", { name: "deploy bot" }).waitFor();
    expect(await page.content()).not.toContain(secret);
    await page.getByRole("button", { name: "Revoke…" }).click();
    await page.getByRole("button", { name: "Revoke deploy bot" }).click();
    await page.getByText("No tokens.").waitFor();
    expect((await t.api("/api/webjobs", { headers: { authorization: `Bearer ${secret}` } })).status).toBe(
      401,
    );
  });

  it("deletes a job after confirmation", async () => {
    await page.goto(`${t.url}/#/jobs/triggered/uploaded`);
    await page.getByRole("button", { name: "Delete job…" }).click();
    await page.getByRole("button", { name: "Delete uploaded" }).click();
    await page.getByRole("heading", { name: "Jobs" }).waitFor();
    expect((await t.api("/api/triggeredwebjobs/uploaded")).status).toBe(404);
  });

  it("closes its streams when the user leaves a page", async () => {
    const run = await runToEnd(t, "greeter");
    await page.goto(`${t.url}/#/jobs/triggered/greeter/runs/${run.id}`);
    await page.locator("#log", { hasText: "hello" }).waitFor();
    await waitFor(async () => (await subscribers()) === 1, 5000, "one live stream");
    await page.goto("about:blank");
    await waitFor(async () => (await subscribers()) === 0, 5000, "the live stream to close");
  });
});

describe("accessibility and layout", () => {
  const pages = [
    "#/",
    "#/jobs/triggered/greeter",
    "#/jobs/continuous/worker",
    "#/history",
    "#/deploy",
    "#/tokens",
    "#/users",
    "#/settings",
    "#/audit",
  ];

  for (const scheme of ["light", "dark"] as const) {
    it(`has no serious or critical axe-core violations in ${scheme} mode`, async () => {
      const run = await runToEnd(t, "greeter");
      const view = await context.newPage();
      await view.emulateMedia({ colorScheme: scheme });
      for (const hash of [...pages, `#/jobs/triggered/greeter/runs/${run.id}`]) {
        await view.goto(`${t.url}/${hash}`);
        await view.locator("main h1").waitFor();
        await view.locator("main :text('Loading…')").waitFor({ state: "detached" });
        expect({ hash, violations: await seriousAxeViolations(view) }).toEqual({ hash, violations: [] });
      }
      await view.close();
    });
  }

  it("fits a 375 px wide screen without horizontal scrolling", async () => {
    const run = await runToEnd(t, "greeter");
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 } });
    const view = await phone.newPage();
    await logInThroughPage(view, t.url, USER, PASSWORD);
    for (const hash of [...pages, `#/jobs/triggered/greeter/runs/${run.id}`]) {
      await view.goto(`${t.url}/${hash}`);
      await view.locator("main h1").waitFor();
      await view.locator("main :text('Loading…')").waitFor({ state: "detached" });
      expect({ hash, overflows: await overflowsHorizontally(view) }).toEqual({ hash, overflows: false });
    }
    await phone.close();
  });

  it("can be used from the keyboard", async () => {
    await page.goto(`${t.url}/#/jobs/triggered/greeter`);
    await page.getByRole("textbox", { name: "arguments" }).waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.getByRole("textbox", { name: "arguments" }).focus();
    await page.keyboard.type("by keys");
    await page.keyboard.press("Enter");
    await page.locator("tbody tr", { hasText: "" }).first().waitFor();
    await waitFor(async () => {
      const runs = (await (await t.api("/api/triggeredwebjobs/greeter/history")).json()) as {
        runs: { arguments: string }[];
      };
      return runs.runs[0]?.arguments === "by keys";
    });
  });
});
