import { readdir } from "node:fs/promises";
import { isWebJobsError } from "../errors.ts";
import type { JobRegistry } from "../jobs/registry.ts";
import type { HostPaths } from "../paths.ts";
import { JobType } from "../store/types.ts";
import type { PreparedJobs } from "./site-swap.ts";
import { LogEntryType } from "./types.ts";

const isJobFolderName = (name: string) => /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(name);

export type Note = (message: string, type?: LogEntryType) => Promise<void>;

/**
 * Brings the jobs in step with a freshly deployed site folder: a job folder that appeared or was
 * replaced is installed (the site folder itself stays as deployed; from the copy `prepared` holds
 * for it, if any, made while unpacking), a job whose folder is gone is
 * removed. A folder that cannot be installed is left out with a warning, as the folder watcher
 * does; it does not fail the deployment.
 */
export async function syncJobsWithSite(
  paths: HostPaths,
  registry: JobRegistry,
  note: Note,
  prepared: PreparedJobs = new Map(),
): Promise<void> {
  for (const type of [JobType.Triggered, JobType.Continuous]) {
    const names = (await readdir(paths.siteJobsRoot(type)).catch(() => [] as string[])).filter(
      isJobFolderName,
    );
    for (const job of await registry.list(type)) {
      if (names.includes(job.name)) continue;
      await registry.remove(type, job.name);
      await note(`Removed ${type} job '${job.name}' (its folder is not in the deployment).`);
    }
    for (const name of names) {
      const folder = paths.siteJob(type, name);
      try {
        const previous = await registry.get(type, name);
        const job = await registry.deploy(
          type,
          name,
          { kind: "dir", path: folder, prepared: prepared.get(`${type}/${name}`) },
          { publishSite: false, fromSiteFolder: true, badSchedule: "record" },
        );
        if (job === previous) continue;
        await note(`${previous ? "Updated" : "Added"} ${type} job '${name}' (run_command ${job.script}).`);
        if (job.error) await note(`Job '${name}': ${job.error}`, LogEntryType.Warning);
        if (type === JobType.Continuous) {
          const what =
            job.desiredState === "stopped"
              ? "stays stopped"
              : previous
                ? "restarts on the new version"
                : "starts";
          await note(`Continuous job '${name}' ${what}.`);
        }
      } catch (error) {
        const message = isWebJobsError(error) ? error.message : (error as Error).message;
        await note(`Folder App_Data/jobs/${type}/${name} is not a job: ${message}`, LogEntryType.Warning);
      }
    }
  }
}
