import type { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { AppSettings } from "../appsettings/app-settings.ts";
import type { Credentials } from "../auth/credentials.ts";
import type { Sessions } from "../auth/sessions.ts";
import type { HostConfig } from "../config.ts";
import type { SupervisorEvents } from "../continuous/supervisor.ts";
import type { SiteDeployer } from "../deploy/site-deployer.ts";
import type { HostLogHub } from "../deploy/host-log-hub.ts";
import type { JobRegistry } from "../jobs/registry.ts";
import type { HostMetrics } from "../metrics/metrics.ts";
import type { HostPaths } from "../paths.ts";
import type { RunCancels } from "../runs/run-cancels.ts";
import type { RunEventRelay } from "../runs/run-event-relay.ts";
import type { TriggeredRunner } from "../runs/runner.ts";
import type { ScheduleView } from "../schedules/scheduler.ts";
import type { JobRecord, Store } from "../store/types.ts";
import type { ContinuousView } from "./kudu-json.ts";

/** What continuous-job routes need from the supervisor. */
export interface ContinuousControl extends Pick<EventEmitter<SupervisorEvents>, "on" | "off"> {
  view(job: JobRecord): ContinuousView;
  startJob(name: string): Promise<JobRecord>;
  stopJob(name: string): Promise<JobRecord>;
  /** The loopback port the job's process listens on (WEBJOBS_PORT), or null when it is not running. */
  port(name: string): number | null;
}

/** What schedule routes need from the scheduler. */
export interface ScheduleControl {
  view(name: string): ScheduleView | null;
  pause(name: string): Promise<void>;
  resume(name: string): Promise<void>;
}

/** Everything the HTTP layer talks to; built by the host, or by a test. */
export interface ApiContext {
  config: HostConfig;
  paths: HostPaths;
  registry: JobRegistry;
  runner: TriggeredRunner;
  /** Cancels a run going on any instance. */
  cancels: Pick<RunCancels, "cancel">;
  /** Status changes of runs going on other instances (none on one machine). */
  runEvents?: Pick<RunEventRelay, "on">;
  continuous: ContinuousControl;
  schedules: ScheduleControl;
  credentials: Credentials;
  sessions: Sessions;
  appSettings: AppSettings;
  store: Store;
  metrics: HostMetrics;
  instanceId: string;
  log: Logger;
  startedAt: Date;
  /** Site deployments: zip deploy, OneDeploy, git push (deploy/). */
  deployer: SiteDeployer;
  /** The host's own log lines, for the log stream. */
  logHub: HostLogHub;
}
