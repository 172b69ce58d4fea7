import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployZip, makeZip, runToEnd, waitFor, type TestHost } from "../support/host.ts";
import { DAEMONISING_JOB, isAlive, pidFrom, startLoggedHost, waitGone } from "./support.ts";

// Every process a job starts is within reach, whichever mechanism the host found: a cgroup per
// run (this machine: v2 at /sys/fs/cgroup/unified, v1 memory and cpu), or the environment marker
// scanned in /proc (WEBJOBS_CONTAINMENT=proc, what a machine without cgroups gets).

const daemonZip = () =>
  makeZip({ "run.sh": DAEMONISING_JOB, "settings.job": JSON.stringify({ stopping_wait_time: 1 }) });

async function startRun(t: TestHost, name: string): Promise<{ location: string; daemons: number[] }> {
  const dataPath = path.join(t.dataDir, "jobs/triggered", name);
  rmSync(path.join(dataPath, "setsid.pid"), { force: true });
  rmSync(path.join(dataPath, "double.pid"), { force: true });
  const started = await t.api(`/api/triggeredwebjobs/${name}/run`, { method: "POST" });
  expect(started.status).toBe(202);
  const daemons = [
    await pidFrom(path.join(dataPath, "setsid.pid")),
    await pidFrom(path.join(dataPath, "double.pid")),
  ];
  expect(daemons.every(isAlive)).toBe(true);
  return { location: new URL(started.headers.get("location")!).pathname, daemons };
}

for (const mode of ["auto", "proc"] as const) {
  // Each mechanism's host, and each describe below, is a host of its own: side by side. Within
  // one, the steps share a host and a job, and go one after another.
  describe.concurrent(`containment (${mode})`, () => {
    let t: TestHost & { logs: string[] };
    beforeAll(async () => {
      t = await startLoggedHost({ containment: mode });
      expect((await deployZip(t, "triggered", "daemons", await daemonZip())).status).toBe(200);
    });
    afterAll(() => t?.stop());

    it("says at start how job processes are contained", { concurrent: false }, () => {
      const line = t.logs.find((l) => l.includes("job processes contained by"));
      expect(line).toBeDefined();
      expect(line).toMatch(mode === "proc" ? /WEBJOBS_RUN_MARKER/ : /a cgroup v2 per run/);
      // The host runs as root here and WEBJOBS_RUN_AS is not set: it says so.
      expect(t.logs.some((l) => l.includes("jobs run as root"))).toBe(process.getuid?.() === 0);
    });

    it(
      "cancel ends grandchildren that called setsid or double-forked and ignore SIGTERM",
      { concurrent: false },
      async () => {
        const { location, daemons } = await startRun(t, "daemons");
        const cancelled = await t.api(`${location}/cancel`, { method: "POST" });
        expect(cancelled.status).toBe(200);
        expect(await cancelled.json()).toMatchObject({ status: "Aborted", reason: "cancelled on request" });
        await waitGone(daemons, 3000);
      },
    );

    it("a time limit ends them too", { concurrent: false }, async () => {
      const zip = await makeZip({
        "run.sh": DAEMONISING_JOB,
        "settings.job": JSON.stringify({ stopping_wait_time: 0, time_limit: 1 }),
      });
      expect((await deployZip(t, "triggered", "limited", zip)).status).toBe(200);
      const { location, daemons } = await startRun(t, "limited");
      const run = await waitFor(async () => {
        const json = (await (await t.api(location)).json()) as { status: string; reason: string };
        return json.status === "Aborted" ? json : undefined;
      });
      expect(run.reason).toMatch(/time limit of 1 s/);
      await waitGone(daemons, 3000);
    });

    it("processes a job leaves behind when it exits end with its run", { concurrent: false }, async () => {
      const script = `#!/bin/bash\nsetsid bash -c 'trap "" TERM; echo $$ > "$WEBJOBS_DATA_PATH/left.pid"; exec sleep 1000' </dev/null >/dev/null 2>&1 &\nwhile [ ! -s "$WEBJOBS_DATA_PATH/left.pid" ]; do sleep 0.05; done\necho bye\n`;
      expect((await deployZip(t, "triggered", "leaver", await makeZip({ "run.sh": script }))).status).toBe(
        200,
      );
      const run = await runToEnd(t, "leaver");
      expect(run.status).toBe("Success");
      const left = await pidFrom(path.join(t.dataDir, "jobs/triggered/leaver/left.pid"));
      await waitGone([left], 3000);
      const log = await (await t.api(`${new URL(run.url as string).pathname}/log`)).text();
      expect(log).toMatch(/Killing 1 process\(es\) the job left running/);
    });

    it("deleting the job ends its run's daemons", { concurrent: false }, async () => {
      const { daemons } = await startRun(t, "daemons");
      expect((await t.api("/api/triggeredwebjobs/daemons", { method: "DELETE" })).status).toBe(200);
      await waitGone(daemons, 3000);
      expect((await deployZip(t, "triggered", "daemons", await daemonZip())).status).toBe(200);
    });

    it("stopping a continuous job ends its daemons", { concurrent: false }, async () => {
      const dataPath = path.join(t.dataDir, "jobs/continuous/worker");
      expect((await deployZip(t, "continuous", "worker", await daemonZip())).status).toBe(200);
      const daemons = [
        await pidFrom(path.join(dataPath, "setsid.pid")),
        await pidFrom(path.join(dataPath, "double.pid")),
      ];
      expect((await t.api("/api/continuouswebjobs/worker/stop", { method: "POST" })).status).toBe(200);
      await waitGone(daemons, 3000);
      expect((await t.api("/api/continuouswebjobs/worker", { method: "DELETE" })).status).toBe(200);
    });

    it("a run past its memory_limit ends Aborted with that reason", { concurrent: false }, async () => {
      const script = [
        "import time",
        "blocks = []",
        "for i in range(120):",
        "    blocks.append(b'x' * (8 * 1024 * 1024))",
        "    time.sleep(0.05)",
        "print('survived')",
      ].join("\n");
      const zip = await makeZip({
        "run.py": script,
        "settings.job": JSON.stringify({ memory_limit: "64M" }),
      });
      expect((await deployZip(t, "triggered", "hungry", zip)).status).toBe(200);
      const run = await runToEnd(t, "hungry", undefined, 20_000);
      expect(run).toMatchObject({ status: "Aborted", reason: "memory limit of 64 MiB exceeded" });
      const log = await (await t.api(`${new URL(run.url as string).pathname}/log`)).text();
      expect(log).not.toMatch(/survived/);
    });

    it("host stop ends them", { concurrent: false }, async () => {
      const { daemons } = await startRun(t, "daemons");
      await t.stop();
      await waitGone(daemons, 3000);
      t = await startLoggedHost({ containment: mode });
    });
  });
}

describe.concurrent("cpu_limit (cgroup)", () => {
  let t: TestHost & { logs: string[] };
  beforeAll(async () => {
    t = await startLoggedHost();
  });
  afterAll(() => t?.stop());

  it("holds a busy job to its share of a CPU", async () => {
    const busy = "import time\nt = time.time()\nwhile time.time() - t < 1.5:\n    pass\n";
    const zip = await makeZip({ "run.py": busy, "settings.job": JSON.stringify({ cpu_limit: 0.2 }) });
    expect((await deployZip(t, "triggered", "busy", zip)).status).toBe(200);
    const run = await runToEnd(t, "busy");
    expect(run.status).toBe("Success");
    // Unlimited it would use about 1,500 ms in 1.5 s; at a fifth of a CPU about 300 ms.
    expect(run.cpu_time_ms as number).toBeLessThan(800);
  });
});

describe.runIf(process.getuid?.() === 0)("WEBJOBS_RUN_AS", { concurrent: true }, () => {
  let t: TestHost & { logs: string[] };
  beforeAll(async () => {
    t = await startLoggedHost({ runAs: "nobody" });
  });
  afterAll(() => t?.stop());

  it("runs jobs as that user and says so at start", async () => {
    expect(t.logs.some((l) => l.includes("jobs run as user 'nobody'"))).toBe(true);
    const zip = await makeZip({
      "run.sh": 'echo "uid=$(id -u) gid=$(id -g) home=$HOME"\ntouch "$WEBJOBS_DATA_PATH/mine"\n',
    });
    expect((await deployZip(t, "triggered", "whoami", zip)).status).toBe(200);
    const run = await runToEnd(t, "whoami");
    const log = await (await t.api(`${new URL(run.url as string).pathname}/log`)).text();
    expect(run.status, log).toBe("Success");
    expect(log).toMatch(/uid=65534 gid=65534 home=\/nonexistent/);
  });
});
