import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RunStatus, type RunRecord, type Store } from "../../src/store/types.ts";
import { runRecord } from "../support/run-record.ts";

/**
 * Runs seen and controlled from every instance (see store-contract.ts): a cancel request only on
 * an active run, found by the instance running it; log chunks in order, a chunk written twice
 * kept once, a closing line after the last chunk, and the chunks gone with their run.
 */
export function remoteRunsContract(
  name: string,
  open: () => Promise<{ store: Store; close: () => Promise<void> }>,
) {
  describe(`${name} store contract: runs from every instance`, () => {
    let store: Store;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await open());
    });
    afterEach(() => close());

    const run = (id: string, instanceId: string, status: RunStatus = RunStatus.Running): RunRecord =>
      runRecord({ id, instanceId, status, endTime: status === RunStatus.Running ? null : new Date(2_000) });
    const texts = async (id: string, after = 0, limit = 100) =>
      (await store.remoteRuns.readLogChunks("job", id, after, limit)).map((c) => [c.seq, c.text]);

    it("records a cancel request only on an active run, for its instance to find", async () => {
      await store.insertRun(run("1", "i1"));
      await store.insertRun(run("0", "i1", RunStatus.Success));
      expect(await store.remoteRuns.cancelRequests("i1")).toEqual([]);
      expect(await store.remoteRuns.requestCancel("job", "0")).toBe(false);
      expect(await store.remoteRuns.requestCancel("job", "missing")).toBe(false);
      expect(await store.remoteRuns.requestCancel("job", "1")).toBe(true);
      // Asked twice: still one request.
      expect(await store.remoteRuns.requestCancel("job", "1")).toBe(true);
      expect(await store.remoteRuns.cancelRequests("i1")).toEqual([
        { jobName: "job", id: "1", reason: null },
      ]);
      expect(await store.remoteRuns.cancelRequests("i2")).toEqual([]);
      // Once the run has ended, nothing is left to cancel.
      await store.updateRun("job", "1", {
        status: RunStatus.Aborted,
        reason: "cancelled",
        endTime: new Date(),
      });
      expect(await store.remoteRuns.cancelRequests("i1")).toEqual([]);
      expect(await store.remoteRuns.requestCancel("job", "1")).toBe(false);
    });

    it("keeps log chunks in order, each once, and reads them in pages", async () => {
      await store.insertRun(run("1", "i1"));
      expect(await texts("1")).toEqual([]);
      await store.remoteRuns.appendLogChunk("job", "1", 2, "b\n");
      await store.remoteRuns.appendLogChunk("job", "1", 1, "a\n");
      // A retried write of a chunk already stored changes nothing.
      await store.remoteRuns.appendLogChunk("job", "1", 1, "other\n");
      await store.remoteRuns.appendLogChunk("job", "1", 3, "ünïcode ✓\n");
      expect(await texts("1")).toEqual([
        [1, "a\n"],
        [2, "b\n"],
        [3, "ünïcode ✓\n"],
      ]);
      expect(await texts("1", 1, 1)).toEqual([[2, "b\n"]]);
      expect(await texts("1", 3)).toEqual([]);
      await expect(store.remoteRuns.appendLogChunk("job", "1", 0, "zero\n")).rejects.toThrow();
    });

    it("writes a closing line after the last chunk, and none for a run that does not exist", async () => {
      await store.insertRun(run("1", "i1"));
      await store.remoteRuns.appendLogTail("job", "1", "first\n");
      await store.remoteRuns.appendLogChunk("job", "1", 2, "two\n");
      await store.remoteRuns.appendLogTail("job", "1", "lost\n");
      expect(await texts("1")).toEqual([
        [1, "first\n"],
        [2, "two\n"],
        [3, "lost\n"],
      ]);
      await store.remoteRuns.appendLogTail("job", "missing", "x\n");
      await store.remoteRuns.appendLogChunk("job", "missing", 1, "x\n");
      expect(await texts("missing")).toEqual([]);
    });

    it("deletes a run's log with the run (pruned or the job's history deleted)", async () => {
      await store.insertRun(run("1", "i1", RunStatus.Success));
      await store.insertRun(run("2", "i1", RunStatus.Success));
      await store.insertRun(run("3", "i1", RunStatus.Success));
      for (const id of ["1", "2", "3"]) await store.remoteRuns.appendLogChunk("job", id, 1, `${id}\n`);
      expect(await store.pruneRuns("job", 2)).toEqual(["1"]);
      expect(await texts("1")).toEqual([]);
      expect(await texts("2")).toEqual([[1, "2\n"]]);
      // A run id used again starts a log of its own.
      await store.insertRun(run("1", "i1"));
      expect(await texts("1")).toEqual([]);
      await store.deleteRuns("job");
      expect(await texts("2")).toEqual([]);
      expect(await texts("3")).toEqual([]);
    });

    it("keeps a NUL written by a job as U+FFFD or as it is, never failing the write", async () => {
      await store.insertRun(run("1", "i1"));
      await store.remoteRuns.appendLogChunk("job", "1", 1, "a\0b\n");
      const [[, text]] = (await texts("1")) as [[number, string]];
      expect(["a\0b\n", "a\uFFFDb\n"]).toContain(text);
    });
  });
}
