import chromium from "@sparticuz/chromium";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium as playwright, type Browser, type Page } from "playwright-core";

const LAUNCH_ATTEMPTS = 3;

/**
 * Headless Chromium as users have it: web security on, several processes. A browser that dies while
 * starting (seen now and then on a loaded 2-core machine) is started again, up to 3 times: that is
 * the browser's trouble, not the product's.
 */
export async function launchBrowser(): Promise<Browser> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await playwright.launch({
        executablePath: await chromium.executablePath(),
        args: [
          ...chromium.args.filter((arg) => !["--disable-web-security", "--single-process"].includes(arg)),
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
        ],
        headless: true,
      });
    } catch (error) {
      if (attempt >= LAUNCH_ATTEMPTS) throw error;
    }
  }
}

/** Fails early with a clear message when the dashboard has not been built. */
export function requireBuiltDashboard(): void {
  const index = new URL("../../../dashboard/dist/index.html", import.meta.url);
  if (!existsSync(index)) throw new Error("packages/dashboard/dist is missing: run `npm run build` first.");
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core's default rules in the page; returns the serious and critical violations. */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the debugging protocol: the host's Content-Security-Policy refuses inline scripts.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (c: Document) => Promise<{ violations: unknown[] }> } })
      .axe;
    return (await axe.run(document)).violations as AxeViolation[];
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
}

/** True when the page scrolls sideways (content wider than the viewport). */
export function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}

/** Logs in through the dashboard's login page; the session cookie then stays in the page's context. */
export async function logInThroughPage(
  page: Page,
  url: string,
  user: string,
  password: string,
): Promise<void> {
  await page.goto(`${url}/#/login`);
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("button", { name: "Log out" }).waitFor();
}
