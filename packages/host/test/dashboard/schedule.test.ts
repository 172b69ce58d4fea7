import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, logInThroughPage, requireBuiltDashboard } from "../support/browser.ts";
import { PASSWORD, USER, deployScript, startHost, type TestHost } from "../support/host.ts";

// The schedule form needs the host's schedule endpoints; on a host without them the tests skip.
let t: TestHost;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  requireBuiltDashboard();
  t = await startHost();
  await deployScript(t, "triggered", "tick", "run.sh", "echo tick\n");
  browser = await launchBrowser();
  const context = await browser.newContext();
  page = await context.newPage();
  await logInThroughPage(page, t.url, USER, PASSWORD);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

describe("schedule form", () => {
  it("previews the next runs as the user types and shows the host's message for a bad schedule", async () => {
    await page.goto(`${t.url}/#/jobs/triggered/tick`);
    await page.getByLabel("Recurring").check();
    await page.getByLabel("Every").fill("5");
    await page.getByLabel("Unit").selectOption("Minute");
    await page.locator("ol.next-runs li").nth(4).waitFor();

    await page.getByLabel("Cron expression").check();
    await page.getByLabel(/NCRONTAB/).fill("0 */5 * * *");
    const refused = (await (
      await t.api("/api/schedule/preview", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ schedule: "0 */5 * * *", count: 5 }),
      })
    ).json()) as { error: string };
    await page.getByRole("alert").filter({ hasText: refused.error }).waitFor();

    await page.getByLabel(/NCRONTAB/).fill("0 */5 * * * *");
    await page.locator("ol.next-runs li").nth(4).waitFor();
    await page.getByRole("button", { name: "Save schedule" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    const job = (await (await t.api("/api/triggeredwebjobs/tick")).json()) as {
      settings: { schedule: unknown };
    };
    expect(job.settings.schedule).toBe("0 */5 * * * *");
  });

  it("shows the job as scheduled, in plain words with its next run, and pauses and resumes it", async () => {
    const job = (await (await t.api("/api/triggeredwebjobs/tick")).json()) as {
      schedule_description?: string;
    };
    await page.goto(t.url);
    const row = page.locator("tr", { hasText: "tick" });
    await row.getByText("scheduled").waitFor();
    if (job.schedule_description) await row.getByText(job.schedule_description).waitFor();
    await row.getByText(/next in/).waitFor();

    await page.goto(`${t.url}/#/jobs/triggered/tick`);
    await page.getByRole("button", { name: "Pause schedule" }).click();
    await page.getByRole("button", { name: "Resume schedule" }).click();
    await page.getByRole("button", { name: "Pause schedule" }).waitFor();
  });
});
