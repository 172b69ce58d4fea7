import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HostPaths } from "../../src/paths.ts";
import { removePrunedRunFolders } from "../../src/runs/run-folders.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { RunStatus, type RunRecord } from "../../src/store/types.ts";
import { runRecord } from "../support/run-record.ts";

/**
 * Several instances: another instance pruned the history, and this one still holds the folders
 * of its own runs that were pruned. A real store and real folders.
 */
let dir: string;
let store: SqliteStore;
let paths: HostPaths;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-run-folders-"));
  store = new SqliteStore(path.join(dir, "webjobs.db"));
  await store.migrate();
  paths = new HostPaths(path.join(dir, "data"), path.join(dir, "site"));
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const run = (id: string): RunRecord =>
  runRecord({ id, status: RunStatus.Success, endTime: new Date(2_000), exitCode: 0 });

async function folders(ids: string[]): Promise<void> {
  for (const id of ids) {
    await mkdir(paths.runDir("job", id), { recursive: true });
    await writeFile(paths.runLog("job", id), "log\n");
  }
}

describe("removePrunedRunFolders", () => {
  it("removes this instance's folders of runs older than the oldest kept, and nothing else", async () => {
    // The history keeps 3 runs: 1005, 1006, 1007. This machine ran 1001, 1003, 1006 and has
    // just started 1009, whose row another instance has not seen yet: its folder stays.
    for (const id of ["1005", "1006", "1007"]) await store.insertRun(run(id));
    await folders(["1001", "1003", "1006", "1009"]);
    await writeFile(path.join(paths.jobData("triggered", "job"), "job_scheduler.log"), "kept\n");

    await removePrunedRunFolders(store, paths, "job", 3);

    expect((await readdir(paths.jobData("triggered", "job"))).sort()).toEqual([
      "1006",
      "1009",
      "job_scheduler.log",
    ]);
  });

  it("removes nothing while the history holds fewer runs than it may keep", async () => {
    await store.insertRun(run("1005"));
    await folders(["1001", "1005"]);
    await removePrunedRunFolders(store, paths, "job", 3);
    expect(existsSync(paths.runDir("job", "1001"))).toBe(true);
  });
});
