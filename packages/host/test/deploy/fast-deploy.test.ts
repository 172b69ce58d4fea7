import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { stageSite } from "../../src/deploy/site-swap.ts";
import { fingerprintDir } from "../../src/jobs/fingerprint.ts";
import { Trash } from "../../src/jobs/trash.ts";
import { extractZip } from "../../src/jobs/zip.ts";
import { deployZip, makeZip, startHost, waitFor, type TestHost } from "../support/host.ts";

/**
 * What makes deploys of thousands of files fast, and the guarantees it must keep: replaced folders
 * are moved out of the way at once and deleted later; a zip is written once into two independent
 * copies (never links); a site deploy's jobs are installed from copies made while unpacking.
 */

const limits = { maxEntries: 1000, maxUnpackedBytes: 10 * 1024 * 1024 };
let base: string;
beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), "webjobs-fast-deploy-"));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function zipFile(files: Record<string, string>): Promise<string> {
  const file = path.join(base, `upload-${Math.random().toString(36).slice(2)}.zip`);
  await writeFile(file, await makeZip(files));
  return file;
}

describe("Trash", () => {
  it("moves a folder out of its place at once and deletes it when drained", async () => {
    const trash = new Trash(path.join(base, "trash"));
    const victims = [path.join(base, "a/same"), path.join(base, "b/same")];
    for (const victim of victims) {
      await mkdir(path.join(victim, "deep"), { recursive: true });
      await writeFile(path.join(victim, "deep/file.txt"), "x");
    }
    for (const victim of victims) expect(await trash.discard(victim)).toBe(true);
    // Gone from their places when discard resolves; two folders of one name do not collide.
    for (const victim of victims) expect(existsSync(victim)).toBe(false);
    await trash.drain();
    expect(await readdir(path.join(base, "trash"))).toEqual([]);
    expect(await trash.discard(path.join(base, "never-there"))).toBe(false);
  });
});

describe("Trash held by a deploy", () => {
  it("deletes nothing while held, and everything once released", async () => {
    const trash = new Trash(path.join(base, "held-trash"));
    const victim = path.join(base, "held/victim");
    for (let i = 0; i < 50; i++) {
      await mkdir(path.join(victim, `d${i}`), { recursive: true });
      await writeFile(path.join(victim, `d${i}/file.txt`), "x");
    }
    const release = trash.hold();
    expect(await trash.discard(victim)).toBe(true);
    const [moved] = await readdir(path.join(base, "held-trash"));
    let drained = false;
    const draining = trash.drain().then(() => (drained = true));
    // Many turns of the event loop: an unheld trash deletes 50 folders well within them.
    for (let turn = 0; turn < 200; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    expect((await readdir(path.join(base, "held-trash", moved))).length).toBe(50);
    release();
    release(); // twice is harmless
    await draining;
    expect(await readdir(path.join(base, "held-trash"))).toEqual([]);
  });
});

describe("extractZip with a second copy", () => {
  it("writes separate files (not links) where alsoTo says, folders included", async () => {
    const files: Record<string, string> = { "run.sh": "echo hi\n", "web/index.html": "<p>" };
    for (let i = 0; i < 50; i++) files[`node_modules/p${i % 5}/f${i}.js`] = `module.exports=${i}`;
    files["big.bin"] = "z".repeat(200 * 1024); // streamed, not read in one piece
    const dest = path.join(base, "dest");
    const copy = path.join(base, "copy");
    await mkdir(dest);
    await mkdir(copy);
    await extractZip(await zipFile(files), dest, limits, {
      // Everything but web/ is copied.
      alsoTo: (relative) => (relative.startsWith("web") ? null : path.join(copy, relative)),
    });
    for (const [name, data] of Object.entries(files)) {
      expect(readFileSync(path.join(dest, name), "utf8")).toBe(data);
      if (name.startsWith("web")) continue;
      expect(readFileSync(path.join(copy, name), "utf8")).toBe(data);
      const [a, b] = [statSync(path.join(dest, name)), statSync(path.join(copy, name))];
      expect(a.ino).not.toBe(b.ino);
      expect(a.nlink).toBe(1);
      expect(b.mode).toBe(a.mode);
    }
    expect(existsSync(path.join(copy, "web"))).toBe(false);
  });

  it("refuses a colliding zip in both copies alike", async () => {
    const dest = path.join(base, "dest");
    const copy = path.join(base, "copy");
    await mkdir(dest);
    await mkdir(copy);
    const zip = await zipFile({ "a/b": "file", "a/b/c": "under a file" });
    await expect(
      extractZip(zip, dest, limits, { alsoTo: (relative) => path.join(copy, relative) }),
    ).rejects.toThrow(/collides/);
  });
});

describe("stageSite's copies of job folders", () => {
  it("copies each job folder of a whole-site zip aside, with the staged folder's fingerprint", async () => {
    const site = path.join(base, "site");
    const copies = path.join(base, "copies");
    await mkdir(copies);
    const zip = await zipFile({
      "index.html": "<h1>",
      "App_Data/jobs/triggered/tick/run.sh": "echo tick\n",
      "App_Data/jobs/triggered/tick/node_modules/x/index.js": "module.exports=1",
      "App_Data/jobs/continuous/worker/run.sh": "sleep 1\n",
      "App_Data/jobs/triggered/loose.txt": "not a job",
    });
    const { staging, prepared } = await stageSite(
      site,
      { kind: "zip", zip, target: "", clean: true },
      limits,
      async () => undefined,
      copies,
    );
    expect([...prepared.keys()].sort()).toEqual(["continuous/worker", "triggered/tick"]);
    const tick = prepared.get("triggered/tick")!;
    const staged = path.join(staging, "App_Data/jobs/triggered/tick");
    expect(tick.fingerprint).toBe(await fingerprintDir(staged));
    expect(readFileSync(path.join(tick.dir, "node_modules/x/index.js"), "utf8")).toBe("module.exports=1");
    expect(statSync(path.join(tick.dir, "run.sh")).ino).not.toBe(statSync(path.join(staged, "run.sh")).ino);
    expect(existsSync(path.join(copies, "index.html"))).toBe(false);
  });

  it("makes no copies when a job folder is also named in other letter cases", async () => {
    // On a case-insensitive file system both spellings are one folder, which the copy would miss.
    const copies = path.join(base, "copies");
    await mkdir(copies);
    const zip = await zipFile({
      "App_Data/jobs/triggered/tick/run.sh": "echo tick\n",
      "app_data/jobs/triggered/tick/more.sh": "echo more\n",
    });
    const { prepared } = await stageSite(
      path.join(base, "site"),
      { kind: "zip", zip, target: "", clean: true },
      limits,
      async () => undefined,
      copies,
    );
    expect(prepared.size).toBe(0);
  });
});

describe("deploying through the host", () => {
  let t: TestHost;
  beforeAll(async () => {
    t = await startHost();
  });
  afterAll(async () => t?.stop());

  const zipDeploy = async (files: Record<string, string>) =>
    t.api("/api/zipdeploy", {
      method: "POST",
      headers: { "content-type": "application/zip" },
      body: new Uint8Array(await makeZip(files)),
    });

  it("a redeploy answers with the old version and site copy already out of their places", async () => {
    expect((await deployZip(t, "triggered", "fast", await makeZip({ "run.sh": "echo 1\n" }))).status).toBe(
      200,
    );
    expect((await deployZip(t, "triggered", "fast", await makeZip({ "run.sh": "echo 2\n" }))).status).toBe(
      200,
    );
    const versions = readdirSync(path.join(t.dataDir, "versions/triggered/fast"));
    expect(versions).toHaveLength(1);
    const siteJobs = path.join(t.host.paths.siteDir, "App_Data/jobs/triggered");
    expect(readdirSync(siteJobs).filter((name) => name.startsWith("fast"))).toEqual(["fast"]);
    // The halves of the swap (made beside the watched folders) are gone too.
    expect(readdirSync(path.dirname(siteJobs)).filter((name) => name.includes(".tmp-"))).toEqual([]);
    const site = path.join(siteJobs, "fast/run.sh");
    const version = path.join(t.dataDir, "versions/triggered/fast", versions[0], "run.sh");
    expect(readFileSync(site, "utf8")).toBe("echo 2\n");
    // The site copy written while unpacking is the user's own file: editing it leaves the version.
    expect(statSync(site).ino).not.toBe(statSync(version).ino);
    writeFileSync(site, "echo edited\n");
    expect(readFileSync(version, "utf8")).toBe("echo 2\n");
    await waitFor(
      async () => ((await t.host.registry.get("triggered", "fast"))?.version ?? versions[0]) !== versions[0],
      10_000,
      "the edit installed",
    );
  });

  it("installs a site's job from the copy made while unpacking, and sees an edit made right after", async () => {
    const res = await zipDeploy({
      "App_Data/jobs/triggered/sitejob/run.sh": "echo site 1\n",
      "App_Data/jobs/triggered/sitejob/lib/a.js": "module.exports=1",
    });
    expect(res.status).toBe(200);
    const job = (await t.host.registry.get("triggered", "sitejob"))!;
    const version = path.join(t.dataDir, "versions/triggered/sitejob", job.version);
    const folder = path.join(t.host.paths.siteDir, "App_Data/jobs/triggered/sitejob");
    expect(readFileSync(path.join(version, "lib/a.js"), "utf8")).toBe("module.exports=1");
    expect(job.sourceFingerprint).toBe(await fingerprintDir(folder));
    // The watcher restarts after the answer; an edit made at once is still installed.
    writeFileSync(path.join(folder, "run.sh"), "echo site edited\n");
    await waitFor(
      async () => (await t.host.registry.get("triggered", "sitejob"))?.version !== job.version,
      10_000,
      "the edit installed",
    );
    const edited = (await t.host.registry.get("triggered", "sitejob"))!;
    expect(
      readFileSync(path.join(t.dataDir, "versions/triggered/sitejob", edited.version, "run.sh"), "utf8"),
    ).toBe("echo site edited\n");
  });
});
