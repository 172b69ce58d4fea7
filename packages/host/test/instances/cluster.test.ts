import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InstanceJson, RunJson } from "../../src/api/json-types.ts";
import { AUTH, waitFor } from "../support/host.ts";
import { stopCluster } from "../support/cluster.ts";
import { startPostgres, type TestPostgres, queryRows } from "../support/postgres.ts";
import { startServe, type ServeProcess } from "../support/serve-process.ts";

/**
 * Two real `webjobs serve` processes (separate data folders and ports) on one embedded
 * PostgreSQL: what users of "Several machines" get today. The same job folders are copied into
 * both sites before they start: the first host installs them, the second follows that install
 * (see packages.test.ts for deploys shared through the database).
 */
let postgres: TestPostgres;
let databaseUrl: string;
const dirs: string[] = [];
const hosts: ServeProcess[] = [];

async function dataDirWithJobs(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-cluster-"));
  dirs.push(dir);
  const jobs = path.join(dir, "site/App_Data/jobs/triggered");
  const job = async (name: string, script: string, settings: object) => {
    await mkdir(path.join(jobs, name), { recursive: true });
    await writeFile(path.join(jobs, name, "run.sh"), script);
    await writeFile(path.join(jobs, name, "settings.job"), JSON.stringify(settings));
  };
  await job("ticker", "echo tick\n", { schedule: "* * * * * *", time_zone: "UTC" });
  await job("slow", 'echo "started"\nsleep 120\n', {});
  return dir;
}

async function serve(id: string, env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const host = await startServe(await dataDirWithJobs(), {
    WEBJOBS_DATABASE_URL: databaseUrl,
    WEBJOBS_INSTANCE_ID: id,
    WEBJOBS_LOG_LEVEL: "info",
    ...env,
  });
  hosts.push(host);
  return host;
}

const api = (host: ServeProcess, p: string, init: RequestInit = {}) =>
  fetch(host.url + p, { ...init, headers: { authorization: AUTH, ...(init.headers as object) } });

const instances = async (host: ServeProcess) =>
  (await (await api(host, "/api/instances")).json()) as InstanceJson[];

const rows = (sql: string, values: unknown[] = []) => queryRows(databaseUrl, sql, values);

let a: ServeProcess;
let b: ServeProcess;
beforeAll(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  // One after the other: the first applies the migrations, the second finds them applied.
  a = await serve("host-a");
  b = await serve("host-b");
}, 60_000);

afterAll(() => stopCluster(hosts, postgres, dirs), 60_000);

describe("several hosts on one PostgreSQL", () => {
  it("list each other as live instances, with their URL and load", async () => {
    const seen = await waitFor(
      async () => {
        const list = await instances(b);
        return list.length === 2 && list;
      },
      10_000,
      "both instances",
    );
    expect(seen.map((i) => [i.id, i.url, i.state])).toEqual([
      ["host-a", a.url, "live"],
      ["host-b", b.url, "live"],
    ]);
    expect(seen[0]).toMatchObject({ host_name: os.hostname(), active_runs: expect.any(Number) });
    expect(Date.parse(seen[0]!.last_heartbeat)).toBeGreaterThanOrEqual(Date.parse(seen[0]!.started_at));
  });

  it("refuses a third host that claims a live instance's id, and says why", async () => {
    const failure = await serve("host-a").then(
      () => null,
      (error: unknown) => (error as Error).message,
    );
    expect(failure).toContain("Another host is running as instance 'host-a'");
    expect(failure).toContain(a.url);
    expect((await instances(a)).map((i) => i.id)).toEqual(["host-a", "host-b"]);
  }, 30_000);

  it("fires each due instant of a job scheduled on both hosts once in total", async () => {
    // About ten due instants, each computed by both hosts.
    await waitFor(
      async () => (await rows("SELECT 1 FROM fires WHERE job_name = 'ticker'")).length >= 10,
      20_000,
      "ten fires",
    );
    const served = await rows(
      "SELECT scheduled_time, instance_id FROM runs WHERE job_name = 'ticker' AND scheduled_time IS NOT NULL",
    );
    const instants = served.map((r) => (r.scheduled_time as Date).getTime());
    // Most ran: a tick whose previous run is still going (placed on the other host, it can take
    // over a second on a busy machine) is skipped by the overlap policy, recorded as such.
    expect(instants.length).toBeGreaterThanOrEqual(5);
    expect(new Set(instants).size).toBe(instants.length);
    // No second outcome for an instant: each fire row is the one answer to its due instant.
    const fires = await rows("SELECT scheduled_time, outcome FROM fires WHERE job_name = 'ticker'");
    expect(new Set(fires.map((f) => (f.scheduled_time as Date).getTime())).size).toBe(fires.length);
    // Consecutive seconds: nothing lost between the hosts.
    const sorted = [...new Set(fires.map((f) => (f.scheduled_time as Date).getTime()))].sort((x, y) => x - y);
    const newest = sorted.at(-1)!;
    const recent = sorted.filter((t) => t > newest - 8_000);
    expect(recent).toEqual(Array.from({ length: 8 }, (_, i) => newest - (7 - i) * 1000));
  }, 30_000);

  it("closes the runs of a host killed with -9 as Aborted (instance lost) within 15 s", async () => {
    const started = await api(b, "/api/triggeredwebjobs/slow/run", { method: "POST" });
    expect(started.status).toBe(202);
    const runUrl = new URL(started.headers.get("location")!).pathname;
    // The run goes to the less loaded host (the ticker keeps both busy now and then): that one dies.
    const first = await waitFor(
      async () => {
        const current = (await api(b, runUrl).then((r) => r.json())) as RunJson;
        return current.status === "Running" && current;
      },
      10_000,
      "slow to run",
    );
    const [victim, survivor] = first.instance === "host-b" ? [b, a] : [a, b];
    const victimId = first.instance;
    const run = () => api(survivor, runUrl).then((r) => r.json() as Promise<RunJson>);
    await waitFor(
      async () => (await instances(survivor)).find((i) => i.id === victimId)?.active_runs === 1,
      10_000,
      "the victim's load to show its run",
    );

    victim.child.kill("SIGKILL");
    const killedAt = Date.now();
    await victim.exited;
    const ended = await waitFor(
      async () => {
        const current = await run();
        return current.status !== "Running" && current;
      },
      15_000,
      "the survivor to close the victim's run",
    );
    const elapsed = Date.now() - killedAt;
    expect(ended).toMatchObject({ status: "Aborted", reason: "instance lost", instance: victimId });
    expect(elapsed).toBeLessThan(15_000);
    expect((await instances(survivor)).map((i) => [i.id, i.state])).toEqual([
      ["host-a", victimId === "host-a" ? "dead" : "live"],
      ["host-b", victimId === "host-b" ? "dead" : "live"],
    ]);
    expect(survivor.output()).toContain("run of a dead instance closed as Aborted (instance lost)");
    // Nothing waits for it: the job runs again, on the survivor.
    expect((await api(survivor, "/api/triggeredwebjobs/slow/run", { method: "POST" })).status).toBe(202);
  }, 40_000);
});
