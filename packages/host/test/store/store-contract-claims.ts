import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { InstanceRegistration } from "../../src/instances/types.ts";
import { RunStatus, StoreConflictError, type RunRecord, type Store } from "../../src/store/types.ts";
import { runRecord } from "../support/run-record.ts";

const LONG = 60_000;

/**
 * Runs placed on the least-loaded live instance and claimed by it (see store-contract.ts): the
 * load is the active runs in the store, dead instances get nothing, a taken id writes nothing,
 * one active run per job wherever it goes, and each placed run is claimed once.
 */
export function claimsContract(
  name: string,
  open: () => Promise<{ store: Store; close: () => Promise<void> }>,
) {
  describe(`${name} store contract: run claims`, () => {
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
          incarnation: `${id}-1`,
          previousIncarnation: null,
          activeRuns: 0,
        } satisfies InstanceRegistration,
        LONG,
      );

    const run = (
      job: string,
      id: string,
      instanceId: string,
      status: RunRecord["status"] = RunStatus.Initializing,
    ): RunRecord =>
      runRecord({
        jobName: job,
        id,
        status,
        instanceId,
        arguments: "--x 1",
        scheduledTime: new Date(5_000),
        attempt: 1,
      });

    it("places a run on the live instance with the fewest active runs, counted from the runs table", async () => {
      for (const id of ["a", "b", "c"]) await register(id);
      // a: two active runs, b: one, c: one finished (no load).
      await store.insertRun(run("j1", "1", "a", RunStatus.Running));
      await store.insertRun(run("j2", "1", "a", RunStatus.Running));
      await store.insertRun(run("j3", "1", "b", RunStatus.Running));
      await store.insertRun({ ...run("j4", "1", "c"), status: RunStatus.Success, endTime: new Date(2_000) });
      expect(await store.claims.insertOnLeastLoaded(run("new", "1", "a"), LONG)).toBe("c");
      const placed = await store.getRun("new", "1");
      expect(placed).toMatchObject({
        instanceId: "c",
        status: RunStatus.Initializing,
        arguments: "--x 1",
        attempt: 1,
      });
      expect(placed?.scheduledTime?.getTime()).toBe(5_000);
      // Now b and c have one each, a two: never a.
      const next = await store.claims.insertOnLeastLoaded(run("other", "1", "a"), LONG);
      expect(["b", "c"]).toContain(next);
    });

    it("spreads ties at random, and never places on a stopped instance", async () => {
      for (const id of ["a", "b", "c"]) await register(id);
      await store.instances.stopInstance("c", "c-1");
      const chosen = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const target = await store.claims.insertOnLeastLoaded(run(`job-${i}`, "1", "a"), LONG);
        chosen.add(target!);
        // Finished at once: the loads stay equal, every choice is a tie.
        await store.updateRun(`job-${i}`, "1", { status: RunStatus.Success, endTime: new Date(3_000) });
      }
      expect([...chosen].sort()).toEqual(["a", "b"]);
    });

    it("always has the caller as a candidate, and a run placed on the caller is claimed at insert", async () => {
      // Not registered at all (a store used alone): the caller takes it.
      expect(await store.claims.insertOnLeastLoaded(run("solo", "1", "self"), LONG)).toBe("self");
      expect(await store.claims.claimAssigned("self")).toEqual([]);
    });

    it("writes nothing when the id is taken, and refuses a second active run of a job wherever it would go", async () => {
      for (const id of ["a", "b"]) await register(id);
      await store.insertRun({ ...run("j", "1", "a"), status: RunStatus.Success, endTime: new Date(2_000) });
      expect(await store.claims.insertOnLeastLoaded(run("j", "1", "b"), LONG)).toBeNull();
      expect((await store.getRun("j", "1"))?.status).toBe(RunStatus.Success);
      expect(await store.claims.insertOnLeastLoaded(run("j", "2", "b"), LONG)).not.toBeNull();
      await expect(store.claims.insertOnLeastLoaded(run("j", "3", "a"), LONG)).rejects.toBeInstanceOf(
        StoreConflictError,
      );
      expect((await store.listRuns("j")).map((r) => r.id)).toEqual(["2", "1"]);
    });

    it("lets the assigned instance claim each placed run once, and only while it is Initializing", async () => {
      for (const id of ["a", "b"]) await register(id);
      // a carries load, so runs from a go to b.
      await store.insertRun(run("busy", "1", "a", RunStatus.Running));
      expect(await store.claims.insertOnLeastLoaded(run("x", "1", "a"), LONG)).toBe("b");
      expect(await store.claims.claimAssigned("a")).toEqual([]);
      expect(await store.claims.unclaimed("b")).toEqual([{ jobName: "x", id: "1" }]);
      const [claimed, ...rest] = await Promise.all([
        store.claims.claimAssigned("b"),
        store.claims.claimAssigned("b"),
        store.claims.claimAssigned("b"),
      ]);
      expect([claimed, ...rest].flat().map((r) => `${r.jobName}/${r.id}@${r.instanceId}`)).toEqual(["x/1@b"]);
      expect(await store.claims.claimAssigned("b")).toEqual([]);
      expect(await store.claims.unclaimed("b")).toEqual([]);
      // A placed run closed before its claim (its instance died: instance lost) is never claimed.
      await store.insertRun(run("busy-2", "1", "a", RunStatus.Running));
      expect(await store.claims.insertOnLeastLoaded(run("y", "1", "a"), LONG)).toBe("b");
      await store.updateRun("y", "1", {
        status: RunStatus.Aborted,
        reason: "instance lost",
        endTime: new Date(4_000),
      });
      expect(await store.claims.claimAssigned("b")).toEqual([]);
    });

    it("counts an unclaimed placed run as load, and lets dead instances' unclaimed runs be closed as lost", async () => {
      for (const id of ["a", "b"]) await register(id);
      expect(await store.claims.insertOnLeastLoaded(run("p", "1", "a"), LONG)).toMatch(/^[ab]$/);
      const first = (await store.getRun("p", "1"))!.instanceId;
      const other = first === "a" ? "b" : "a";
      expect(await store.claims.insertOnLeastLoaded(run("q", "1", "a"), LONG)).toBe(other);
      await store.instances.stopInstance("b", "b-1");
      const lost = await store.instances.abortRunsOfDeadInstances("a", LONG, "instance lost");
      expect(lost.map((k) => k.jobName)).toEqual([first === "b" ? "p" : "q"]);
    });
  });
}
