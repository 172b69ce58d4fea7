/**
 * bench/dashboard: the dashboard with 1,000 jobs and 10,000 runs (JOBS, RUNS to change).
 *
 * 1. Time to the first useful render in headless Chromium, from navigation to the first rows of
 *    the jobs list and of the history page (median of 5 loads each, a new browser context each
 *    time, logged in through the login page first).
 * 2. Requests/s and latency of the jobs list endpoint (`GET /api/webjobs`, no If-None-Match: every
 *    request renders) at 20 concurrent clients, next to a static file of the same size served by
 *    the same server (`/vfs/data/jobs/…`), measured with autocannon for 10 s each.
 */
import chromium from "@sparticuz/chromium";
import autocannon from "autocannon";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium as playwright } from "playwright-core";
import { runIdFor } from "../packages/host/src/runs/kudu-format.ts";
import { RunStatus } from "../packages/host/src/store/types.ts";
import { logInThroughPage } from "../packages/host/test/support/browser.ts";
import { startBenchHost } from "./bench-host.ts";
import { percentile, printTable } from "./report.ts";

const JOBS = Number(process.env.JOBS ?? 1000);
const RUNS = Number(process.env.RUNS ?? 10_000);
const LOADS = 5;

async function load(url: string, duration = 10) {
  const result = await autocannon({ ...url2(url), connections: 20, duration });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx,
  };
}
let authorization = "";
const url2 = (url: string) => ({ url, headers: { authorization } });

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-bench-dashboard-"));
  const source = path.join(dir, "job");
  await mkdir(source);
  await writeFile(path.join(source, "run.sh"), "echo hello\n");
  const { host, auth } = await startBenchHost(dir, { historySize: 100 });
  authorization = auth;
  const browser = await playwright.launch({
    executablePath: await chromium.executablePath(),
    args: [
      ...chromium.args.filter((arg) => !["--disable-web-security", "--single-process"].includes(arg)),
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
    ],
    headless: true,
  });
  try {
    const names = Array.from({ length: JOBS }, (_, i) => `job${String(i).padStart(5, "0")}`);
    for (let i = 0; i < names.length; i += 8) {
      await Promise.all(
        names
          .slice(i, i + 8)
          .map((name) => host.registry.deploy("triggered", name, { kind: "dir", path: source })),
      );
    }
    // A history: RUNS finished runs spread over the jobs and the last days.
    const now = Date.now();
    for (let i = 0; i < RUNS; i++) {
      const start = new Date(now - (RUNS - i) * 30_000);
      const failed = i % 7 === 0;
      await host.store.insertRun({
        jobName: names[i % JOBS],
        id: runIdFor(start),
        status: failed ? RunStatus.Failed : RunStatus.Success,
        reason: failed ? "exit code 1" : null,
        trigger: "External - bench",
        arguments: "",
        version: "v",
        instanceId: host.instanceId,
        startTime: start,
        endTime: new Date(start.getTime() + 1234),
        exitCode: failed ? 1 : 0,
        signal: null,
        cpuMs: 12,
        peakRssBytes: 4_000_000,
        pid: null,
        scheduledTime: null,
        attempt: null,
      });
    }

    const renders = async (route: string, rows: string) => {
      const times: number[] = [];
      for (let i = 0; i < LOADS; i++) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await logInThroughPage(page, host.url, "bench", "bench-password");
        await page.goto("about:blank");
        const started = performance.now();
        await page.goto(`${host.url}/${route}`);
        await page.locator(rows).first().waitFor({ timeout: 30_000 });
        times.push(performance.now() - started);
        await context.close();
      }
      return times;
    };
    const jobsRender = await renders("", "table tbody tr");
    const historyRender = await renders("#/history", "table.runs tbody tr");

    const list = await (await fetch(`${host.url}/api/webjobs`, { headers: { authorization } })).arrayBuffer();
    const staticFile = path.join(host.paths.jobsData, "triggered", names[0], "static.json");
    await mkdir(path.dirname(staticFile), { recursive: true });
    await writeFile(staticFile, Buffer.from(list));
    const api = await load(`${host.url}/api/webjobs`);
    const file = await load(`${host.url}/vfs/data/jobs/triggered/${names[0]}/static.json`);

    printTable(
      `bench/dashboard: ${JOBS} jobs, ${RUNS} runs, Node ${process.version}, ${os.cpus().length} cores`,
      [
        ["first useful render (median of 5)", "ms"],
        ["jobs list", percentile(jobsRender, 50).toFixed(0)],
        ["history", percentile(historyRender, 50).toFixed(0)],
      ],
    );
    console.log("");
    printTable(
      `GET /api/webjobs (${(list.byteLength / 1024).toFixed(0)} KiB) at 20 concurrent clients, 10 s`,
      [
        ["", "jobs list", "static file, same size", "ratio"],
        ["requests/s", api.rps.toFixed(0), file.rps.toFixed(0), (api.rps / file.rps).toFixed(2)],
        ["latency p50", `${api.p50} ms`, `${file.p50} ms`, (api.p50 / file.p50).toFixed(2)],
        ["latency p99", `${api.p99} ms`, `${file.p99} ms`, (api.p99 / file.p99).toFixed(2)],
        ["non-2xx", String(api.errors), String(file.errors), ""],
      ],
    );
  } finally {
    await browser.close();
    await host.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
