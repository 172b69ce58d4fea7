import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JobType, type JobRecord, type Store } from "../../src/store/types.ts";

const sha256 = (content: Buffer) => createHash("sha256").update(content).digest("hex");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Packages in the store (see store-contract.ts): content-addressed job versions, the hash recorded
 * with the job's version, pruning of the unreferenced ones, and a desired-state change that never
 * writes a whole row back.
 */
export function packagesContract(
  name: string,
  open: () => Promise<{ store: Store; close: () => Promise<void> }>,
) {
  describe(`${name} store contract: packages`, () => {
    let store: Store;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await open());
    });
    afterEach(() => close());

    const job = (version: string, packageHash: string | null | undefined): JobRecord => ({
      type: JobType.Triggered,
      name: "report",
      version,
      script: "run.sh",
      settings: {},
      error: null,
      desiredState: "running",
      sourceFingerprint: null,
      packageHash,
      createdAt: new Date(1_000),
      updatedAt: new Date(2_000),
    });

    it("stores a package under its hash, once, and gives its bytes back", async () => {
      const content = Buffer.from([0, 1, 2, 255, 0, 10, 13]);
      const hash = sha256(content);
      expect(await store.packages.getPackage(hash)).toBeNull();
      await store.packages.putPackage(hash, content);
      await store.packages.putPackage(hash, content);
      expect(Buffer.compare((await store.packages.getPackage(hash))!, content)).toBe(0);
      const big = Buffer.alloc(3 * 1024 * 1024, 7);
      await store.packages.putPackage(sha256(big), big);
      expect((await store.packages.getPackage(sha256(big)))!.length).toBe(big.length);
    });

    it("refuses a key that is not a SHA-256 in hex", async () => {
      for (const bad of ["", "abc", "G".repeat(64), "A".repeat(64), `${"a".repeat(64)}/`]) {
        await expect(store.packages.putPackage(bad, Buffer.from("x"))).rejects.toThrow(/package hash/);
      }
    });

    it("records the hash with the job's version, and keeps it while the version stays", async () => {
      const hash = sha256(Buffer.from("v1"));
      await store.upsertJob(job("v1", hash));
      expect((await store.getJob(JobType.Triggered, "report"))!.packageHash).toBe(hash);
      // Written back without it (an older writer): same version, the hash stays.
      await store.upsertJob({ ...job("v1", undefined), desiredState: "stopped" });
      expect((await store.getJob(JobType.Triggered, "report"))!.packageHash).toBe(hash);
      // A new version without a package: none.
      await store.upsertJob(job("v2", null));
      expect((await store.getJob(JobType.Triggered, "report"))!.packageHash).toBeNull();
    });

    it("prunes only packages that no job references and that are old enough", async () => {
      const used = Buffer.from("used");
      const unused = Buffer.from("unused");
      await store.packages.putPackage(sha256(used), used);
      await store.packages.putPackage(sha256(unused), unused);
      await store.upsertJob(job("v1", sha256(used)));
      // Young packages stay: another instance may be about to record one with its job.
      expect(await store.packages.prunePackages(60_000)).toBe(0);
      await sleep(5);
      expect(await store.packages.prunePackages(1)).toBe(1);
      expect(await store.packages.getPackage(sha256(unused))).toBeNull();
      expect(await store.packages.getPackage(sha256(used))).not.toBeNull();
      await store.deleteJob(JobType.Triggered, "report");
      await sleep(5);
      expect(await store.packages.prunePackages(1)).toBe(1);
      expect(await store.packages.getPackage(sha256(used))).toBeNull();
    });

    it("changes a job's desired state alone", async () => {
      const hash = sha256(Buffer.from("v1"));
      await store.upsertJob(job("v1", hash));
      const changed = await store.setJobDesiredState(JobType.Triggered, "report", "stopped", new Date(9_000));
      expect(changed).toMatchObject({ version: "v1", desiredState: "stopped", packageHash: hash });
      expect(changed!.updatedAt.getTime()).toBe(9_000);
      // A deploy that landed meanwhile keeps its version.
      await store.upsertJob(job("v2", null));
      const again = await store.setJobDesiredState(JobType.Triggered, "report", "running", new Date(9_500));
      expect(again).toMatchObject({ version: "v2", desiredState: "running" });
      expect(await store.setJobDesiredState(JobType.Triggered, "nothing", "stopped", new Date())).toBeNull();
    });
  });
}
