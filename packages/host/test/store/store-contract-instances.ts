import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { InstanceRegistration } from "../../src/instances/types.ts";
import { RunStatus, type RunRecord, type Store } from "../../src/store/types.ts";
import { runRecord } from "../support/run-record.ts";

const LONG = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Instances in the store (see store-contract.ts): registration refused to a second live process
 * with the same id, heartbeats, liveness by the store's clock, and the runs of a dead instance
 * closed once. Timeouts are parameters, so "dead" needs no long wait: a 1 ms timeout after a
 * short sleep.
 */
export function instancesContract(
  name: string,
  open: () => Promise<{ store: Store; close: () => Promise<void> }>,
) {
  describe(`${name} store contract: instances`, () => {
    let store: Store;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await open());
    });
    afterEach(() => close());

    const registration = (id: string, incarnation: string, previous: string | null = null) =>
      ({
        id,
        hostName: "machine-a",
        url: `http://127.0.0.1/${id}`,
        incarnation,
        previousIncarnation: previous,
        activeRuns: 0,
      }) satisfies InstanceRegistration;

    const run = (id: string, instanceId: string, job = `job-${id}`): RunRecord =>
      runRecord({ jobName: job, id, instanceId });

    it("registers, heartbeats with the load, and lists instances as live", async () => {
      expect(await store.instances.registerInstance(registration("i1", "a"), LONG)).toBeNull();
      const [first] = await store.instances.listInstances(LONG);
      expect(first).toMatchObject({ id: "i1", hostName: "machine-a", activeRuns: 0, live: true });
      await sleep(20);
      expect(await store.instances.heartbeatInstance("i1", "a", "http://new", 3)).toBe(true);
      const [beaten] = await store.instances.listInstances(LONG);
      expect(beaten).toMatchObject({ url: "http://new", activeRuns: 3, live: true });
      expect(beaten!.lastHeartbeat.getTime()).toBeGreaterThan(first!.lastHeartbeat.getTime());
      expect(beaten!.startedAt).toEqual(first!.startedAt);
      // Another process's heartbeat under that id is not ours.
      expect(await store.instances.heartbeatInstance("i1", "b", "http://x", 0)).toBe(false);
    });

    it("refuses a second live process with the same id, and says who holds it", async () => {
      await store.instances.registerInstance(registration("i1", "a"), LONG);
      const holder = await store.instances.registerInstance(registration("i1", "b"), LONG);
      expect(holder).toMatchObject({ id: "i1", url: "http://127.0.0.1/i1", live: true });
      // Nothing was written: the row is still the first process's.
      expect(await store.instances.heartbeatInstance("i1", "a", "u", 0)).toBe(true);
      // Our own predecessor (its incarnation kept in our data folder) is taken over at once.
      expect(await store.instances.registerInstance(registration("i1", "c", "a"), LONG)).toBeNull();
      expect(await store.instances.heartbeatInstance("i1", "a", "u", 0)).toBe(false);
    });

    it("declares dead an instance silent past the timeout, or stopped, and lets its id be taken", async () => {
      await store.instances.registerInstance(registration("i1", "a"), LONG);
      await store.instances.registerInstance(registration("i2", "b"), LONG);
      await sleep(30);
      expect((await store.instances.listInstances(1)).map((i) => i.live)).toEqual([false, false]);
      expect(await store.instances.registerInstance(registration("i1", "c"), 1)).toBeNull();
      await store.instances.stopInstance("i2", "b");
      const states = await store.instances.listInstances(LONG);
      expect(states.map((i) => [i.id, i.live])).toEqual([
        ["i1", true],
        ["i2", false],
      ]);
      // A stopped instance's heartbeat does not bring it back.
      expect(await store.instances.heartbeatInstance("i2", "b", "u", 0)).toBe(false);
      expect(await store.instances.registerInstance(registration("i2", "d"), LONG)).toBeNull();
    });

    it("closes the active runs of dead instances once, and never a live one's", async () => {
      await store.instances.registerInstance(registration("live", "a"), LONG);
      await store.instances.registerInstance(registration("dead", "b"), LONG);
      await store.instances.stopInstance("dead", "b");
      await store.insertRun(run("1", "live"));
      await store.insertRun(run("2", "dead"));
      await store.insertRun({ ...run("3", "dead"), status: RunStatus.Success, endTime: new Date(2_000) });
      // An instance that never registered (an older host) is left alone.
      await store.insertRun(run("4", "unknown"));
      const closed = await store.instances.abortRunsOfDeadInstances("live", LONG, "instance lost");
      expect(closed).toEqual([{ jobName: "job-2", id: "2" }]);
      expect(await store.getRun("job-2", "2")).toMatchObject({
        status: RunStatus.Aborted,
        reason: "instance lost",
        endTime: expect.any(Date),
      });
      expect(await store.instances.abortRunsOfDeadInstances("live", LONG, "instance lost")).toEqual([]);
      expect(await store.getRun("job-3", "3")).toMatchObject({ status: RunStatus.Success, reason: null });
      expect((await store.getRun("job-1", "1"))!.status).toBe(RunStatus.Running);
      // A dead instance never closes its own runs this way (its restart recovers them).
      await store.instances.registerInstance(registration("live", "c", "a"), LONG);
      await sleep(30);
      expect(await store.instances.abortRunsOfDeadInstances("live", 1, "instance lost")).toEqual([]);
    });

    it("forgets instances dead for long that hold no active run", async () => {
      await store.instances.registerInstance(registration("i1", "a"), LONG);
      await store.instances.registerInstance(registration("i2", "b"), LONG);
      await store.insertRun(run("1", "i2"));
      await sleep(30);
      expect(await store.instances.pruneInstances(1)).toBe(1);
      expect((await store.instances.listInstances(LONG)).map((i) => i.id)).toEqual(["i2"]);
    });
  });
}
