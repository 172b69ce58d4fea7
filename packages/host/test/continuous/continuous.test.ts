import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { groupMembers } from "../../src/runs/proc-sampler.ts";
import {
  AUTH,
  deployScript,
  deployZip,
  makeZip,
  startHost,
  waitFor,
  type TestHost,
} from "../support/host.ts";
import { killWatchdog, startServe } from "../support/serve-process.ts";

interface ContinuousJson {
  name: string;
  type: string;
  status: string;
  detailed_status: string;
  log_url: string;
  pid: number | null;
  restarts: number;
  crash_loop: boolean;
  last_exit_codes: (number | string)[];
}

let t: TestHost;
beforeAll(async () => {
  t = await startHost({
    restartBackoffMs: 100,
    restartTimeSec: 1,
    stableRunSec: 30,
    crashLoopRestarts: 3,
    continuousLogMaxBytes: 4000,
    continuousLogFiles: 2,
  });
});
afterAll(() => t.stop());

const job = async (name: string, host = t) =>
  (await (await host.api(`/api/continuouswebjobs/${name}`)).json()) as ContinuousJson;
const logOf = (name: string, host = t) =>
  readFileSync(path.join(host.dataDir, `jobs/continuous/${name}/job_log.txt`), "utf8");
const untilStatus = (name: string, status: string, host = t) =>
  waitFor(
    async () => {
      const j = await job(name, host);
      return j.status === status ? j : undefined;
    },
    15_000,
    `${name} to be ${status}`,
  );

const sleeper =
  'echo "started pid=$$ port=$WEBJOBS_PORT type=$WEBJOBS_TYPE"\nwhile true; do sleep 0.2; done\n';

// Each test has a job of its own on the file's host, or hosts of its own, and mostly waits for
// processes: side by side.
describe.concurrent("continuous jobs", () => {
  it("start on their own after deploy, with WEBJOBS_PORT, and show Kudu's fields", async ({ expect }) => {
    const deployed = await deployScript(t, "continuous", "sleeper", "run.sh", sleeper);
    expect(deployed.status).toBe(200);
    const running = await untilStatus("sleeper", "Running");
    expect(running).toMatchObject({ name: "sleeper", type: "continuous", crash_loop: false });
    expect(running.detailed_status).toMatch(/^[0-9a-f]{6} - Running$/);
    expect(running.log_url).toBe(`${t.url}/vfs/data/jobs/continuous/sleeper/job_log.txt`);
    await waitFor(() => logOf("sleeper").includes("INFO] started"));
    expect(logOf("sleeper")).toMatch(/INFO\] started pid=\d+ port=\d+ type=continuous/);
    const viaApi = await (await t.api("/api/continuouswebjobs/sleeper/log")).text();
    expect(viaApi).toContain("Status changed to Running");
    const list = (await (await t.api("/api/continuouswebjobs")).json()) as ContinuousJson[];
    expect(list.map((j) => j.name)).toContain("sleeper");
  });

  it("stop gracefully: the job sees the shutdown file and exits before the grace time", async ({
    expect,
  }) => {
    const script = [
      "trap 'echo got SIGTERM' TERM",
      'echo "up $$"',
      'while [ ! -e "$WEBJOBS_SHUTDOWN_FILE" ]; do sleep 0.1; done',
      'echo "saw the shutdown file"',
      "exit 0",
    ].join("\n");
    await deployZip(
      t,
      "continuous",
      "polite",
      await makeZip({ "run.sh": script, "settings.job": '{"stopping_wait_time": 20}' }),
    );
    const running = await untilStatus("polite", "Running");
    await waitFor(() => logOf("polite").includes("INFO] up"));
    const started = Date.now();
    const stopped = await t.api("/api/continuouswebjobs/polite/stop", { method: "POST" });
    expect(stopped.status).toBe(200);
    expect(((await stopped.json()) as ContinuousJson).status).toBe("Stopped");
    expect(Date.now() - started).toBeLessThan(5000);
    expect(logOf("polite")).toContain("saw the shutdown file");
    expect(logOf("polite")).toMatch(/Status changed to Stopping[\s\S]*Status changed to Stopped/);
    expect(groupMembers(running.pid!)).toEqual([]);
  });

  it("stop kills a job that ignores SIGTERM and forks children after the grace time: nothing survives", async ({
    expect,
  }) => {
    const script =
      "trap '' TERM\nsleep 1000 &\nsleep 1000 &\necho \"stubborn $$\"\nwhile true; do sleep 0.2; done\n";
    await deployZip(
      t,
      "continuous",
      "stubborn",
      await makeZip({ "run.sh": script, "settings.job": '{"stopping_wait_time": 1}' }),
    );
    const running = await untilStatus("stubborn", "Running");
    await waitFor(() => groupMembers(running.pid!).length >= 3, 5000, "job and children");
    const started = Date.now();
    expect((await t.api("/api/continuouswebjobs/stubborn/stop", { method: "POST" })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(groupMembers(running.pid!)).toEqual([]);
    expect((await job("stubborn")).status).toBe("Stopped");
  });

  it("restart after a crash with a growing back-off, and show a crash loop with the exit codes", async ({
    expect,
  }) => {
    await deployScript(t, "continuous", "crasher", "run.sh", "echo crashing\nexit 7\n");
    const looping = await waitFor(
      async () => {
        const j = await job("crasher");
        return j.crash_loop ? j : undefined;
      },
      15_000,
      "crash loop",
    );
    expect(looping.last_exit_codes.slice(0, 3)).toEqual([7, 7, 7]);
    expect(looping.restarts).toBeGreaterThanOrEqual(2);
    const log = logOf("crasher");
    expect(log).toContain("Process exited with code 7");
    expect(log).toMatch(/restarting in 0\.1 s[\s\S]*restarting in 0\.2 s[\s\S]*restarting in 0\.4 s/);
    expect(log).toMatch(/Crash loop: 3 quick exits in a row/);
    // It keeps trying at the capped delay instead of giving up silently.
    const restarts = looping.restarts;
    await waitFor(async () => (await job("crasher")).restarts > restarts, 5000, "another restart");
    await t.api("/api/continuouswebjobs/crasher/stop", { method: "POST" });
  });

  it("restart exactly once on a redeploy, on the new version", async ({ expect }) => {
    await deployScript(
      t,
      "continuous",
      "versioned",
      "run.sh",
      'echo "version one"\nwhile true; do sleep 0.2; done\n',
    );
    await untilStatus("versioned", "Running");
    await waitFor(() => logOf("versioned").includes("version one"));
    const startsBefore = logOf("versioned").split("Status changed to Starting").length;
    await deployScript(
      t,
      "continuous",
      "versioned",
      "run.sh",
      'echo "version two"\nwhile true; do sleep 0.2; done\n',
    );
    await waitFor(() => logOf("versioned").includes("version two"), 10_000, "new version output");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(logOf("versioned").split("Status changed to Starting").length).toBe(startsBefore + 1);
    expect((await job("versioned")).status).toBe("Running");
    // The old version is deleted once nothing runs it.
    await waitFor(() => {
      const versions = path.join(t.dataDir, "versions/continuous/versioned");
      return existsSync(versions) && readdirCount(versions) === 1;
    });
    await t.api("/api/continuouswebjobs/versioned", { method: "DELETE" });
  });

  it("rotate job_log.txt by size", async ({ expect }) => {
    await deployScript(
      t,
      "continuous",
      "chatty",
      "run.sh",
      'for i in $(seq 1 200); do echo "line $i of chatter"; done\nsleep 1000\n',
    );
    await waitFor(
      () => existsSync(path.join(t.dataDir, "jobs/continuous/chatty/job_log.2.txt")),
      10_000,
      "rotation",
    );
    await waitFor(() => logOf("chatty").includes("line 200 of chatter"));
    expect(existsSync(path.join(t.dataDir, "jobs/continuous/chatty/job_log.3.txt"))).toBe(false);
    expect(
      readFileSync(path.join(t.dataDir, "jobs/continuous/chatty/job_log.1.txt"), "utf8").length,
    ).toBeLessThanOrEqual(4200);
    await t.api("/api/continuouswebjobs/chatty", { method: "DELETE" });
  });

  it("show why a job cannot start when its interpreter is missing", async ({ expect }) => {
    const deployed = (await (
      await deployScript(t, "continuous", "windowsonly", "run.cmd", "echo hi")
    ).json()) as {
      error: string;
    };
    expect(deployed.error).toMatch(/cmd/i);
    const stopped = await untilStatus("windowsonly", "Stopped");
    expect((stopped as unknown as { start_error: string }).start_error).toBe(deployed.error);
    expect(logOf("windowsonly")).toContain(deployed.error);
    await t.api("/api/continuouswebjobs/windowsonly", { method: "DELETE" });
  });

  it("proxy the passthrough route to the job's WEBJOBS_PORT", async ({ expect }) => {
    const server = [
      "const http = require('http');",
      "http.createServer((req, res) => { let body = ''; req.on('data', (c) => (body += c));",
      "  if (req.url === '/typed') res.setHeader('content-type', 'text/plain; charset=utf-8');",
      "  req.on('end', () => res.end(JSON.stringify({ method: req.method, url: req.url, body, auth: req.headers.authorization ?? null }))); })",
      "  .listen(Number(process.env.WEBJOBS_PORT), '127.0.0.1', () => console.log('listening'));",
    ].join("\n");
    await deployScript(t, "continuous", "web", "server.js", server);
    await untilStatus("web", "Running");
    await waitFor(() => logOf("web").includes("INFO] listening"));
    const get = await t.api("/api/continuouswebjobs/web/passthrough/some/path?x=1");
    expect(get.status).toBe(200);
    expect(await get.json()).toEqual({ method: "GET", url: "/some/path?x=1", body: "", auth: null });
    // The job sent no Content-Type: the host says bytes, so no client takes the body for JSON.
    expect(get.headers.get("content-type")).toBe("application/octet-stream");
    const typed = await t.api("/api/continuouswebjobs/web/passthrough/typed");
    expect(typed.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    await typed.body?.cancel();
    const post = await t.api("/api/continuouswebjobs/web/passthrough/items", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"a":1}',
    });
    expect(await post.json()).toEqual({ method: "POST", url: "/items", body: '{"a":1}', auth: null });
    await t.api("/api/continuouswebjobs/web/stop", { method: "POST" });
    const down = await t.api("/api/continuouswebjobs/web/passthrough/x");
    expect(down.status).toBe(502);
    expect(((await down.json()) as { error: string }).error).toMatch(/not running/);
  });
});

const readdirCount = (dir: string) => readdirSync(dir).length;

describe.concurrent("continuous jobs when WebJobs are stopped", () => {
  it("do not run, and start requests get 409", async ({ expect }) => {
    const stopped = await startHost({ stopped: true });
    try {
      await deployScript(stopped, "continuous", "idle", "run.sh", sleeper);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const j = await job("idle", stopped);
      expect(j.status).toBe("Stopped");
      expect(j.pid).toBeNull();
      const start = await stopped.api("/api/continuouswebjobs/idle/start", { method: "POST" });
      expect(start.status).toBe(409);
      expect(((await start.json()) as { error: string }).error).toMatch(/WEBJOBS_STOPPED/);
    } finally {
      await stopped.stop();
    }
  });
});

describe.concurrent("continuous jobs across host restarts", () => {
  it("keep their desired state: stopped stays stopped, started comes back", async ({ expect }) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-persist-"));
    try {
      let host = await startHost({}, dir);
      await deployScript(host, "continuous", "keeper", "run.sh", sleeper);
      await deployScript(host, "continuous", "resting", "run.sh", sleeper);
      await untilStatus("keeper", "Running", host);
      await untilStatus("resting", "Running", host);
      await host.api("/api/continuouswebjobs/resting/stop", { method: "POST" });
      await host.stop();

      host = await startHost({}, dir);
      const keeper = await untilStatus("keeper", "Running", host);
      expect(keeper.pid).toBeGreaterThan(0);
      expect((await job("resting", host)).status).toBe("Stopped");
      // A redeploy does not start a stopped job.
      await deployScript(host, "continuous", "resting", "run.sh", sleeper);
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect((await job("resting", host)).status).toBe("Stopped");
      expect(
        (
          (await (
            await host.api("/api/continuouswebjobs/resting/start", { method: "POST" })
          ).json()) as ContinuousJson
        ).status,
      ).toBe("Running");
      await host.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("after kill -9 of the host, a restart kills the old processes and runs the job again", async ({
    expect,
  }) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-kill9-"));
    const api = (url: string, p: string, init: RequestInit = {}) =>
      fetch(url + p, {
        ...init,
        headers: { authorization: AUTH, ...(init.headers as Record<string, string>) },
      });
    try {
      const first = await startServe(dir);
      const put = await api(first.url, "/api/continuouswebjobs/phoenix", {
        method: "PUT",
        headers: {
          "content-type": "application/octet-stream",
          "content-disposition": "attachment; filename=run.sh",
        },
        body: "sleep 1000 &\n" + sleeper,
      });
      expect(put.status).toBe(200);
      const before = await waitFor(async () => {
        const j = (await (await api(first.url, "/api/continuouswebjobs/phoenix")).json()) as ContinuousJson;
        return j.status === "Running" && j.pid ? j : undefined;
      });
      // Without its watchdog, the job's processes outlive the host: the next start must find them.
      killWatchdog(first.child.pid!);
      first.child.kill("SIGKILL");
      await first.exited;
      expect(groupMembers(before.pid!).length).toBeGreaterThan(0);

      const second = await startServe(dir);
      try {
        expect(groupMembers(before.pid!)).toEqual([]);
        const after = await waitFor(
          async () => {
            const j = (await (
              await api(second.url, "/api/continuouswebjobs/phoenix")
            ).json()) as ContinuousJson;
            return j.status === "Running" && j.pid ? j : undefined;
          },
          10_000,
          "job running again",
        );
        expect(after.pid).not.toBe(before.pid);
      } finally {
        second.child.kill("SIGTERM");
        await second.exited;
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
