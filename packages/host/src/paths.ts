import path from "node:path";
import type { JobType } from "./store/types.ts";

/**
 * Where everything lives on disk. The site folder keeps Kudu's layout so existing tools and
 * habits work; the data folder holds what the host owns.
 *
 *   <site>/App_Data/jobs/{type}/{name}         the job as users see it (a link to the current version, or a hand-copied folder)
 *   <data>/versions/{type}/{name}/{version}/   immutable installed versions; runs start from here
 *   <data>/jobs/{type}/{name}/                 job data: runs (triggered), job_log.txt (continuous)
 *   <data>/jobs/triggered/{name}/{runId}/output_log.txt
 *   <data>/tmp/                                staging for uploads (same file system, so renames are atomic)
 */
export class HostPaths {
  constructor(
    readonly dataDir: string,
    readonly siteDir: string,
  ) {}

  get database(): string {
    return path.join(this.dataDir, "webjobs.db");
  }

  /** The key of secret app settings (0600), when WEBJOBS_SECRET_KEY does not give one. */
  get secretKeyFile(): string {
    return path.join(this.dataDir, "secret.key");
  }

  get tmp(): string {
    return path.join(this.dataDir, "tmp");
  }

  siteJobsRoot(type: JobType): string {
    return path.join(this.siteDir, "App_Data", "jobs", type);
  }

  siteJob(type: JobType, name: string): string {
    return path.join(this.siteJobsRoot(type), name);
  }

  versions(type: JobType, name: string): string {
    return path.join(this.dataDir, "versions", type, name);
  }

  version(type: JobType, name: string, version: string): string {
    return path.join(this.versions(type, name), version);
  }

  /** The root of `/vfs/data/jobs/…`: the only part of the data folder served over HTTP. */
  get jobsData(): string {
    return path.join(this.dataDir, "jobs");
  }

  jobData(type: JobType, name: string): string {
    return path.join(this.jobsData, type, name);
  }

  runDir(name: string, runId: string): string {
    return path.join(this.jobData("triggered", name), runId);
  }

  runLog(name: string, runId: string): string {
    return path.join(this.runDir(name, runId), "output_log.txt");
  }

  /** Kudu's `job_scheduler.log` of a scheduled job. */
  schedulerLog(name: string): string {
    return path.join(this.jobData("triggered", name), "job_scheduler.log");
  }

  continuousLog(name: string): string {
    return path.join(this.jobData("continuous", name), "job_log.txt");
  }

  /** A shutdown file's folder exists from the start; the file appears when the job must stop. */
  shutdownFile(type: JobType, name: string, key: string): string {
    return path.join(this.jobData(type, name), "shutdown", key, "shutdown");
  }
}
