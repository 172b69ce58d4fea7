import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployScript, runToEnd, startHost, waitFor, type TestHost } from "../support/host.ts";

let t: TestHost;
beforeAll(async () => {
  t = await startHost();
});
afterAll(() => t.stop());

const metrics = async () => (await t.api("/metrics")).text();

describe("Prometheus metrics", () => {
  it("count runs by outcome, time them, and show continuous jobs' state", async () => {
    await deployScript(t, "triggered", "ok", "run.sh", "echo fine\n");
    await deployScript(t, "triggered", "bad", "run.sh", "exit 1\n");
    await runToEnd(t, "ok");
    await runToEnd(t, "ok");
    await runToEnd(t, "bad");
    await deployScript(t, "continuous", "daemon", "run.sh", "while true; do sleep 0.2; done\n");
    await waitFor(async () => (await metrics()).includes('webjobs_continuous_running{job="daemon"} 1'));

    const text = await metrics();
    expect(text).toContain('webjobs_runs_total{job="ok",status="Success"} 2');
    expect(text).toContain('webjobs_runs_total{job="bad",status="Failed"} 1');
    expect(text).toMatch(/webjobs_run_duration_seconds_count\{job="ok"\} 2/);
    expect(text).toContain('webjobs_jobs{type="triggered"} 2');
    expect(text).toContain('webjobs_jobs{type="continuous"} 1');
    expect(text).toContain("webjobs_runs_active 0");
    expect(text).toContain('webjobs_continuous_crash_loop{job="daemon"} 0');
    expect(text).toMatch(/webjobs_host_process_cpu_seconds_total \d/);
  });

  it("need credentials", async () => {
    expect((await fetch(`${t.url}/metrics`)).status).toBe(401);
  });
});
