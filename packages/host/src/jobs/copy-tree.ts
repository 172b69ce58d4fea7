import { constants } from "node:fs";
import { copyFile, lstat, mkdir, readdir, readlink, symlink, utimes } from "node:fs/promises";
import path from "node:path";
import { FILE_CONCURRENCY, inParallel } from "./in-parallel.ts";

/**
 * Copies the folder `src` to `dest` (which must not exist), many files at once: `fs.cp` copies one
 * file at a time, and a job's node_modules is thousands of small files.
 *
 * Files are copied, never hard-linked: the site folder is the user's to edit (FTP, VFS, an editor
 * writing in place) while installed versions are immutable, and a hard link would let an edit of
 * one change the other. `COPYFILE_FICLONE` asks for a copy-on-write clone where the file system
 * offers one (btrfs, XFS), which is as fast as a link and as safe as a copy, and falls back to a
 * plain copy elsewhere. Symbolic links are copied as links, verbatim (as `verbatimSymlinks`).
 */
export async function copyTree(
  src: string,
  dest: string,
  options: { preserveTimestamps?: boolean } = {},
): Promise<void> {
  const files: string[] = [];
  const links: string[] = [];
  // Level by level: a level's folders are created (parents first) and read in parallel, so the
  // file copies never wait on a mkdir and the number of calls in flight stays bounded.
  await mkdir(dest);
  let level = [""];
  while (level.length) {
    const below: string[] = [];
    await inParallel(level, FILE_CONCURRENCY, async (relative) => {
      if (relative) await mkdir(path.join(dest, relative));
      for (const entry of await readdir(path.join(src, relative), { withFileTypes: true })) {
        const rel = path.join(relative, entry.name);
        if (entry.isDirectory()) below.push(rel);
        else if (entry.isSymbolicLink()) links.push(rel);
        else if (entry.isFile()) files.push(rel);
        // Sockets, pipes and devices are not part of a job: left out, as an upload cannot hold them.
      }
    });
    level = below;
  }
  await inParallel(files, FILE_CONCURRENCY, async (rel) => {
    await copyFile(
      path.join(src, rel),
      path.join(dest, rel),
      constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE,
    );
    if (options.preserveTimestamps) {
      const info = await lstat(path.join(src, rel));
      await utimes(path.join(dest, rel), info.atime, info.mtime);
    }
  });
  await inParallel(links, FILE_CONCURRENCY, async (rel) => {
    await symlink(await readlink(path.join(src, rel)), path.join(dest, rel));
  });
}
