import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AUTH, makeZip, waitFor } from "../support/host.ts";
import { startServe, type ServeProcess } from "../support/serve-process.ts";
import { DAEMONISING_JOB, isAlive, pidFrom, waitGone } from "./support.ts";

// Faults with a real `webjobs serve`: kill -9 of the host with runs in flight and during a deploy.

// The tests run side by side (each kills its own hosts, and mostly waits for processes): what a
// test starts is stopped when that test ends, never when another one does.
const hosts = new Map<string, ServeProcess[]>();
const dirs = new Map<string, string[]>();
afterEach(async ({ task }) => {
  for (const host of hosts.get(task.id) ?? []) {
    if (host.child.exitCode === null && host.child.signalCode === null) {
      host.child.kill("SIGTERM");
      await host.exited;
    }
  }
  for (const dir of dirs.get(task.id) ?? [])
    if (!process.env.KEEP_TEST_DATA) await rm(dir, { recursive: true, force: true });
});

const own = <T>(list: Map<string, T[]>, task: { id: string }, value: T): T => {
  list.set(task.id, [...(list.get(task.id) ?? []), value]);
  return value;
};

async function dataDir(task: { id: string }): Promise<string> {
  return own(dirs, task, await mkdtemp(path.join(os.tmpdir(), "webjobs-test-")));
}

async function serve(task: { id: string }, dir: string): Promise<ServeProcess> {
  return own(hosts, task, await startServe(dir));
}

const api = (host: ServeProcess, p: string, init: RequestInit = {}) =>
  fetch(host.url + p, {
    ...init,
    headers: { authorization: AUTH, ...(init.headers as Record<string, string>) },
  });

const deploy = async (host: ServeProcess, type: string, name: string, zip: Buffer) => {
  const response = await api(host, `/api/${type}webjobs/${name}`, {
    method: "PUT",
    headers: { "content-type": "application/zip", "content-disposition": `attachment; filename=${name}.zip` },
    body: new Uint8Array(zip),
  });
  expect(response.status, await response.clone().text()).toBe(200);
};

async function killHard(host: ServeProcess): Promise<void> {
  host.child.kill("SIGKILL");
  await host.exited;
}

/** The job processes a daemonising job wrote down: its leader, a setsid'd and a double-forked child. */
async function jobPids(dir: string, type: string, name: string): Promise<number[]> {
  const folder = path.join(dir, "jobs", type, name);
  return [
    await pidFrom(path.join(folder, "leader.pid")),
    await pidFrom(path.join(folder, "setsid.pid")),
    await pidFrom(path.join(folder, "double.pid")),
  ];
}

const clearPids = (dir: string, type: string, name: string) => {
  for (const file of ["leader.pid", "setsid.pid", "double.pid"])
    rmSync(path.join(dir, "jobs", type, name, file), { force: true });
};

/** The host's watchdog: the `sh` it started with `webjobs-watchdog` as its name. */
function watchdogOf(host: ServeProcess): number {
  const out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(host.child.pid)], {
    encoding: "utf8",
  });
  const line = out.split("\n").find((l) => l.includes("webjobs-watchdog"));
  if (!line) throw new Error(`no watchdog under host ${host.child.pid}:\n${out}`);
  return Number(line.trim().split(/\s+/)[0]);
}

describe.concurrent("kill -9 of the host", () => {
  it("takes its job processes with it, daemons included; the next start closes the run and restarts continuous jobs", async ({
    expect,
    task,
  }) => {
    const dir = await dataDir(task);
    let host = await serve(task, dir);
    await deploy(host, "triggered", "daemons", await makeZip({ "run.sh": DAEMONISING_JOB }));
    // A short grace: its daemons ignore SIGTERM, and the restarted host stops it at the test's end.
    const worker = { "run.sh": DAEMONISING_JOB, "settings.job": JSON.stringify({ stopping_wait_time: 1 }) };
    await deploy(host, "continuous", "worker", await makeZip(worker));
    const started = await api(host, "/api/triggeredwebjobs/daemons/run", { method: "POST" });
    expect(started.status).toBe(202);
    const runPath = new URL(started.headers.get("location")!).pathname;
    const pids = [
      ...(await jobPids(dir, "triggered", "daemons")),
      ...(await jobPids(dir, "continuous", "worker")),
    ];
    expect(pids.every(isAlive)).toBe(true);

    await killHard(host);
    // The watchdog sees the host's end of its pipe close and kills every run of the host.
    await waitGone(pids, 5000);
    // …and removes the host's cgroups, the instance's folder with them.
    const cgroups = "/sys/fs/cgroup/unified";
    await waitFor(
      () => !readdirSync(cgroups).some((entry) => host.output().includes(`${cgroups}/${entry}/`)),
      5000,
      "the dead host's cgroups to go",
    );

    clearPids(dir, "continuous", "worker");
    host = await serve(task, dir);
    const run = (await (await api(host, runPath)).json()) as { status: string; reason: string };
    expect(run).toMatchObject({ status: "Aborted", reason: "host stopped" });
    const again = await jobPids(dir, "continuous", "worker");
    expect(again.every(isAlive)).toBe(true);
    expect(host.output()).toMatch(/job processes contained by a cgroup v2 per run/);
  });

  it("with its watchdog killed too, the next start finds and kills what is left", async ({
    expect,
    task,
  }) => {
    const dir = await dataDir(task);
    let host = await serve(task, dir);
    await deploy(host, "triggered", "daemons", await makeZip({ "run.sh": DAEMONISING_JOB }));
    expect((await api(host, "/api/triggeredwebjobs/daemons/run", { method: "POST" })).status).toBe(202);
    const pids = await jobPids(dir, "triggered", "daemons");
    process.kill(watchdogOf(host), "SIGKILL");
    await killHard(host);
    // Nobody is left to kill them: they run on, outside any process group of the host.
    expect(pids.every(isAlive)).toBe(true);

    host = await serve(task, dir);
    await waitGone(pids, 5000);
    expect(host.output()).toMatch(/killed job processes left by a previous host/);
  });

  it("during a deploy leaves neither half an upload nor half a job; the previous version still runs", async ({
    expect,
    task,
  }) => {
    const dir = await dataDir(task);
    let host = await serve(task, dir);
    await deploy(host, "triggered", "app", await makeZip({ "run.sh": "echo version one\n" }));
    // A second version, large enough to be caught while it streams in.
    const big = await makeZip({
      "run.sh": "echo version two\n",
      "blob.bin": Buffer.alloc(4 * 1024 * 1024, 7),
    });
    const { port } = new URL(host.url);
    const upload = request({
      host: "127.0.0.1",
      port: Number(port),
      method: "PUT",
      path: "/api/triggeredwebjobs/app",
      headers: {
        authorization: AUTH,
        "content-type": "application/zip",
        "content-disposition": "attachment; filename=app.zip",
        "transfer-encoding": "chunked",
      },
    });
    upload.on("error", () => undefined);
    upload.write(big.subarray(0, 64 * 1024));
    const tmp = path.join(dir, "tmp");
    await waitFor(
      () => readdirSync(tmp).some((entry) => entry.startsWith("upload-")),
      5000,
      "the upload to start",
    );
    await killHard(host);
    upload.destroy();

    host = await serve(task, dir);
    expect(readdirSync(tmp)).toEqual([]);
    const job = (await (await api(host, "/api/triggeredwebjobs/app")).json()) as { version: string };
    const versions = readdirSync(path.join(dir, "versions/triggered/app"));
    expect(versions).toEqual([job.version]);
    expect(existsSync(path.join(dir, "site/App_Data/jobs/triggered/app/blob.bin"))).toBe(false);
    const started = await api(host, "/api/triggeredwebjobs/app/run", { method: "POST" });
    const runPath = new URL(started.headers.get("location")!).pathname;
    const run = await waitFor(async () => {
      const json = (await (await api(host, runPath)).json()) as { status: string };
      return json.status === "Success" ? json : undefined;
    });
    expect(run.status).toBe("Success");
    expect(await (await api(host, `${runPath}/log`)).text()).toMatch(/version one/);
    // And the same upload, whole, now goes through.
    await deploy(host, "triggered", "app", big);
  });
});
