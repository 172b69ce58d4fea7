import { createHash } from "node:crypto";
import { lstatSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { TimeSlice } from "./time-slice.ts";

/**
 * Called for each folder of a walk (`""` is the folder walked), with its inode, before its
 * entries are read: whatever is created in it afterwards, a watch set up here sees.
 */
export type OnFolder = (relative: string, inode: number) => void;

/**
 * A cheap fingerprint of a folder (paths, sizes, modification times), to tell whether a
 * hand-edited job folder changed since we last installed from it without reading its files.
 * Returns null when the folder does not exist.
 *
 * The walk is synchronous, in slices (see TimeSlice): a node_modules is thousands of entries, and
 * a synchronous lstat costs a fraction of one through the thread pool. Entries are hashed in the
 * order of a depth-first walk over sorted names, so fingerprints stored in the store stay valid.
 * Symbolic links are hashed as links, never followed (the folder walked may itself be one).
 */
export async function fingerprintDir(dir: string, onFolder?: OnFolder): Promise<string | null> {
  const hash = createHash("sha1");
  const slice = new TimeSlice();
  const walk = async (relative: string, inode: number): Promise<void> => {
    onFolder?.(relative, inode);
    const entries = readdirSync(path.join(dir, relative)).sort(byCodeUnits);
    for (const entry of entries) {
      const rel = path.join(relative, entry);
      const info = lstatSync(path.join(dir, rel));
      hash.update(`${rel}\0${info.isDirectory() ? "d" : info.size}\0${Math.trunc(info.mtimeMs)}\n`);
      if (info.isDirectory()) await walk(rel, info.ino);
      await slice.yieldIfDue();
    }
  };
  try {
    await walk("", statSync(dir).ino);
  } catch (error) {
    // Gone (or a part of it gone) while being walked: the folder is no longer there to install.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  return hash.digest("hex");
}

/** The order of `<` on strings, which the stored fingerprints were made with. */
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
