/**
 * The store holds all durable state; everything in memory can be rebuilt from it after a crash.
 *
 * Glossary
 * - job: a name, a type and an installed package version (immutable folder) plus settings.
 * - version: one installed upload of a job, unpacked once into `<data>/versions/...`.
 * - run: one execution of a triggered job, with its status, result and log.
 * - process: a live OS process group the host started (a run or a continuous job); recorded so
 *   that a host restarted after a crash can find and kill what its predecessor left behind.
 * - instance: one running host process (one per machine, several when sharing PostgreSQL).
 */
import type { PackageStore } from "../packages/types.ts";
import type { DeploymentLogEntry, DeploymentPatch, DeploymentRecord } from "../deploy/types.ts";
import type { AppSettingsStore } from "../appsettings/types.ts";
import type { AuditStore } from "../audit/types.ts";
import type { AuthStore } from "../auth/types.ts";
import type { ContinuousStore } from "../continuous/types.ts";
import type { InstanceStore } from "../instances/types.ts";
import type { RunClaimStore } from "../runs/claim-types.ts";
import type { RemoteRunStore } from "../runs/remote-types.ts";
import type { JobSettings } from "../jobs/settings.ts";
import type { FirePatch, FireRecord, ScheduleState } from "../schedules/types.ts";

export const JobType = { Triggered: "triggered", Continuous: "continuous" } as const;
export type JobType = (typeof JobType)[keyof typeof JobType];

export const RunStatus = {
  Initializing: "Initializing",
  Running: "Running",
  Success: "Success",
  Failed: "Failed",
  Aborted: "Aborted",
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];
export const activeRunStatuses: readonly RunStatus[] = [RunStatus.Initializing, RunStatus.Running];

/** A write refused by a rule the store enforces (a unique key: one active run per job…). */
export class StoreConflictError extends Error {
  override readonly name = "StoreConflictError";
}

export type DesiredState = "running" | "stopped";

export interface JobRecord {
  type: JobType;
  name: string;
  version: string;
  /** Path of the script relative to the version folder (Kudu's `run_command`). */
  script: string | null;
  settings: JobSettings;
  /** Why the job cannot run (missing interpreter, no script), or null. */
  error: string | null;
  desiredState: DesiredState;
  /** Fingerprint of a hand-copied site folder, to notice when it changes; null for uploads. */
  sourceFingerprint: string | null;
  /**
   * The SHA-256 of the version's package in the store's packages (several instances: the others
   * fetch it from there); null or absent when none is stored (one machine on SQLite).
   */
  packageHash?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface RunRecord {
  jobName: string;
  id: string;
  status: RunStatus;
  reason: string | null;
  trigger: string;
  arguments: string;
  version: string;
  instanceId: string;
  startTime: Date;
  endTime: Date | null;
  exitCode: number | null;
  signal: string | null;
  cpuMs: number | null;
  peakRssBytes: number | null;
  pid: number | null;
  /** For runs started by a schedule: the due instant served (UTC), else null. */
  scheduledTime: Date | null;
  /** For runs started by a schedule: 1, then 2… for retries; else null. */
  attempt: number | null;
}

/** A page of the history of all runs: `before` is the last row of the previous page. */
export interface RunQuery {
  job?: string;
  statuses?: RunStatus[];
  /** Runs started at or after / before these instants. */
  from?: Date;
  to?: Date;
  before?: { id: string; jobName: string };
  limit: number;
}

export type RunPatch = Partial<Omit<RunRecord, "jobName" | "id">>;

export interface ProcessRecord {
  pid: number;
  /** Start time in clock ticks since boot (/proc/pid/stat field 22): tells a reused pid apart. */
  startTicks: string;
  owner: string;
  instanceId: string;
}

export const CredentialKind = { Password: "password", Token: "token" } as const;
export type CredentialKind = (typeof CredentialKind)[keyof typeof CredentialKind];

export interface CredentialRecord {
  id: string;
  kind: CredentialKind;
  /** The user name for passwords; a label for tokens. */
  username: string;
  /** scrypt hash for passwords, sha256 for tokens; never the secret itself. */
  hash: string;
  createdAt: Date;
}

export const HookEvent = {
  TriggeredJobFinished: "TriggeredJobFinished",
  /** Ours (Azure Scheduler's error action): a run ended Failed or Aborted. */
  TriggeredJobFailed: "TriggeredJobFailed",
} as const;
export type HookEvent = (typeof HookEvent)[keyof typeof HookEvent];

/** A web hook (Kudu's `/api/hooks`): a URL the run JSON is POSTed to when a run ends. */
export interface HookRecord {
  id: string;
  event: HookEvent;
  url: string;
  insecureSsl: boolean;
  createdAt: Date;
  /** Outcome of the last delivery: the HTTP status, or the error. */
  lastStatus: string | null;
  lastDatetime: Date | null;
  lastReason: string | null;
}

export interface Store {
  migrate(): Promise<void>;
  close(): Promise<void>;
  /**
   * False while the database is out of reach (the last query could not reach it); always true on
   * SQLite. /api/health shows it.
   */
  readonly reachable: boolean;

  /** Users, tokens with roles, browser sessions. */
  readonly auth: AuthStore;
  /** App settings given to jobs as environment variables. */
  readonly appSettings: AppSettingsStore;
  /** Who changed what. */
  readonly audit: AuditStore;
  /** The host processes sharing this store, their heartbeats and load. */
  readonly instances: InstanceStore;
  /** Runs placed on the least-loaded instance, and claimed by it. */
  readonly claims: RunClaimStore;
  /** Cancel requests and shipped logs: runs seen and controlled from every instance. */
  readonly remoteRuns: RemoteRunStore;
  /** Each instance's status of each continuous job, and the leases of singleton jobs. */
  readonly continuous: ContinuousStore;
  /** Job versions stored by content hash, for instances that did not receive the deploy. */
  readonly packages: PackageStore;

  upsertJob(job: JobRecord): Promise<void>;
  getJob(type: JobType, name: string): Promise<JobRecord | null>;
  listJobs(type?: JobType): Promise<JobRecord[]>;
  deleteJob(type: JobType, name: string): Promise<void>;
  /**
   * Changes only the job's desired state (not a whole row written back: a deploy by another
   * instance at the same moment keeps its version). The changed job, or null when there is none.
   */
  setJobDesiredState(type: JobType, name: string, state: DesiredState, at: Date): Promise<JobRecord | null>;

  /** Throws StoreConflictError when the job already has an active run, or the id is taken. */
  insertRun(run: RunRecord): Promise<void>;
  /**
   * Changes a run. A status change applies only while the run is active (a run finishes once,
   * whoever else tries to end it); false when nothing changed.
   */
  updateRun(jobName: string, id: string, patch: RunPatch): Promise<boolean>;
  getRun(jobName: string, id: string): Promise<RunRecord | null>;
  /** Newest first. */
  listRuns(jobName: string, limit?: number): Promise<RunRecord[]>;
  /** The newest run of every job that has one, in one query (the jobs list). */
  latestRunOfEachJob(): Promise<Map<string, RunRecord>>;
  /** Runs of all jobs, newest first (by id, then job name), filtered; one query (the history page). */
  queryRuns(query: RunQuery): Promise<RunRecord[]>;
  activeRuns(instanceId?: string): Promise<RunRecord[]>;
  /** Deletes all but the newest `keep` finished runs of a job; returns the deleted ids. */
  pruneRuns(jobName: string, keep: number): Promise<string[]>;
  deleteRuns(jobName: string): Promise<void>;

  addProcess(process: ProcessRecord): Promise<void>;
  removeProcess(pid: number, instanceId: string): Promise<void>;
  listProcesses(instanceId: string): Promise<ProcessRecord[]>;

  addCredential(credential: CredentialRecord): Promise<void>;
  listCredentials(kind: CredentialKind): Promise<CredentialRecord[]>;
  deleteCredential(id: string): Promise<boolean>;

  /** False when a hook for the same event and URL exists. */
  addHook(hook: HookRecord): Promise<boolean>;
  listHooks(event?: HookEvent): Promise<HookRecord[]>;
  deleteHook(id: string): Promise<boolean>;
  recordHookDelivery(id: string, status: string, reason: string | null, at: Date): Promise<void>;

  /**
   * Arms a job's schedule: creates its state, or starts it over when the schedule key changed
   * (what was processed under another schedule says nothing about this one). Keeps `paused`.
   */
  armSchedule(jobName: string, scheduleKey: string, now: Date): Promise<ScheduleState>;
  getScheduleState(jobName: string): Promise<ScheduleState | null>;
  /** The jobs whose schedule is paused (several instances: paused through any of them). */
  pausedSchedules(): Promise<string[]>;
  /** False when no schedule state exists for the job. */
  setSchedulePaused(jobName: string, paused: boolean, now: Date): Promise<boolean>;
  /** Marks occurrences up to `until` as neither run nor missed (paused, stopped, disabled). */
  suppressSchedules(jobNames: readonly string[], until: Date): Promise<void>;
  /**
   * Records a fire and moves the job's last processed occurrence up to it, in one transaction.
   * False, writing nothing, when that (job, due instant) already has a fire (it fired once), or
   * when the job's schedule is paused (through any instance).
   */
  recordFire(fire: FireRecord): Promise<boolean>;
  /**
   * Changes a fire. With `expectedAttempt`, only while the fire is at that attempt with a retry
   * pending (a conditional write: one claimant starts the retry). False when nothing changed.
   */
  updateFire(
    jobName: string,
    scheduledTime: Date,
    patch: FirePatch,
    expectedAttempt?: number,
  ): Promise<boolean>;
  getFire(jobName: string, scheduledTime: Date): Promise<FireRecord | null>;
  /** Newest first. */
  listFires(jobName: string, limit: number): Promise<FireRecord[]>;
  /** Fires whose next attempt is pending, oldest due first. */
  pendingRetries(): Promise<FireRecord[]>;
  /** The occurrence of the job queued (overlap `queue`) while run `runId` was going, if any. */
  waitingFire(jobName: string, runId: string): Promise<FireRecord | null>;
  /**
   * Claims the (oldest) occurrence queued behind run `runId` once that run has ended: a
   * conditional write (queued → started), so one instance starts it, whichever instance queued it.
   * Null while the run is active, when none waits, or when another instance claimed it.
   */
  claimWaitingFire(jobName: string, runId: string): Promise<FireRecord | null>;
  /** Queued occurrences whose run has ended, not claimed yet (the safety net under lost signals). */
  readyWaitingFires(): Promise<FireRecord[]>;
  /** Keeps the newest `keep` fires of a job. */
  pruneFires(jobName: string, keep: number): Promise<void>;
  deleteSchedule(jobName: string): Promise<void>;

  /**
   * Records a deployment. Throws StoreConflictError when another deployment is in progress, or
   * when the id is taken and `replace` is false (with `replace`, a finished one is replaced).
   */
  insertDeployment(deployment: DeploymentRecord, replace?: boolean, instanceId?: string): Promise<void>;
  updateDeployment(id: string, patch: DeploymentPatch): Promise<void>;
  getDeployment(id: string): Promise<DeploymentRecord | null>;
  /** Newest first. */
  listDeployments(limit: number): Promise<DeploymentRecord[]>;
  /** End time of the newest successful deployment, and its id. */
  lastSuccessfulDeployment(): Promise<DeploymentRecord | null>;
  /**
   * Marks deployments left in progress (a host that died) as failed; returns their ids. With
   * `only`, just those of instances that are not live (no heartbeat within `deadAfterMs` by the
   * store's clock, or recorded by no instance unless `ownedOnly`), and those of `alsoOf` (a
   * restarted instance's own).
   */
  failIncompleteDeployments(
    at: Date,
    reason: string,
    only?: { deadAfterMs: number; alsoOf?: string; ownedOnly?: boolean },
  ): Promise<string[]>;
  /** Keeps the newest `keep` deployments and their logs. */
  pruneDeployments(keep: number): Promise<void>;
  addDeploymentLog(entry: DeploymentLogEntry): Promise<void>;
  /** Entries of a deployment in order: top-level ones, or the details of `parentId`. */
  listDeploymentLog(deploymentId: string, parentId: string | null): Promise<DeploymentLogEntry[]>;
}
