import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hashOf, packDir, unpackTo } from "../../src/packages/archive.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-archive-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function sampleVersion(root: string): Promise<void> {
  await mkdir(path.join(root, "lib", "empty"), { recursive: true });
  await writeFile(path.join(root, "run.sh"), "#!/bin/sh\necho hi\n");
  await chmod(path.join(root, "run.sh"), 0o755);
  await writeFile(path.join(root, "lib", "data.bin"), Buffer.from([0, 1, 2, 255]));
  await writeFile(path.join(root, "lib", "zero"), "");
  await symlink("data.bin", path.join(root, "lib", "link"));
}

/** A package whose header says what the test wants (a hostile or damaged one). */
function forged(entries: object[], body: Buffer = Buffer.alloc(0)): { content: Buffer; hash: string } {
  const header = Buffer.from(JSON.stringify({ format: "webjobs-package-1", entries }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  const content = gzipSync(Buffer.concat([length, header, body]));
  return { content, hash: hashOf(content) };
}

describe("job packages", () => {
  it("packs a version and unpacks the same files, modes, folders and links", async () => {
    const source = path.join(dir, "source");
    await sampleVersion(source);
    const { content, hash } = await packDir(source);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const dest = path.join(dir, "dest");
    await unpackTo(content, hash, dest);
    expect(await readFile(path.join(dest, "run.sh"), "utf8")).toBe("#!/bin/sh\necho hi\n");
    expect((await lstat(path.join(dest, "run.sh"))).mode & 0o111).not.toBe(0);
    expect(await readFile(path.join(dest, "lib", "data.bin"))).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(await readFile(path.join(dest, "lib", "zero"), "utf8")).toBe("");
    expect((await lstat(path.join(dest, "lib", "empty"))).isDirectory()).toBe(true);
    expect(await readlink(path.join(dest, "lib", "link"))).toBe("data.bin");
  });

  it("gives the same files the same hash, whenever they were written", async () => {
    await sampleVersion(path.join(dir, "one"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await sampleVersion(path.join(dir, "two"));
    expect((await packDir(path.join(dir, "one"))).hash).toBe((await packDir(path.join(dir, "two"))).hash);
    await writeFile(path.join(dir, "two", "run.sh"), "#!/bin/sh\necho changed\n");
    expect((await packDir(path.join(dir, "one"))).hash).not.toBe((await packDir(path.join(dir, "two"))).hash);
  });

  it("refuses a package whose bytes are not the ones its hash names, writing nothing", async () => {
    await sampleVersion(path.join(dir, "source"));
    const { content, hash } = await packDir(path.join(dir, "source"));
    const damaged = Buffer.from(content);
    damaged[damaged.length - 5] ^= 0xff;
    await expect(unpackTo(damaged, hash, path.join(dir, "dest"))).rejects.toThrow(/does not match its hash/);
    await expect(lstat(path.join(dir, "dest"))).rejects.toThrow();
  });

  it("refuses entries that would leave the folder, and truncated or padded packages", async () => {
    for (const p of ["../escape", "/abs", "a/../../b", "a//b", "", "a\\b"]) {
      const bad = forged([{ p, t: "f", m: 0o644, s: 1 }], Buffer.from("x"));
      await expect(unpackTo(bad.content, bad.hash, path.join(dir, `dest-${Math.random()}`))).rejects.toThrow(
        /invalid path/,
      );
    }
    const short = forged([{ p: "a", t: "f", m: 0o644, s: 10 }], Buffer.from("x"));
    await expect(unpackTo(short.content, short.hash, path.join(dir, "d1"))).rejects.toThrow(/truncated/);
    const long = forged([{ p: "a", t: "f", m: 0o644, s: 1 }], Buffer.from("xy"));
    await expect(unpackTo(long.content, long.hash, path.join(dir, "d2"))).rejects.toThrow(
      /after its last file/,
    );
    const notOurs = gzipSync(Buffer.from("\0\0\0\x02{}"));
    await expect(unpackTo(notOurs, hashOf(notOurs), path.join(dir, "d3"))).rejects.toThrow(
      /not a webjobs-package-1/,
    );
  });
});
