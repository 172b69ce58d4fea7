import { describe, expect, it } from "vitest";
import { FireOutcome } from "../../src/schedules/types.ts";
import { RunStatus } from "../../src/store/types.ts";
import { startHost, waitFor } from "../support/host.ts";
import { deployScheduled, runs } from "../schedules/support.ts";

/**
 * A scheduled run left by an instance that died is closed by a live one as Aborted ("instance
 * lost") and retried there, like a run of a host that crashed (schedule reference §8). The dead
 * instance is a row whose heartbeat stops: no process needed, the store decides.
 */
describe("a scheduled run of a dead instance", () => {
  it("is closed as Aborted (instance lost) and retried on a live instance", async () => {
    const t = await startHost({ instanceId: "alive", instanceTimeoutSec: 1 });
    try {
      await deployScheduled(t, "yearly", "echo retried\n", {
        schedule: "0 0 0 1 1 *",
        time_zone: "UTC",
        retry_count: 1,
        retry_interval: 1,
      });
      const { store } = t.host;
      await store.instances.registerInstance(
        {
          id: "ghost",
          hostName: "elsewhere",
          url: "http://192.0.2.1:8080",
          incarnation: "g",
          previousIncarnation: null,
          activeRuns: 1,
        },
        1_000,
      );
      const due = new Date(Math.floor(Date.now() / 1000) * 1000 - 5_000);
      await store.recordFire({
        jobName: "yearly",
        scheduledTime: due,
        outcome: FireOutcome.Started,
        runId: "1000",
        attempt: 1,
        reason: null,
        retryAt: null,
        recordedAt: new Date(),
      });
      await store.insertRun({
        jobName: "yearly",
        id: "1000",
        status: RunStatus.Running,
        reason: null,
        trigger: "Schedule - 0 0 0 1 1 *",
        arguments: "",
        version: "v0",
        instanceId: "ghost",
        startTime: due,
        endTime: null,
        exitCode: null,
        signal: null,
        cpuMs: null,
        peakRssBytes: null,
        pid: null,
        scheduledTime: due,
        attempt: 1,
      });
      // The ghost never beats again: dead 1 s later, its run closed, then retried after 1 s.
      const history = await waitFor(
        async () => {
          const list = await runs(t, "yearly");
          return list.some((r) => r.attempt === 2 && r.status === "Success") && list;
        },
        10_000,
        "the retry to succeed",
      );
      const lost = history.find((r) => r.id === "1000");
      expect(lost).toMatchObject({ status: "Aborted", reason: "instance lost" });
      const retry = history.find((r) => r.attempt === 2)!;
      expect(retry).toMatchObject({ scheduled_time: due.toISOString(), status: "Success" });
      expect((await store.getRun("yearly", retry.id))!.instanceId).toBe("alive");
      expect(await store.getFire("yearly", due)).toMatchObject({ attempt: 2, outcome: FireOutcome.Retried });
    } finally {
      await t.stop();
    }
  }, 30_000);
});
