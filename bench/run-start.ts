/**
 * Run-start benchmark (issue: "bench/run-start").
 *
 * 1. Latency: time from the run request (POST on loopback) to the job's first output line in the
 *    run's log file, against a bare `child_process.spawn` of the same script measured to its first
 *    stdout byte, in the same process.
 * 2. Throughput: back-to-back runs of a trivial job (the next starts when the previous has
 *    finished, awaited through the runner's `finished` event), against a bare spawn-and-wait loop.
 *
 * Run: npm run bench:run-start   (RUNS=200 LOOP=1000 to change the counts)
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startBenchHost } from "./bench-host.ts";
import { percentileRow, printTable } from "./report.ts";

const RUNS = Number(process.env.RUNS ?? 200);
const LOOP = Number(process.env.LOOP ?? 1000);
const SCRIPT = "echo ready\n";

function bareFirstLine(script: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let first = 0;
    child.stdout.once("data", () => (first = performance.now() - started));
    child.once("error", reject);
    child.once("close", () => resolve(first));
  });
}

function bareRun(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    child.stdout.resume();
    child.stderr.resume();
    child.once("error", reject);
    child.once("close", () => resolve());
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-bench-"));
  const script = path.join(dir, "run.sh");
  await writeFile(script, SCRIPT);
  const { host, auth } = await startBenchHost(dir, { historySize: 30 });
  try {
    const put = await fetch(`${host.url}/api/triggeredwebjobs/bench`, {
      method: "PUT",
      headers: { authorization: auth, "content-disposition": "attachment; filename=run.sh" },
      body: SCRIPT,
    });
    if (put.status !== 200) throw new Error(`deploy failed: ${put.status} ${await put.text()}`);
    const finished = (id: string) =>
      new Promise<void>((resolve) => {
        const onFinished = (run: { id: string }) => {
          if (run.id === id) {
            host.runner.off("finished", onFinished);
            resolve();
          }
        };
        host.runner.on("finished", onFinished);
      });

    // Warm up both paths.
    for (let i = 0; i < 10; i++) await bareRun(script);

    // 1. Latency to the first output line.
    const hostLatency: number[] = [];
    const bareLatency: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bareLatency.push(await bareFirstLine(script));
      const started = performance.now();
      const response = await fetch(`${host.url}/api/triggeredwebjobs/bench/run`, {
        method: "POST",
        headers: { authorization: auth },
      });
      const id = response.headers.get("location")!.split("/").pop()!;
      const done = finished(id);
      const log = host.paths.runLog("bench", id);
      // Poll the log file every 0.5 ms: the line is there once the host has written it.
      for (;;) {
        const text = await readFile(log, "utf8").catch(() => "");
        if (text.includes("INFO] ready")) break;
        await new Promise((resolve) => setTimeout(resolve, 0.5));
      }
      hostLatency.push(performance.now() - started);
      await done;
    }

    // 2. Throughput.
    let t0 = performance.now();
    for (let i = 0; i < LOOP; i++) await bareRun(script);
    const bareSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    for (let i = 0; i < LOOP; i++) {
      const response = await fetch(`${host.url}/api/triggeredwebjobs/bench/run`, {
        method: "POST",
        headers: { authorization: auth },
      });
      await finished(response.headers.get("location")!.split("/").pop()!);
    }
    const hostSeconds = (performance.now() - t0) / 1000;

    const rows = [
      ["", "webjobs", "bare spawn", "ratio"],
      percentileRow("first line, median", hostLatency, bareLatency, 50),
      percentileRow("first line, p99", hostLatency, bareLatency, 99),
      [
        `${LOOP} runs back to back`,
        `${(LOOP / hostSeconds).toFixed(1)} runs/s`,
        `${(LOOP / bareSeconds).toFixed(1)} runs/s`,
        (bareSeconds / hostSeconds).toFixed(2),
      ],
    ];
    printTable(
      `bench/run-start: ${RUNS} latency samples, ${LOOP} back-to-back runs, Node ${process.version}, ${os.cpus().length} cores`,
      rows,
    );
  } finally {
    await host.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
