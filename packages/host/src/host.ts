import { createHash } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import pinoPretty from "pino-pretty";
import { buildApp } from "./api/app.ts";
import { Credentials } from "./auth/credentials.ts";
import { Sessions } from "./auth/sessions.ts";
import { AppSettings } from "./appsettings/app-settings.ts";
import { SharedSettings } from "./appsettings/shared-settings.ts";
import { SecurityHousekeeping } from "./audit/retention.ts";
import { SecretBox } from "./secrets/secret-box.ts";
import { checkListenPolicy } from "./tls/tls-options.ts";
import { runJson } from "./api/kudu-json.ts";
import { listeningUrl, listensOnWildcard } from "./api/public-url.ts";
import { WebHooks } from "./hooks/web-hooks.ts";
import { HostMetrics } from "./metrics/metrics.ts";
import type { HostConfig } from "./config.ts";
import { ContinuousSupervisor } from "./continuous/supervisor.ts";
import { JobRegistry } from "./jobs/registry.ts";
import { SiteWatcher } from "./jobs/site-watcher.ts";
import { SiteUploads } from "./jobs/site-uploads.ts";
import { SiteDeployer } from "./deploy/site-deployer.ts";
import { SiteRevisions } from "./deploy/site-revisions.ts";
import { HostLogHub } from "./deploy/host-log-hub.ts";
import { DataLock } from "./data-lock.ts";
import { HostPaths } from "./paths.ts";
import { Containment } from "./runs/containment/containment.ts";
import { ProcSampler } from "./runs/proc-sampler.ts";
import { recoverAfterCrash } from "./runs/recovery.ts";
import { TriggeredRunner } from "./runs/runner.ts";
import { AssignedRuns } from "./runs/assigned-runs.ts";
import { scheduleProblem } from "./schedules/job-schedule.ts";
import { Scheduler } from "./schedules/scheduler.ts";
import { FtpService } from "./ftp/ftp-server.ts";
import { DatabaseClock } from "./instances/database-clock.ts";
import { InstanceRegistry } from "./instances/instance-registry.ts";
import { LostInstances } from "./instances/lost-instances.ts";
import { RunCancels } from "./runs/run-cancels.ts";
import { RunEventRelay } from "./runs/run-event-relay.ts";
import { closeLostRunLog } from "./runs/stored-log.ts";
import { createClusterSignals, type ClusterSignals } from "./instances/signals.ts";
import { PgStore } from "./store/postgres.ts";
import { JobFeed } from "./packages/job-feed.ts";
import { LocalPackages } from "./packages/local-packages.ts";
import { openStore } from "./store/open-store.ts";
import { HookEvent, JobType, RunStatus, type RunRecord, type Store } from "./store/types.ts";

/**
 * An instance id that stays the same across restarts of a host on one machine and data folder,
 * so that a restarted host recognises the runs and processes of the one that crashed.
 */
/**
 * Names this host's cgroups and process markers on the machine: the instance id (readable in
 * `systemd-cgls`) and its data folder, so that a host starting kills what its own predecessor left
 * and never the jobs of another host on this machine that was given the same instance id (two
 * clusters, or two test hosts, on one machine).
 */
function containmentKey(instanceId: string, dataDir: string): string {
  const folder = createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 8);
  return `${instanceId.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 40)}-${folder}`;
}

function defaultInstanceId(dataDir: string): string {
  return createHash("sha256").update(`${os.hostname()}\0${dataDir}`).digest("hex").slice(0, 12);
}

/**
 * The host's own log (job output goes to run logs, not here): readable lines on a terminal,
 * JSON otherwise or with WEBJOBS_LOG_FORMAT=json. pino-pretty runs as a plain stream in this
 * thread, not as a worker.
 */
function hostLogger(hub: HostLogHub): Logger {
  const level = (process.env.WEBJOBS_LOG_LEVEL ?? "info") as pino.Level;
  const pretty = process.stdout.isTTY && process.env.WEBJOBS_LOG_FORMAT !== "json";
  const out = pretty
    ? pinoPretty({ sync: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname" })
    : pino.destination(1);
  // The log stream (GET /logstream) follows the host's log through the hub.
  return pino(
    { level },
    pino.multistream([
      { stream: out, level },
      { stream: hub, level },
    ]),
  );
}

export interface HostOptions {
  log?: Logger;
  /** Called once with a generated admin credential, to be shown to the user. */
  onGeneratedCredential?: (credential: { username: string; password: string }) => void;
  /** Wall-clock time for the scheduler (tests make the clock jump); default Date.now. */
  clock?: () => number;
}

/**
 * One `webjobs serve` process: the store, the job registry and its folder watcher, the runner of
 * triggered jobs, the supervisor of continuous ones, and the HTTP server. Components start in
 * dependency order and stop in reverse; `start()` and `stop()` are safe to call twice.
 */
export class Host {
  readonly paths: HostPaths;
  readonly instanceId: string;
  readonly log: Logger;
  readonly store: Store;
  /** Messages between the instances sharing the store (LISTEN/NOTIFY on PostgreSQL). */
  readonly signals: ClusterSignals;
  readonly registry: JobRegistry;
  readonly runner: TriggeredRunner;
  readonly supervisor: ContinuousSupervisor;
  readonly scheduler: Scheduler;
  readonly credentials: Credentials;
  readonly sessions: Sessions;
  readonly appSettings: AppSettings;
  /** App settings and WEBJOBS_STOPPED in step across the instances sharing the store. */
  private readonly sharedSettings: SharedSettings;
  private readonly housekeeping: SecurityHousekeeping;
  readonly sampler = new ProcSampler();
  readonly containment: Containment;
  readonly hooks: WebHooks;
  readonly metrics: HostMetrics;
  private readonly watcher: SiteWatcher;
  readonly deployer: SiteDeployer;
  readonly ftp: FtpService;
  /** This process's row in the store's instances, and the closing of dead instances' runs. */
  readonly instances: InstanceRegistry;
  private readonly lostInstances: LostInstances;
  /** Cancel from any instance, and of runs asked to cancel elsewhere. */
  private readonly cancels: RunCancels;
  /** Run status changes told to and heard from the other instances. */
  private readonly runEvents: RunEventRelay;
  /** Several instances: the database's clock, for schedules and run times (machines' clocks differ). */
  private readonly databaseClock: DatabaseClock;
  /** Runs other instances placed on this one (several instances on PostgreSQL). */
  private readonly assignedRuns: AssignedRuns;
  /** Deploys, removals and desired states made through other instances, followed here. */
  private readonly jobFeed: JobFeed | null;
  readonly logHub = new HostLogHub();
  private readonly dataLock: DataLock;
  private app: FastifyInstance | null = null;
  private state: "new" | "starting" | "started" | "stopping" | "stopped" = "new";
  private stopping: Promise<void> | null = null;

  constructor(
    readonly config: HostConfig,
    private readonly options: HostOptions = {},
  ) {
    this.paths = new HostPaths(config.dataDir, config.siteDir);
    this.dataLock = new DataLock(config.dataDir);
    this.instanceId = config.instanceId ?? defaultInstanceId(config.dataDir);
    this.log = options.log ?? hostLogger(this.logHub);
    this.store = openStore(config.database, this.paths.database);
    this.signals = createClusterSignals(
      config.database,
      this.store instanceof PgStore ? this.store.db : null,
      this.log,
    );
    this.credentials = new Credentials(this.store);
    this.sessions = new Sessions(this.store, config.sessionHours * 3600_000);
    this.appSettings = new AppSettings(
      this.store,
      () => SecretBox.load(config.secretKey, this.paths.secretKeyFile),
      this.log,
    );
    this.housekeeping = new SecurityHousekeeping(this.store, config.auditRetentionDays, this.log);
    this.registry = new JobRegistry(this.store, this.paths, {
      maxEntries: config.zipMaxEntries,
      maxUnpackedBytes: config.zipMaxUnpackedBytes,
    });
    this.registry.trash.onError = (err, folder) =>
      this.log.warn({ err, folder }, "could not delete a folder a deploy replaced");
    // Several instances (PostgreSQL): each version stored as a package for the others, and the
    // changes made through them followed here. One machine (SQLite): neither.
    if (this.store instanceof PgStore) {
      this.registry.packages = new LocalPackages(this.store, this.paths, this.log);
    }
    this.jobFeed = this.registry.packages
      ? new JobFeed({
          store: this.store,
          registry: this.registry,
          packages: this.registry.packages,
          signals: this.signals,
          log: this.log,
        })
      : null;
    this.containment = new Containment({
      instanceId: containmentKey(this.instanceId, config.dataDir),
      mode: config.containment,
      runAs: config.runAs,
      log: this.log,
    });
    this.databaseClock = new DatabaseClock({
      instances: this.store.instances,
      shared: config.database !== undefined,
      log: this.log,
    });
    const deps = {
      config,
      clock: config.database ? () => this.databaseClock.now() : undefined,
      paths: this.paths,
      store: this.store,
      registry: this.registry,
      sampler: this.sampler,
      containment: this.containment,
      instanceId: this.instanceId,
      signals: this.signals,
      log: this.log,
      appSettings: this.appSettings,
    };
    this.runner = new TriggeredRunner(deps);
    this.supervisor = new ContinuousSupervisor(deps);
    this.scheduler = new Scheduler({
      ...deps,
      runner: this.runner,
      clock: options.clock ?? deps.clock,
      // Overlap `queue` and `replace` with runs on other instances (cancels and events come later).
      cluster: this.store.remoteRuns.shared
        ? {
            abort: (name, id, reason) => this.cancels.cancel(name, id, reason),
            onRemoteRun: (listener) => this.runEvents.on(listener),
          }
        : undefined,
    });
    this.registry.versionsInUse = (type, name) =>
      type === JobType.Triggered ? this.runner.versionsInUse(name) : this.supervisor.versionsInUse(name);
    this.registry.scheduleProblem = (settings) => scheduleProblem(settings, config.timeZone);
    this.registry.on("removing", (type, name) =>
      type === JobType.Triggered ? this.runner.stopJob(name) : this.supervisor.removeJob(name),
    );
    this.sharedSettings = new SharedSettings({
      config,
      appSettings: this.appSettings,
      signals: this.signals,
      log: this.log,
      shared: Boolean(config.database),
      onStoppedChange: (stopped) =>
        void this.supervisor
          .applyStopped(stopped)
          .catch((error: unknown) => this.log.error({ err: error }, "could not apply WEBJOBS_STOPPED")),
    });
    this.hooks = new WebHooks(this.store, this.log);
    this.metrics = new HostMetrics({
      runner: this.runner,
      supervisor: this.supervisor,
      jobs: this.registry,
      scheduler: this.scheduler,
    });
    // Once per run: by the instance that recorded its end (not if another closed it first).
    this.runner.on("finished", (run, recorded) => {
      if (recorded) this.notifyHooks(run);
    });
    // FTP uploads still open: the watcher installs a job folder only once they have all closed.
    const uploads = new SiteUploads();
    this.watcher = new SiteWatcher(this.paths, this.registry, this.log, config.watchDebounceMs, uploads);
    this.deployer = new SiteDeployer({
      paths: this.paths,
      registry: this.registry,
      store: this.store,
      watcher: this.watcher,
      log: this.log,
      zipLimits: { maxEntries: config.zipMaxEntries, maxUnpackedBytes: config.zipMaxUnpackedBytes },
      deploymentBranch: config.deploymentBranch,
      owner: { instanceId: this.instanceId, timeoutMs: config.instanceTimeoutSec * 1000 },
    });
    // Several instances: the site's files of every deployment reach the others (none on SQLite).
    if (this.registry.packages) {
      this.deployer.revisions = new SiteRevisions({
        store: this.store,
        paths: this.paths,
        packages: this.registry.packages,
        signals: this.signals,
        deployer: this.deployer,
        instanceId: this.instanceId,
        log: this.log,
      });
    }
    this.ftp = new FtpService(config, this.credentials, this.log, uploads);
    const instanceDeps = {
      store: this.store,
      instanceId: this.instanceId,
      timeoutMs: config.instanceTimeoutSec * 1000,
      log: this.log,
    };
    this.instances = new InstanceRegistry({
      ...instanceDeps,
      dataDir: config.dataDir,
      url: () => this.config.publicUrl ?? this.url,
      activeRuns: () => this.runner.activeCount,
    });
    this.assignedRuns = new AssignedRuns({
      store: this.store,
      signals: this.signals,
      runner: this.runner,
      instanceId: this.instanceId,
      log: this.log,
      clustered: config.database !== undefined,
    });
    this.lostInstances = new LostInstances({
      ...instanceDeps,
      onLost: (run) => this.runLost(run),
    });
    this.cancels = new RunCancels({
      store: this.store,
      signals: this.signals,
      runner: this.runner,
      instanceId: this.instanceId,
      instanceTimeoutMs: config.instanceTimeoutSec * 1000,
      closeLostRuns: () => this.lostInstances.sweep(),
      log: this.log,
    });
    this.runEvents = new RunEventRelay({ ...deps, runner: this.runner });
  }

  /** Kudu's web hooks get the run JSON, with URLs built from the address this host listens on. */
  private notifyHooks(run: RunRecord): void {
    const json = runJson(this.config.publicUrl ?? this.url, run);
    this.hooks.notify(run, json, HookEvent.TriggeredJobFinished);
    // Azure Scheduler's error action: a separate event for runs that did not succeed.
    if (run.status === RunStatus.Failed || run.status === RunStatus.Aborted) {
      this.hooks.notify(run, json, HookEvent.TriggeredJobFailed);
    }
  }

  /** A run of a dead instance this instance closed: the end of its log, its web hooks, its retry. */
  private async runLost(run: RunRecord): Promise<void> {
    await closeLostRunLog(this, run).catch((error: unknown) =>
      this.log.warn({ err: error, job: run.jobName, run: run.id }, "could not end the log of a lost run"),
    );
    this.notifyHooks(run);
    this.runEvents.announce(run);
    this.scheduler.runEndedElsewhere(run);
  }

  /** The HTTP app, built on first use (tests inject requests into it without listening). */
  async http(): Promise<FastifyInstance> {
    this.app ??= await buildApp({
      config: this.config,
      paths: this.paths,
      registry: this.registry,
      runner: this.runner,
      cancels: this.cancels,
      runEvents: this.runEvents,
      continuous: this.supervisor,
      schedules: this.scheduler,
      credentials: this.credentials,
      sessions: this.sessions,
      appSettings: this.appSettings,
      store: this.store,
      metrics: this.metrics,
      instanceId: this.instanceId,
      log: this.log,
      startedAt: new Date(),
      deployer: this.deployer,
      logHub: this.logHub,
    });
    return this.app;
  }

  async start({ listen = true }: { listen?: boolean } = {}): Promise<void> {
    if (this.state !== "new") return;
    this.state = "starting";
    checkListenPolicy(this.config);
    await mkdir(this.config.dataDir, { recursive: true });
    this.dataLock.acquire();
    // Staging left by a host that died mid-upload: never part of any job.
    await rm(this.paths.tmp, { recursive: true, force: true });
    await mkdir(this.paths.tmp, { recursive: true });
    await this.store.migrate();
    await this.signals.start();
    await this.databaseClock.start();
    // Before anything acts on this instance's runs and processes: a second live process with the
    // same instance id is refused here.
    await this.instances.start();
    await this.appSettings.start();
    // Before any job starts: WEBJOBS_STOPPED may be set as a host-wide app setting.
    this.sharedSettings.start();
    await this.housekeeping.start();
    // Under the data folder lock: the processes it kills as leftovers cannot be a live host's.
    this.containment.start();
    const recovered = await recoverAfterCrash({
      store: this.store,
      paths: this.paths,
      instanceId: this.instanceId,
      log: this.log,
    });
    const generated = await this.credentials.ensureAdmin(this.config.username, this.config.password);
    if (generated) this.options.onGeneratedCredential?.(generated);
    // Another instance on the same database may have created (and shown) the admin a moment ago.
    else if (!this.config.password) this.log.info("a user exists: no admin password generated");
    // Listen before any job starts: a port already taken must not leave jobs running behind.
    const app = await this.http();
    if (listen) {
      await app.listen({ host: this.config.host, port: this.config.port });
      if (!this.config.publicUrl && listensOnWildcard(this.config.host)) {
        this.log.warn(
          { url: this.url },
          "listening on every address: set --public-url (WEBJOBS_PUBLIC_URL) so that the URLs the API gives out point where clients reach the host",
        );
      }
    } else {
      await app.ready();
    }
    // Like the HTTP port: a refused or taken FTP port stops the host before any job starts.
    if (listen) await this.ftp.start();
    // Versions installed elsewhere are fetched and published before the watcher looks at the site.
    await this.jobFeed?.start();
    await this.deployer.start();
    // The latest site deployed elsewhere, swapped in before the watcher looks at the site.
    await this.deployer.revisions?.start();
    await this.watcher.start();
    this.deployer.revisions?.listen();
    await this.supervisor.start();
    await this.scheduler.start(recovered.aborted);
    this.assignedRuns.start();
    // The scheduler listens: runs of dead instances closed from now on are retried.
    this.lostInstances.start();
    this.cancels.start();
    this.runEvents.start();
    await this.instances.beat();
    this.state = "started";
  }

  /** The address the server listens on (with the real port when 0 was asked for). */
  get url(): string {
    return listeningUrl(this.app?.server.address() ?? null, this.config);
  }

  /**
   * Graceful stop: refuse new connections, ask every job to stop (shutdown file, SIGTERM), wait
   * their grace time, kill what is left, close the store.
   */
  async stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = "stopping";
      const closing = this.app?.close();
      await this.ftp.stop();
      // A deployment in progress restarts the watcher when it ends: let it end first.
      await this.deployer.revisions?.stop();
      await this.deployer.stop();
      await this.watcher.stop();
      await this.jobFeed?.stop();
      this.cancels.stop();
      this.runEvents.stop();
      await this.lostInstances.stop();
      await this.assignedRuns.stop();
      await this.scheduler.stop();
      this.log.debug("stopping: folder watcher and scheduler stopped");
      await Promise.all([this.runner.stopAll("host shut down"), this.supervisor.stop("host shut down")]);
      this.log.debug("stopping: every job stopped");
      // Folders replaced by deploys, and versions runs no longer need, still being deleted.
      await this.registry.trash.drain();
      // Requests still open by now (a keep-alive client, a stream) have had the jobs' grace time.
      this.app?.server.closeAllConnections();
      await closing;
      this.log.debug("stopping: HTTP server closed");
      await this.hooks.drain();
      this.sampler.stop();
      this.containment.stop();
      this.housekeeping.stop();
      await this.sharedSettings.stop();
      // Dead at once for the others: nobody waits for this instance's timeout.
      await this.instances.stop();
      this.databaseClock.stop();
      await this.signals.stop();
      await this.store.close();
      this.dataLock.release();
      this.log.debug("stopping: store closed");
      this.state = "stopped";
    })();
    return this.stopping;
  }

  /** Second signal: kill every job process group now. */
  killAll(): void {
    this.runner.killAll();
    this.supervisor.killAll();
  }
}
