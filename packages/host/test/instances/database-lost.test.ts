import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunJson } from "../../src/api/json-types.ts";
import { AUTH, waitFor } from "../support/host.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { startServe, type ServeProcess } from "../support/serve-process.ts";
import { cuttableLink, type CuttableLink } from "../support/tcp-cut.ts";

/**
 * A real `webjobs serve` on PostgreSQL whose database goes away while a run is going (the link
 * to it cut, as by a network failure or a database restart), then comes back.
 */
let postgres: TestPostgres;
let link: CuttableLink;
let host: ServeProcess;
let dir: string;

const api = (p: string, init: RequestInit = {}) =>
  fetch(host.url + p, { ...init, headers: { authorization: AUTH, ...(init.headers as object) } });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const health = async () => (await (await fetch(`${host.url}/api/health`)).json()) as Record<string, unknown>;

beforeAll(async () => {
  postgres = await startPostgres();
  const url = new URL(await postgres.createDatabase());
  link = await cuttableLink(Number(url.port));
  url.port = String(link.port);
  dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-dblost-"));
  const jobs = path.join(dir, "site/App_Data/jobs/triggered");
  await mkdir(path.join(jobs, "work"), { recursive: true });
  // Ends by itself a few seconds in, and says when (ms since the epoch) just before it exits.
  await writeFile(
    path.join(jobs, "work/run.sh"),
    `echo $$ > ${path.join(dir, "pid")}\nsleep 3\ndate +%s%3N > ${path.join(dir, "ended")}\n`,
  );
  // The scheduler meets the missing database every second too.
  await mkdir(path.join(jobs, "ticker"), { recursive: true });
  await writeFile(path.join(jobs, "ticker/run.sh"), "echo tick\n");
  await writeFile(path.join(jobs, "ticker/settings.job"), JSON.stringify({ schedule: "* * * * * *" }));
  host = await startServe(dir, {
    WEBJOBS_DATABASE_URL: url.href,
    WEBJOBS_INSTANCE_ID: "solo",
    WEBJOBS_LOG_LEVEL: "info",
  });
  // Fully started: a database lost while the host is still starting stops it (as at start).
  await waitFor(async () => host.output().includes("webjobs is listening"), 20_000, "the host to start");
}, 60_000);

afterAll(async () => {
  link?.restore();
  if (host && host.child.exitCode === null && host.child.signalCode === null) host.child.kill("SIGTERM");
  await host?.exited;
  await link?.close();
  await postgres?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe("the database lost while a host runs", () => {
  it("keeps the run going, answers 503 meanwhile, and records the run's real end once it is back", async () => {
    expect(await health()).toMatchObject({ status: "ok", database: "ok" });
    await waitFor(
      async () => (await api("/api/triggeredwebjobs/work")).ok,
      10_000,
      "the job to be installed",
    );
    const started = await api("/api/triggeredwebjobs/work/run", { method: "POST" });
    expect(started.status).toBe(202);
    const runPath = new URL(started.headers.get("location")!).pathname;
    const run = async () => (await (await api(runPath)).json()) as RunJson;
    await waitFor(async () => (await run()).status === "Running", 10_000, "the run to be Running");

    link.cut();
    const cutAt = Date.now();
    // Health still answers, and says where the problem is.
    const degraded = await waitFor(
      async () => {
        const answer = await fetch(`${host.url}/api/health`);
        const body = (await answer.json()) as Record<string, unknown>;
        return answer.status === 200 && body.database === "unreachable" && body;
      },
      10_000,
      "health to say the database is unreachable",
    );
    expect(degraded).toMatchObject({ status: "degraded", instance: "solo" });
    // Anything that needs the database is a clear 503, not a 500, and no run starts.
    const refused = await api("/api/triggeredwebjobs/work/run", { method: "POST" });
    expect(refused.status).toBe(503);
    const body = (await refused.json()) as { code: string; Message: string };
    expect(body.code).toBe("database_unavailable");
    expect(body.Message).toMatch(/^The database is unavailable \(.+\); try again when it is back\.$/);

    // The run goes on and ends while the database is away.
    await waitFor(async () => existsSync(path.join(dir, "ended")), 10_000, "the job to end");
    const endedAt = Number(await readFile(path.join(dir, "ended"), "utf8"));
    // Gone, and reaped by the host (a zombie still answers signal 0): the host has seen it end.
    const pid = Number(await readFile(path.join(dir, "pid"), "utf8"));
    await waitFor(async () => !alive(pid), 5_000, "the job's process to be reaped");
    expect(endedAt).toBeGreaterThan(cutAt);
    expect(host.child.exitCode).toBeNull();

    link.restore();
    const restoredAt = Date.now();
    expect(restoredAt).toBeGreaterThan(endedAt);
    const recorded = await waitFor(
      async () => {
        const answer = await api(runPath);
        if (answer.status !== 200) return false;
        const current = (await answer.json()) as RunJson;
        return current.status !== "Running" && current;
      },
      15_000,
      "the run's end to be recorded",
    );
    // Its real end: when the process ended, not when the database came back.
    expect(recorded).toMatchObject({ status: "Success", exit_code: 0, instance: "solo" });
    const recordedEnd = Date.parse(recorded.end_time);
    expect(recordedEnd).toBeGreaterThanOrEqual(endedAt - 50);
    expect(recordedEnd).toBeLessThan(restoredAt);

    // Back to normal: health, heartbeats, new runs.
    await waitFor(async () => (await health()).database === "ok", 10_000, "health to say ok again");
    const again = await waitFor(
      async () => {
        const answer = await api("/api/triggeredwebjobs/work/run", { method: "POST" });
        return answer.status === 202 && answer;
      },
      10_000,
      "a new run to start",
    );
    expect(again.status).toBe(202);
    const instances = (await (await api("/api/instances")).json()) as { id: string; state: string }[];
    expect(instances).toEqual([expect.objectContaining({ id: "solo", state: "live" })]);
    expect(host.child.exitCode).toBeNull();
  }, 60_000);
});
