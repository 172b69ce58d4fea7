import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { ErrorCode, isWebJobsError, WebJobsError } from "../errors.ts";
import type { JobRegistry } from "../jobs/registry.ts";
import type { ZipLimits } from "../jobs/zip.ts";
import type { HostPaths } from "../paths.ts";
import type { Store } from "../store/types.ts";
import { Deployments } from "./deployments.ts";
import { syncJobsWithSite } from "./job-sync.ts";
import type { SiteRevisions, SiteSwapper } from "./site-revisions.ts";
import { removeLeftovers, stageSite, swapSite, type SiteChange } from "./site-swap.ts";
import { DeployStatus, LogEntryType, type DeploymentRecord } from "./types.ts";

/** The folder watcher, paused while a deployment swaps the site folder under it. */
export interface WatcherControl {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface DeployOutcome {
  deployment: DeploymentRecord;
  /** Why it failed (a refused zip is a `unsafe_zip`/`bad_request` WebJobsError), or null. */
  error: Error | null;
}

/**
 * Deploys the whole site (zip deploy, OneDeploy, git push): stage the new folder beside the current
 * one, swap them by renames, then bring the jobs in step. One deployment at a time (the store
 * refuses a second one with 409). A deployment that fails before the swap leaves the site and the
 * jobs untouched.
 */
export class SiteDeployer implements SiteSwapper {
  readonly deployments: Deployments;
  /**
   * Several instances (PostgreSQL): the site's files are stored after each deployment for the
   * others, and their deployments are followed here. Null on one machine.
   */
  revisions: SiteRevisions | null = null;
  /** Deployments here and revisions from elsewhere change the site folder one at a time. */
  private siteQueue: Promise<unknown> = Promise.resolve();
  private readonly running = new Set<Promise<unknown>>();
  /**
   * The folder watcher's restart after the last deployment. It watches and scans the whole site
   * (thousands of files for a job with a node_modules), so it runs after the client has its
   * answer; the next deployment waits for it before stopping the watcher again.
   */
  private watcherRestart: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      paths: HostPaths;
      registry: JobRegistry;
      store: Store;
      watcher: WatcherControl;
      log: Logger;
      zipLimits: ZipLimits;
      deploymentBranch: string;
      /** This instance: its deployments are told apart from those of other live instances. */
      owner?: { instanceId: string; timeoutMs: number };
    },
  ) {
    this.deployments = new Deployments(deps.store, deps.owner);
  }

  /** The branch a git push deploys. */
  get deploymentBranch(): string {
    return this.deps.deploymentBranch;
  }

  async start(): Promise<void> {
    const failed = await this.deployments.recover();
    if (failed.length) this.deps.log.warn({ deployments: failed }, "deployments left in progress failed");
    await removeLeftovers(this.deps.paths.siteDir);
  }

  /** Waits for the deployment in progress, so the watcher is not restarted after the host stopped it. */
  async stop(): Promise<void> {
    // A deployment ending adds the watcher's restart: wait for that too.
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  /** Records the deployment (409 while another runs); `run` then performs it. */
  begin(info: Parameters<Deployments["begin"]>[0]): Promise<DeploymentRecord> {
    return this.deployments.begin(info);
  }

  /** Performs a recorded deployment; never throws for the deployment's own failure. */
  run(
    deployment: DeploymentRecord,
    change: SiteChange,
    cleanup?: () => Promise<void>,
  ): Promise<DeployOutcome> {
    const work = this.serialize(() => this.perform(deployment, change)).finally(() => cleanup?.());
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
    return work;
  }

  serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.siteQueue.then(work, work);
    this.siteQueue = next.catch(() => undefined);
    return next;
  }

  /**
   * Puts in place a site folder staged from a revision deployed through another instance: this
   * instance's `App_Data/jobs` (its jobs' folders, published by the registry) moves into it, then
   * the folders are swapped by renames, with the folder watcher paused (it would take the swap for
   * edits) and no job folder being swapped meanwhile (withAllJobs). The previous folder is deleted
   * in the background.
   */
  async adoptSite(staged: string, watching: boolean): Promise<void> {
    const { paths, registry, watcher } = this.deps;
    if (watching) {
      await this.watcherRestart;
      await watcher.stop();
    }
    let old: string | null = null;
    try {
      old = await registry.withAllJobs(async () => {
        const jobs = path.join(paths.siteDir, "App_Data", "jobs");
        const kept = path.join(staged, "App_Data", "jobs");
        // A revision never holds App_Data/jobs: nothing is there to replace.
        await rm(kept, { recursive: true, force: true });
        await mkdir(path.dirname(kept), { recursive: true });
        const moved = await rename(jobs, kept).then(
          () => true,
          (error: NodeJS.ErrnoException) => {
            if (error.code === "ENOENT") return false;
            throw error;
          },
        );
        try {
          return await swapSite(paths.siteDir, staged);
        } catch (error) {
          if (moved) await rename(kept, jobs);
          throw error;
        }
      });
    } finally {
      if (watching) this.restartWatcher();
      if (old) await registry.trash.discard(old);
    }
  }

  private restartWatcher(): void {
    const restart = this.deps.watcher
      .start()
      .catch((err: unknown) =>
        this.deps.log.error({ err }, "the site folder watcher did not restart after a deployment"),
      );
    this.watcherRestart = restart;
    this.running.add(restart);
    void restart.finally(() => this.running.delete(restart));
  }

  private async perform(deployment: DeploymentRecord, change: SiteChange): Promise<DeployOutcome> {
    const { paths, registry, watcher, log, zipLimits } = this.deps;
    const id = deployment.id;
    const note = async (message: string, type: LogEntryType = LogEntryType.Message) => {
      await this.deployments.log(id, message, type);
    };
    const started = Date.now();
    let error: Error | null = null;
    // Folders of earlier deployments wait in the trash while this one writes (see Trash).
    const releaseTrash = registry.trash.hold();
    try {
      await this.deployments.progress(id, DeployStatus.Deploying, "Unpacking the deployment.");
      // A revision deployed elsewhere not applied here yet (a lost signal): the base of this one,
      // unless this one replaces the whole site.
      const wholeSite = change.kind === "zip" && change.target === "" && change.clean;
      if (!wholeSite) {
        await this.revisions?.catchUp(true).catch(async (caught: unknown) => {
          await note(
            `The latest site revision of the other instances could not be applied first: ${(caught as Error).message}`,
            LogEntryType.Warning,
          );
        });
      }
      // The jobs' files are written a second time in here while unpacking (see stageSite).
      await mkdir(paths.tmp, { recursive: true });
      const jobCopies = await mkdtemp(path.join(paths.tmp, "site-jobs-"));
      try {
        const { staging, prepared } = await stageSite(paths.siteDir, change, zipLimits, note, jobCopies);
        await this.watcherRestart;
        await watcher.stop();
        let old: string | null = null;
        try {
          old = await swapSite(paths.siteDir, staging);
          await note("Replaced the site folder.");
          await this.deployments.progress(id, DeployStatus.Deploying, "Updating the jobs.");
          await syncJobsWithSite(paths, registry, note, prepared);
        } finally {
          this.restartWatcher();
          // Deleted after the client has its answer: as long as writing the new site took.
          if (old) await registry.trash.discard(old);
        }
      } finally {
        // What no install moved in: unchanged jobs, folders that are not jobs, a failed deploy.
        await registry.trash.discard(jobCopies);
      }
      // For the other instances (several instances only): a failure leaves this deployment done here.
      await this.revisions?.record(id, note).catch(async (caught: unknown) => {
        log.warn(
          { err: caught, deployment: id },
          "the site's files could not be stored for the other instances",
        );
        await note(
          `The site's files could not be stored for the other instances: ${(caught as Error).message}`,
          LogEntryType.Warning,
        );
      });
      await note(`Done in ${Date.now() - started} ms.`);
    } catch (caught) {
      error = caught as Error;
      if (!isWebJobsError(error)) log.error({ err: error, deployment: id }, "deployment failed");
    }
    releaseTrash();
    const finished = await this.deployments.finish(id, error);
    log.info({ deployment: id, status: finished.status, deployer: deployment.deployer }, "site deployed");
    return { deployment: finished, error };
  }
}

/** The error to answer a synchronous deploy with: the client's fault stays a 4xx. */
export function deployFailure(outcome: DeployOutcome): WebJobsError | null {
  if (!outcome.error) return null;
  if (isWebJobsError(outcome.error)) return outcome.error;
  return new WebJobsError(ErrorCode.Internal, `The deployment failed: ${outcome.error.message}`);
}
