import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContinuousJobJson } from "../../src/api/json-types.ts";
import { AUTH, waitFor } from "../support/host.ts";
import { stopCluster } from "../support/cluster.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { startServe, type ServeProcess } from "../support/serve-process.ts";

/**
 * Continuous jobs on three real `webjobs serve` processes sharing one embedded PostgreSQL: Kudu's
 * detailed_status (one line per live instance), a singleton on exactly one instance (the others
 * InactiveInstance) that moves to another when its holder is killed with -9, and start / stop
 * from any instance reaching all of them. The jobs are in the first host's site folder; the others
 * get them through the store.
 */
let postgres: TestPostgres;
let databaseUrl: string;
const dirs: string[] = [];
const hosts = new Map<string, ServeProcess>();

/**
 * Instance ids of this file only: a job's processes are contained per instance id on the machine,
 * so another test file's `host-a` killed with -9 must not be taken for one of ours. Six
 * characters, the length Kudu shows in detailed_status.
 */
const TAG = randomBytes(3).toString("hex").slice(0, 5);
const [A, B, C] = [`${TAG}a`, `${TAG}b`, `${TAG}c`];

const LOOP = 'echo "started on $WEBJOBS_INSTANCE"\nwhile true; do sleep 1; done\n';

async function dataDir(withJobs: boolean): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-continuous-cluster-"));
  dirs.push(dir);
  if (!withJobs) return dir;
  const job = async (name: string, settings: object) => {
    const folder = path.join(dir, "site/App_Data/jobs/continuous", name);
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, "run.sh"), LOOP);
    await writeFile(path.join(folder, "settings.job"), JSON.stringify(settings));
  };
  await job("everywhere", { stopping_wait_time: 1 });
  await job("single", { is_singleton: true, stopping_wait_time: 1 });
  // A singleton serving HTTP on its WEBJOBS_PORT: says which process answered, and the path it got.
  const web = path.join(dir, "site/App_Data/jobs/continuous/web");
  await mkdir(web, { recursive: true });
  await writeFile(
    path.join(web, "run.js"),
    'require("node:http").createServer((q, s) => { s.setHeader("content-type", "text/plain"); ' +
      's.end(`${process.pid} ${q.method} ${q.url}`); }).listen(Number(process.env.WEBJOBS_PORT), "127.0.0.1");\n',
  );
  await writeFile(
    path.join(web, "settings.job"),
    JSON.stringify({ is_singleton: true, stopping_wait_time: 1 }),
  );
  return dir;
}

async function serve(id: string, withJobs = false): Promise<ServeProcess> {
  const host = await startServe(await dataDir(withJobs), {
    WEBJOBS_DATABASE_URL: databaseUrl,
    WEBJOBS_INSTANCE_ID: id,
    WEBJOBS_LOG_LEVEL: "info",
  });
  hosts.set(id, host);
  return host;
}

const job = async (host: ServeProcess, name: string) => {
  const response = await fetch(`${host.url}/api/continuouswebjobs/${name}`, {
    headers: { authorization: AUTH },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as ContinuousJobJson;
};
const post = (host: ServeProcess, p: string) =>
  fetch(host.url + p, { method: "POST", headers: { authorization: AUTH } });
const lines = (json: ContinuousJobJson) => json.detailed_status.split("\n");
const alive = (pid: number | null) => {
  if (pid === null) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const live = () =>
  [...hosts.values()].filter((h) => h.child.exitCode === null && h.child.signalCode === null);
/** The instances whose own process of the singleton is alive. */
const runningOn = async (among: ServeProcess[]) =>
  (await Promise.all(among.map((host) => job(host, "single")))).filter(
    (v) => v.instance_status === "Running" && alive(v.pid),
  );
async function singletonHolder(): Promise<{ id: string; host: ServeProcess }> {
  const views = await Promise.all(live().map(async (host) => ({ host, json: await job(host, "single") })));
  const holder = views.filter((v) => v.json.instance_status === "Running");
  expect(holder).toHaveLength(1);
  return { id: [...hosts].find(([, h]) => h === holder[0]!.host)![0], host: holder[0]!.host };
}

beforeAll(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  // The first applies the migrations and installs the jobs from its site folder; the others find
  // them in the store (packages) and run the same version.
  await serve(A, true);
  await Promise.all([serve(B), serve(C)]);
}, 60_000);

afterAll(() => stopCluster(hosts.values(), postgres, dirs), 60_000);

describe("continuous jobs on several hosts on one PostgreSQL", () => {
  it("show one detailed_status line per live instance, and a status summing them up", async () => {
    const everyLineRunning = (json: ContinuousJobJson) =>
      lines(json).length === 3 && lines(json).every((l) => l.endsWith(" - Running"));
    for (const host of live()) {
      // Every instance says the same of the job, and runs its own process.
      const json = await waitFor(
        async () => {
          const current = await job(host, "everywhere");
          return everyLineRunning(current) && current;
        },
        15_000,
        `the job running on three instances, seen from ${host.url}`,
      );
      expect(lines(json)).toEqual([`${A} - Running`, `${B} - Running`, `${C} - Running`]);
      expect(json).toMatchObject({ status: "Running", instance_status: "Running" });
      expect(alive(json.pid)).toBe(true);
    }
    const list = (await (
      await fetch(`${live()[0]!.url}/api/continuouswebjobs`, { headers: { authorization: AUTH } })
    ).json()) as ContinuousJobJson[];
    expect(lines(list.find((j) => j.name === "everywhere")!)).toHaveLength(3);
  }, 30_000);

  it("run a singleton on exactly one instance; the others show InactiveInstance", async () => {
    const seen = await waitFor(
      async () => {
        const json = await job(live()[0]!, "single");
        return (
          lines(json).length === 3 && lines(json).filter((l) => l.endsWith(" - Running")).length === 1 && json
        );
      },
      15_000,
      "the singleton on one instance",
    );
    expect(seen.status).toBe("Running");
    expect(lines(seen).filter((l) => l.endsWith(" - InactiveInstance"))).toHaveLength(2);
    const views = await Promise.all(live().map((host) => job(host, "single")));
    const running = views.filter((v) => v.instance_status === "Running");
    expect(running).toHaveLength(1);
    expect(alive(running[0]!.pid)).toBe(true);
    expect(views.filter((v) => v.instance_status === "InactiveInstance" && v.pid === null)).toHaveLength(2);
  }, 30_000);

  it("passes a request for a singleton's port through any instance to the one running it", async () => {
    const views = await waitFor(
      async () => {
        const all = await Promise.all(live().map((host) => job(host, "web")));
        return all.filter((v) => v.instance_status === "Running" && alive(v.pid)).length === 1 && all;
      },
      15_000,
      "the web singleton running",
    );
    const holderPid = views.find((v) => v.instance_status === "Running")!.pid;
    for (const host of live()) {
      const response = await waitFor(
        async () => {
          const answer = await fetch(`${host.url}/api/continuouswebjobs/web/passthrough/a%2Fb/%C3%A9?q=1`, {
            method: "POST",
            headers: { authorization: AUTH },
            body: "x",
          });
          return answer.status === 200 && answer;
        },
        10_000,
        `the passthrough through ${host.url}`,
      );
      expect(response.headers.get("content-type")).toBe("text/plain");
      expect(await response.text()).toBe(`${holderPid} POST /a%2Fb/%C3%A9?q=1`);
    }
  }, 30_000);

  it("stop on one instance stops the job everywhere, and start starts it everywhere", async () => {
    const [a, b, c] = live();
    const pids = await Promise.all([a!, b!, c!].map(async (h) => (await job(h, "everywhere")).pid));
    expect((await post(b!, "/api/continuouswebjobs/everywhere/stop")).status).toBe(200);
    const stopped = await waitFor(
      async () => {
        const json = await job(c!, "everywhere");
        return json.detailed_status.split("\n").every((l) => l.endsWith(" - Stopped")) && json;
      },
      10_000,
      "the job stopped on every instance",
    );
    expect(stopped.status).toBe("Stopped");
    await waitFor(async () => pids.every((pid) => !alive(pid)), 5_000, "every process gone");

    expect((await post(c!, "/api/continuouswebjobs/everywhere/start")).status).toBe(200);
    const started = await waitFor(
      async () => {
        const json = await job(a!, "everywhere");
        return json.detailed_status.split("\n").every((l) => l.endsWith(" - Running")) && json;
      },
      10_000,
      "the job running again on every instance",
    );
    expect(lines(started)).toHaveLength(3);
  }, 30_000);

  it("hands a singleton over at once when its holder stops gracefully", async () => {
    const holder = await singletonHolder();
    const oldPid = (await job(holder.host, "single")).pid;
    holder.host.child.kill("SIGTERM");
    const stoppedAt = Date.now();
    await holder.host.exited;
    const survivors = live();
    // Released, not left to expire (a lease lasts the instance timeout, 10 s).
    await waitFor(
      async () => (await runningOn(survivors)).length === 1,
      5_000,
      "another instance to take over",
    );
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    expect(alive(oldPid)).toBe(false);
    // The stopped instance's line goes; the new holder's says Running once its status is read.
    const after = await waitFor(
      async () => {
        const current = lines(await job(survivors[0]!, "single"));
        return (
          current.length === 2 && current.filter((l) => l.endsWith(" - Running")).length === 1 && current
        );
      },
      5_000,
      "two lines, one of them Running",
    );
    expect(after.some((l) => l.startsWith(holder.id))).toBe(false);
    expect(after.filter((l) => l.endsWith(" - InactiveInstance"))).toHaveLength(1);
  }, 30_000);

  it("moves a singleton to another instance within 15 s when its holder is killed with -9", async () => {
    const holder = await singletonHolder();
    const oldPid = (await job(holder.host, "single")).pid;
    holder.host.child.kill("SIGKILL");
    const killedAt = Date.now();
    await holder.host.exited;
    const survivors = live();
    const [moved] = await waitFor(
      async () => {
        const running = await runningOn(survivors);
        return running.length === 1 && running;
      },
      15_000,
      "another instance to run the singleton",
    );
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(moved!.pid).not.toBe(oldPid);
    // The dead holder's job process went with it (its watchdog); one instance left: one line.
    await waitFor(async () => !alive(oldPid), 5_000, "the old process gone");
    const after = await waitFor(
      async () => {
        const json = await job(survivors[0]!, "single");
        return !json.detailed_status.includes("\n") && json;
      },
      15_000,
      "the dead instance's line gone",
    );
    // As on one machine: Kudu's single line.
    expect(survivors).toHaveLength(1);
    const survivorId = [...hosts].find(([, h]) => h === survivors[0])![0];
    expect(after).toMatchObject({ status: "Running", detailed_status: `${survivorId} - Running` });
  }, 40_000);
});
