import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { groupMembers } from "../../src/runs/proc-sampler.ts";
import { AUTH, waitFor } from "../support/host.ts";
import { startServe } from "../support/serve-process.ts";

// Each test has a data folder (and hosts) of its own, and mostly waits for processes: side by side.
const dirs: string[] = [];
async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-lifecycle-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const api = (url: string, p: string, init: RequestInit = {}) =>
  fetch(url + p, { ...init, headers: { authorization: AUTH, ...(init.headers as Record<string, string>) } });

async function deployAndStart(url: string, name: string, script: string): Promise<string> {
  const put = await api(url, `/api/triggeredwebjobs/${name}`, {
    method: "PUT",
    headers: {
      "content-type": "application/octet-stream",
      "content-disposition": "attachment; filename=run.sh",
    },
    body: script,
  });
  expect(put.status).toBe(200);
  const run = await api(url, `/api/triggeredwebjobs/${name}/run`, { method: "POST" });
  expect(run.status).toBe(202);
  return new URL(run.headers.get("location")!).pathname;
}

const leaderPid = (dataDir: string, name: string) =>
  waitFor(() => {
    const file = path.join(dataDir, "jobs/triggered", name, "leader.pid");
    return existsSync(file) && readFileSync(file, "utf8").trim()
      ? Number(readFileSync(file, "utf8"))
      : undefined;
  });

const script = 'echo $$ > "$WEBJOBS_DATA_PATH/leader.pid"\nsleep 1000 &\nsleep 1000\n';

describe.concurrent("host lifecycle", () => {
  it("after kill -9, the next start kills leftover job processes and aborts their runs", async ({
    expect,
  }) => {
    const dataDir = await newDataDir();
    const first = await startServe(dataDir);
    const runPath = await deployAndStart(first.url, "survivor", script);
    const leader = await leaderPid(dataDir, "survivor");
    await waitFor(() => groupMembers(leader).length >= 2, 5000, "job and its child");
    // The host's watchdog would kill the job with the host (test/containment/faults.test.ts):
    // without it, the job's group outlives the host and the next start must find it.
    const watchdog = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(first.child.pid)], {
      encoding: "utf8",
    })
      .split("\n")
      .find((line) => line.includes("webjobs-watchdog"));
    process.kill(Number(watchdog!.trim().split(/\s+/)[0]), "SIGKILL");
    first.child.kill("SIGKILL");
    await first.exited;
    expect(groupMembers(leader).length).toBeGreaterThan(0);

    const second = await startServe(dataDir);
    try {
      expect(groupMembers(leader)).toEqual([]);
      const run = (await (await api(second.url, runPath)).json()) as Record<string, unknown>;
      expect(run.status).toBe("Aborted");
      expect(run.reason).toBe("host stopped");
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  });

  it("stops gracefully on SIGTERM: jobs get the shutdown file, nothing is left, exit code 0", async ({
    expect,
  }) => {
    const dataDir = await newDataDir();
    const serve = await startServe(dataDir);
    const graceful = [
      "sleep 1000 &",
      "trap '' TERM",
      'echo $$ > "$WEBJOBS_DATA_PATH/leader.pid"',
      'while [ ! -e "$WEBJOBS_SHUTDOWN_FILE" ]; do sleep 0.1; done',
      'echo "saw the shutdown file"',
      "exit 0",
    ].join("\n");
    const runPath = await deployAndStart(serve.url, "graceful", graceful);
    const leader = await leaderPid(dataDir, "graceful");
    serve.child.kill("SIGTERM");
    const exit = await serve.exited;
    expect(exit.code).toBe(0);
    expect(groupMembers(leader)).toEqual([]);

    const again = await startServe(dataDir);
    try {
      const run = (await (await api(again.url, runPath)).json()) as Record<string, unknown>;
      expect(run.status).toBe("Aborted");
      expect(run.reason).toBe("host shut down");
      const log = await (await api(again.url, `${runPath}/log`)).text();
      expect(log).toContain("saw the shutdown file");
    } finally {
      again.child.kill("SIGTERM");
      await again.exited;
    }
  });

  it("a second signal forces the stop", async ({ expect }) => {
    const dataDir = await newDataDir();
    const serve = await startServe(dataDir);
    const stubborn =
      'trap "" TERM\necho $$ > "$WEBJOBS_DATA_PATH/leader.pid"\nwhile true; do sleep 0.2; done\n';
    await deployAndStart(serve.url, "stubborn", stubborn);
    const leader = await leaderPid(dataDir, "stubborn");
    serve.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(serve.child.exitCode).toBeNull();
    serve.child.kill("SIGINT");
    const exit = await serve.exited;
    expect(exit.code).toBe(1);
    await waitFor(() => groupMembers(leader).length === 0, 5000, "group to be gone");
  });
});
