import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/host.ts";
import { stopCluster } from "../support/cluster.ts";
import { queryRows, startPostgres, type TestPostgres } from "../support/postgres.ts";
import { startServe, type ServeProcess } from "../support/serve-process.ts";

/**
 * Machines whose clocks differ by a few seconds (issue 11): three real `webjobs serve` processes
 * on one embedded PostgreSQL, one with its clock 3 s behind, one on time, one 3 s ahead
 * (test/support/skewed-clock.mjs). Every due instant of every-second schedules fires once:
 * none twice, none lost, none declared missed (an instance arming a schedule by a clock ahead of
 * the others' used to declare missed the instants still to come for them), and each run's times
 * are on the database's clock (a run placed by one machine and run by another used to end before
 * it started).
 */
const JOBS = ["tick-1", "tick-2", "tick-3"];
const WINDOW_AFTER_START_MS = 8_000;
const SKEWED_CLOCK = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../support/skewed-clock.mjs",
);

let postgres: TestPostgres;
let databaseUrl: string;
const dirs: string[] = [];
const hosts: ServeProcess[] = [];

async function dataDirWithJobs(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-skew-"));
  dirs.push(dir);
  for (const name of JOBS) {
    const job = path.join(dir, "site/App_Data/jobs/triggered", name);
    await mkdir(job, { recursive: true });
    await writeFile(path.join(job, "run.sh"), "echo tick\n");
    await writeFile(
      path.join(job, "settings.job"),
      JSON.stringify({ schedule: "* * * * * *", time_zone: "UTC" }),
    );
  }
  return dir;
}

async function serve(id: string, clockOffsetMs: number): Promise<ServeProcess> {
  const host = await startServe(await dataDirWithJobs(), {
    WEBJOBS_DATABASE_URL: databaseUrl,
    WEBJOBS_INSTANCE_ID: id,
    WEBJOBS_LOG_LEVEL: "warn",
    WEBJOBS_HISTORY_SIZE: "1000",
    NODE_OPTIONS: `--import=${SKEWED_CLOCK}`,
    WEBJOBS_TEST_CLOCK_OFFSET_MS: String(clockOffsetMs),
  });
  hosts.push(host);
  return host;
}

const rows = (sql: string, values: unknown[] = []) => queryRows(databaseUrl, sql, values);

beforeAll(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
}, 30_000);

afterAll(() => stopCluster(hosts, postgres, dirs), 60_000);

describe("instances whose clocks differ by 3 s", () => {
  it("fire every due instant once: no duplicate, none lost, none missed", async () => {
    // The one behind arms the schedules first; the others arm them while it fires.
    await serve("skew-behind", -3_000);
    await waitFor(
      async () => {
        const [{ jobs }] = await rows("SELECT count(DISTINCT job_name)::int AS jobs FROM fires");
        return jobs === JOBS.length;
      },
      10_000,
      "the first instance to fire every job",
    );
    await Promise.all([serve("skew-on-time", 0), serve("skew-ahead", 3_000)]);
    // From each job's first fire (the arming of the others included) to 8 s after all are up.
    const to = (Math.floor(Date.now() / 1000) + WINDOW_AFTER_START_MS / 1000) * 1000;
    const firsts = await rows("SELECT job_name, min(scheduled_time) AS first FROM fires GROUP BY job_name");
    const from = new Map(firsts.map((r) => [r.job_name as string, (r.first as Date).getTime()]));
    const expected = JOBS.reduce((sum, name) => sum + (to - from.get(name)!) / 1000, 0);
    await waitFor(
      async () => {
        if (Date.now() < to + 1500) return false;
        const [{ decided, open }] = await rows(
          `SELECT (SELECT count(*)::int FROM fires WHERE scheduled_time < $1) AS decided,
                  (SELECT count(*)::int FROM runs WHERE scheduled_time < $1 AND end_time IS NULL) AS open`,
          [new Date(to)],
        );
        return ((decided as number) >= expected || Date.now() > to + 8000) && open === 0;
      },
      WINDOW_AFTER_START_MS + 15_000,
      "every due instant of the window to be decided and its run ended",
    );
    const fires = await rows(
      "SELECT job_name, scheduled_time, outcome, run_id FROM fires WHERE scheduled_time < $1 ORDER BY scheduled_time",
      [new Date(to)],
    );
    const runs = await rows(
      "SELECT job_name, id, scheduled_time, instance_id, status, start_time, end_time FROM runs WHERE scheduled_time < $1",
      [new Date(to)],
    );
    const key = (r: Record<string, unknown>) =>
      `${r.job_name as string}@${(r.scheduled_time as Date).toISOString()}`;
    // Every second of each job's window has one fire: none twice (the key), none lost (no gap).
    for (const name of JOBS) {
      const instants = fires
        .filter((f) => f.job_name === name)
        .map((f) => (f.scheduled_time as Date).getTime());
      const all = Array.from({ length: (to - from.get(name)!) / 1000 }, (_, i) => from.get(name)! + i * 1000);
      expect(instants, name).toEqual(all);
    }
    expect(fires.length).toBe(expected);
    // Each ran (or, on a busy machine, met its previous run still going): none declared missed.
    expect(fires.filter((f) => f.outcome !== "started" && f.outcome !== "skipped_overlap")).toEqual([]);
    // Each fire that started a run has exactly one run, and no run is without its fire.
    const started = fires.filter((f) => f.outcome === "started");
    expect(runs.map(key).sort()).toEqual(started.map(key).sort());
    expect(new Set(runs.map((r) => `${r.job_name as string}/${r.id as string}`)).size).toBe(runs.length);
    expect(runs.filter((r) => r.status !== "Success")).toEqual([]);
    // Recorded on one clock, whichever machine placed the run and whichever ran it: each started
    // at its due instant (not 3 s before or after) and ended after it started.
    const ms = (r: Record<string, unknown>, column: string) => (r[column] as Date).getTime();
    const offTime = runs.filter(
      (r) =>
        ms(r, "start_time") - ms(r, "scheduled_time") < -500 ||
        ms(r, "start_time") - ms(r, "scheduled_time") > 2500 ||
        ms(r, "end_time") < ms(r, "start_time"),
    );
    expect(offTime).toEqual([]);
    // The skewed instances took their share of the runs.
    expect(new Set(runs.map((r) => r.instance_id as string))).toEqual(
      new Set(["skew-behind", "skew-on-time", "skew-ahead"]),
    );
    console.log(
      `clock skew ±3 s: ${fires.length} due instants, ${started.length} runs, ${fires.length - started.length} skipped as overlapping`,
    );
  }, 45_000);
});
