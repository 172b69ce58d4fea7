/**
 * bench/schedule: the cost of schedules.
 *
 * 1. Fire lateness: FIRING jobs (default 1,200) among JOBS scheduled jobs (default 10,000) fire
 *    RATE times a second in total (default 20) for SECONDS (default 60); lateness is the time from
 *    the due instant to the job's process being spawned (the runner's `Running` event). Baseline:
 *    the same due instants served by plain timers and `spawn` of the same script in this process
 *    (own process group, output piped, as the host does), with no host running.
 * 2. The host's idle CPU (% of one core over 10 s) and RSS with JOBS schedules defined vs none.
 *
 * Everything is in one process, with one host, as bench/continuous does.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startBenchHost } from "./bench-host.ts";
import { percentileRow, printTable } from "./report.ts";

const JOBS = Number(process.env.JOBS ?? 10_000);
const RATE = Number(process.env.RATE ?? 20);
const SECONDS = Number(process.env.SECONDS ?? 60);
const FIRING = RATE * SECONDS;
const SCRIPT = "exit 0\n";

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

async function idleCpu(seconds: number): Promise<{ cpuPercent: number; rssMiB: number }> {
  const before = process.cpuUsage();
  const started = performance.now();
  await sleep(seconds * 1000);
  const used = process.cpuUsage(before);
  const elapsed = performance.now() - started;
  return {
    cpuPercent: ((used.user + used.system) / 1000 / elapsed) * 100,
    rssMiB: process.memoryUsage().rss / 1024 / 1024,
  };
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

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-bench-schedule-"));
  const source = path.join(dir, "job");
  await mkdir(source);
  await writeFile(path.join(source, "run.sh"), SCRIPT);
  const setSettings = (settings: object) =>
    writeFile(path.join(source, "settings.job"), JSON.stringify(settings));

  // 1. Baseline lateness, with no host running.
  const baseStart = Math.ceil(Date.now() / 1000) * 1000 + 2000;
  const bare = await baseline(path.join(source, "run.sh"), dueInstants(baseStart));

  const { host } = await startBenchHost(dir);
  try {
    // 2. Idle cost of the empty host, warmed up first (one scheduled job deployed and deleted).
    await setSettings({ schedule: "0 0 0 1 1 *" });
    await host.registry.deploy("triggered", "warmup", { kind: "dir", path: source });
    await host.registry.remove("triggered", "warmup");
    await sleep(12_000);
    const empty = await idleCpu(10);

    // 3. JOBS schedules that do not fire during the measure (daily, an hour ago), then idle.
    const dormant = dailyAt(new Date(Date.now() - 3600_000));
    await setSettings({ schedule: dormant, time_zone: "UTC" });
    const created = Date.now();
    const names = Array.from({ length: JOBS }, (_, i) => `job${String(i).padStart(5, "0")}`);
    for (let i = 0; i < names.length; i += 8) {
      await Promise.all(
        names
          .slice(i, i + 8)
          .map((name) => host.registry.deploy("triggered", name, { kind: "dir", path: source })),
      );
    }
    console.log(`deployed ${JOBS} scheduled jobs in ${((Date.now() - created) / 1000).toFixed(1)} s`);
    await sleep(3000);
    const busy = await idleCpu(10);

    // 4. Lateness: FIRING of them get a daily time inside a window starting in 20 s.
    const windowStart = Math.ceil(Date.now() / 1000) * 1000 + 20_000;
    const instants = dueInstants(windowStart);
    const lateness: number[] = [];
    host.runner.on("status", (run) => {
      if (run.status === "Running" && run.scheduledTime)
        lateness.push(Date.now() - run.scheduledTime.getTime());
    });
    for (let i = 0; i < FIRING; i++) {
      await host.registry.updateSettings("triggered", names[i], {
        schedule: dailyAt(new Date(instants[i])),
        time_zone: "UTC",
      });
    }
    if (Date.now() > windowStart) throw new Error("setting the firing schedules took longer than 20 s");
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
    printTable(`host idle, ${JOBS} schedules defined vs none`, [
      ["", `${JOBS} schedules`, "none", "difference"],
      [
        "host CPU, idle",
        `${busy.cpuPercent.toFixed(2)} %`,
        `${empty.cpuPercent.toFixed(2)} %`,
        `${(busy.cpuPercent - empty.cpuPercent).toFixed(2)} % of a core`,
      ],
      [
        "host RSS",
        `${busy.rssMiB.toFixed(1)} MiB`,
        `${empty.rssMiB.toFixed(1)} MiB`,
        `${(busy.rssMiB - empty.rssMiB).toFixed(1)} MiB`,
      ],
    ]);
  } finally {
    await host.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
