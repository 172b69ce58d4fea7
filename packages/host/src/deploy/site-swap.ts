import { randomBytes } from "node:crypto";
import { cp, mkdir, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { copyTree } from "../jobs/copy-tree.ts";
import { fingerprintDir } from "../jobs/fingerprint.ts";
import { extractZip, type ZipLimits } from "../jobs/zip.ts";
import { resolveInside } from "./safe-path.ts";

/** What a deployment does to the site folder. `target` is relative to the site ("" = all of it). */
export type SiteChange =
  | { kind: "zip"; zip: string; target: string; clean: boolean }
  | { kind: "file"; file: string; target: string };

/**
 * Staging and swap folders live beside the site folder (same file system, so the swap is two
 * renames) and are hidden: `.{site}.deploy-…` and `.{site}.old-…`.
 */
export const siblingName = (site: string, kind: "deploy" | "old") =>
  path.join(path.dirname(site), `.${path.basename(site)}.${kind}-${randomBytes(6).toString("hex")}`);

/** Removes staging and old folders a host that died mid-deploy left beside the site. */
export async function removeLeftovers(site: string): Promise<void> {
  const prefix = `.${path.basename(site)}.`;
  const names = await readdir(path.dirname(site)).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith(prefix) && /\.(deploy|old)-[0-9a-f]{12}$/.test(name)) {
      await rm(path.join(path.dirname(site), name), { recursive: true, force: true });
    }
  }
}

/** A job folder's files as unpacked, copied aside for its install (see stageSite's `jobCopies`). */
export interface PreparedJob {
  dir: string;
  fingerprint: string;
}

/** `{type}/{name}` of a job folder, and the copies made of job folders while staging. */
export type PreparedJobs = Map<string, PreparedJob>;

// A job folder inside the site (`App_Data/jobs/{type}/{name}`), matched on normalised zip paths.
const JOB_TYPES = ["triggered", "continuous"] as const;
const JOB_ENTRY = /^App_Data\/jobs\/(triggered|continuous)\/([^/]+)(?:\/(.*))?$/;
const JOB_ENTRY_ANY_CASE = new RegExp(JOB_ENTRY.source, "i");

/**
 * Builds the next site folder in a staging folder, without touching the current one: a whole-site
 * clean zip is unpacked straight into it; anything else starts from a copy of the current site.
 * Throws (after removing the staging folder) for a zip that is refused or damaged.
 *
 * `jobCopies` (an empty folder under `<data>/tmp`): a whole-site zip's job folders are written
 * there too while unpacking, as `{type}/{name}`, so that installing each job moves its copy in
 * instead of copying thousands of files again. Returned with each folder's fingerprint, taken in
 * the staging folder, where nobody else writes.
 */
export async function stageSite(
  site: string,
  change: SiteChange,
  limits: ZipLimits,
  note: (message: string) => Promise<void>,
  jobCopies?: string,
): Promise<{ staging: string; prepared: PreparedJobs }> {
  const prepared: PreparedJobs = new Map();
  const staging = siblingName(site, "deploy");
  try {
    const wholeSite = change.kind === "zip" && change.target === "" && change.clean;
    const copied =
      !wholeSite &&
      (await copyTree(site, staging, { preserveTimestamps: true }).then(
        () => true,
        (error: NodeJS.ErrnoException) => {
          if (error.code !== "ENOENT") throw error;
          return false;
        },
      ));
    if (!copied) await mkdir(staging, { recursive: true });
    if (change.kind === "file") {
      const file = resolveInside(staging, change.target);
      await mkdir(path.dirname(file), { recursive: true });
      await rm(file, { recursive: true, force: true });
      await cp(change.file, file);
      await note(`Copied the file to '${change.target}'.`);
      return { staging, prepared };
    }
    const dest = change.target === "" ? staging : resolveInside(staging, change.target);
    if (change.clean || wholeSite) {
      if (dest !== staging) await rm(dest, { recursive: true, force: true });
      await mkdir(dest, { recursive: true });
      const copies = wholeSite ? jobCopies : undefined;
      // The parents of the job folders' copies: the zip's own folders above them are not copied.
      if (copies !== undefined) for (const type of JOB_TYPES) await mkdir(path.join(copies, type));
      // A path that names a job folder in other letter cases (`app_data/…`) is the same folder on
      // a case-insensitive file system, where the copy would then miss files: no copies are used.
      let otherCase = false;
      const alsoTo = (relative: string): string | null => {
        const target = relative.replace(/\/+$/, "");
        const match = JOB_ENTRY.exec(target);
        if (!match && JOB_ENTRY_ANY_CASE.test(target)) otherCase = true;
        return match && copies ? path.join(copies, match[1], match[2], match[3] ?? "") : null;
      };
      const { entries, bytes } = await extractZip(change.zip, dest, limits, {
        alsoTo: copies === undefined ? undefined : alsoTo,
      });
      await note(`Unpacked ${entries} entries (${bytes} bytes) into '${change.target || "/"}'.`);
      if (copies !== undefined && !otherCase) {
        for (const type of JOB_TYPES) {
          for (const entry of await readdir(path.join(copies, type), { withFileTypes: true })) {
            // A file beside the job folders is no job.
            if (!entry.isDirectory()) continue;
            const name = entry.name;
            const fingerprint = await fingerprintDir(path.join(staging, "App_Data", "jobs", type, name));
            if (fingerprint !== null) {
              prepared.set(`${type}/${name}`, { dir: path.join(copies, type, name), fingerprint });
            }
          }
        }
      }
    } else {
      // Incremental: unpacked aside (the guards refuse collisions inside the zip), then laid over.
      const aside = siblingName(site, "deploy");
      try {
        await mkdir(aside, { recursive: true });
        const { entries, bytes } = await extractZip(change.zip, aside, limits);
        await mkdir(dest, { recursive: true });
        await cp(aside, dest, { recursive: true, force: true });
        await note(`Unpacked ${entries} entries (${bytes} bytes) over '${change.target || "/"}'.`);
      } finally {
        await rm(aside, { recursive: true, force: true });
      }
    }
    return { staging, prepared };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Puts the staged folder in place of the site by two renames and returns the previous site folder
 * (to be removed by the caller), or null when there was none. If the second rename fails the
 * previous folder is put back.
 */
export async function swapSite(site: string, staging: string): Promise<string | null> {
  await mkdir(path.dirname(site), { recursive: true });
  const old = siblingName(site, "old");
  const hadOld = await rename(site, old).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw error;
    },
  );
  try {
    await rename(staging, site);
  } catch (error) {
    if (hadOld) await rename(old, site);
    throw error;
  }
  return hadOld ? old : null;
}
