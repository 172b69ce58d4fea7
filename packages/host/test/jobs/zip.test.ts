import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import yazl from "yazl";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode, WebJobsError } from "../../src/errors.ts";
import { extractZip, type ZipLimits } from "../../src/jobs/zip.ts";

// Real zips, built with yazl; the malicious ones are built with harmless placeholder names and then
// patched byte for byte, because yazl (rightly) refuses to write `../evil` itself.

interface ZipItem {
  name: string;
  data?: string | Buffer;
  mode?: number;
  directory?: boolean;
  compress?: boolean;
}

function buildZip(items: ZipItem[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const item of items) {
    if (item.directory) zip.addEmptyDirectory(item.name, item.mode === undefined ? {} : { mode: item.mode });
    else {
      const data = typeof item.data === "string" ? Buffer.from(item.data) : (item.data ?? Buffer.alloc(0));
      zip.addBuffer(data, item.name, {
        compress: item.compress ?? true,
        ...(item.mode === undefined ? {} : { mode: item.mode }),
      });
    }
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on("data", (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on("error", reject);
  });
}

/** Replaces every occurrence of a placeholder name (local header and central directory) with `name`. */
function renameEntry(zip: Buffer, placeholder: string, name: string): Buffer {
  const from = Buffer.from(placeholder);
  const to = Buffer.from(name);
  expect(to.length).toBe(from.length);
  let at = zip.indexOf(from);
  expect(at).toBeGreaterThanOrEqual(0);
  while (at >= 0) {
    to.copy(zip, at);
    at = zip.indexOf(from, at + 1);
  }
  return zip;
}

/** Offsets of the central directory headers, found from the end-of-central-directory record. */
function centralHeaders(zip: Buffer): number[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(offset)).toBe(0x02014b50);
    offsets.push(offset);
    offset +=
      46 + zip.readUInt16LE(offset + 28) + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
  }
  return offsets;
}

/** Makes every header claim `size` unpacked bytes: what a zip bomb does to slip past header checks. */
function lieAboutSizes(zip: Buffer, size: number): Buffer {
  for (const header of centralHeaders(zip)) {
    zip.writeUInt32LE(size, header + 24);
    const local = zip.readUInt32LE(header + 42);
    // yazl may stream with a data descriptor, leaving the local sizes zero; patch them when set.
    if (zip.readUInt32LE(local + 22) !== 0) zip.writeUInt32LE(size, local + 22);
  }
  return zip;
}

/** Descriptors this process holds on anything under `dir` (Linux only; elsewhere, none are seen). */
function openDescriptorsUnder(dir: string): string[] {
  if (!existsSync("/proc/self/fd")) return [];
  const targets: string[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) targets.push(target);
    } catch {
      // The descriptor used to list the folder is gone by the time it is read.
    }
  }
  return targets;
}

const limits: ZipLimits = { maxEntries: 100, maxUnpackedBytes: 1024 * 1024 };

let base: string;
let dest: string;
let zipPath: string;

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), "webjobs-zip-"));
  // The zip and the destination live in separate folders under `base`, so anything written
  // outside `dest` shows up as an extra entry of `base` or `base/upload`.
  dest = path.join(base, "dest");
  await mkdir(dest);
  await mkdir(path.join(base, "upload"));
  zipPath = path.join(base, "upload", "job.zip");
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function extract(zip: Buffer, overrides: Partial<ZipLimits> = {}) {
  await writeFile(zipPath, zip);
  return extractZip(zipPath, dest, { ...limits, ...overrides });
}

/** Runs an extraction that must fail and returns its error, after checking that nothing leaked. */
async function refused(zip: Buffer, overrides: Partial<ZipLimits> = {}): Promise<WebJobsError> {
  const error = await extract(zip, overrides).then(
    () => expect.fail("the zip was accepted"),
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(WebJobsError);
  expect(openDescriptorsUnder(base)).toEqual([]);
  expect(readdirSync(base).sort()).toEqual(["dest", "upload"]);
  expect(readdirSync(path.join(base, "upload"))).toEqual(["job.zip"]);
  return error as WebJobsError;
}

describe("extractZip", () => {
  it("extracts files and folders and reports what it wrote", async () => {
    const zip = await buildZip([
      { name: "run.sh", data: "#!/bin/bash\necho hi\n", mode: 0o100755 },
      { name: "lib/helper.py", data: "print('x')\n" },
      { name: "empty/", directory: true },
      { name: "stored.txt", data: "plain", compress: false },
    ]);
    const result = await extract(zip);

    const bytes = "#!/bin/bash\necho hi\n".length + "print('x')\n".length + "plain".length;
    expect(result).toEqual({ entries: 4, bytes });
    expect(readFileSync(path.join(dest, "run.sh"), "utf8")).toBe("#!/bin/bash\necho hi\n");
    expect(readFileSync(path.join(dest, "lib", "helper.py"), "utf8")).toBe("print('x')\n");
    expect(readFileSync(path.join(dest, "stored.txt"), "utf8")).toBe("plain");
    expect(statSync(path.join(dest, "empty")).isDirectory()).toBe(true);
    expect(openDescriptorsUnder(base)).toEqual([]);
  });

  it("keeps the executable bit from the unix mode, and only where it was set", async () => {
    const zip = await buildZip([
      { name: "tool", data: "x", mode: 0o100755 },
      { name: "data.txt", data: "y", mode: 0o100644 },
    ]);
    await extract(zip);
    expect(statSync(path.join(dest, "tool")).mode & 0o111).not.toBe(0);
    expect(statSync(path.join(dest, "data.txt")).mode & 0o111).toBe(0);
  });

  it("reads backslashes as folder separators, as zips made on Windows use them", async () => {
    const zip = renameEntry(
      await buildZip([{ name: "dir_file.txt", data: "w" }]),
      "dir_file.txt",
      "dir\\file.txt",
    );
    await extract(zip);
    expect(readFileSync(path.join(dest, "dir", "file.txt"), "utf8")).toBe("w");
  });

  it("accepts an empty zip", async () => {
    expect(await extract(await buildZip([]))).toEqual({ entries: 0, bytes: 0 });
  });

  describe("refuses paths that leave the folder", () => {
    const cases = [
      { name: "../evil", placeholder: "aa/evil", reason: "its path climbs out of the job folder with '..'" },
      {
        name: "ok/../../evil",
        placeholder: "ok/aa/aa/evil",
        reason: "its path climbs out of the job folder with '..'",
      },
      { name: "..\\evil", placeholder: "aa_evil", reason: "its path climbs out of the job folder with '..'" },
      { name: "/abs", placeholder: "xabs", reason: "it has an absolute path" },
      { name: "\\abs", placeholder: "xabs", reason: "it has an absolute path" },
      { name: "C:\\x", placeholder: "Cxxx", reason: "it starts with a Windows drive letter" },
      { name: "c:/x", placeholder: "cxxx", reason: "it starts with a Windows drive letter" },
    ];
    for (const { name, placeholder, reason } of cases) {
      it(`'${name}'`, async () => {
        const zip = renameEntry(
          await buildZip([
            { name: "fine.txt", data: "written only if the check came too late" },
            { name: placeholder, data: "pwned" },
          ]),
          placeholder,
          name,
        );
        const error = await refused(zip);
        expect(error.code).toBe(ErrorCode.UnsafeZip);
        expect(error.message).toBe(`The zip entry '${name}' is refused: ${reason}.`);
        // Checked from the central directory before anything is written, even earlier entries.
        expect(readdirSync(dest)).toEqual([]);
      });
    }
  });

  it("refuses a NUL in a name", async () => {
    const zip = renameEntry(await buildZip([{ name: "a_b", data: "x" }]), "a_b", "a\0b");
    const error = await refused(zip);
    expect(error.code).toBe(ErrorCode.UnsafeZip);
    expect(error.message).toBe("The zip entry 'a\0b' is refused: its name contains a NUL character.");
  });

  it("refuses a symbolic link", async () => {
    const zip = await buildZip([{ name: "link", data: "/etc/passwd", mode: 0o120777 }]);
    const error = await refused(zip);
    expect(error.code).toBe(ErrorCode.UnsafeZip);
    expect(error.message).toBe(
      "The zip entry 'link' is refused: it is a symbolic link, which could point outside the job folder.",
    );
    expect(readdirSync(dest)).toEqual([]);
  });

  it("refuses more files than the limit; folder entries do not count", async () => {
    const zip = await buildZip([
      { name: "a" },
      { name: "b" },
      { name: "c/", directory: true },
      { name: "c/d" },
    ]);
    const error = await refused(zip, { maxEntries: 2 });
    expect(error.code).toBe(ErrorCode.UnsafeZip);
    expect(error.message).toBe("The zip holds 3 entries, more than the limit of 2.");
    expect(readdirSync(dest)).toEqual([]);
    // At the limit is fine: 3 files (and a folder entry, as `git archive` writes them).
    expect((await extract(zip, { maxEntries: 3 })).entries).toBe(4);
  });

  it("refuses from the headers a zip whose entries, folders included, pass twice the limit", async () => {
    const zip = await buildZip([
      { name: "a/", directory: true },
      { name: "b/", directory: true },
      { name: "c" },
    ]);
    const error = await refused(zip, { maxEntries: 1 });
    expect(error.message).toBe("The zip holds 3 entries, more than the limit of 1.");
    expect(readdirSync(dest)).toEqual([]);
  });

  it("refuses from the headers a zip that declares more bytes than the limit", async () => {
    const zip = await buildZip([
      { name: "small.txt", data: "a".repeat(600) },
      { name: "big.txt", data: "b".repeat(600) },
    ]);
    const error = await refused(zip, { maxUnpackedBytes: 1000 });
    expect(error.code).toBe(ErrorCode.UnsafeZip);
    expect(error.message).toBe(
      "The zip entry 'big.txt' is refused: the zip unpacks to more than the limit of 1000 bytes.",
    );
    expect(readdirSync(dest)).toEqual([]);
    // Exactly at the limit is fine.
    expect((await extract(zip, { maxUnpackedBytes: 1200 })).bytes).toBe(1200);
  });

  it("stops a zip bomb whose headers lie about its size, having written no more than declared", async () => {
    // 20 MB of zeros deflates to about 20 KB; the headers then claim 1000 bytes.
    const zip = lieAboutSizes(
      await buildZip([{ name: "bomb.bin", data: Buffer.alloc(20 * 1024 * 1024) }]),
      1000,
    );
    expect(zip.length).toBeLessThan(100 * 1024);
    const error = await refused(zip, { maxUnpackedBytes: 1024 * 1024 });
    expect(error.code).toBe(ErrorCode.UnsafeZip);
    expect(error.message).toBe(
      "The zip entry 'bomb.bin' is refused: it unpacks to more than the 1000 bytes its header declares.",
    );
    // Small entries are inflated in memory first: then nothing of it reaches the disk at all.
    const written = existsSync(path.join(dest, "bomb.bin")) ? statSync(path.join(dest, "bomb.bin")).size : 0;
    expect(written).toBeLessThanOrEqual(1000);
  });

  it("stops a stored (uncompressed) entry whose header lies about its size", async () => {
    const zip = lieAboutSizes(
      await buildZip([{ name: "liar.txt", data: "x".repeat(5000), compress: false }]),
      10,
    );
    const error = await refused(zip);
    expect(error.code).toBe(ErrorCode.UnsafeZip);
    expect(error.message).toBe(
      "The zip entry 'liar.txt' is refused: it unpacks to more than the 10 bytes its header declares.",
    );
  });

  it("reports an entry shorter than its header declares as a bad request", async () => {
    const zip = lieAboutSizes(await buildZip([{ name: "short.txt", data: "y".repeat(100) }]), 5000);
    const error = await refused(zip);
    expect(error.code).toBe(ErrorCode.BadRequest);
    expect(error.message).toBe(
      "The upload is not a valid zip file: entry 'short.txt' holds 100 bytes, but its header declares 5000",
    );
  });

  it("refuses two entries with the same path", async () => {
    const zip = renameEntry(
      await buildZip([
        { name: "one.txt", data: "first" },
        { name: "two.txt", data: "second" },
      ]),
      "two.txt",
      "one.txt",
    );
    const error = await refused(zip);
    expect(error.code).toBe(ErrorCode.UnsafeZip);
    expect(error.message).toBe(
      "The zip entry 'one.txt' is refused: its path collides with another entry of the zip.",
    );
    // Refused from the central directory, before anything is written.
    expect(existsSync(path.join(dest, "one.txt"))).toBe(false);
  });

  it("refuses a file that is also used as a folder", async () => {
    const zip = await buildZip([
      { name: "a", data: "file" },
      { name: "a/b", data: "inside" },
    ]);
    const error = await refused(zip);
    expect(error.code).toBe(ErrorCode.UnsafeZip);
    expect(error.message).toBe(
      "The zip entry 'a/b' is refused: its path collides with another entry of the zip.",
    );
  });

  it("reports a file that is not a zip as a bad request", async () => {
    const error = await refused(Buffer.from("this is a text file, not a zip\n"));
    expect(error.code).toBe(ErrorCode.BadRequest);
    expect(error.message).toMatch(
      /^The upload is not a valid zip file: End of central directory record signature not found/,
    );
  });

  it("reports an empty upload as a bad request", async () => {
    const error = await refused(Buffer.alloc(0));
    expect(error.code).toBe(ErrorCode.BadRequest);
    expect(error.message).toMatch(/^The upload is not a valid zip file: /);
  });

  it("reports a truncated zip as a bad request", async () => {
    const zip = await buildZip([{ name: "a.txt", data: "hello ".repeat(1000) }]);
    const error = await refused(zip.subarray(0, zip.length - 30));
    expect(error.code).toBe(ErrorCode.BadRequest);
    expect(error.message).toMatch(/^The upload is not a valid zip file: /);
  });

  it("reports a damaged central directory as a bad request", async () => {
    const zip = await buildZip([{ name: "a.txt", data: "x" }]);
    zip.writeUInt32LE(0x12345678, centralHeaders(zip)[0]);
    const error = await refused(zip);
    expect(error.code).toBe(ErrorCode.BadRequest);
    expect(error.message).toBe(
      "The upload is not a valid zip file: invalid central directory file header signature: 0x12345678",
    );
  });

  it("refuses an encrypted entry", async () => {
    const zip = await buildZip([{ name: "secret.txt", data: "x" }]);
    const [header] = centralHeaders(zip);
    zip.writeUInt16LE(zip.readUInt16LE(header + 8) | 0x1, header + 8);
    const error = await refused(zip);
    expect(error.code).toBe(ErrorCode.BadRequest);
    expect(error.message).toBe(
      "The upload is not a valid zip file: entry 'secret.txt' is encrypted, which is not supported",
    );
    expect(readdirSync(dest)).toEqual([]);
  });

  it("refuses a compression method other than stored or deflated", async () => {
    const zip = await buildZip([{ name: "a.txt", data: "x" }]);
    zip.writeUInt16LE(12, centralHeaders(zip)[0] + 10); // 12 is bzip2
    const error = await refused(zip);
    expect(error.code).toBe(ErrorCode.BadRequest);
    expect(error.message).toBe(
      "The upload is not a valid zip file: entry 'a.txt' uses compression method 12; only stored and deflated entries are supported",
    );
  });

  it("reports damaged file data as a bad request", async () => {
    const text = "the quick brown fox jumps over the lazy dog\n";
    const zip = await buildZip([{ name: "a.txt", data: text, compress: false }]);
    // Stored data sits right after the 30-byte local header and the name.
    const at = zip.indexOf(Buffer.from("quick"));
    zip.write("QUICK", at);
    const error = await refused(zip);
    expect(error.code).toBe(ErrorCode.BadRequest);
    expect(error.message).toBe(
      "The upload is not a valid zip file: entry 'a.txt' is damaged (its checksum does not match)",
    );
  });

  it("reports undecodable compressed data as a bad request", async () => {
    const zip = await buildZip([{ name: "a.txt", data: "some text ".repeat(200) }]);
    const [header] = centralHeaders(zip);
    const local = zip.readUInt32LE(header + 42);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    // Block type 3 is reserved in deflate: the stream cannot be inflated.
    zip[dataStart] = 0x07;
    const error = await refused(zip);
    expect(error.code).toBe(ErrorCode.BadRequest);
    expect(error.message).toMatch(/^The upload is not a valid zip file: entry 'a.txt': /);
  });

  it("unpacks thousands of entries, modes and contents intact", async () => {
    const files = Array.from({ length: 2000 }, (_, i) => ({
      name: `node_modules/p${i % 40}/lib/f${i}.js`,
      data: `module.exports = ${i};\n`,
    }));
    const zip = await buildZip([{ name: "run.sh", data: "echo hi\n", mode: 0o100755 }, ...files]);
    const { entries } = await extract(zip, { maxEntries: 5000 });
    expect(entries).toBe(2001);
    expect(readFileSync(path.join(dest, "node_modules/p7/lib/f1287.js"), "utf8")).toBe(
      "module.exports = 1287;\n",
    );
    expect(statSync(path.join(dest, "run.sh")).mode & 0o111).not.toBe(0);
    expect(readdirSync(path.join(dest, "node_modules"))).toHaveLength(40);
  });

  it("holds the byte limit across entries written in parallel", async () => {
    const files = Array.from({ length: 300 }, (_, i) => ({ name: `f${i}.txt`, data: "z".repeat(100) }));
    const error = await refused(lieAboutSizes(await buildZip(files), 1), {
      maxEntries: 1000,
      maxUnpackedBytes: 10_000,
    });
    expect(error.code).toBe(ErrorCode.UnsafeZip);
    expect(error.message).toMatch(/it unpacks to more than the 1 bytes its header declares/);
  });

  it("stops a large entry whose header lies about its size while streaming it", async () => {
    // Random bytes do not compress: well over the size inflated in one piece, so it is streamed.
    const big = randomBytes(300 * 1024);
    const zip = lieAboutSizes(await buildZip([{ name: "big.bin", data: big }]), 100 * 1024);
    const error = await refused(zip);
    expect(error.code).toBe(ErrorCode.UnsafeZip);
    expect(error.message).toBe(
      "The zip entry 'big.bin' is refused: it unpacks to more than the 102400 bytes its header declares.",
    );
    expect(statSync(path.join(dest, "big.bin")).size).toBeLessThanOrEqual(100 * 1024);
  });
});
