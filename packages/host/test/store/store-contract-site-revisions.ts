import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/types.ts";

const sha256 = (content: Buffer) => createHash("sha256").update(content).digest("hex");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Site revisions (see store-contract.ts): the site's files stored as a package after a site
 * deployment, numbered by the store, the latest one found, old ones pruned, and their packages
 * kept while a revision names them.
 */
export function siteRevisionsContract(
  name: string,
  open: () => Promise<{ store: Store; close: () => Promise<void> }>,
) {
  describe(`${name} store contract: site revisions`, () => {
    let store: Store;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await open());
    });
    afterEach(() => close());

    const stored = async (text: string) => {
      const content = Buffer.from(text);
      await store.packages.putPackage(sha256(content), content);
      return sha256(content);
    };

    it("numbers revisions in increasing order and gives the latest", async () => {
      expect(await store.packages.latestSiteRevision()).toBeNull();
      const one = await stored("site one");
      const two = await stored("site two");
      const first = await store.packages.recordSiteRevision({
        packageHash: one,
        deploymentId: "d1",
        instanceId: "a",
      });
      expect(first).toMatchObject({ packageHash: one, deploymentId: "d1", instanceId: "a" });
      expect(first.createdAt).toBeInstanceOf(Date);
      const second = await store.packages.recordSiteRevision({
        packageHash: two,
        deploymentId: null,
        instanceId: null,
      });
      expect(second.revision).toBeGreaterThan(first.revision);
      // The same content again (deployed twice): a new revision naming the same package.
      const third = await store.packages.recordSiteRevision({
        packageHash: one,
        deploymentId: "d3",
        instanceId: "b",
      });
      expect(third.revision).toBeGreaterThan(second.revision);
      expect(await store.packages.latestSiteRevision()).toEqual(third);
    });

    it("refuses a revision naming a package that is not stored, or an invalid hash", async () => {
      const missing = sha256(Buffer.from("never stored"));
      await expect(
        store.packages.recordSiteRevision({ packageHash: missing, deploymentId: null, instanceId: null }),
      ).rejects.toThrow(/No package/);
      await expect(
        store.packages.recordSiteRevision({ packageHash: "abc", deploymentId: null, instanceId: null }),
      ).rejects.toThrow(/package hash/);
      expect(await store.packages.latestSiteRevision()).toBeNull();
    });

    it("prunes all but the newest revisions, and their packages once unreferenced", async () => {
      const hashes = [];
      for (let i = 0; i < 4; i++) {
        const hash = await stored(`site ${i}`);
        hashes.push(hash);
        await store.packages.recordSiteRevision({
          packageHash: hash,
          deploymentId: `d${i}`,
          instanceId: "a",
        });
      }
      const latest = await store.packages.latestSiteRevision();
      await sleep(5);
      // Referenced by a revision: never pruned, however old.
      expect(await store.packages.prunePackages(1)).toBe(0);
      expect(await store.packages.pruneSiteRevisions(2)).toBe(2);
      expect(await store.packages.pruneSiteRevisions(2)).toBe(0);
      expect(await store.packages.latestSiteRevision()).toEqual(latest);
      expect(await store.packages.prunePackages(1)).toBe(2);
      expect(await store.packages.getPackage(hashes[0]!)).toBeNull();
      expect(await store.packages.getPackage(hashes[1]!)).toBeNull();
      expect(await store.packages.getPackage(hashes[3]!)).not.toBeNull();
      // Numbers are not reused after a prune.
      const next = await store.packages.recordSiteRevision({
        packageHash: hashes[3]!,
        deploymentId: "d4",
        instanceId: "a",
      });
      expect(next.revision).toBeGreaterThan(latest!.revision);
    });
  });
}
