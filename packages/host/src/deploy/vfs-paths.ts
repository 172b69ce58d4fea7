import { lstat, realpath } from "node:fs/promises";
import path from "node:path";
import { ErrorCode, WebJobsError } from "../errors.ts";
import type { HostPaths } from "../paths.ts";
import { resolveInside } from "./safe-path.ts";

/** Kudu's virtual roots: `site/wwwroot/` is the site folder, `data/jobs/` the job data (logs). */
export interface VfsRoot {
  /** Virtual prefix without slashes at the ends: `site/wwwroot`. */
  prefix: string;
  dir: string;
  /** App Service's absolute path of the root, shown in listings' `path`. */
  shownAs: string;
}

export const vfsRoots = (paths: HostPaths): VfsRoot[] => [
  { prefix: "site/wwwroot", dir: paths.siteDir, shownAs: "/home/site/wwwroot" },
  { prefix: "data/jobs", dir: paths.jobsData, shownAs: "/home/data/jobs" },
];

/** Virtual folders above the roots (`/`, `site/`, `data/`), listed but not writable. */
export function virtualFolders(paths: HostPaths, virtual: string): string[] | null {
  const clean = virtual.replace(/^\/+|\/+$/g, "");
  const names = new Set<string>();
  for (const root of vfsRoots(paths)) {
    const parts = root.prefix.split("/");
    const depth = clean === "" ? 0 : clean.split("/").length;
    if (parts.slice(0, depth).join("/") === clean && depth < parts.length) names.add(parts[depth]);
  }
  return names.size ? [...names] : null;
}

export interface VfsTarget {
  root: VfsRoot;
  /** Physical path; inside the root's real folder even through symbolic links. */
  file: string;
  /** Path relative to the root, `/` separators, no slashes at the ends ("" = the root). */
  relative: string;
}

/**
 * Maps a decoded virtual path to a physical one, or throws 404 (outside every root) / 400 (a path
 * that tries to climb out). Symbolic links are resolved and must stay inside the root, so a link
 * planted in the site cannot expose the rest of the disk.
 */
export async function resolveVfs(paths: HostPaths, virtual: string): Promise<VfsTarget> {
  const clean = virtual.replace(/\\/g, "/").replace(/^\/+/, "");
  for (const root of vfsRoots(paths)) {
    if (clean !== root.prefix && !clean.startsWith(`${root.prefix}/`)) continue;
    const relative = clean.slice(root.prefix.length).replace(/^\/+|\/+$/g, "");
    // A path that tries to leave its root is answered like one that does not exist (as before).
    let file: string;
    try {
      file = resolveInside(root.dir, relative);
    } catch (error) {
      throw new WebJobsError(ErrorCode.NotFound, (error as Error).message);
    }
    await checkRealPath(root.dir, file);
    return { root, file, relative };
  }
  throw new WebJobsError(
    ErrorCode.NotFound,
    `'${virtual.slice(0, 200)}' is not under site/wwwroot/ or data/jobs/.`,
  );
}

/** The deepest existing ancestor of `file` (itself included) must really be inside `rootDir`. */
async function checkRealPath(rootDir: string, file: string): Promise<void> {
  const realRoot = await realpath(rootDir).catch(() => rootDir);
  let probe = file;
  for (;;) {
    const exists = await lstat(probe).then(
      () => true,
      () => false,
    );
    if (exists) break;
    const parent = path.dirname(probe);
    if (parent === probe || probe === rootDir) return;
    probe = parent;
  }
  const real = await realpath(probe).catch(() => null);
  if (real === null) {
    // A dangling link: it leads nowhere we can check.
    throw new WebJobsError(ErrorCode.NotFound, "No such file (a broken link).");
  }
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
    throw new WebJobsError(ErrorCode.NotFound, "No such file (a link that leads outside the site).");
  }
}
