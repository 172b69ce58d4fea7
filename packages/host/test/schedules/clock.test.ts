import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config.ts";
import { Host } from "../../src/host.ts";
import { AUTH, waitFor, type TestHost } from "../support/host.ts";
import { deployScheduled, fires, runs, waitForFires } from "./support.ts";

// A host whose scheduler reads a clock the test can move, as a machine's clock jumps.
let offset = 0;
let host: Host;
let t: TestHost;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-clock-"));
  const config = resolveConfig(
    { host: "127.0.0.1", port: 0, dataDir: dir, username: "admin", password: "test-password" },
    {},
  );
  host = new Host(config, { log: pino({ level: "silent" }), clock: () => Date.now() + offset });
  await host.start();
  t = {
    host,
    url: host.url,
    dataDir: dir,
    api: (p: string, init: RequestInit = {}) =>
      fetch(host.url + p, {
        ...init,
        headers: { authorization: AUTH, ...(init.headers as Record<string, string>) },
      }),
    stop: () => host.stop(),
  };
});
afterAll(async () => {
  await host.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("a clock that jumps", () => {
  it("back: no due instant fires twice; forward: the missed-run policy, once", async () => {
    await deployScheduled(t, "clocked", "true\n", { schedule: "* * * * * *", time_zone: "UTC" });
    const before = await waitForFires(
      t,
      "clocked",
      (f) => f.filter((x) => x.outcome === "started").length >= 2,
    );
    const newestBefore = Date.parse(before[0].scheduled_time);

    // Back by 3 s: the seconds already fired come round again on the clock, and must not run again.
    offset = -3000;
    const afterBack = await waitForFires(
      t,
      "clocked",
      (f) => Date.parse(f[0].scheduled_time) > newestBefore + 1000,
      15_000,
    );
    const instants = afterBack.map((f) => f.scheduled_time);
    expect(new Set(instants).size).toBe(instants.length);
    const served = (await runs(t, "clocked")).map((r) => r.scheduled_time);
    expect(new Set(served).size).toBe(served.length);

    // Forward by an hour (a suspended machine, an NTP step): 3,600 occurrences passed at once.
    offset = 3_600_000;
    const jumped = await waitForFires(t, "clocked", (f) => f.some((x) => x.outcome === "caught_up"), 15_000);
    const caughtUp = jumped.filter((f) => f.outcome === "caught_up");
    expect(caughtUp).toHaveLength(1);
    expect(Date.parse(caughtUp[0].scheduled_time)).toBeGreaterThan(Date.now() + 3_500_000);
    const missed = jumped.find((f) => f.outcome === "missed")!;
    expect(missed.reason).toMatch(/^\d{4} occurrences passed/);
    const log = await waitFor(async () => {
      const text = await (await t.api("/vfs/data/jobs/triggered/clocked/job_scheduler.log")).text();
      return /Missed \d{4} schedules, most recent at /.test(text) ? text : undefined;
    });
    expect(log).toContain("WebJob invoked");
    // And it goes on, once a second, on the new time.
    await waitForFires(
      t,
      "clocked",
      (f) =>
        f[0].outcome === "started" &&
        Date.parse(f[0].scheduled_time) > Date.parse(caughtUp[0].scheduled_time),
    );
    const all = await fires(t, "clocked");
    expect(new Set(all.map((f) => f.scheduled_time)).size).toBe(all.length);
  }, 40_000);
});
