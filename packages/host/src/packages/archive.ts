import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { gunzip as gunzipCb, gzip as gzipCb } from "node:zlib";
import { FILE_CONCURRENCY, inParallel } from "../jobs/in-parallel.ts";

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

/** One entry of a package: a folder, a file (its bytes follow the header in order) or a link. */
interface Entry {
  /** Relative path with `/` separators. */
  p: string;
  t: "d" | "f" | "l";
  /** Permission bits (the executable bit of a script matters). */
  m: number;
  /** File size in bytes (files only). */
  s?: number;
  /** Link target, verbatim (links only). */
  l?: string;
}

const FORMAT = "webjobs-package-1";

export interface Package {
  /** SHA-256 of `content`, lowercase hex: the package's key in the store. */
  hash: string;
  content: Buffer;
}

export const hashOf = (content: Buffer): string => createHash("sha256").update(content).digest("hex");

/**
 * Packs an installed version folder: a JSON header listing folders, files and links (sorted
 * paths, permission bits, sizes), then the files' bytes, gzipped. Modification times are left
 * out, so the same files give the same hash wherever and whenever they are installed (two deploys
 * of the same content share one stored package).
 */
export async function packDir(
  dir: string,
  options: {
    /** Leaves out an entry (and, for a folder, all it holds): its path relative to `dir`, `/`-separated. */
    skip?: (relative: string) => boolean;
  } = {},
): Promise<Package> {
  const entries: Entry[] = [];
  let level = [""];
  while (level.length) {
    const below: string[] = [];
    await inParallel(level, FILE_CONCURRENCY, async (relative) => {
      for (const dirent of await readdir(path.join(dir, relative), { withFileTypes: true })) {
        const rel = relative ? `${relative}/${dirent.name}` : dirent.name;
        if (options.skip?.(rel)) continue;
        const full = path.join(dir, rel);
        if (dirent.isDirectory()) {
          below.push(rel);
          entries.push({ p: rel, t: "d", m: (await lstat(full)).mode & 0o777 });
        } else if (dirent.isSymbolicLink()) {
          entries.push({ p: rel, t: "l", m: 0o777, l: await readlink(full) });
        } else if (dirent.isFile()) {
          const info = await lstat(full);
          entries.push({ p: rel, t: "f", m: info.mode & 0o777, s: info.size });
        }
        // Sockets, pipes and devices are not part of a job (as in copyTree).
      }
    });
    level = below;
  }
  entries.sort((a, b) => (a.p < b.p ? -1 : a.p > b.p ? 1 : 0));
  const files = entries.filter((e) => e.t === "f");
  const bodies = new Array<Buffer>(files.length);
  await inParallel(
    files.map((_, i) => i),
    FILE_CONCURRENCY,
    async (i) => {
      bodies[i] = await readFile(path.join(dir, files[i]!.p));
      // A file that changed size while read would make a package that cannot be unpacked.
      files[i]!.s = bodies[i]!.length;
    },
  );
  const header = Buffer.from(JSON.stringify({ format: FORMAT, entries }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  const content = await gzip(Buffer.concat([length, header, ...bodies]), { level: 6 });
  return { hash: hashOf(content), content };
}

/** A path inside the package: relative, no `..`, no empty or `.` segments, no NUL. */
function checkEntryPath(p: string): void {
  const parts = p.split("/");
  if (!p || p.includes("\0") || p.includes("\\") || parts.some((s) => !s || s === "." || s === "..")) {
    throw new Error(`Package entry with an invalid path '${p.slice(0, 200)}'`);
  }
}

/**
 * Unpacks a package fetched from the store into `dest` (which must not exist), after checking
 * that its bytes are the ones `hash` names: a damaged or substituted package is refused whole.
 */
export async function unpackTo(content: Buffer, hash: string, dest: string): Promise<void> {
  const actual = hashOf(content);
  if (actual !== hash) throw new Error(`Package ${hash} does not match its hash (got ${actual})`);
  const raw = await gunzip(content);
  const headerLength = raw.readUInt32BE(0);
  const parsed = JSON.parse(raw.subarray(4, 4 + headerLength).toString("utf8")) as {
    format?: string;
    entries?: Entry[];
  };
  if (parsed.format !== FORMAT || !Array.isArray(parsed.entries)) {
    throw new Error(`Package ${hash} is not a ${FORMAT} package`);
  }
  const entries = parsed.entries;
  for (const entry of entries) checkEntryPath(entry.p);
  await mkdir(dest);
  // Sorted paths: a folder comes before what it holds.
  for (const entry of entries.filter((e) => e.t === "d")) {
    await mkdir(path.join(dest, entry.p), { mode: (entry.m & 0o777) | 0o700 });
  }
  let offset = 4 + headerLength;
  const writes: { file: string; body: Buffer; mode: number }[] = [];
  for (const entry of entries) {
    if (entry.t !== "f") continue;
    const size = entry.s ?? -1;
    if (!Number.isInteger(size) || size < 0 || offset + size > raw.length) {
      throw new Error(`Package ${hash} is truncated at '${entry.p}'`);
    }
    writes.push({
      file: path.join(dest, entry.p),
      body: raw.subarray(offset, offset + size),
      mode: entry.m & 0o777,
    });
    offset += size;
  }
  if (offset !== raw.length) throw new Error(`Package ${hash} has bytes after its last file`);
  await inParallel(writes, FILE_CONCURRENCY, ({ file, body, mode }) =>
    writeFile(file, body, { mode, flag: "wx" }),
  );
  for (const entry of entries.filter((e) => e.t === "l")) {
    await symlink(String(entry.l ?? ""), path.join(dest, entry.p));
  }
}
