import { createHash } from "node:crypto";
import { readdir, lstat } from "node:fs/promises";
import path from "node:path";

/**
 * A cheap fingerprint of a folder (paths, sizes, modification times), to tell whether a
 * hand-edited job folder changed since we last installed from it without reading its files.
 * Returns null when the folder does not exist.
 */
export async function fingerprintDir(dir: string): Promise<string | null> {
  const hash = createHash("sha1");
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(dir, relative));
    entries.sort();
    for (const entry of entries) {
      const rel = path.join(relative, entry);
      const info = await lstat(path.join(dir, rel));
      hash.update(`${rel}\0${info.isDirectory() ? "d" : info.size}\0${Math.trunc(info.mtimeMs)}\n`);
      if (info.isDirectory()) await walk(rel);
    }
  };
  try {
    await walk("");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  return hash.digest("hex");
}
