import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FireOutcome, type FireRecord } from "../../src/schedules/types.ts";
import { RunStatus, StoreConflictError, type RunRecord, type Store } from "../../src/store/types.ts";
import { continuousContract } from "./store-contract-continuous.ts";
import { claimsContract } from "./store-contract-claims.ts";
import { instancesContract } from "./store-contract-instances.ts";
import { packagesContract } from "./store-contract-packages.ts";
import { recordsContract } from "./store-contract-records.ts";
import { remoteRunsContract } from "./store-contract-remote-runs.ts";
import { overlapContract } from "./store-contract-overlap.ts";
import { sharedStateContract } from "./store-contract-shared-state.ts";
import { siteRevisionsContract } from "./store-contract-site-revisions.ts";
import { runRecord } from "../support/run-record.ts";

/**
 * The rules every store must enforce itself (not the host's memory): one active run per job,
 * unique run ids, one fire per (job, due instant), conditional retries, schedule state. Run
 * against each store implementation with a factory giving a fresh, migrated store.
 */
export function storeContract(
  name: string,
  open: () => Promise<{ store: Store; close: () => Promise<void> }>,
) {
  // Jobs, history, credentials, hooks, deployments, settings and audit: in their own file.
  recordsContract(name, open);
  // Instances, heartbeats and the runs of dead instances: in their own file.
  instancesContract(name, open);
  claimsContract(name, open);
  // Cancel requests and shipped run logs: in their own file.
  remoteRunsContract(name, open);
  // The run in progress anywhere, cancel reasons and queued occurrences: in their own file.
  overlapContract(name, open);
  // Job packages by content hash, and a desired state changed alone: in their own file.
  packagesContract(name, open);
  // The site's files stored for the other instances after a site deployment: in their own file.
  siteRevisionsContract(name, open);
  sharedStateContract(name, open);
  // Continuous jobs' statuses per instance and singleton leases: in their own file.
  continuousContract(name, open);
  describe(`${name} store contract`, () => {
    let store: Store;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await open());
    });
    afterEach(() => close());

    const run = (id: string, status: RunRecord["status"] = RunStatus.Running, job = "job"): RunRecord =>
      runRecord({ jobName: job, id, status, scheduledTime: new Date(60_000), attempt: 1 });
    const fire = (at: number, outcome: FireRecord["outcome"] = FireOutcome.Started): FireRecord => ({
      jobName: "job",
      scheduledTime: new Date(at),
      outcome,
      runId: null,
      attempt: 1,
      reason: null,
      retryAt: null,
      recordedAt: new Date(),
    });

    it("holds one active run per job, and unique run ids", async () => {
      await store.insertRun(run("1"));
      await expect(store.insertRun(run("2", RunStatus.Initializing))).rejects.toBeInstanceOf(
        StoreConflictError,
      );
      await store.insertRun(run("3", RunStatus.Running, "other"));
      await store.updateRun("job", "1", { status: RunStatus.Success, endTime: new Date(2_000) });
      await store.insertRun(run("2"));
      await expect(store.insertRun(run("1", RunStatus.Success))).rejects.toBeInstanceOf(StoreConflictError);
      const stored = await store.getRun("job", "2");
      expect(stored).toMatchObject({ scheduledTime: new Date(60_000), attempt: 1 });
    });

    it("records each (job, due instant) once, and moves the last processed occurrence with it", async () => {
      await store.armSchedule("job", "key-a", new Date(0));
      expect(await store.recordFire(fire(60_000))).toBe(true);
      expect(await store.recordFire(fire(60_000, FireOutcome.SkippedOverlap))).toBe(false);
      expect(await store.getFire("job", new Date(60_000))).toMatchObject({ outcome: FireOutcome.Started });
      expect(await store.recordFire(fire(30_000, FireOutcome.Missed))).toBe(true);
      // The last processed occurrence never goes back.
      expect((await store.getScheduleState("job"))!.lastProcessed).toEqual(new Date(60_000));
    });

    it("lets one claimant start a retry (a conditional write)", async () => {
      await store.armSchedule("job", "key-a", new Date(0));
      await store.recordFire(fire(60_000));
      expect(await store.updateFire("job", new Date(60_000), { retryAt: new Date(70_000) })).toBe(true);
      const claim = { attempt: 2, retryAt: null, outcome: FireOutcome.Retried };
      expect(await store.updateFire("job", new Date(60_000), claim, 1)).toBe(true);
      expect(await store.updateFire("job", new Date(60_000), claim, 1)).toBe(false);
      expect(await store.pendingRetries()).toEqual([]);
      expect(await store.getFire("job", new Date(60_000))).toMatchObject({ attempt: 2, outcome: "retried" });
    });

    it("starts a schedule over when it changes, and keeps it paused", async () => {
      const armed = await store.armSchedule("job", "key-a", new Date(1_000));
      expect(armed).toMatchObject({ armedAt: new Date(1_000), lastProcessed: null, paused: false });
      await store.recordFire(fire(60_000));
      expect(await store.setSchedulePaused("job", true, new Date(2_000))).toBe(true);
      const same = await store.armSchedule("job", "key-a", new Date(90_000));
      expect(same).toMatchObject({ armedAt: new Date(1_000), lastProcessed: new Date(60_000), paused: true });
      const changed = await store.armSchedule("job", "key-b", new Date(90_000));
      expect(changed).toMatchObject({ armedAt: new Date(90_000), lastProcessed: null, paused: true });
      await store.setSchedulePaused("job", false, new Date(95_000));
      expect((await store.getScheduleState("job"))!.suppressedUntil).toEqual(new Date(95_000));
      expect(await store.setSchedulePaused("nobody", true, new Date())).toBe(false);
    });

    it("keeps the newest fires and forgets a job's schedule", async () => {
      await store.armSchedule("job", "key-a", new Date(0));
      for (let i = 1; i <= 5; i++) await store.recordFire(fire(i * 1000));
      await store.pruneFires("job", 2);
      expect((await store.listFires("job", 10)).map((f) => f.scheduledTime.getTime())).toEqual([5000, 4000]);
      await store.deleteSchedule("job");
      expect(await store.listFires("job", 10)).toEqual([]);
      expect(await store.getScheduleState("job")).toBeNull();
    });
  });
}
