/**
 * Continuous-job benchmark (issue: "bench/continuous").
 *
 * 1. Restart latency after a crash: a node job prints `up <ms>`, runs 1.1 s (a stable run, so the
 *    back-off is reset to WEBJOBS_RESTART_BACKOFF_MS = 0) and exits with code 3 after printing
 *    `bye <ms>`. Latency = next `up` − previous `bye`, both stamped by the job itself. Baseline:
 *    the same script restarted by a bare spawn-on-exit loop in this process.
 * 2. The host's idle CPU (% of one core over 10 s) and RSS with 100 sleeping continuous jobs,
 *    against the same host with no job (measured first, then the jobs, then the restarts).
 *
 * Run: npm run bench:continuous   (RESTARTS=20 JOBS=100 to change the counts)
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startBenchHost } from "./bench-host.ts";
import { percentileRow, printTable } from "./report.ts";

const RESTARTS = Number(process.env.RESTARTS ?? 20);
const JOBS = Number(process.env.JOBS ?? 100);
const CRASHER =
  "console.log('up', Date.now());\nsetTimeout(() => { console.log('bye', Date.now()); process.exit(3); }, 1100);\n";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Gaps between each `bye <ms>` and the following `up <ms>` in a text. */
function gaps(text: string): number[] {
  const stamps = [...text.matchAll(/\b(up|bye) (\d{13})/g)].map((m) => ({ kind: m[1], at: Number(m[2]) }));
  const result: number[] = [];
  for (let i = 1; i < stamps.length; i++) {
    if (stamps[i - 1].kind === "bye" && stamps[i].kind === "up") result.push(stamps[i].at - stamps[i - 1].at);
  }
  return result;
}

async function bareRestarts(script: string, count: number): Promise<number[]> {
  let output = "";
  for (let i = 0; i <= count; i++) {
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [script], {
        stdio: ["ignore", "pipe", "inherit"],
        detached: true,
      });
      child.stdout.on("data", (d) => (output += d));
      child.once("exit", () => resolve());
    });
  }
  return gaps(output);
}

async function idleCpu(seconds: number): Promise<{ cpuPercent: number; rssMiB: number }> {
  const before = process.cpuUsage();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const used = process.cpuUsage(before);
  const elapsed = performance.now() - t0;
  return {
    cpuPercent: ((used.user + used.system) / 1000 / elapsed) * 100,
    rssMiB: process.memoryUsage().rss / 1024 / 1024,
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-bench-continuous-"));
  const { host, auth } = await startBenchHost(dir, { restartBackoffMs: 0, stableRunSec: 1 });
  const deploy = async (name: string, filename: string, body: string) => {
    const response = await fetch(`${host.url}/api/continuouswebjobs/${name}`, {
      method: "PUT",
      headers: { authorization: auth, "content-disposition": `attachment; filename=${filename}` },
      body,
    });
    if (response.status !== 200)
      throw new Error(`deploy ${name}: ${response.status} ${await response.text()}`);
  };
  const waitRunning = async (count: number) => {
    for (;;) {
      const jobs = (await (
        await fetch(`${host.url}/api/continuouswebjobs`, { headers: { authorization: auth } })
      ).json()) as { status: string }[];
      if (jobs.filter((j) => j.status === "Running").length === count) return;
      await sleep(200);
    }
  };
  try {
    // 0. The host alone, for the idle baseline; warmed up first (one job deployed, run and
    //    deleted) so that loading code is not counted against the empty host.
    await deploy("warmup", "run.sh", "exec sleep 100000\n");
    await waitRunning(1);
    await fetch(`${host.url}/api/continuouswebjobs/warmup`, {
      method: "DELETE",
      headers: { authorization: auth },
    });
    // A one-off burst of background work (V8) comes some seconds after start: let it pass.
    await sleep(12_000);
    const empty = await idleCpu(10);

    // 1. Idle cost of many sleeping jobs.
    for (let i = 0; i < JOBS; i++) await deploy(`sleeper${i}`, "run.sh", "exec sleep 100000\n");
    await waitRunning(JOBS);
    await sleep(1000);
    const busy = await idleCpu(10);

    // 2. Restart latency.
    const script = path.join(dir, "crasher.js");
    await writeFile(script, CRASHER);
    const bare = await bareRestarts(script, RESTARTS);
    await deploy("crasher", "crasher.js", CRASHER);
    const log = host.paths.continuousLog("crasher");
    let hosted: number[] = [];
    while (hosted.length < RESTARTS) {
      await sleep(500);
      hosted = gaps(await readFile(log, "utf8").catch(() => ""));
    }
    await fetch(`${host.url}/api/continuouswebjobs/crasher`, {
      method: "DELETE",
      headers: { authorization: auth },
    });

    const rows = [
      ["", "webjobs", "baseline", "ratio"],
      percentileRow("restart after exit, median", hosted, bare, 50),
      percentileRow("restart after exit, p99", hosted, bare, 99),
      [
        `host CPU, idle, ${JOBS} jobs vs none`,
        `${busy.cpuPercent.toFixed(2)} %`,
        `${empty.cpuPercent.toFixed(2)} %`,
        (busy.cpuPercent / empty.cpuPercent).toFixed(2),
      ],
      [
        `host RSS, ${JOBS} jobs vs none`,
        `${busy.rssMiB.toFixed(1)} MiB`,
        `${empty.rssMiB.toFixed(1)} MiB`,
        (busy.rssMiB / empty.rssMiB).toFixed(2),
      ],
    ];
    printTable(
      `bench/continuous: ${RESTARTS} restarts (baseline: bare spawn-on-exit loop), ${JOBS} sleeping jobs, Node ${process.version}, ${os.cpus().length} cores`,
      rows,
    );
  } finally {
    await host.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
