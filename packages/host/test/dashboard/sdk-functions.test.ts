import { QueueServiceClient } from "@azure/storage-queue";
import { build } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "../../../sdk/test/support/azurite.ts";
import { launchBrowser, logInThroughPage, requireBuiltDashboard } from "../support/browser.ts";
import { PASSWORD, USER, deployZip, makeZip, startHost, waitFor, type TestHost } from "../support/host.ts";

const sdk = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "sdk");

/** The SDK's host fixture bundled into one file, as the SDK's README tells users to ship a job. */
async function bundledJob(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(sdk, "test", "fixtures", "host-job.mjs")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    write: false,
    alias: { "webjobs-sdk": path.join(sdk, "src", "index.ts") },
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

let azurite: Azurite;
let t: TestHost;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  requireBuiltDashboard();
  azurite = await startAzurite();
  // Jobs inherit the host's environment: the connection reaches the job like an app setting.
  process.env.AzureWebJobsStorage = azurite.connectionString;
  t = await startHost();
  browser = await launchBrowser();
  page = await (await browser.newContext()).newPage();
  await logInThroughPage(page, t.url, USER, PASSWORD);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await azurite?.stop();
  delete process.env.AzureWebJobsStorage;
});

describe("the functions page of a job using webjobs-sdk", () => {
  it("is linked from the job, lists its functions, and shows a new invocation with its details and log", async () => {
    const queue = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient("images");
    await queue.create();
    const zip = await makeZip({ "run.js": await bundledJob(), "package.json": '{ "type": "module" }' });
    expect((await deployZip(t, "continuous", "thumbs", zip)).status).toBeLessThan(300);
    await waitFor(
      async () => {
        const job = (await (await t.api("/api/continuouswebjobs/thumbs")).json()) as { using_sdk: boolean };
        return job.using_sdk || undefined;
      },
      20_000,
      "using_sdk",
    );

    // The page's clock is Playwright's: time can jump forward to show that no timer polls the API.
    await page.clock.install();
    await page.goto(`${t.url}/#/jobs/continuous/thumbs`);
    await page.reload();
    await page.getByRole("link", { name: /Functions and invocations/ }).click();
    await page.getByRole("heading", { name: "Functions of thumbs" }).waitFor();
    await page.getByRole("link", { name: "thumbnails", exact: true }).waitFor({ timeout: 15_000 });
    await page.getByText("No invocations yet.").waitFor();

    // Idle, the page asks nothing: 10 s pass in the page (the old 2 s refresh would have asked 5 times
    // for each list), then a request of the page's own marks the end of what it sent before.
    const asked: string[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname.includes("/functions")) asked.push(request.url());
    });
    await page.clock.fastForward("00:10");
    await page.evaluate(() =>
      fetch("/api/session", { headers: { "x-requested-with": "webjobs-dashboard" } }),
    );
    expect(asked).toEqual([]);

    // The page was open before the message: the invocation appears by itself, pushed by the host
    // on the page's event stream.
    const sent = await queue.sendMessage(Buffer.from(JSON.stringify({ name: "cat" })).toString("base64"));
    const item = page.locator("li.invocation", { hasText: '{"name":"cat"}' });
    await item.getByText("Succeeded").waitFor({ timeout: 15_000 });
    expect(asked.length).toBeGreaterThan(0);
    // One stream for the page (the one of the page before the reload may take a moment to close).
    const app = await t.host.http();
    await waitFor(() => app.live.subscribers === 1 || undefined, 5000, "one live-event stream");
    await item.locator("summary").click();
    await item.getByText(sent.messageId).waitFor();
    await item.getByText(/making a thumbnail of cat/).waitFor();

    // Caused by: the blob it wrote triggered thumbnailSize; the link opens that invocation, which
    // links back.
    await item.getByRole("link", { name: /thumbnailSize/ }).click();
    await page.getByRole("heading", { name: "Recent invocations of thumbnailSize" }).waitFor();
    const child = page.locator("li.invocation details[open]");
    await child.getByText(/thumbnail of \d+ bytes/).waitFor();
    await child.getByRole("link", { name: /thumbnails/ }).click();
    await page.getByRole("heading", { name: "Recent invocations of thumbnails" }).waitFor();
    await page.locator("li.invocation details[open]").getByText(sent.messageId).waitFor();
    const row = page
      .getByRole("row")
      .filter({ has: page.getByRole("link", { name: "thumbnails", exact: true }) });
    expect(await row.locator("td").nth(2).textContent()).toBe("1");

    // A failure shows its error.
    await queue.sendMessage(Buffer.from(JSON.stringify({ name: "broken" })).toString("base64"));
    const failed = page.locator("li.invocation", { hasText: '{"name":"broken"}' }).first();
    await failed.getByText("Failed").first().waitFor({ timeout: 15_000 });
    await failed.locator("summary").click();
    await failed
      .getByText(/cannot read the image/)
      .first()
      .waitFor();

    // Leaving the dashboard closes its one stream.
    await page.goto("about:blank");
    await waitFor(() => app.live.subscribers === 0, 10_000, "the stream closed");

    expect((await t.api("/api/continuouswebjobs/thumbs/stop", { method: "POST" })).ok).toBe(true);
  });
});
