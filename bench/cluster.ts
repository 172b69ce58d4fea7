/**
 * Cluster benchmark (issue 11: runs placed on the least-loaded instance).
 *
 * Real `webjobs serve` processes (the built host) on one embedded PostgreSQL, 1, 2 and 3 of them,
 * next to one on SQLite. Each job writes a mark file with the time its process started, so the
 * figures are the same wherever a run was placed:
 * 1. Run-start latency: one run at a time, asked of the instances in turn, from the POST to the
 *    job's first command (p50, p99).
 * 2. Throughput: CONCURRENCY clients, each asking for runs of its own jobs one after another (the
 *    next when the previous has ended), asked of the instances in turn: runs per second.
 * 3. Claim overhead: for runs placed on another instance than the one asked, the time from the
 *    insert to the claim (the signal and the conditional write), and the latency of those runs
 *    against those started where they were asked.
 *
 * Run: npm run build && npm run bench:cluster   (LAT=100 THR=300 CONCURRENCY=20 to change the counts)
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { startPostgres } from "../packages/host/test/support/postgres.ts";
import { startServe, type ServeProcess } from "../packages/host/test/support/serve-process.ts";
import { AUTH } from "../packages/host/test/support/host.ts";
import { percentile, printTable } from "./report.ts";

const LAT = Number(process.env.LAT ?? 100);
const THR = Number(process.env.THR ?? 300);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 20);
const JOBS_PER_CLIENT = 3;
const JOBS = CONCURRENCY * JOBS_PER_CLIENT;

interface Phase {
  label: string;
  /** The instances' data folders. */
  dirs: string[];
  instances: ServeProcess[];
  /** Where the mark files of this phase go. */
  marks: string;
  databaseUrl: string | null;
}

interface Result {
  label: string;
  latency: number[];
  runsPerSecond: number;
  /** Latency of runs started where they were asked / placed on another instance. */
  local: number[];
  remote: number[];
  /** ms from insert to claim, runs placed elsewhere. */
  claims: number[];
}

const nowNs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

/** The site folder of one instance: JOBS jobs that mark their start and their end. */
async function siteWithJobs(marks: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-bench-cluster-"));
  const jobs = path.join(dir, "site/App_Data/jobs/triggered");
  for (let i = 0; i < JOBS; i++) {
    const name = `job-${String(i).padStart(3, "0")}`;
    await mkdir(path.join(jobs, name), { recursive: true });
    await writeFile(
      path.join(jobs, name, "run.sh"),
      `date +%s%N > "${marks}/$WEBJOBS_NAME-$WEBJOBS_RUN_ID.start"\n: > "${marks}/$WEBJOBS_NAME-$WEBJOBS_RUN_ID.end"\n`,
    );
  }
  return dir;
}

async function startPhase(label: string, count: number, databaseUrl: string | null): Promise<Phase> {
  const marks = await mkdtemp(path.join(os.tmpdir(), "webjobs-bench-marks-"));
  const instances: ServeProcess[] = [];
  const dirs: string[] = [];
  for (let i = 0; i < count; i++) {
    const env: NodeJS.ProcessEnv = { WEBJOBS_INSTANCE_ID: `bench-${i + 1}`, WEBJOBS_LOG_LEVEL: "warn" };
    if (databaseUrl) env.WEBJOBS_DATABASE_URL = databaseUrl;
    dirs.push(await siteWithJobs(marks));
    instances.push(await startServe(dirs.at(-1)!, env));
  }
  return { label, dirs, instances, marks, databaseUrl };
}

async function stopPhase(phase: Phase): Promise<void> {
  for (const instance of phase.instances) {
    instance.child.kill("SIGTERM");
    await instance.exited;
  }
  for (const dir of [phase.marks, ...phase.dirs]) await rm(dir, { recursive: true, force: true });
}

async function runOnce(
  instance: ServeProcess,
  job: string,
  marks: string,
): Promise<{ ms: number; id: string }> {
  const asked = nowNs();
  const response = await fetch(`${instance.url}/api/triggeredwebjobs/${job}/run`, {
    method: "POST",
    headers: { authorization: AUTH },
  });
  if (response.status !== 202) throw new Error(`run of ${job}: ${response.status} ${await response.text()}`);
  const id = response.headers.get("location")!.split("/").pop()!;
  const end = path.join(marks, `${job}-${id}.end`);
  for (let waited = 0; !existsSync(end); waited++) {
    if (waited > 20_000) throw new Error(`run ${id} of ${job} did not end`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const started = BigInt((await readFile(path.join(marks, `${job}-${id}.start`), "utf8")).trim());
  // The run's end is recorded just after its process exits: the job may be asked again once it is.
  return { ms: Number(started - asked) / 1e6, id };
}

/** Waits until the job has no active run (its end recorded), through the API. */
async function idle(instance: ServeProcess, job: string): Promise<void> {
  for (;;) {
    const response = await fetch(`${instance.url}/api/triggeredwebjobs/${job}`, {
      headers: { authorization: AUTH },
    });
    const body = (await response.json()) as { latest_run?: { status?: string } | null };
    const status = body.latest_run?.status;
    if (status !== "Running" && status !== "Initializing") return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function measure(phase: Phase): Promise<Result> {
  const { instances, marks } = phase;
  const asked = new Map<string, string>(); // "job/id" -> instance id asked
  const latencyById = new Map<string, number>();
  // Warm-up.
  for (let i = 0; i < 5; i++) {
    const instance = instances[i % instances.length]!;
    await runOnce(instance, "job-000", marks);
    await idle(instance, "job-000");
  }
  // 1. Latency, one at a time.
  const latency: number[] = [];
  for (let i = 0; i < LAT; i++) {
    const instance = instances[i % instances.length]!;
    const job = `job-${String(i % JOBS).padStart(3, "0")}`;
    const { ms, id } = await runOnce(instance, job, marks);
    latency.push(ms);
    asked.set(`${job}/${id}`, `bench-${(i % instances.length) + 1}`);
    latencyById.set(`${job}/${id}`, ms);
    await idle(instance, job);
  }
  // 2. Throughput: each client runs its own jobs in turn.
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, client) => {
      for (let k = 0; ; k++) {
        if (next >= THR) return;
        const n = next++;
        const instance = instances[n % instances.length]!;
        const job = `job-${String(client * JOBS_PER_CLIENT + (k % JOBS_PER_CLIENT)).padStart(3, "0")}`;
        await idle(instance, job);
        await runOnce(instance, job, marks);
      }
    }),
  );
  const runsPerSecond = THR / ((performance.now() - began) / 1000);
  // 3. Where the latency runs went, and their claims (PostgreSQL only).
  const local: number[] = [];
  const remote: number[] = [];
  const claims: number[] = [];
  if (phase.databaseUrl) {
    const client = new pg.Client({ connectionString: phase.databaseUrl });
    await client.connect();
    const { rows } = await client.query("SELECT job_name, id, instance_id, start_time, claimed_at FROM runs");
    await client.end();
    for (const row of rows) {
      const key = `${row.job_name as string}/${row.id as string}`;
      if (row.claimed_at)
        claims.push((row.claimed_at as Date).getTime() - (row.start_time as Date).getTime());
      const ms = latencyById.get(key);
      if (ms === undefined) continue;
      (asked.get(key) === row.instance_id ? local : remote).push(ms);
    }
  } else {
    local.push(...latency);
  }
  return { label: phase.label, latency, runsPerSecond, local, remote, claims };
}

const fmt = (values: number[], p: number) => (values.length ? `${percentile(values, p).toFixed(1)} ms` : "-");

async function main(): Promise<void> {
  const results: Result[] = [];
  const sqlite = await startPhase("SQLite, 1 instance", 1, null);
  try {
    results.push(await measure(sqlite));
  } finally {
    await stopPhase(sqlite);
  }
  const postgres = await startPostgres();
  try {
    for (const count of [1, 2, 3]) {
      const phase = await startPhase(
        `PostgreSQL, ${count} instance${count > 1 ? "s" : ""}`,
        count,
        await postgres.createDatabase(),
      );
      try {
        results.push(await measure(phase));
      } finally {
        await stopPhase(phase);
      }
    }
  } finally {
    await postgres.stop();
  }
  printTable(
    `Run start across instances (${LAT} runs one at a time; ${THR} runs by ${CONCURRENCY} clients; requests in turn to each instance)`,
    [
      [
        "",
        "runs/s",
        "start p50",
        "start p99",
        "asked-here p50",
        "placed-elsewhere p50",
        "claim p50",
        "claim p99",
      ],
      ...results.map((r) => [
        r.label,
        r.runsPerSecond.toFixed(1),
        fmt(r.latency, 50),
        fmt(r.latency, 99),
        fmt(r.local, 50),
        fmt(r.remote, 50),
        fmt(r.claims, 50),
        fmt(r.claims, 99),
      ]),
    ],
  );
  console.log(
    "claim = time from the insert by the instance asked to the claim by the one chosen (signal + conditional write); " +
      "asked-here / placed-elsewhere = start latency of runs started where asked / on another instance.",
  );
}

await main();
