import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FireOutcome, type FireRecord } from "../../src/schedules/types.ts";
import { RunStatus, type RunRecord, type Store } from "../../src/store/types.ts";
import { runRecord } from "../support/run-record.ts";

/**
 * Schedules across instances (see store-contract.ts): the run in progress of a job whichever
 * instance runs it, a cancel request that carries the reason the run ends with ("replaced by
 * schedule"), the queued occurrence waiting for a given run, no fire while a schedule is paused
 * (through any instance), and the database's clock.
 */
export function overlapContract(
  name: string,
  open: () => Promise<{ store: Store; close: () => Promise<void> }>,
) {
  describe(`${name} store contract: overlap policies across instances`, () => {
    let store: Store;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await open());
    });
    afterEach(() => close());

    const run = (jobName: string, id: string, instanceId: string, status: RunStatus): RunRecord =>
      runRecord({
        jobName,
        id,
        instanceId,
        status,
        endTime: status === RunStatus.Running || status === RunStatus.Initializing ? null : new Date(2_000),
      });
    const fire = (at: number, outcome: FireOutcome, waitingFor?: string): FireRecord => ({
      jobName: "job",
      scheduledTime: new Date(at),
      outcome,
      runId: null,
      attempt: 1,
      reason: null,
      retryAt: null,
      recordedAt: new Date(at),
      ...(waitingFor ? { waitingFor } : {}),
    });

    it("finds a job's run in progress, whichever instance runs it", async () => {
      await store.insertRun(run("job", "1", "i1", RunStatus.Success));
      await store.insertRun(run("other", "1", "i1", RunStatus.Running));
      expect(await store.remoteRuns.activeRun("job")).toBeNull();
      await store.insertRun(run("job", "2", "i2", RunStatus.Initializing));
      expect(await store.remoteRuns.activeRun("job")).toMatchObject({ id: "2", instanceId: "i2" });
      await store.updateRun("job", "2", { status: RunStatus.Running });
      expect(await store.remoteRuns.activeRun("job")).toMatchObject({ id: "2", status: RunStatus.Running });
      await store.updateRun("job", "2", { status: RunStatus.Aborted, endTime: new Date(3_000) });
      expect(await store.remoteRuns.activeRun("job")).toBeNull();
      expect(await store.remoteRuns.activeRun("missing")).toBeNull();
    });

    it("keeps the reason of the first cancel request for the instance running the run", async () => {
      await store.insertRun(run("job", "1", "i1", RunStatus.Running));
      await store.insertRun(run("other", "1", "i1", RunStatus.Running));
      expect(await store.remoteRuns.requestCancel("job", "1", "replaced by schedule")).toBe(true);
      // A later request (a user's cancel) does not change what the run ends with.
      expect(await store.remoteRuns.requestCancel("job", "1")).toBe(true);
      expect(await store.remoteRuns.requestCancel("other", "1")).toBe(true);
      const asked = await store.remoteRuns.cancelRequests("i1");
      expect(asked.sort((a, b) => a.jobName.localeCompare(b.jobName))).toEqual([
        { jobName: "job", id: "1", reason: "replaced by schedule" },
        { jobName: "other", id: "1", reason: null },
      ]);
    });

    it("finds the occurrence queued while a given run was going, until it starts", async () => {
      await store.armSchedule("job", "key", new Date(0));
      expect(await store.recordFire(fire(10_000, FireOutcome.Started))).toBe(true);
      expect(await store.recordFire(fire(11_000, FireOutcome.Queued, "run-a"))).toBe(true);
      expect(await store.recordFire(fire(12_000, FireOutcome.Coalesced))).toBe(true);
      expect(await store.waitingFire("job", "run-a")).toEqual(fire(11_000, FireOutcome.Queued, "run-a"));
      expect(await store.waitingFire("job", "run-b")).toBeNull();
      expect(await store.waitingFire("other", "run-a")).toBeNull();
      // A fire recorded without one has none.
      expect(await store.getFire("job", new Date(10_000))).toEqual(fire(10_000, FireOutcome.Started));
      // Started (or merged into a run that started first): no longer waiting.
      await store.updateFire("job", new Date(11_000), { outcome: FireOutcome.Started, runId: "run-c" });
      expect(await store.waitingFire("job", "run-a")).toBeNull();
    });

    it("lets one instance claim the occurrence queued behind a run, once that run has ended", async () => {
      await store.armSchedule("job", "key", new Date(0));
      await store.insertRun(run("job", "run-a", "i1", RunStatus.Running));
      expect(await store.recordFire(fire(11_000, FireOutcome.Queued, "run-a"))).toBe(true);
      // The run goes on: nothing to start yet.
      expect(await store.claimWaitingFire("job", "run-a")).toBeNull();
      expect(await store.readyWaitingFires()).toEqual([]);
      await store.updateRun("job", "run-a", { status: RunStatus.Success, endTime: new Date(12_000) });
      expect(await store.readyWaitingFires()).toEqual([fire(11_000, FireOutcome.Queued, "run-a")]);
      // Two instances hear of the end: one claims it.
      const claims = await Promise.all([
        store.claimWaitingFire("job", "run-a"),
        store.claimWaitingFire("job", "run-a"),
      ]);
      expect(claims.filter((c) => c !== null)).toEqual([
        { ...fire(11_000, FireOutcome.Started, "run-a"), reason: null },
      ]);
      expect(await store.readyWaitingFires()).toEqual([]);
      expect(await store.claimWaitingFire("job", "run-b")).toBeNull();
    });

    it("records no fire while the schedule is paused, and lists the paused ones", async () => {
      await store.armSchedule("job", "key", new Date(0));
      await store.armSchedule("other", "key", new Date(0));
      expect(await store.pausedSchedules()).toEqual([]);
      await store.setSchedulePaused("job", true, new Date(5_000));
      expect(await store.pausedSchedules()).toEqual(["job"]);
      // Another instance that has not heard of the pause yet fires in vain.
      expect(await store.recordFire(fire(10_000, FireOutcome.Started))).toBe(false);
      expect(await store.getFire("job", new Date(10_000))).toBeNull();
      expect((await store.getScheduleState("job"))!.lastProcessed).toBeNull();
      expect(await store.recordFire({ ...fire(10_000, FireOutcome.Started), jobName: "other" })).toBe(true);
      await store.setSchedulePaused("job", false, new Date(15_000));
      expect(await store.pausedSchedules()).toEqual([]);
      expect(await store.recordFire(fire(20_000, FireOutcome.Started))).toBe(true);
    });

    it("tells the database's clock", async () => {
      const before = Date.now();
      const now = (await store.instances.databaseTime()).getTime();
      // The test and the database run on one machine here: one clock, read a moment apart.
      expect(Math.abs(now - before)).toBeLessThan(5_000);
    });
  });
}
