import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { copyTree } from "./copy-tree.ts";
import { fingerprintDir } from "./fingerprint.ts";
import path from "node:path";
import { ErrorCode, WebJobsError } from "../errors.ts";
import type { HostPaths } from "../paths.ts";
import type { LocalPackages } from "../packages/local-packages.ts";
import type { JobRecord, JobType, Store } from "../store/types.ts";
import { installPackage, type PackageSource } from "./install.ts";
import { validateJobName } from "./names.ts";
import { parseSettings, type JobSettings } from "./settings.ts";
import { Trash } from "./trash.ts";
import type { ZipLimits } from "./zip.ts";

/**
 * Events of the jobs. `elsewhere` is true when the change was made through another instance and
 * this one only follows it (see JobFeed): the version is in place here, nothing is written again.
 */
export interface RegistryEvents {
  /** A job was deployed or changed (new version or settings). */
  deployed: [job: JobRecord, previous: JobRecord | null, elsewhere?: boolean];
  /** A job is about to be removed: stop whatever runs it. Listeners may return a promise. */
  removing: [type: JobType, name: string];
  /** A job was removed (after its code, data and history are gone). */
  removed: [type: JobType, name: string, elsewhere?: boolean];
  /** A job's desired state (running / stopped) changed. */
  desiredState: [job: JobRecord, elsewhere?: boolean];
}

/** Tells which versions are in use by live processes, so they are not deleted under them. */
export type VersionsInUse = (type: JobType, name: string) => Set<string>;

/**
 * The set of jobs: installs packages as new versions, points the Kudu-style site folder at the
 * current one, and keeps the store in step. Deploys of one job are serialised; different jobs
 * deploy in parallel.
 */
export class JobRegistry extends EventEmitter<RegistryEvents> {
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Work holding every job's lock at once (see withAllJobs). */
  private allJobs: Promise<unknown> = Promise.resolve();
  versionsInUse: VersionsInUse = () => new Set();
  /** Why a job's schedule (settings.job `schedule`, `time_zone`, run policies) is invalid, or null. */
  scheduleProblem: (settings: JobSettings) => string | null = () => null;
  /**
   * Several instances (PostgreSQL): every version is stored as a package for the others, and what
   * this instance published in its site folder is remembered locally. Null on one machine.
   */
  packages: LocalPackages | null = null;

  constructor(
    private readonly store: Store,
    private readonly paths: HostPaths,
    private readonly zipLimits: ZipLimits,
    /** Where replaced versions and site folders go to be deleted after the deploy has answered. */
    readonly trash: Trash = new Trash(path.join(paths.tmp, "trash")),
  ) {
    super();
  }

  async get(type: JobType, name: string): Promise<JobRecord | null> {
    return this.store.getJob(type, name);
  }

  async require(type: JobType, name: string): Promise<JobRecord> {
    const job = await this.store.getJob(type, name);
    if (!job) throw new WebJobsError(ErrorCode.NotFound, `No ${type} job named '${name}'.`);
    return job;
  }

  async list(type?: JobType): Promise<JobRecord[]> {
    return this.store.listJobs(type);
  }

  /** Installs a package as the job's new version; creates the job if needed. */
  async deploy(
    type: JobType,
    name: string,
    source: PackageSource,
    options: {
      /**
       * The source is the job's own site folder (an edit there, or a deployed site): its
       * fingerprint is recorded, and an unchanged folder is not installed again.
       */
      fromSiteFolder?: boolean;
      publishSite?: boolean;
      /**
       * An invalid schedule is refused (API uploads: 400, nothing kept) or recorded in the job's
       * `error` with the job kept on demand only (a folder copied into the site).
       */
      badSchedule?: "refuse" | "record";
    } = {},
  ): Promise<JobRecord> {
    validateJobName(name);
    // Folders of earlier deploys wait in the trash while this one writes (see Trash).
    const releaseTrash = this.trash.hold();
    try {
      return await this.deployLocked(type, name, source, options);
    } finally {
      releaseTrash();
    }
  }

  private deployLocked(
    type: JobType,
    name: string,
    source: PackageSource,
    options: Parameters<JobRegistry["deploy"]>[3] = {},
  ): Promise<JobRecord> {
    return this.withLock(type, name, async () => {
      const previous = await this.store.getJob(type, name);
      // Taken under the lock: our own publishing swaps the site folder, and a fingerprint taken
      // during the swap would see a folder that is half there, or gone.
      // A prepared copy's fingerprint is the one of what it holds, taken before the folder was
      // in the site: an edit made since then differs from it, so the watcher installs that edit.
      const sourceFingerprint =
        options.fromSiteFolder && source.kind === "dir"
          ? (source.prepared?.fingerprint ?? (await fingerprintDir(source.path)))
          : null;
      if (options.fromSiteFolder) {
        if (sourceFingerprint === null)
          throw new WebJobsError(ErrorCode.NotFound, `The folder of ${type} job '${name}' is gone.`);
        if (previous?.sourceFingerprint === sourceFingerprint) return previous;
        // The folder this instance wrote for a version deployed through another one: not an edit.
        if (previous && this.packages?.isOwnSiteFolder(type, name, sourceFingerprint)) return previous;
      }
      // A zip is unpacked into the next site folder at the same time: one pass over its files
      // instead of an extraction and then a copy. Removed on every failure below.
      const siteCopy =
        options.publishSite !== false && source.kind === "zip" ? await this.newSiteHalf(type, name) : null;
      const dropSiteCopy = async () => {
        if (siteCopy) await rm(siteCopy, { recursive: true, force: true });
      };
      const installed = await installPackage(
        this.paths,
        type,
        name,
        source,
        this.zipLimits,
        previous?.version ?? null,
        siteCopy ?? undefined,
      ).catch(async (error: unknown) => {
        await dropSiteCopy();
        throw error;
      });
      const scheduleProblem = type === "triggered" ? this.scheduleProblem(installed.settings) : null;
      if (scheduleProblem && options.badSchedule !== "record") {
        // Refused: keep nothing of it (a new job leaves no versions folder behind).
        await dropSiteCopy();
        await rm(previous ? installed.dir : this.paths.versions(type, name), {
          recursive: true,
          force: true,
        });
        throw new WebJobsError(ErrorCode.BadSettings, scheduleProblem);
      }
      const now = new Date();
      const job: JobRecord = {
        type,
        name,
        version: installed.version,
        script: installed.script,
        settings: installed.settings,
        error:
          [installed.error, scheduleProblem && `Invalid schedule: ${scheduleProblem}`]
            .filter(Boolean)
            .join("; ") || null,
        // A stopped job stays stopped across redeploys; a package with disable.job arrives stopped.
        desiredState: installed.disabled ? "stopped" : (previous?.desiredState ?? "running"),
        sourceFingerprint,
        createdAt: previous?.createdAt ?? now,
        updatedAt: now,
      };
      let published = false;
      try {
        // Stored before the job row names it: an instance that sees the row can fetch it.
        if (this.packages) job.packageHash = await this.packages.storeVersion(installed.dir);
        if (options.publishSite !== false) {
          job.sourceFingerprint = await this.publishSite(type, name, installed.dir, siteCopy);
          published = true;
        }
        await this.store.upsertJob(job);
        await this.packages?.recordPublished(type, name, job.version, job.sourceFingerprint);
      } catch (error) {
        // Not recorded: keep nothing of it, and give the site folder back its previous content.
        await dropSiteCopy();
        await this.discardInstall(type, name, installed.dir, previous, published);
        throw error;
      }
      this.emit("deployed", job, previous);
      await this.collectVersions(type, name);
      this.packages?.prune();
      return job;
    });
  }

  /** Brings the job's version into this machine's version cache (several instances), else nothing. */
  async ensureVersion(job: JobRecord): Promise<void> {
    await this.packages?.ensureVersion(job);
  }

  /**
   * Follows a change made through another instance (JobFeed): a new version is fetched into the
   * local cache and published in this machine's site folder, then `deployed` is emitted so the
   * scheduler and the supervisor act; a job gone from the store is removed from this machine. No
   * install and no store write: the instance that received the deploy made them.
   */
  async follow(type: JobType, name: string, previous: JobRecord | null): Promise<void> {
    const packages = this.packages;
    if (!packages) return;
    await this.withLock(type, name, async () => {
      const job = await this.store.getJob(type, name);
      if (!job) {
        if (packages.publishedVersion(type, name) !== null) await this.dropLocal(type, name);
        return;
      }
      if (packages.publishedVersion(type, name) === job.version) return;
      if (
        packages.publishedVersion(type, name) === null &&
        existsSync(this.paths.version(type, name, job.version)) &&
        existsSync(this.paths.siteJob(type, name))
      ) {
        // Installed here before this instance kept its record (an upgrade): the folder is as the
        // store says; an edit made meanwhile is the watcher's to find.
        await packages.recordPublished(type, name, job.version, job.sourceFingerprint);
        return;
      }
      await packages.ensureVersion(job);
      const fingerprint = await this.publishSite(type, name, this.paths.version(type, name, job.version));
      await packages.recordPublished(type, name, job.version, fingerprint);
      this.emit("deployed", job, previous, true);
      await this.collectVersions(type, name);
    });
  }

  /** A desired state changed through another instance: this one's supervisor follows it. */
  followDesiredState(job: JobRecord): void {
    this.emit("desiredState", job, true);
  }

  /** Removes from this machine a job removed through another instance (the store has no row). */
  private async dropLocal(type: JobType, name: string): Promise<void> {
    await Promise.all(this.listeners("removing").map((listener) => listener(type, name)));
    await this.discardJobFolders(type, name);
    await this.packages?.forget(type, name);
    this.emit("removed", type, name, true);
  }

  /**
   * Moves a removed job's site folder, versions and data out of their places at once; their files
   * (a node_modules is thousands) are deleted in the background (see Trash). The site folder first
   * takes a hidden name beside the watched folders: if the trash is on another file system, it is
   * deleted there, where the watcher cannot take it for a job.
   */
  private async discardJobFolders(type: JobType, name: string): Promise<void> {
    const hidden = this.siteHalfName(type, name, "old");
    const moved = await rename(this.paths.siteJob(type, name), hidden).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return false;
        throw error;
      },
    );
    if (moved) await this.trash.discard(hidden);
    await this.trash.discard(this.paths.versions(type, name));
    await this.trash.discard(this.paths.jobData(type, name));
  }

  /** Replaces `settings.job` by installing a copy of the current version with the new file. */
  async updateSettings(type: JobType, name: string, settings: unknown): Promise<JobRecord> {
    const parsed: JobSettings = parseSettings(JSON.stringify(settings ?? null));
    const job = await this.require(type, name);
    const problem = type === "triggered" ? this.scheduleProblem(parsed) : null;
    if (problem) throw new WebJobsError(ErrorCode.BadSettings, problem);
    await this.ensureVersion(job);
    const current = this.paths.version(type, name, job.version);
    await mkdir(this.paths.tmp, { recursive: true });
    const copy = path.join(this.paths.tmp, `settings-${name}-${Date.now()}`);
    try {
      await copyTree(current, copy);
      const scriptDir = path.join(copy, path.dirname(job.script ?? "."));
      await writeFile(path.join(scriptDir, "settings.job"), JSON.stringify(parsed, null, 2) + "\n");
      return await this.deploy(type, name, { kind: "dir", path: copy });
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  }

  async setDesiredState(
    type: JobType,
    name: string,
    desiredState: JobRecord["desiredState"],
  ): Promise<JobRecord> {
    return this.withLock(type, name, async () => {
      // Only that column: a whole row written back could undo a deploy made through another instance.
      const updated = await this.store.setJobDesiredState(type, name, desiredState, new Date());
      if (!updated) throw new WebJobsError(ErrorCode.NotFound, `No ${type} job named '${name}'.`);
      this.emit("desiredState", updated);
      return updated;
    });
  }

  /**
   * Removes a job whose site folder was deleted by hand. Checked again under the lock: our own
   * publishing swaps the folder by renames, and must not look like a deletion.
   */
  async removeIfSiteFolderGone(type: JobType, name: string): Promise<boolean> {
    return this.withLock(type, name, async () =>
      existsSync(this.paths.siteJob(type, name)) ? false : this.removeLocked(type, name),
    );
  }

  /** Stops what runs the job, then removes its code, versions, data and history. */
  async remove(type: JobType, name: string): Promise<boolean> {
    validateJobName(name);
    return this.withLock(type, name, () => this.removeLocked(type, name));
  }

  private async removeLocked(type: JobType, name: string): Promise<boolean> {
    const job = await this.store.getJob(type, name);
    await Promise.all(this.listeners("removing").map((listener) => listener(type, name)));
    await this.discardJobFolders(type, name);
    if (type === "triggered") await this.store.deleteRuns(name);
    await this.store.deleteJob(type, name);
    await this.packages?.forget(type, name);
    if (job) this.emit("removed", type, name);
    this.packages?.prune();
    return job !== null;
  }

  /**
   * Deletes installed versions older than the current one that no process uses any more. Runs and
   * continuous processes call it when they end, outside the job's lock (they may end while a
   * removal holds it), so a deploy may be under way: a version newer than the current one is that
   * deploy's, not yet recorded, and is kept (version ids sort by install time, see installPackage).
   * A collected version is gone from the versions folder when this resolves; its files are deleted
   * in the background (see Trash).
   */
  async collectVersions(type: JobType, name: string): Promise<void> {
    const job = await this.store.getJob(type, name);
    if (!job) return; // a removal deletes them all; a first deploy's version is not recorded yet
    const keep = this.versionsInUse(type, name);
    keep.add(job.version);
    let entries: string[];
    try {
      entries = await readdir(this.paths.versions(type, name));
    } catch {
      return;
    }
    for (const version of entries) {
      if (!keep.has(version) && version < job.version)
        await this.trash.discard(this.paths.version(type, name, version));
    }
  }

  /** Undoes an install that could not be recorded in the store. */
  private async discardInstall(
    type: JobType,
    name: string,
    dir: string,
    previous: JobRecord | null,
    published: boolean,
  ): Promise<void> {
    await rm(previous ? dir : this.paths.versions(type, name), { recursive: true, force: true });
    if (!published) return;
    if (previous) {
      await this.publishSite(type, name, this.paths.version(type, name, previous.version)).catch(
        () => undefined,
      );
    } else {
      await rm(this.paths.siteJob(type, name), { recursive: true, force: true });
    }
  }

  /** Writes the site folder again from the installed version (used when it went missing). */
  async republishSite(job: JobRecord): Promise<void> {
    await this.withLock(job.type, job.name, async () => {
      await this.ensureVersion(job);
      const fingerprint = await this.publishSite(
        job.type,
        job.name,
        this.paths.version(job.type, job.name, job.version),
      );
      // Several instances: this machine's folder is its own (the row keeps the deployer's).
      if (this.packages) await this.packages.recordPublished(job.type, job.name, job.version, fingerprint);
      else await this.store.upsertJob({ ...job, sourceFingerprint: fingerprint });
    });
  }

  /**
   * Publishes the version as the Kudu-style site folder `<site>/App_Data/jobs/{type}/{name}`: a
   * copy the user owns (edits there redeploy, see the watcher), swapped in by renames. Runs never
   * read it, so the short swap cannot affect them. The previous folder is deleted in the background.
   * `prebuilt` is a copy of the version already written beside the site (see newSiteHalf); without
   * it the version is copied. Returns the folder's fingerprint.
   */
  private async publishSite(
    type: JobType,
    name: string,
    versionDir: string,
    prebuilt: string | null = null,
  ): Promise<string | null> {
    const site = this.paths.siteJob(type, name);
    const fresh = prebuilt ?? this.siteHalfName(type, name, "new");
    const old = this.siteHalfName(type, name, "old");
    if (!prebuilt) {
      await mkdir(path.dirname(site), { recursive: true });
      await copyTree(versionDir, fresh, { preserveTimestamps: true });
    }
    const hadOld = await rename(site, old).then(
      () => true,
      () => false,
    );
    await rename(fresh, site);
    if (hadOld) await this.trash.discard(old);
    return fingerprintDir(site);
  }

  /** An empty folder beside the job's site folder, to be filled then swapped in by publishSite. */
  private async newSiteHalf(type: JobType, name: string): Promise<string> {
    const fresh = this.siteHalfName(type, name, "new");
    await mkdir(fresh, { recursive: true });
    return fresh;
  }

  /**
   * The halves of a site folder swap: in `App_Data/jobs`, beside the watched `{type}` folders
   * rather than in them (the watcher would walk each half as it is written and again as it goes),
   * on the same file system, so the swap is two renames. Random: a folder of an earlier deploy
   * may still be on its way to the trash under its name. A crash leaves them for the watcher's
   * first start to remove.
   */
  private siteHalfName(type: JobType, name: string, half: "new" | "old"): string {
    const jobsDir = path.dirname(this.paths.siteJobsRoot(type));
    return path.join(jobsDir, `.${type}.${name}.${randomBytes(6).toString("hex")}.tmp-${half}`);
  }

  /**
   * Runs `work` once every job's lock is free, and holds every job's lock until it ends: a site
   * revision deployed through another instance moves `App_Data/jobs` into its new site folder,
   * which must not happen in the middle of a job folder's own swap (see publishSite).
   */
  async withAllJobs<T>(work: () => Promise<T>): Promise<T> {
    const next = Promise.allSettled([...this.locks.values(), this.allJobs]).then(work);
    this.allJobs = next;
    try {
      return await next;
    } finally {
      if (this.allJobs === next) this.allJobs = Promise.resolve();
    }
  }

  private async withLock<T>(type: JobType, name: string, work: () => Promise<T>): Promise<T> {
    const key = `${type}/${name}`;
    const previous = Promise.allSettled([this.locks.get(key), this.allJobs]);
    const next = previous.then(work);
    this.locks.set(key, next);
    try {
      return await next;
    } finally {
      if (this.locks.get(key) === next) this.locks.delete(key);
    }
  }
}
