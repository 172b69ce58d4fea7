import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { launchBrowser, logInThroughPage, requireBuiltDashboard } from "../support/browser.ts";
import { PASSWORD, USER, startHost, type TestHost } from "../support/host.ts";

let t: TestHost;
let browser: Browser;
beforeAll(async () => {
  requireBuiltDashboard();
  t = await startHost({ instanceId: "page-host" });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

describe("the dashboard's Instances page", () => {
  it("lists the host with its state, URL and load", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await logInThroughPage(page, t.url, USER, PASSWORD);
    await page.getByRole("link", { name: "Instances" }).click();
    await page.getByRole("heading", { name: "Instances" }).waitFor();
    const row = page.locator("tbody tr", { hasText: "page-host" });
    await row.waitFor();
    const cells = await row.locator("td").allTextContents();
    expect(cells.slice(0, 5)).toEqual(["page-host", "Live", expect.any(String), t.url, "0"]);
    await context.close();
  }, 30_000);
});
