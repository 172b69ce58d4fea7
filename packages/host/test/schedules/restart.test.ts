import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, it } from "vitest";
import { AUTH, startHost, waitFor, type TestHost } from "../support/host.ts";
import { startServe } from "../support/serve-process.ts";
import { deployScheduled, fires, runs, waitForFires, type FireJson, type RunJson } from "./support.ts";

const dirs: string[] = [];
async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-schedule-"));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  if (!process.env.KEEP_TEST_DATA)
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The newest recorded due instant of a job, read from a host over HTTP. */
async function fireList(url: string, name: string): Promise<FireJson[]> {
  const response = await fetch(`${url}/api/triggeredwebjobs/${name}/fires?limit=500`, {
    headers: { authorization: AUTH },
  });
  return (await response.json()) as FireJson[];
}

// Each test has its own data folder and host, and most of their time is waiting for the clock (a
// due second, a downtime): they run side by side.
describe.concurrent("schedules across restarts", () => {
  it("never fires a due instant twice when the host is killed with -9 and restarted at once", async ({
    expect,
  }) => {
    const dir = await dataDir();
    let serve = await startServe(dir);
    const t = {
      api: (p: string, init: RequestInit = {}) =>
        fetch(serve.url + p, {
          ...init,
          headers: { authorization: AUTH, ...(init.headers as Record<string, string>) },
        }),
    } as TestHost;
    await deployScheduled(t, "every-second", "echo hi\n", { schedule: "* * * * * *", time_zone: "UTC" });
    for (let round = 0; round < 2; round++) {
      await waitFor(
        async () => (await fireList(serve.url, "every-second")).length >= 2 * (round + 1) || undefined,
      );
      serve.child.kill("SIGKILL");
      await serve.exited;
      serve = await startServe(dir);
    }
    await waitFor(async () => (await fireList(serve.url, "every-second")).length >= 6 || undefined);
    serve.child.kill("SIGTERM");
    await serve.exited;

    const host = await startHost({}, dir);
    try {
      await host.host.scheduler.stop();
      const all = await fires(host, "every-second");
      const instants = all.map((f) => f.scheduled_time);
      expect(new Set(instants).size).toBe(instants.length);
      const history = await runs(host, "every-second");
      const served = history.filter((r) => r.scheduled_time).map((r) => r.scheduled_time);
      expect(new Set(served).size).toBe(served.length);
      // Every run that a fire started is that fire's run.
      for (const run of history) {
        const fire = all.find((f) => f.run_id === run.id);
        if (fire) expect(fire.scheduled_time).toBe(run.scheduled_time);
      }
    } finally {
      await host.stop();
    }
  }, 60_000);

  /** `settled`: what the fires must show besides a fire after the restart (catch-ups run in turn). */
  async function missedAfterDowntime(
    policy: Record<string, unknown>,
    settled: (fires: FireJson[]) => boolean = () => true,
  ): Promise<{ fires: FireJson[]; runs: RunJson[]; log: string; restartedAt: number }> {
    const dir = await dataDir();
    let t = await startHost({}, dir);
    await deployScheduled(t, "minutely", "true\n", { schedule: "* * * * * *", time_zone: "UTC", ...policy });
    await waitForFires(t, "minutely", (f) => f.some((x) => x.outcome === "started"));
    await t.stop();
    const stoppedAt = Date.now();
    await waitFor(() => Date.now() - stoppedAt > 3200 || undefined);
    const restartedAt = Date.now();
    t = await startHost({}, dir);
    try {
      const list = await waitForFires(
        t,
        "minutely",
        (f) => Date.parse(f[0].scheduled_time) > restartedAt + 1000 && settled(f),
      );
      const history = await waitFor(async () => {
        const r = await runs(t, "minutely");
        return r.every((x) => x.status !== "Running" && x.status !== "Initializing") ? r : undefined;
      });
      const log = await (await t.api("/vfs/data/jobs/triggered/minutely/job_scheduler.log")).text();
      return { fires: list, runs: history, log, restartedAt };
    } finally {
      await t.stop();
    }
  }

  it("missed_runs once (the default): runs the most recent missed occurrence once, and says how many were missed", async ({
    expect,
  }) => {
    const { fires: list, log, restartedAt } = await missedAfterDowntime({});
    const caughtUp = list.filter((f) => f.outcome === "caught_up");
    expect(caughtUp).toHaveLength(1);
    expect(caughtUp[0].run_id).not.toBeNull();
    expect(Date.parse(caughtUp[0].scheduled_time)).toBeLessThanOrEqual(restartedAt + 1000);
    expect(list.some((f) => f.outcome === "missed")).toBe(true);
    expect(log).toMatch(/Missed \d+ schedules, most recent at \d{4}-/);
  }, 30_000);

  it("missed_runs skip: runs none of them", async ({ expect }) => {
    const { fires: list, log } = await missedAfterDowntime({ missed_runs: "skip" });
    expect(list.filter((f) => f.outcome === "caught_up")).toEqual([]);
    expect(list.filter((f) => f.outcome === "missed")).toHaveLength(1);
    expect(log).toMatch(/Missed \d+ schedules/);
  }, 30_000);

  it("missed_runs all: runs each missed occurrence in the window, oldest first", async ({ expect }) => {
    // The missed occurrences run one after another: on a busy machine a tick on time may come first.
    const { fires: list } = await missedAfterDowntime(
      { missed_runs: "all" },
      (f) => f.filter((x) => x.outcome === "caught_up").length >= 3,
    );
    const caughtUp = list.filter((f) => f.outcome === "caught_up");
    expect(caughtUp.length).toBeGreaterThanOrEqual(3);
    expect(caughtUp.every((f) => f.run_id !== null)).toBe(true);
    const order = [...caughtUp].reverse().map((f) => f.run_id!);
    expect([...order].sort()).toEqual(order); // run ids sort by start time: oldest occurrence ran first
  }, 40_000);

  it("keeps a paused schedule paused across a restart", async ({ expect }) => {
    const dir = await dataDir();
    let t = await startHost({}, dir);
    await deployScheduled(t, "held", "true\n", { schedule: "0 0 6 * * *" });
    await t.api("/api/triggeredwebjobs/held/schedule/pause", { method: "POST" });
    await t.stop();
    t = await startHost({}, dir);
    try {
      const job = (await (await t.api("/api/triggeredwebjobs/held")).json()) as { schedule_paused: boolean };
      expect(job.schedule_paused).toBe(true);
    } finally {
      await t.stop();
    }
  });

  it("WEBJOBS_DISABLE_SCHEDULE: schedules do not fire, and the time does not count as missed", async ({
    expect,
  }) => {
    const dir = await dataDir();
    let t = await startHost({ disableSchedule: true }, dir);
    await deployScheduled(t, "disabled", "true\n", { schedule: "* * * * * *", time_zone: "UTC" });
    const state = () => t.host.store.getScheduleState("disabled");
    const first = await waitFor(async () => (await state())?.suppressedUntil ?? undefined);
    await waitFor(
      async () => ((await state())!.suppressedUntil!.getTime() > first.getTime() + 1500 ? true : undefined),
      40_000,
    );
    expect(await fires(t, "disabled")).toEqual([]);
    await t.stop();
    const stoppedAt = Date.now();
    t = await startHost({}, dir);
    try {
      const list = await waitForFires(t, "disabled", (f) => f.length > 0);
      // Nothing from the disabled time is run or counted as missed: only what fell due since the stop.
      for (const fire of list) expect(Date.parse(fire.scheduled_time)).toBeGreaterThan(stoppedAt - 1000);
    } finally {
      await t.stop();
    }
  }, 60_000);
});
