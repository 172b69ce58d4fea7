import type { Browser, ConsoleMessage } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, logInThroughPage, requireBuiltDashboard } from "../support/browser.ts";
import {
  PASSWORD,
  USER,
  deployScript,
  runToEnd,
  startHost,
  waitFor,
  type TestHost,
} from "../support/host.ts";

let t: TestHost;
let browser: Browser;

beforeAll(async () => {
  requireBuiltDashboard();
  t = await startHost();
  await deployScript(t, "triggered", "greeter", "run.sh", 'echo "key is $API_KEY"\n');
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

describe("logging in and what each role sees", () => {
  it("sends a page opened without a session to the login page and back; wrong passwords are said; logout ends it", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cspErrors: string[] = [];
    page.on("console", (message: ConsoleMessage) => {
      if (/Content.Security.Policy/i.test(message.text())) cspErrors.push(message.text());
    });
    const run = await runToEnd(t, "greeter");
    // A log link opened in the browser: the host sends it to the login page, which brings it back.
    await page.goto(`${t.url}${new URL(run.output_url as string).pathname}`);
    await page.getByRole("heading", { name: "Log in to webjobs" }).waitFor();
    await page.getByLabel("User name").fill(USER);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("alert").filter({ hasText: "Wrong user name or password." }).waitFor();
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL((url) => url.pathname.endsWith("/output_log.txt"));
    expect(await page.textContent("body")).toContain("key is");

    await page.goto(`${t.url}/#/jobs/triggered/greeter`);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("heading", { name: "Log in to webjobs" }).waitFor();
    await page.goto(`${t.url}/#/history`);
    await page.getByRole("heading", { name: "Log in to webjobs" }).waitFor();
    // The cookie is HttpOnly: no script of the page can read it.
    expect(await page.evaluate(() => document.cookie)).toBe("");
    expect(cspErrors).toEqual([]);
    await context.close();
  });

  it("lets an admin add a user, set a secret and read the audit trail; a reader sees no admin pages", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await logInThroughPage(page, t.url, USER, PASSWORD);

    await page.goto(`${t.url}/#/users`);
    await page.getByLabel("User name").fill("viewer");
    await page.getByLabel("Password").fill("viewer-password");
    await page.getByRole("combobox", { name: "Role", exact: true }).selectOption("reader");
    await page.getByRole("button", { name: "Add user" }).click();
    await page.getByRole("cell", { name: "viewer", exact: true }).waitFor();

    await page.goto(`${t.url}/#/settings?job=greeter`);
    await page.getByLabel("Name").fill("API_KEY");
    await page.getByLabel("Secret").check();
    await page.getByLabel("Value").fill("very-secret-value");
    await page.getByRole("button", { name: "Save setting" }).click();
    await page.getByRole("cell", { name: "API_KEY", exact: true }).waitFor();
    expect(await page.content()).not.toContain("very-secret-value");
    const run = await runToEnd(t, "greeter");
    const log = await (await t.api(new URL(run.output_url as string).pathname)).text();
    expect(log).toContain("key is ***");

    await page.goto(`${t.url}/#/audit`);
    await page.getByRole("cell", { name: "user_add", exact: true }).waitFor();
    await page.getByRole("cell", { name: "app_setting_set", exact: true }).waitFor();
    await context.close();

    const readerContext = await browser.newContext();
    const reader = await readerContext.newPage();
    await logInThroughPage(reader, t.url, "viewer", "viewer-password");
    await reader.getByText("viewer (reader)").waitFor();
    const nav = reader.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "History" }).waitFor();
    expect(await nav.getByRole("link", { name: "Users" }).count()).toBe(0);
    expect(await nav.getByRole("link", { name: "Deploy" }).count()).toBe(0);
    // The host refuses what the page does not offer.
    await reader.goto(`${t.url}/#/audit`);
    await reader.getByRole("alert").filter({ hasText: "needs the admin role" }).waitFor();
    await waitFor(async () => (await t.host.store.auth.listUsers()).length === 2);
    await readerContext.close();
  });
});
