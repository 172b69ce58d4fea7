import { mkdir, mkdtemp } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { ErrorCode, isWebJobsError, WebJobsError } from "../errors.ts";
import type { JobRegistry } from "../jobs/registry.ts";
import type { ZipLimits } from "../jobs/zip.ts";
import type { HostPaths } from "../paths.ts";
import type { Store } from "../store/types.ts";
import { Deployments } from "./deployments.ts";
import { syncJobsWithSite } from "./job-sync.ts";
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
export class SiteDeployer {
  readonly deployments: Deployments;
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
    const work = this.perform(deployment, change).finally(() => cleanup?.());
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
    return work;
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
    try {
      await this.deployments.progress(id, DeployStatus.Deploying, "Unpacking the deployment.");
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
      await note(`Done in ${Date.now() - started} ms.`);
    } catch (caught) {
      error = caught as Error;
      if (!isWebJobsError(error)) log.error({ err: error, deployment: id }, "deployment failed");
    }
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
