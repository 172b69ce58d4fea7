import chromium from "@sparticuz/chromium";
import { chromium as playwright, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, USER, deployScript, startHost, type TestHost } from "../support/host.ts";

let t: TestHost;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  t = await startHost();
  await deployScript(t, "triggered", "greeter", "run.sh", 'echo "hello $1"\n');
  await deployScript(t, "continuous", "worker", "run.sh", "echo working\nwhile true; do sleep 0.2; done\n");
  browser = await playwright.launch({
    executablePath: await chromium.executablePath(),
    args: [...chromium.args, "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    headless: true,
  });
  const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD } });
  page = await context.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t.stop();
});

describe("dashboard in a real browser", () => {
  it("lists the jobs, runs one with arguments and shows its log and details", async () => {
    await page.goto(t.url);
    await page.getByRole("link", { name: "greeter" }).waitFor();
    expect(await page.locator("tr", { hasText: "greeter" }).textContent()).toContain("never run");
    expect(await page.locator("tr", { hasText: "worker" }).textContent()).toContain("continuous");

    await page.getByRole("link", { name: "greeter" }).click();
    await page.getByRole("textbox", { name: "arguments" }).fill("world");
    await page.getByRole("button", { name: "Run" }).click();

    await page.locator("#log", { hasText: "hello world" }).waitFor();
    await page.locator(".status.Success").waitFor();
    expect(await page.locator("dl").textContent()).toContain("Exit code0");
    await page.getByRole("button", { name: "Hide log" }).click();
    expect(await page.locator("#log").isHidden()).toBe(true);
    expect(await page.getByRole("link", { name: "Download log" }).getAttribute("href")).toMatch(
      /\/output_log\.txt$/,
    );

    await page.getByRole("link", { name: "greeter" }).click();
    await page.locator("tbody tr .status.Success").first().waitFor();
  });

  it("stops and starts a continuous job and follows its log", async () => {
    await page.goto(`${t.url}/#/jobs/continuous/worker`);
    await page.locator("#log", { hasText: "working" }).waitFor();
    await page.getByRole("button", { name: "Stop" }).click();
    await page.locator(".status.Stopped").first().waitFor();
    await page.getByRole("button", { name: "Start" }).click();
    await page.locator(".status.Running").first().waitFor();
  });

  it("deploys a script from the upload form", async () => {
    await page.goto(t.url);
    await page.getByRole("textbox", { name: "job name" }).fill("uploaded");
    await page.getByLabel("zip or script").setInputFiles({
      name: "run.py",
      mimeType: "text/x-python",
      buffer: Buffer.from("print('from the browser')\n"),
    });
    await page.getByRole("button", { name: "Deploy" }).click();
    await page.locator("h1", { hasText: "uploaded" }).waitFor();
    expect(await page.locator("dl").textContent()).toContain("run.py");
    await page.getByRole("button", { name: "Run" }).click();
    await page.locator("#log", { hasText: "from the browser" }).waitFor();
  });

  it("asks for credentials", async () => {
    const response = await fetch(t.url);
    expect(response.status).toBe(401);
  });
});
