import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, logInThroughPage } from "../support/browser.ts";
import { PASSWORD, USER, deployScript, startHost, waitFor, type TestHost } from "../support/host.ts";

let t: TestHost;
let browser: Browser;
let attacker: Server;
let attackerUrl: string;

// A page on another site that tries what a forged request can: a form POST, no-cors fetches.
function attackPage(target: string): string {
  return `<!doctype html><title>cat pictures</title>
<iframe name="sink"></iframe>
<form id="run" method="POST" target="sink" action="${target}/api/triggeredwebjobs/greeter/run?arguments=evil"></form>
<script>
  document.getElementById("run").submit();
  const opts = { method: "POST", mode: "no-cors", credentials: "include" };
  fetch("${target}/api/continuouswebjobs/worker/stop", opts);
  fetch("${target}/api/tokens", { ...opts, headers: { "content-type": "text/plain" }, body: '{"label":"evil"}' });
</script>`;
}

beforeAll(async () => {
  t = await startHost();
  await deployScript(t, "triggered", "greeter", "run.sh", 'echo "hello $1"\n');
  await deployScript(t, "continuous", "worker", "run.sh", "while true; do sleep 0.2; done\n");
  // Another site: a different loopback address, so the browser sees a cross-site request.
  attacker = createServer((_request, response) => {
    response.setHeader("content-type", "text/html");
    response.end(attackPage(t.url));
  });
  await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.2", resolve));
  attackerUrl = `http://127.0.0.2:${(attacker.address() as AddressInfo).port}/`;
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => attacker?.close(resolve));
  await t.stop();
});

describe("cross-site request forgery", () => {
  it("a page on another site cannot change anything, even in a browser holding the credentials", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // The user has the dashboard open: the browser holds the session cookie for the host.
    await logInThroughPage(page, t.url, USER, PASSWORD);
    await page.goto(t.url);
    await page.getByRole("link", { name: "greeter" }).waitFor();

    const answers = new Map<string, number | "blocked">();
    page.on("response", (response) => {
      if (response.url().startsWith(t.url)) answers.set(new URL(response.url()).pathname, response.status());
    });
    // The host's security headers (Cross-Origin-Resource-Policy, frame-ancestors) also stop the
    // browser from handing the refusal to the other site: such an answer shows as blocked.
    page.on("requestfailed", (request) => {
      if (
        request.url().startsWith(t.url) &&
        /ERR_BLOCKED_BY_RESPONSE/.test(request.failure()?.errorText ?? "")
      ) {
        answers.set(new URL(request.url()).pathname, "blocked");
      }
    });
    await page.goto(attackerUrl);
    await waitFor(() => answers.size === 3 || undefined, 10_000);
    for (const [path, answer] of answers) expect([403, "blocked"], path).toContain(answer);
    expect([...answers.keys()].sort()).toEqual([
      "/api/continuouswebjobs/worker/stop",
      "/api/tokens",
      "/api/triggeredwebjobs/greeter/run",
    ]);

    expect(await (await t.api("/api/triggeredwebjobs/greeter/history")).json()).toMatchObject({ runs: [] });
    const worker = (await (await t.api("/api/continuouswebjobs/worker")).json()) as { status: string };
    expect(worker.status).toBe("Running");
    expect(await t.host.store.listCredentials("token")).toEqual([]);
    await context.close();
  });

  it("the dashboard's own requests still change state", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await logInThroughPage(page, t.url, USER, PASSWORD);
    await page.goto(`${t.url}/#/jobs/triggered/greeter`);
    await page.getByRole("textbox", { name: "arguments" }).fill("friend");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    // The run the page started exists, with the arguments typed.
    await waitFor(async () => {
      const { runs } = (await (await t.api("/api/triggeredwebjobs/greeter/history")).json()) as {
        runs: { arguments: string }[];
      };
      return runs.some((run) => run.arguments === "friend") || undefined;
    });
    await context.close();
  });

  it("judges by Sec-Fetch-Site and Origin, and leaves clients that are not browsers alone", async () => {
    const stop = (headers: Record<string, string>) =>
      t.api("/api/continuouswebjobs/worker/stop", { method: "POST", headers });
    const start = (headers: Record<string, string>) =>
      t.api("/api/continuouswebjobs/worker/start", { method: "POST", headers });
    const forged: Record<string, string>[] = [
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { origin: "http://evil.example" },
      { origin: "null" },
      { origin: t.url.replace("127.0.0.1", "localhost") },
    ];
    for (const headers of forged) {
      const refused = await stop(headers);
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      const body = (await refused.json()) as { code: string; error: string };
      expect(body.code).toBe("cross_site_request");
      expect(body.error).toMatch(/^Refused a POST from another origin/);
    }
    // Without credentials too: refused before any login prompt.
    const anonymous = await fetch(`${t.url}/api/tokens`, {
      method: "POST",
      headers: { origin: "http://x.test" },
    });
    expect(anonymous.status).toBe(403);
    // Reads stay readable (a cross-site page cannot read the answers anyway).
    expect((await t.api("/api/webjobs", { headers: { "sec-fetch-site": "cross-site" } })).status).toBe(200);

    expect((await stop({ "sec-fetch-site": "same-origin", origin: t.url })).status).toBe(200);
    expect((await start({ origin: t.url })).status).toBe(200);
    expect((await stop({})).status).toBe(200); // curl, the CLI, Kudu tools: no browser headers
    expect((await start({ "sec-fetch-site": "none" })).status).toBe(200);
  });
});
