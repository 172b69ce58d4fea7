/**
 * bench/schedule: the cost of schedules.
 *
 * 1. Fire lateness: FIRING jobs (default 1,200) among JOBS scheduled jobs (default 10,000) fire
 *    RATE times a second in total (default 20) for SECONDS (default 60); lateness is the time from
 *    the due instant to the job's process being spawned (the runner's `Running` event). Baseline:
 *    the same due instants served by plain timers and `spawn` of the same script in this process
 *    (own process group, output piped, as the host does), with no host running.
 * 2. Idle CPU (% of one core over 10 s) and RSS of `webjobs serve` processes: with no jobs, with
 *    JOBS jobs without schedules, and with JOBS scheduled jobs: what the schedules themselves cost.
 *
 * The lateness host runs in this process (its runner's events give the spawn time).
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fingerprintDir } from "../packages/host/src/jobs/fingerprint.ts";
import { HostPaths } from "../packages/host/src/paths.ts";
import { SqliteStore } from "../packages/host/src/store/sqlite.ts";
import { freePort } from "../packages/host/test/support/serve-process.ts";
import { startBenchHost } from "./bench-host.ts";
import { percentileRow, printTable } from "./report.ts";

const JOBS = Number(process.env.JOBS ?? 10_000);
const RATE = Number(process.env.RATE ?? 20);
const SECONDS = Number(process.env.SECONDS ?? 60);
const FIRING = RATE * SECONDS;
const SCRIPT = "exit 0\n";
/** The firing window starts this many seconds after the jobs are laid out. */
const WINDOW_IN = Number(process.env.WINDOW_IN ?? 90);

/** `S M H * * *` in UTC for an instant: a daily schedule that fires at that second. */
const dailyAt = (instant: Date) =>
  `${instant.getUTCSeconds()} ${instant.getUTCMinutes()} ${instant.getUTCHours()} * * *`;

/** RATE due instants per second for SECONDS seconds, from the whole second `start`. */
function dueInstants(start: number): number[] {
  const instants: number[] = [];
  for (let second = 0; second < SECONDS; second++)
    for (let i = 0; i < RATE; i++) instants.push(start + second * 1000);
  return instants;
}

const bin = path.resolve(import.meta.dirname, "../packages/host/bin/webjobs.js");

/** A `webjobs serve` process on `dataDir`: its CPU (% of a core over `seconds`, once settled) and RSS. */
async function idleServe(dataDir: string, seconds: number): Promise<{ cpuPercent: number; rssMiB: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [bin, "serve", "--port", String(port), "--data", dataDir], {
    env: {
      ...process.env,
      WEBJOBS_USERNAME: "bench",
      WEBJOBS_PASSWORD: "bench-password",
      WEBJOBS_LOG_LEVEL: "warn",
    },
    stdio: "ignore",
  });
  try {
    for (;;) {
      const up = await fetch(`http://127.0.0.1:${port}/api/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (child.exitCode !== null) throw new Error("webjobs serve exited");
      await sleep(200);
    }
    await sleep(15_000); // start-up work (arming, the folder watcher's first scan, V8's clean-up) passes
    const ticks = async () => {
      const fields = (await readFile(`/proc/${child.pid}/stat`, "utf8")).split(") ")[1].split(" ");
      return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100 a second)
    };
    const before = await ticks();
    const started = performance.now();
    await sleep(seconds * 1000);
    const used = (await ticks()) - before;
    const status = await readFile(`/proc/${child.pid}/status`, "utf8");
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
    return { cpuPercent: ((used * 10) / (performance.now() - started)) * 100, rssMiB: rssKiB / 1024 };
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }
}

/** Plain timers + spawn: one timer per due instant, lateness measured when spawn returns. */
async function baseline(script: string, instants: number[]): Promise<number[]> {
  const lateness: number[] = [];
  const exits: Promise<void>[] = [];
  await Promise.all(
    instants.map(
      (due) =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            // Like the host: its own process group, output captured through pipes.
            const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"], detached: true });
            lateness.push(Date.now() - due);
            child.stdout.resume();
            child.stderr.resume();
            exits.push(new Promise((done) => child.once("exit", () => done())));
            resolve();
          }, due - Date.now()),
        ),
    ),
  );
  await Promise.all(exits);
  return lateness;
}

/**
 * Lays out JOBS triggered jobs as the host would have installed them (store rows, version
 * folders, site folders with their fingerprints) before it starts: installing 10,000 jobs one by
 * one through the API is another benchmark's business (bench/deploy).
 */
async function installJobs(dataDir: string, schedules: (string | null)[]): Promise<void> {
  const paths = new HostPaths(dataDir, path.join(dataDir, "site"));
  const store = new SqliteStore(paths.database);
  await store.migrate();
  const now = new Date();
  for (let i = 0; i < schedules.length; i++) {
    const name = jobName(i);
    const schedule = schedules[i];
    const settings = schedule === null ? {} : { schedule, time_zone: "UTC" };
    for (const dir of [paths.version("triggered", name, "v1"), paths.siteJob("triggered", name)]) {
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, "run.sh"), SCRIPT);
      await writeFile(path.join(dir, "settings.job"), JSON.stringify(settings));
    }
    await store.upsertJob({
      type: "triggered",
      name,
      version: "v1",
      script: "run.sh",
      settings,
      error: null,
      desiredState: "running",
      sourceFingerprint: await fingerprintDir(paths.siteJob("triggered", name)),
      createdAt: now,
      updatedAt: now,
    });
  }
  await store.close();
}

const jobName = (i: number) => `job${String(i).padStart(5, "0")}`;

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-bench-schedule-"));
  const script = path.join(dir, "run.sh");
  await writeFile(script, SCRIPT);

  // 1. Baseline lateness, with no host running.
  const baseStart = Math.ceil(Date.now() / 1000) * 1000 + 2000;
  const bare = await baseline(script, dueInstants(baseStart));

  // 2. Idle CPU and RSS of `webjobs serve`: no jobs; JOBS jobs without schedules; JOBS with schedules
  //    (daily, an hour ago: they do not fire while measured).
  const dormant = dailyAt(new Date(Date.now() - 3600_000));
  await installJobs(
    path.join(dir, "plain", "data"),
    Array.from({ length: JOBS }, () => null),
  );
  await installJobs(
    path.join(dir, "scheduled", "data"),
    Array.from({ length: JOBS }, (_, i) =>
      i % 2 === 0 ? dormant : `${i % 60} ${(i >> 6) % 60} ${i % 24} * * *`,
    ),
  );
  const empty = await idleServe(path.join(dir, "empty", "data"), 10);
  const plain = await idleServe(path.join(dir, "plain", "data"), 10);
  const scheduled = await idleServe(path.join(dir, "scheduled", "data"), 10);

  // 3. JOBS scheduled jobs: FIRING of them daily at a second of a window starting in WINDOW_IN
  //    seconds (RATE a second), the others daily an hour ago (they do not fire here).
  const windowStart = Math.ceil(Date.now() / 1000) * 1000 + WINDOW_IN * 1000;
  const instants = dueInstants(windowStart);
  const schedules = Array.from({ length: JOBS }, (_, i) =>
    i < FIRING ? dailyAt(new Date(instants[i])) : dormant,
  );
  const installing = Date.now();
  await installJobs(path.join(dir, "busy", "data"), schedules);
  console.log(`installed ${JOBS} scheduled jobs in ${((Date.now() - installing) / 1000).toFixed(1)} s`);
  const starting = Date.now();
  const { host } = await startBenchHost(path.join(dir, "busy"));
  console.log(`host started with ${JOBS} schedules in ${((Date.now() - starting) / 1000).toFixed(1)} s`);
  try {
    const lateness: number[] = [];
    host.runner.on("status", (run) => {
      if (run.status === "Running" && run.scheduledTime)
        lateness.push(Date.now() - run.scheduledTime.getTime());
    });
    if (Date.now() > windowStart)
      throw new Error(`the host took too long to start: raise WINDOW_IN (${WINDOW_IN} s)`);
    await sleep(windowStart + SECONDS * 1000 + 5000 - Date.now());
    printTable(
      `bench/schedule: ${JOBS} scheduled jobs, ${FIRING} fires (${RATE}/s for ${SECONDS} s; baseline: plain timers + spawn), Node ${process.version}, ${os.cpus().length} cores`,
      [
        ["", "webjobs", "baseline", "ratio"],
        [
          "fires started",
          String(lateness.length),
          String(bare.length),
          (lateness.length / bare.length).toFixed(2),
        ],
        percentileRow("fire lateness, p50", lateness, bare, 50),
        percentileRow("fire lateness, p99", lateness, bare, 99),
      ],
    );
    console.log("");
    printTable(`webjobs serve, idle (10 s, after 15 s of start-up): ${JOBS} jobs with schedules vs without`, [
      ["", "no jobs", `${JOBS} jobs`, `${JOBS} scheduled jobs`, "schedules add"],
      [
        "CPU",
        `${empty.cpuPercent.toFixed(2)} %`,
        `${plain.cpuPercent.toFixed(2)} %`,
        `${scheduled.cpuPercent.toFixed(2)} %`,
        `${(scheduled.cpuPercent - plain.cpuPercent).toFixed(2)} % of a core`,
      ],
      [
        "RSS",
        `${empty.rssMiB.toFixed(1)} MiB`,
        `${plain.rssMiB.toFixed(1)} MiB`,
        `${scheduled.rssMiB.toFixed(1)} MiB`,
        `${(scheduled.rssMiB - plain.rssMiB).toFixed(1)} MiB`,
      ],
    ]);
  } finally {
    await host.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
