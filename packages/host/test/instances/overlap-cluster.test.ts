import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH, waitFor } from "../support/host.ts";
import { stopCluster } from "../support/cluster.ts";
import { queryRows, startPostgres, type TestPostgres } from "../support/postgres.ts";
import { startServe, type ServeProcess } from "../support/serve-process.ts";

/**
 * Schedule policies across two real `webjobs serve` processes on one embedded PostgreSQL.
 * Overlap `queue` and `replace` (schedule-reference.md §7): each run goes to the least-loaded
 * instance and each due instant is recorded by whichever instance gets there first, so the run in
 * progress is often on the other instance: the policies must see it there (skipped as
 * overlapping, before, when only the instance running it looked). Pause and resume: through one
 * instance, for all (the other went on firing, before).
 */
const PERIOD_MS = 2_000;
const WINDOW_MS = 10_000;

let postgres: TestPostgres;
let databaseUrl: string;
const dirs: string[] = [];
const hosts: ServeProcess[] = [];
/** Due instants in [from, to) are examined. */
let from = 0;
let to = 0;

async function dataDirWithJobs(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-overlap-"));
  dirs.push(dir);
  const jobs = path.join(dir, "site/App_Data/jobs/triggered");
  const job = async (name: string, script: string, settings: object) => {
    await mkdir(path.join(jobs, name), { recursive: true });
    await writeFile(path.join(jobs, name, "run.sh"), script);
    await writeFile(path.join(jobs, name, "settings.job"), JSON.stringify(settings));
  };
  const schedule = { schedule: `*/${PERIOD_MS / 1000} * * * * *`, time_zone: "UTC" };
  // Runs last longer than the period: every occurrence after the first meets a run in progress.
  await job("queued", "echo start\nsleep 3\n", { ...schedule, overlap: "queue" });
  await job("replaced", "echo start\nsleep 30\n", { ...schedule, overlap: "replace", stopping_wait_time: 5 });
  await job("pausable", "echo tick\n", { schedule: "* * * * * *", time_zone: "UTC" });
  return dir;
}

async function serve(id: string): Promise<ServeProcess> {
  const host = await startServe(await dataDirWithJobs(), {
    WEBJOBS_DATABASE_URL: databaseUrl,
    WEBJOBS_INSTANCE_ID: id,
    WEBJOBS_LOG_LEVEL: "warn",
  });
  hosts.push(host);
  return host;
}

const rows = (sql: string, values: unknown[] = []) => queryRows(databaseUrl, sql, values);

const api = (host: ServeProcess, p: string, init: RequestInit = {}) =>
  fetch(host.url + p, { ...init, headers: { authorization: AUTH, ...(init.headers as object) } });

const schedulePaused = async (host: ServeProcess) =>
  ((await (await api(host, "/api/triggeredwebjobs/pausable")).json()) as { schedule_paused: boolean })
    .schedule_paused;

/** The instants of the window are all past, and every queued run serving one has ended. */
let windowPassed: Promise<unknown> | null = null;
const waitForWindow = () =>
  (windowPassed ??= waitFor(
    async () => {
      if (Date.now() < to + 1000) return false;
      const [{ open }] = await rows(
        `SELECT count(*)::int AS open FROM runs
         WHERE scheduled_time >= $1 AND scheduled_time < $2 AND end_time IS NULL AND job_name = 'queued'`,
        [new Date(from), new Date(to)],
      );
      return open === 0;
    },
    WINDOW_MS + 15_000,
    "the window to pass and its queued runs to end",
  ));

interface Run {
  id: string;
  instance_id: string;
  status: string;
  reason: string | null;
  start_time: Date;
  end_time: Date | null;
  scheduled_time: Date;
}

const runsOf = async (job: string) =>
  (await rows(
    `SELECT id, instance_id, status, reason, start_time, end_time, scheduled_time FROM runs
     WHERE job_name = $1 AND scheduled_time >= $2 AND scheduled_time < $3 ORDER BY start_time`,
    [job, new Date(from), new Date(to)],
  )) as unknown as Run[];

const firesOf = async (job: string) =>
  (await rows(
    `SELECT scheduled_time, outcome, run_id FROM fires
     WHERE job_name = $1 AND scheduled_time >= $2 AND scheduled_time < $3 ORDER BY scheduled_time`,
    [job, new Date(from), new Date(to)],
  )) as { scheduled_time: Date; outcome: string; run_id: string | null }[];

/** Every run of the window after the previous one ended: never two at once, on any instance. */
function expectOneAtATime(runs: Run[]): void {
  for (let i = 1; i < runs.length; i++) {
    expect(runs[i - 1]!.end_time, `run ${runs[i - 1]!.id} ended`).not.toBeNull();
    expect(runs[i]!.start_time.getTime()).toBeGreaterThanOrEqual(runs[i - 1]!.end_time!.getTime());
  }
}

beforeAll(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  await Promise.all([serve("overlap-a"), serve("overlap-b")]);
  // A window of whole periods that starts once both instances are up (the pause test runs meanwhile).
  from = Math.ceil(Date.now() / PERIOD_MS) * PERIOD_MS + PERIOD_MS;
  to = from + WINDOW_MS;
}, 60_000);

afterAll(() => stopCluster(hosts, postgres, dirs), 60_000);

describe("schedule policies across two hosts on one PostgreSQL", () => {
  it("pause through one instance stops the schedule on both; resume through the other starts it again", async () => {
    const [a, b] = hosts as [ServeProcess, ServeProcess];
    const firesAfter = async (at: number) =>
      (await rows("SELECT scheduled_time FROM fires WHERE job_name = 'pausable' AND scheduled_time > $1", [
        new Date(at),
      ])) as { scheduled_time: Date }[];
    await waitFor(async () => (await firesAfter(0)).length > 0, 10_000, "the job to fire");
    expect((await api(a, "/api/triggeredwebjobs/pausable/schedule/pause", { method: "POST" })).status).toBe(
      200,
    );
    const pausedAt = Date.now();
    await waitFor(() => schedulePaused(b), 5_000, "the other instance to show the schedule paused");
    // Three due instants pass: neither instance fires them.
    await waitFor(() => Date.now() - pausedAt > 3_000, 5_000, "three due instants to pass");
    expect(await firesAfter(pausedAt + 100)).toEqual([]);
    expect((await api(b, "/api/triggeredwebjobs/pausable/schedule/resume", { method: "POST" })).status).toBe(
      200,
    );
    const resumedAt = Date.now();
    await waitFor(async () => !(await schedulePaused(a)), 5_000, "the first instance to show it resumed");
    await waitFor(async () => (await firesAfter(resumedAt)).length >= 2, 5_000, "the job to fire again");
  }, 30_000);

  it("queue: a queued occurrence runs after the run in progress ends, wherever it ran; never two at once", async () => {
    await waitForWindow();
    const fires = await firesOf("queued");
    const runs = await runsOf("queued");
    // Every due instant of the window is decided once.
    expect(fires.length).toBe(WINDOW_MS / PERIOD_MS);
    // None is skipped as overlapping: each runs, waits, or is merged into the one waiting.
    expect(fires.filter((f) => !["started", "queued", "coalesced"].includes(f.outcome))).toEqual([]);
    expect(fires.filter((f) => f.outcome === "coalesced").length).toBeGreaterThan(0);
    // Each started occurrence has its one run.
    const started = fires.filter((f) => f.outcome === "started");
    expect(runs.map((r) => r.id).sort()).toEqual(started.map((f) => f.run_id).sort());
    expectOneAtATime(runs);
    // Queued occurrences ran late, as soon as the run before ended (on either instance).
    const late = runs.filter((r) => r.start_time.getTime() - r.scheduled_time.getTime() > 1000);
    expect(late.length).toBeGreaterThan(0);
    for (const run of late) {
      const before = runs[runs.indexOf(run) - 1];
      if (!before) continue;
      expect(run.start_time.getTime() - before.end_time!.getTime()).toBeLessThan(PERIOD_MS + 1000);
    }
    expect(runs.filter((r) => r.status !== "Success")).toEqual([]);
    console.log(
      `queue: ${fires.length} instants, ${runs.length} runs (${late.length} queued) on ${[
        ...new Set(runs.map((r) => r.instance_id)),
      ].join(", ")}; outcomes ${fires.map((f) => f.outcome).join(" ")}`,
    );
  }, 30_000);

  it("replace: the run in progress is stopped on whichever instance runs it, then the new one starts", async () => {
    await waitForWindow();
    const fires = await firesOf("replaced");
    const runs = await runsOf("replaced");
    expect(fires.length).toBe(WINDOW_MS / PERIOD_MS);
    // Each due instant starts a run: none skipped because the run in progress was elsewhere.
    expect(fires.filter((f) => f.outcome !== "started")).toEqual([]);
    expect(runs.length).toBe(fires.length);
    // Every run but the newest was replaced by the next occurrence, within the period.
    const replaced = runs.slice(0, -1);
    for (const run of replaced) {
      expect({ id: run.id, status: run.status, reason: run.reason }).toEqual({
        id: run.id,
        status: "Aborted",
        reason: "replaced by schedule",
      });
      expect(run.end_time!.getTime() - run.start_time.getTime()).toBeLessThan(PERIOD_MS + 1000);
    }
    expectOneAtATime(runs);
    console.log(
      `replace: ${runs.length} runs, ${replaced.length} replaced, on ${runs.map((r) => r.instance_id).join(" ")}`,
    );
  }, 30_000);
});
