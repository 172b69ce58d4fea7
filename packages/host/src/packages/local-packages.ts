import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { ErrorCode, WebJobsError } from "../errors.ts";
import type { HostPaths } from "../paths.ts";
import type { JobRecord, JobType, Store } from "../store/types.ts";
import { packDir, unpackTo } from "./archive.ts";

/** What this instance last put in its own site folder for a job. */
interface Published {
  version: string;
  /** Fingerprint of the site folder as this instance wrote it (see fingerprintDir). */
  fingerprint: string | null;
}

/** Packages unreferenced for this long are deleted from the store (a deploy in flight is younger). */
const PRUNE_AFTER_MS = 10 * 60_000;

/**
 * The packages side of several instances (PostgreSQL only; one machine on SQLite has none): stores
 * every installed version in the store by content hash, fetches the versions this machine lacks
 * into its local version cache, and remembers what this instance published in its site folder, so
 * that the folder it writes for a version installed elsewhere is never taken for a local edit.
 *
 * The record of what was published is local (`<data>/published-jobs.json`): each machine's site
 * folder is its own, with its own file times, so its fingerprint differs from the one stored with
 * the job by the instance that deployed it.
 */
export class LocalPackages {
  private published = new Map<string, Published>();
  private saving: Promise<void> = Promise.resolve();
  private readonly fetching = new Map<string, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly paths: HostPaths,
    private readonly log: Logger,
  ) {}

  private get file(): string {
    return path.join(this.paths.dataDir, "published-jobs.json");
  }

  /** Reads what this instance published before it stopped. */
  async load(): Promise<void> {
    try {
      const parsed = JSON.parse(await readFile(this.file, "utf8")) as Record<string, Published>;
      this.published = new Map(Object.entries(parsed));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        this.log.warn(
          { err: error },
          "published-jobs.json unreadable: every job's site folder is written again",
        );
      }
      this.published = new Map();
    }
  }

  /** Jobs this instance has published in its site folder: `type/name` keys. */
  publishedJobs(): { type: JobType; name: string; version: string }[] {
    return [...this.published].map(([key, { version }]) => {
      const [type, name] = key.split("/") as [JobType, string];
      return { type, name, version };
    });
  }

  publishedVersion(type: JobType, name: string): string | null {
    return this.published.get(`${type}/${name}`)?.version ?? null;
  }

  /** True when the site folder's fingerprint is the one this instance wrote: not an edit. */
  isOwnSiteFolder(type: JobType, name: string, fingerprint: string | null): boolean {
    const record = this.published.get(`${type}/${name}`);
    return fingerprint !== null && record?.fingerprint === fingerprint;
  }

  async recordPublished(type: JobType, name: string, version: string, fingerprint: string | null) {
    this.published.set(`${type}/${name}`, { version, fingerprint });
    await this.save();
  }

  async forget(type: JobType, name: string): Promise<void> {
    if (this.published.delete(`${type}/${name}`)) await this.save();
  }

  /** Written whole, by a rename: a crash leaves the previous file or the new one. */
  private save(): Promise<void> {
    this.saving = this.saving
      .catch(() => undefined)
      .then(async () => {
        const temp = `${this.file}.${process.pid}.tmp`;
        await writeFile(temp, JSON.stringify(Object.fromEntries(this.published)));
        await rename(temp, this.file);
      });
    return this.saving;
  }

  /** Stores an installed version's package; returns its hash, to be recorded with the job. */
  async storeVersion(dir: string): Promise<string> {
    const { hash, content } = await packDir(dir);
    await this.store.packages.putPackage(hash, content);
    return hash;
  }

  /** Deletes packages no job references any more (in the background after a deploy or removal). */
  prune(): void {
    this.store.packages
      .prunePackages(PRUNE_AFTER_MS)
      .catch((error: unknown) => this.log.warn({ err: error }, "packages: pruning failed"));
  }

  /**
   * Makes sure the job's version is in this machine's version cache: fetched from the store and
   * unpacked (checked against its hash) when another instance installed it. Concurrent callers
   * for one version share one fetch.
   */
  async ensureVersion(job: JobRecord): Promise<void> {
    const dir = this.paths.version(job.type, job.name, job.version);
    if (existsSync(dir)) return;
    let pending = this.fetching.get(dir);
    if (!pending) {
      pending = this.fetch(job, dir).finally(() => this.fetching.delete(dir));
      this.fetching.set(dir, pending);
    }
    await pending;
  }

  private async fetch(job: JobRecord, dir: string): Promise<void> {
    const what = `version ${job.version} of ${job.type} job '${job.name}'`;
    if (!job.packageHash) {
      throw new WebJobsError(
        ErrorCode.NotFound,
        `The ${what} is not on this instance and no package of it is stored: deploy the job again.`,
      );
    }
    const content = await this.store.packages.getPackage(job.packageHash);
    if (!content) {
      throw new WebJobsError(
        ErrorCode.NotFound,
        `The package of the ${what} (${job.packageHash}) is not in the store: deploy the job again.`,
      );
    }
    const started = Date.now();
    await mkdir(this.paths.tmp, { recursive: true });
    const staging = await mkdtemp(path.join(this.paths.tmp, "fetch-"));
    try {
      await unpackTo(content, job.packageHash, path.join(staging, "content"));
      await mkdir(path.dirname(dir), { recursive: true });
      await rename(path.join(staging, "content"), dir);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    this.log.info(
      {
        type: job.type,
        name: job.name,
        version: job.version,
        bytes: content.length,
        ms: Date.now() - started,
      },
      "fetched a job version installed by another instance",
    );
  }
}
