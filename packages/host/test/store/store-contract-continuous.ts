import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { InstanceRegistration } from "../../src/instances/types.ts";
import type { Store } from "../../src/store/types.ts";

const LONG = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Continuous jobs on several instances (see store-contract.ts): each instance's status of a job,
 * listed for live instances only, and singleton leases taken by one instance at a time, renewed
 * by their holder, taken over once expired, given up at once on release. Lease times are
 * parameters, so "expired" needs no long wait.
 */
export function continuousContract(
  name: string,
  open: () => Promise<{ store: Store; close: () => Promise<void> }>,
) {
  describe(`${name} store contract: continuous jobs on several instances`, () => {
    let store: Store;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await open());
    });
    afterEach(() => close());

    const register = (id: string) =>
      store.instances.registerInstance(
        {
          id,
          hostName: "machine",
          url: `http://127.0.0.1/${id}`,
          incarnation: `inc-${id}`,
          previousIncarnation: null,
          activeRuns: 0,
        } satisfies InstanceRegistration,
        LONG,
      );

    it("keeps one status per (job, instance), listed for live instances only", async () => {
      await register("i1");
      await register("i2");
      await register("i3");
      await store.continuous.setContinuousStatus("job", "i2", "Starting");
      await store.continuous.setContinuousStatus("job", "i2", "Running");
      await store.continuous.setContinuousStatus("job", "i1", "InactiveInstance");
      await store.continuous.setContinuousStatus("other", "i1", "Stopped");
      await store.continuous.setContinuousStatus("job", "i3", "Running");
      // A row of an instance the store has never seen does not count either.
      await store.continuous.setContinuousStatus("job", "ghost", "Running");
      await store.instances.stopInstance("i3", "inc-i3");
      expect(await store.continuous.listContinuousStatuses(LONG)).toEqual([
        { jobName: "job", instanceId: "i1", status: "InactiveInstance" },
        { jobName: "job", instanceId: "i2", status: "Running" },
        { jobName: "other", instanceId: "i1", status: "Stopped" },
      ]);
      // Silent past the timeout (by the store's clock): dead, its rows left out.
      await sleep(20);
      await store.instances.heartbeatInstance("i1", "inc-i1", "u", 0);
      expect(await store.continuous.listContinuousStatuses(10)).toEqual([
        { jobName: "job", instanceId: "i1", status: "InactiveInstance" },
        { jobName: "other", instanceId: "i1", status: "Stopped" },
      ]);
      await store.continuous.deleteContinuousStatus("job", "i1");
      expect((await store.continuous.listContinuousStatuses(LONG)).map((s) => s.jobName)).toEqual([
        "job",
        "other",
      ]);
    });

    it("gives a singleton lease to one instance until it expires or is released", async () => {
      const { continuous } = store;
      expect(await continuous.acquireSingletonLease("job", "i1", LONG)).toBe(true);
      expect(await continuous.acquireSingletonLease("job", "i2", LONG)).toBe(false);
      // The holder renews; another job's lease is another row.
      expect(await continuous.acquireSingletonLease("job", "i1", LONG)).toBe(true);
      expect(await continuous.acquireSingletonLease("other", "i2", LONG)).toBe(true);
      expect(await continuous.singletonLeaseHolder("job")).toBe("i1");
      // Releasing someone else's lease changes nothing; the holder's release frees it at once.
      await continuous.releaseSingletonLease("job", "i2");
      expect(await continuous.acquireSingletonLease("job", "i2", LONG)).toBe(false);
      await continuous.releaseSingletonLease("job", "i1");
      expect(await continuous.singletonLeaseHolder("job")).toBeNull();
      expect(await continuous.acquireSingletonLease("job", "i2", 1)).toBe(true);
      // Not renewed in time: expired, taken over by another instance.
      await sleep(20);
      expect(await continuous.singletonLeaseHolder("job")).toBeNull();
      expect(await continuous.acquireSingletonLease("job", "i3", LONG)).toBe(true);
      expect(await continuous.acquireSingletonLease("job", "i2", LONG)).toBe(false);
      expect(await continuous.singletonLeaseHolder("job")).toBe("i3");
    });

    it("lets exactly one of several instances racing for a free lease take it", async () => {
      const ids = ["i1", "i2", "i3", "i4", "i5"];
      const won = await Promise.all(
        ids.map((id) => store.continuous.acquireSingletonLease("race", id, LONG)),
      );
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(await store.continuous.singletonLeaseHolder("race")).toBe(ids[won.indexOf(true)]);
    });
  });
}
