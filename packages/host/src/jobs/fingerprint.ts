import { createHash } from "node:crypto";
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { FILE_CONCURRENCY, inParallel } from "./in-parallel.ts";

/**
 * A cheap fingerprint of a folder (paths, sizes, modification times), to tell whether a
 * hand-edited job folder changed since we last installed from it without reading its files.
 * Returns null when the folder does not exist.
 *
 * The folders are read and the entries stat'ed many at a time (a node_modules is thousands of
 * files), then hashed in the order of a depth-first walk over sorted names, so the fingerprints
 * stored in the store stay what they were when the walk was sequential.
 */
export async function fingerprintDir(dir: string): Promise<string | null> {
  const lines: { parts: string[]; line: string }[] = [];
  try {
    let level = [""];
    while (level.length) {
      const below: string[] = [];
      await inParallel(level, FILE_CONCURRENCY, async (relative) => {
        const entries = await readdir(path.join(dir, relative));
        await inParallel(entries, FILE_CONCURRENCY, async (entry) => {
          const rel = path.join(relative, entry);
          const info = await lstat(path.join(dir, rel));
          const line = `${rel}\0${info.isDirectory() ? "d" : info.size}\0${Math.trunc(info.mtimeMs)}\n`;
          lines.push({ parts: rel.split(path.sep), line });
          if (info.isDirectory()) below.push(rel);
        });
      });
      level = below;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  lines.sort((a, b) => comparePaths(a.parts, b.parts));
  const hash = createHash("sha1");
  for (const { line } of lines) hash.update(line);
  return hash.digest("hex");
}

/** Depth-first order over sorted names: name by name, a folder before what it holds. */
function comparePaths(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}
