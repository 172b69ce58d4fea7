import { watch, type FSWatcher } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { isWebJobsError } from "../errors.ts";
import type { HostPaths } from "../paths.ts";
import { JobType } from "../store/types.ts";
import { fingerprintDir } from "./fingerprint.ts";
import { validateJobName } from "./names.ts";
import type { JobRegistry } from "./registry.ts";
import type { SiteUploads } from "./site-uploads.ts";
import { TreeWatch } from "./tree-watch.ts";

const jobTypes = [JobType.Triggered, JobType.Continuous];
/** Why a folder's name cannot be a job's (the API could not address it), or null. */
const nameProblem = (name: string): string | null => {
  try {
    validateJobName(name);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
};
const isJobFolderName = (name: string) => nameProblem(name) === null;
// Halves of a folder swap (JobRegistry.publishSite), never jobs and never worth a warning.
const isSwapHalf = (name: string) => /\.tmp-(new|old)$/.test(name);

/**
 * Watches `<site>/App_Data/jobs/{type}/` so that a folder copied there by any file transfer tool
 * becomes a job (and an edit redeploys it, a deletion removes it). Changes are debounced per job:
 * a copy in progress fires many events, and we install once it has settled. A folder that the
 * host's FTP server is still writing into waits until its last upload closes (see SiteUploads).
 *
 * Each `{type}` folder has a watch for job folders coming and going; each job folder has a
 * TreeWatch on its folders, kept in step by the fingerprint walk of each sync (a folder is
 * watched before its entries are read, so nothing created meanwhile goes unseen).
 */
export class SiteWatcher {
  private rootWatchers: FSWatcher[] | null = null;
  private readonly trees = new Map<string, TreeWatch>();
  private watchLimitReported = false;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly syncing = new Map<string, Promise<void>>();
  /** Folders already reported as unusable names. */
  private readonly refused = new Set<string>();
  private stopUploadWatch = () => {};

  constructor(
    private readonly paths: HostPaths,
    private readonly registry: JobRegistry,
    private readonly log: Logger,
    private readonly debounceMs: number,
    private readonly uploads: SiteUploads | null = null,
  ) {}

  /**
   * Watches first, then scans: a change made while the watch is being set up (a deployment
   * restarts the watcher after answering, and a client may edit the site at once) is then seen by
   * the scan or by the watch, never by neither. A change seen by both is installed once (the
   * fingerprint no longer differs the second time).
   */
  async start(): Promise<void> {
    if (this.rootWatchers) return;
    for (const type of jobTypes) await mkdir(this.paths.siteJobsRoot(type), { recursive: true });
    // The end of an upload counts as a change: its folder is synced after the usual debounce.
    this.stopUploadWatch();
    if (this.uploads) this.stopUploadWatch = this.uploads.onClosed((file) => this.onChange(file));
    const watchers = jobTypes.map((type) => {
      const root = this.paths.siteJobsRoot(type);
      const watcher = watch(root, { persistent: false }, (_event, name) => {
        if (name) this.onChange(path.join(root, name));
        // The kernel's queue overflowed: which folder changed is unknown, so look at them all.
        else void this.rescan(type);
      });
      watcher.on("error", (error) => this.log.warn({ err: error, folder: root }, "site folder watch failed"));
      return watcher;
    });
    this.rootWatchers = watchers;
    await this.initialScan();
    this.started = true;
  }

  /** Whether a first start is done: the halves of folder swaps are only left over before it. */
  private started = false;

  async stop(): Promise<void> {
    this.stopUploadWatch();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const watcher of this.rootWatchers ?? []) watcher.close();
    this.rootWatchers = null;
    await Promise.all(this.syncing.values());
    for (const tree of this.trees.values()) tree.close();
    this.trees.clear();
  }

  /** Every job folder of a type, as if each had changed. */
  private async rescan(type: JobType): Promise<void> {
    const root = this.paths.siteJobsRoot(type);
    for (const name of await readdir(root).catch(() => [] as string[])) this.onChange(path.join(root, name));
  }

  /** Installs folders that appeared or changed while the host was down. */
  private async initialScan(): Promise<void> {
    if (!this.started) {
      // Halves of a folder swap a crash left beside the watched folders (JobRegistry.publishSite).
      const jobsDir = path.dirname(this.paths.siteJobsRoot(JobType.Triggered));
      for (const leftover of await readdir(jobsDir)) {
        if (/^\.(triggered|continuous)\..+\.tmp-(new|old)$/.test(leftover)) {
          await rm(path.join(jobsDir, leftover), { recursive: true, force: true });
        }
      }
    }
    for (const type of jobTypes) {
      const names = await readdir(this.paths.siteJobsRoot(type));
      // Halves of a folder swap interrupted by a crash (see JobRegistry.publishSite). Only before
      // the first start: later, they are a deploy's under way (the watcher restarts after a site
      // deployment, while a job's own deploy may be filling its next folder).
      for (const leftover of names.filter((n) => !this.started && /\.tmp-(new|old)$/.test(n))) {
        await rm(path.join(this.paths.siteJobsRoot(type), leftover), { recursive: true, force: true });
      }
      for (const name of names.filter((n) => !isJobFolderName(n) && !isSwapHalf(n))) this.refuse(type, name);
      for (const name of names.filter(isJobFolderName)) {
        // Still being uploaded (the watcher restarts after a site deploy): synced when that ends.
        if (this.uploads?.busy(this.paths.siteJob(type, name))) continue;
        await this.serially(type, name, () => this.sync(type, name, { startup: true }));
      }
      // A job whose folder is gone (e.g. the site folder moved) is restored from its installed
      // version rather than deleted: a deletion while the host is down is too easily a mistake.
      for (const job of await this.registry.list(type)) {
        if (!names.includes(job.name)) await this.registry.republishSite(job);
      }
    }
  }

  private onChange(changed: string): void {
    for (const type of jobTypes) {
      const relative = path.relative(this.paths.siteJobsRoot(type), changed);
      if (!relative || relative.startsWith("..") || path.isAbsolute(relative)) continue;
      const name = relative.split(path.sep)[0];
      if (!isJobFolderName(name)) {
        if (!isSwapHalf(name)) this.refuse(type, name);
        return;
      }
      const key = `${type}/${name}`;
      clearTimeout(this.timers.get(key));
      this.timers.set(
        key,
        setTimeout(() => {
          this.timers.delete(key);
          void this.serially(type, name, () => this.syncUnlessUploading(type, name));
        }, this.debounceMs),
      );
      return;
    }
  }

  /** Syncs of one job folder run one at a time (each walk keeps the folder's watches in step). */
  private serially(type: JobType, name: string, work: () => Promise<void>): Promise<void> {
    const key = `${type}/${name}`;
    const previous = this.syncing.get(key) ?? Promise.resolve();
    const next = previous.then(work);
    this.syncing.set(key, next);
    void next.finally(() => {
      if (this.syncing.get(key) === next) this.syncing.delete(key);
    });
    return next;
  }

  /**
   * A folder whose name the API cannot address is never installed (it would be listed but could be
   * neither run nor deleted): the host says so, once per folder, with the name rule it breaks.
   */
  private refuse(type: JobType, name: string): void {
    const key = `${type}/${name}`;
    if (this.refused.has(key)) return;
    this.refused.add(key);
    this.log.warn(
      { type, folder: path.join(this.paths.siteJobsRoot(type), name), reason: nameProblem(name) },
      "a folder in the site is not a job: its name cannot be a job name; rename it to install it",
    );
  }

  /** Installs the folder unless an upload into it is open: its end schedules the folder again. */
  private async syncUnlessUploading(type: JobType, name: string): Promise<void> {
    if (this.uploads?.busy(this.paths.siteJob(type, name))) {
      this.log.debug({ type, name }, "job folder still being uploaded: installed when the upload ends");
      return;
    }
    await this.sync(type, name, { startup: false });
  }

  /**
   * The fingerprint of a job folder (null if it is gone), its folders watched on the way: from
   * now on, any change in it calls onChange.
   */
  private async walk(type: JobType, name: string): Promise<string | null> {
    const folder = this.paths.siteJob(type, name);
    let tree = this.trees.get(folder);
    if (!tree) {
      tree = new TreeWatch(
        folder,
        () => this.onChange(folder),
        (watched, error) => this.watchFailed(watched, error),
      );
      this.trees.set(folder, tree);
    }
    tree.begin();
    let fingerprint: string | null = null;
    try {
      fingerprint = await fingerprintDir(folder, (relative, inode) => tree.folder(relative, inode));
    } finally {
      tree.end(fingerprint !== null);
      if (tree.size === 0) this.trees.delete(folder);
    }
    // Stopped meanwhile: nothing may stay watched.
    if (!this.rootWatchers) tree.close();
    return fingerprint;
  }

  private watchFailed(folder: string, error: unknown): void {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EMFILE") {
      if (this.watchLimitReported) return;
      this.watchLimitReported = true;
      this.log.warn(
        { folder, err: error },
        "the system's limit of inotify watches is reached (fs.inotify.max_user_watches): edits in some job folders are not seen until the host restarts; raise the limit",
      );
      return;
    }
    this.log.warn({ folder, err: error }, "a job folder cannot be watched: edits in it are not seen");
  }

  private async sync(type: JobType, name: string, { startup }: { startup: boolean }): Promise<void> {
    const folder = this.paths.siteJob(type, name);
    try {
      const fingerprint = await this.walk(type, name);
      const job = await this.registry.get(type, name);
      if (fingerprint === null) {
        if (job && !startup) {
          if (await this.registry.removeIfSiteFolderGone(type, name))
            this.log.info({ type, name }, "job folder removed from the site: deleted the job");
        }
        return;
      }
      if (job && job.sourceFingerprint === fingerprint) return;
      // This instance's copy of a version deployed through another one (several instances).
      if (job && this.registry.packages?.isOwnSiteFolder(type, name, fingerprint)) return;
      const installed = await this.registry.deploy(
        type,
        name,
        { kind: "dir", path: folder },
        { publishSite: false, fromSiteFolder: true, badSchedule: "record" },
      );
      this.log.info({ type, name, version: installed.version }, "installed job from the site folder");
    } catch (error) {
      // A folder without a runnable script is not a job (Kudu leaves it out of the lists).
      this.log.warn(
        { type, name, err: isWebJobsError(error) ? error.message : error },
        "job folder not installed",
      );
    }
  }
}
