import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { ClusterSignals } from "../instances/signals.ts";
import { packDir, unpackTo } from "../packages/archive.ts";
import type { LocalPackages } from "../packages/local-packages.ts";
import type { HostPaths } from "../paths.ts";
import type { Store } from "../store/types.ts";
import type { Note } from "./job-sync.ts";
import { siblingName } from "./site-swap.ts";

/** The slow look at the latest revision, in case a signal was lost (a dropped connection). */
const POLL_MS = 5_000;
const CHANNEL = "site";
/** Revisions kept in the store; the packages of older ones are pruned with the jobs' packages. */
const KEEP_REVISIONS = 5;
/** The jobs' folders are the registry's: replicated per job version (see JobFeed), never here. */
const isJobsFolder = (relative: string) => relative === "App_Data/jobs";

/** The revision this instance's site folder holds. */
interface Applied {
  revision: number;
  hash: string;
}

/** What SiteRevisions needs of the deployer: one site change at a time, and the swap. */
export interface SiteSwapper {
  /** Runs `work` while no deployment runs on this instance (and none starts). */
  serialize<T>(work: () => Promise<T>): Promise<T>;
  /** Swaps in a staged site folder, keeping this instance's App_Data/jobs. */
  adoptSite(staged: string, watching: boolean): Promise<void>;
}

export interface SiteRevisionsDeps {
  store: Store;
  paths: HostPaths;
  packages: LocalPackages;
  signals: ClusterSignals;
  deployer: SiteSwapper;
  instanceId: string;
  log: Logger;
  pollMs?: number;
}

/**
 * The site's files on several instances (PostgreSQL only; one machine on SQLite has none of this).
 * After a site deployment through this instance, the site's files other than App_Data/jobs are
 * stored as one content-addressed package and a new revision naming it is recorded; the others
 * hear it (a signal, or the slow poll), fetch the package once, check its hash and swap their own
 * site folder, keeping their App_Data/jobs. An instance that starts later catches up to the latest
 * revision before its folder watcher starts.
 *
 * Which revision this machine's site folder holds is local (`<data>/site-revision.json`): each
 * machine has its own site folder.
 */
export class SiteRevisions {
  private applied: Applied | null = null;
  private timer: NodeJS.Timeout | null = null;
  private off: (() => void) | null = null;
  private queue: Promise<void> = Promise.resolve();
  private queued = false;
  private running = false;
  /** The last failure to follow, said once (tried again at every poll). */
  private failure: string | null = null;

  constructor(private readonly deps: SiteRevisionsDeps) {}

  private get file(): string {
    return path.join(this.deps.paths.dataDir, "site-revision.json");
  }

  /** Reads which revision this instance applied, and catches up. Before the folder watcher starts. */
  async start(): Promise<void> {
    this.running = true;
    try {
      const parsed = JSON.parse(await readFile(this.file, "utf8")) as Applied;
      this.applied = Number.isInteger(parsed.revision) && typeof parsed.hash === "string" ? parsed : null;
    } catch {
      // None yet (or unreadable): the latest revision is applied.
      this.applied = null;
    }
    await this.follow(false);
  }

  /** Listens for revisions recorded elsewhere, and polls. After the folder watcher started. */
  listen(): void {
    if (!this.running || this.off) return;
    this.off = this.deps.signals.on(CHANNEL, () => this.request());
    // A revision signalled between start and now.
    this.request();
    this.schedulePoll();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.off?.();
    this.off = null;
    await this.queue;
  }

  /**
   * Stores the site's files after a successful deployment through this instance (called by the
   * deployer, while the deployment runs) and tells the others. Deploying the same files again
   * stores no second package: the hash is the key.
   */
  async record(deploymentId: string, note: Note): Promise<void> {
    const { store, paths, instanceId, signals, log } = this.deps;
    const started = Date.now();
    const { hash, content } = await packDir(paths.siteDir, { skip: isJobsFolder });
    await store.packages.putPackage(hash, content);
    const recorded = await store.packages.recordSiteRevision({ packageHash: hash, deploymentId, instanceId });
    await this.save({ revision: recorded.revision, hash });
    await note(
      `Stored the site's files for the other instances: revision ${recorded.revision}, package ${hash.slice(0, 12)} (${content.length} bytes) in ${Date.now() - started} ms.`,
    );
    signals.notify(CHANNEL, String(recorded.revision)).catch((error: unknown) => {
      log.warn({ err: error }, "site revisions: could not signal a revision (the others poll)");
    });
    void store.packages
      .pruneSiteRevisions(KEEP_REVISIONS)
      .then(() => this.deps.packages.prune())
      .catch((error: unknown) => log.warn({ err: error }, "site revisions: pruning failed"));
  }

  /**
   * Applies the latest revision if this instance's site folder holds another one. Called with no
   * deployment running here (see SiteSwapper.serialize); `watching`: the folder watcher runs and
   * is paused for the swap.
   */
  async catchUp(watching: boolean): Promise<void> {
    const { store, paths, deployer, log } = this.deps;
    const latest = await store.packages.latestSiteRevision();
    if (!latest || latest.revision === this.applied?.revision) return;
    const content = await store.packages.getPackage(latest.packageHash);
    if (!content)
      throw new Error(`The package ${latest.packageHash} of site revision ${latest.revision} is not stored`);
    const started = Date.now();
    await mkdir(path.dirname(paths.siteDir), { recursive: true });
    // Beside the site (same file system: the swap is renames); a crash leaves it to removeLeftovers.
    const staged = siblingName(paths.siteDir, "deploy");
    try {
      await unpackTo(content, latest.packageHash, staged);
      await deployer.adoptSite(staged, watching);
    } catch (error) {
      await rm(staged, { recursive: true, force: true });
      throw error;
    }
    await this.save({ revision: latest.revision, hash: latest.packageHash });
    log.info(
      {
        revision: latest.revision,
        deployment: latest.deploymentId,
        from: latest.instanceId,
        bytes: content.length,
        ms: Date.now() - started,
      },
      "site files of a deployment through another instance applied",
    );
  }

  private async follow(watching: boolean): Promise<void> {
    try {
      await this.deps.deployer.serialize(() => this.catchUp(watching));
      this.failure = null;
    } catch (error) {
      const message = (error as Error).message;
      if (this.failure !== message) {
        this.deps.log.warn({ err: message }, "site revisions: could not apply the latest site revision");
      }
      this.failure = message;
    }
  }

  private schedulePoll(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.request();
      this.schedulePoll();
    }, this.deps.pollMs ?? POLL_MS);
    this.timer.unref();
  }

  /** A burst of signals is looked at once. */
  private request(): void {
    if (!this.running || this.queued) return;
    this.queued = true;
    this.queue = this.queue.then(async () => {
      this.queued = false;
      if (this.running) await this.follow(true);
    });
  }

  /** Written whole, by a rename: a crash leaves the previous file or the new one. */
  private async save(applied: Applied): Promise<void> {
    this.applied = applied;
    const temp = `${this.file}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(applied));
    await rename(temp, this.file);
  }
}
