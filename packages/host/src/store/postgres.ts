import type { DeploymentLogEntry, DeploymentPatch, DeploymentRecord } from "../deploy/types.ts";
import type { FirePatch, FireRecord, ScheduleState } from "../schedules/types.ts";
import { PgAppSettingsStore } from "./postgres-app-settings.ts";
import { PgAuditStore } from "./postgres-audit.ts";
import { PgAuthStore } from "./postgres-auth.ts";
import { maybeDate, PgDatabase, text, type Row } from "./postgres-db.ts";
import { PgDeployments } from "./postgres-deployments.ts";
import { PgInstanceStore } from "./postgres-instances.ts";
import { PgRunClaims } from "./postgres-claims.ts";
import { PgPackageStore } from "./postgres-packages.ts";
import { PgRemoteRunStore } from "./postgres-remote-runs.ts";
import { PgContinuousStore } from "./postgres-continuous.ts";
import { PgRuns } from "./postgres-runs.ts";
import { PgSchedules } from "./postgres-schedules.ts";
import type {
  CredentialKind,
  CredentialRecord,
  HookEvent,
  HookRecord,
  JobRecord,
  JobType,
  ProcessRecord,
  RunPatch,
  RunQuery,
  RunRecord,
  Store,
} from "./types.ts";

/**
 * A job row written without its package hash keeps the one its version has: the hash belongs to
 * the version (a row written back with a changed desired state or fingerprint is the same version).
 */
const KEEP_PACKAGE_HASH =
  "CASE WHEN excluded.version = jobs.version THEN COALESCE(excluded.package_hash, jobs.package_hash) ELSE excluded.package_hash END";

function jobFromRow(row: Row): JobRecord {
  return {
    type: row.type as JobType,
    name: row.name as string,
    version: row.version as string,
    script: text(row.script),
    settings: JSON.parse(row.settings as string),
    error: text(row.error),
    desiredState: row.desired_state as JobRecord["desiredState"],
    sourceFingerprint: text(row.source_fingerprint),
    packageHash: text(row.package_hash),
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
  };
}

/**
 * The cluster store: one PostgreSQL database shared by every instance. Same tables, rules and
 * answers as the SQLite store (migrations/postgres/ translates migrations/sqlite/ number by
 * number); runs, schedules and deployments live in their own files, this one holds the rest and
 * answers for all of them.
 */
export class PgStore implements Store {
  readonly db: PgDatabase;
  readonly auth: PgAuthStore;
  readonly appSettings: PgAppSettingsStore;
  readonly audit: PgAuditStore;
  readonly instances: PgInstanceStore;
  readonly claims: PgRunClaims;
  readonly packages: PgPackageStore;
  readonly remoteRuns: PgRemoteRunStore;
  readonly continuous: PgContinuousStore;
  private readonly runs: PgRuns;
  private readonly schedules: PgSchedules;
  private readonly deployments: PgDeployments;
  private closing: Promise<void> | null = null;

  constructor(url: string) {
    this.db = new PgDatabase(url);
    this.auth = new PgAuthStore(this.db);
    this.appSettings = new PgAppSettingsStore(this.db);
    this.audit = new PgAuditStore(this.db);
    this.instances = new PgInstanceStore(this.db);
    this.claims = new PgRunClaims(this.db);
    this.packages = new PgPackageStore(this.db);
    this.remoteRuns = new PgRemoteRunStore(this.db);
    this.continuous = new PgContinuousStore(this.db);
    this.runs = new PgRuns(this.db);
    this.schedules = new PgSchedules(this.db);
    this.deployments = new PgDeployments(this.db);
  }

  get reachable(): boolean {
    return this.db.reachable;
  }

  migrate(): Promise<void> {
    return this.db.migrate();
  }

  close(): Promise<void> {
    this.closing ??= this.db.close();
    return this.closing;
  }

  async upsertJob(job: JobRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO jobs (type, name, version, script, settings, error, desired_state, source_fingerprint, created_at, updated_at, package_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (type, name) DO UPDATE SET version = excluded.version, script = excluded.script,
         settings = excluded.settings, error = excluded.error, desired_state = excluded.desired_state,
         source_fingerprint = excluded.source_fingerprint, updated_at = excluded.updated_at,
         package_hash = ${KEEP_PACKAGE_HASH}`,
      [
        job.type,
        job.name,
        job.version,
        job.script,
        JSON.stringify(job.settings),
        job.error,
        job.desiredState,
        job.sourceFingerprint,
        job.createdAt,
        job.updatedAt,
        job.packageHash ?? null,
      ],
    );
  }

  async getJob(type: JobType, name: string): Promise<JobRecord | null> {
    const { rows } = await this.db.query("SELECT * FROM jobs WHERE type = $1 AND name = $2", [type, name]);
    return rows[0] ? jobFromRow(rows[0]) : null;
  }

  async listJobs(type?: JobType): Promise<JobRecord[]> {
    const { rows } = type
      ? await this.db.query("SELECT * FROM jobs WHERE type = $1 ORDER BY name", [type])
      : await this.db.query("SELECT * FROM jobs ORDER BY name, type");
    return rows.map(jobFromRow);
  }

  async deleteJob(type: JobType, name: string): Promise<void> {
    await this.db.query("DELETE FROM jobs WHERE type = $1 AND name = $2", [type, name]);
  }

  async setJobDesiredState(
    type: JobType,
    name: string,
    state: JobRecord["desiredState"],
    at: Date,
  ): Promise<JobRecord | null> {
    const { rows } = await this.db.query(
      "UPDATE jobs SET desired_state = $3, updated_at = $4 WHERE type = $1 AND name = $2 RETURNING *",
      [type, name, state, at],
    );
    return rows[0] ? jobFromRow(rows[0]) : null;
  }

  insertRun(run: RunRecord): Promise<void> {
    return this.runs.insertRun(run);
  }
  updateRun(jobName: string, id: string, patch: RunPatch): Promise<boolean> {
    return this.runs.updateRun(jobName, id, patch);
  }
  getRun(jobName: string, id: string): Promise<RunRecord | null> {
    return this.runs.getRun(jobName, id);
  }
  listRuns(jobName: string, limit?: number): Promise<RunRecord[]> {
    return this.runs.listRuns(jobName, limit);
  }
  latestRunOfEachJob(): Promise<Map<string, RunRecord>> {
    return this.runs.latestRunOfEachJob();
  }
  queryRuns(query: RunQuery): Promise<RunRecord[]> {
    return this.runs.queryRuns(query);
  }
  activeRuns(instanceId?: string): Promise<RunRecord[]> {
    return this.runs.activeRuns(instanceId);
  }
  pruneRuns(jobName: string, keep: number): Promise<string[]> {
    return this.runs.pruneRuns(jobName, keep);
  }
  deleteRuns(jobName: string): Promise<void> {
    return this.runs.deleteRuns(jobName);
  }

  async addProcess(p: ProcessRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO processes (pid, start_ticks, owner, instance_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (instance_id, pid) DO UPDATE SET start_ticks = excluded.start_ticks, owner = excluded.owner`,
      [p.pid, p.startTicks, p.owner, p.instanceId],
    );
  }

  async removeProcess(pid: number, instanceId: string): Promise<void> {
    await this.db.query("DELETE FROM processes WHERE pid = $1 AND instance_id = $2", [pid, instanceId]);
  }

  async listProcesses(instanceId: string): Promise<ProcessRecord[]> {
    const { rows } = await this.db.query("SELECT * FROM processes WHERE instance_id = $1", [instanceId]);
    return rows.map((r) => ({
      pid: Number(r.pid),
      startTicks: r.start_ticks as string,
      owner: r.owner as string,
      instanceId: r.instance_id as string,
    }));
  }

  async addCredential(c: CredentialRecord): Promise<void> {
    await this.db.query(
      "INSERT INTO credentials (id, kind, username, hash, created_at) VALUES ($1, $2, $3, $4, $5)",
      [c.id, c.kind, c.username, c.hash, c.createdAt],
    );
  }

  async listCredentials(kind: CredentialKind): Promise<CredentialRecord[]> {
    const { rows } = await this.db.query("SELECT * FROM credentials WHERE kind = $1 ORDER BY created_at", [
      kind,
    ]);
    return rows.map((r) => ({
      id: r.id as string,
      kind: r.kind as CredentialKind,
      username: r.username as string,
      hash: r.hash as string,
      createdAt: r.created_at as Date,
    }));
  }

  async deleteCredential(id: string): Promise<boolean> {
    return ((await this.db.query("DELETE FROM credentials WHERE id = $1", [id])).rowCount ?? 0) > 0;
  }

  async addHook(hook: HookRecord): Promise<boolean> {
    const result = await this.db.query(
      `INSERT INTO hooks (id, event, url, insecure_ssl, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [hook.id, hook.event, hook.url, hook.insecureSsl, hook.createdAt],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async listHooks(event?: HookEvent): Promise<HookRecord[]> {
    const { rows } = event
      ? await this.db.query("SELECT * FROM hooks WHERE event = $1 ORDER BY created_at", [event])
      : await this.db.query("SELECT * FROM hooks ORDER BY created_at");
    return rows.map((r) => ({
      id: r.id as string,
      event: r.event as HookEvent,
      url: r.url as string,
      insecureSsl: r.insecure_ssl === true,
      createdAt: r.created_at as Date,
      lastStatus: text(r.last_status),
      lastDatetime: maybeDate(r.last_datetime),
      lastReason: text(r.last_reason),
    }));
  }

  async deleteHook(id: string): Promise<boolean> {
    return ((await this.db.query("DELETE FROM hooks WHERE id = $1", [id])).rowCount ?? 0) > 0;
  }

  async recordHookDelivery(id: string, status: string, reason: string | null, at: Date): Promise<void> {
    await this.db.query(
      "UPDATE hooks SET last_status = $1, last_reason = $2, last_datetime = $3 WHERE id = $4",
      [status, reason, at, id],
    );
  }

  armSchedule(jobName: string, scheduleKey: string, now: Date): Promise<ScheduleState> {
    return this.schedules.armSchedule(jobName, scheduleKey, now);
  }
  getScheduleState(jobName: string): Promise<ScheduleState | null> {
    return this.schedules.getScheduleState(jobName);
  }
  setSchedulePaused(jobName: string, paused: boolean, now: Date): Promise<boolean> {
    return this.schedules.setSchedulePaused(jobName, paused, now);
  }
  suppressSchedules(jobNames: readonly string[], until: Date): Promise<void> {
    return this.schedules.suppressSchedules(jobNames, until);
  }
  pausedSchedules(): Promise<string[]> {
    return this.schedules.pausedSchedules();
  }
  recordFire(fire: FireRecord): Promise<boolean> {
    return this.schedules.recordFire(fire);
  }
  updateFire(
    jobName: string,
    scheduledTime: Date,
    patch: FirePatch,
    expectedAttempt?: number,
  ): Promise<boolean> {
    return this.schedules.updateFire(jobName, scheduledTime, patch, expectedAttempt);
  }
  getFire(jobName: string, scheduledTime: Date): Promise<FireRecord | null> {
    return this.schedules.getFire(jobName, scheduledTime);
  }
  listFires(jobName: string, limit: number): Promise<FireRecord[]> {
    return this.schedules.listFires(jobName, limit);
  }
  pendingRetries(): Promise<FireRecord[]> {
    return this.schedules.pendingRetries();
  }
  waitingFire(jobName: string, runId: string): Promise<FireRecord | null> {
    return this.schedules.waitingFire(jobName, runId);
  }
  claimWaitingFire(jobName: string, runId: string): Promise<FireRecord | null> {
    return this.schedules.claimWaitingFire(jobName, runId);
  }
  readyWaitingFires(): Promise<FireRecord[]> {
    return this.schedules.readyWaitingFires();
  }
  pruneFires(jobName: string, keep: number): Promise<void> {
    return this.schedules.pruneFires(jobName, keep);
  }
  deleteSchedule(jobName: string): Promise<void> {
    return this.schedules.deleteSchedule(jobName);
  }

  insertDeployment(deployment: DeploymentRecord, replace?: boolean, instanceId?: string): Promise<void> {
    return this.deployments.insertDeployment(deployment, replace, instanceId);
  }
  updateDeployment(id: string, patch: DeploymentPatch): Promise<void> {
    return this.deployments.updateDeployment(id, patch);
  }
  getDeployment(id: string): Promise<DeploymentRecord | null> {
    return this.deployments.getDeployment(id);
  }
  listDeployments(limit: number): Promise<DeploymentRecord[]> {
    return this.deployments.listDeployments(limit);
  }
  lastSuccessfulDeployment(): Promise<DeploymentRecord | null> {
    return this.deployments.lastSuccessfulDeployment();
  }
  failIncompleteDeployments(
    at: Date,
    reason: string,
    only?: { deadAfterMs: number; alsoOf?: string; ownedOnly?: boolean },
  ): Promise<string[]> {
    return this.deployments.failIncompleteDeployments(at, reason, only);
  }
  pruneDeployments(keep: number): Promise<void> {
    return this.deployments.pruneDeployments(keep);
  }
  addDeploymentLog(entry: DeploymentLogEntry): Promise<void> {
    return this.deployments.addDeploymentLog(entry);
  }
  listDeploymentLog(deploymentId: string, parentId: string | null): Promise<DeploymentLogEntry[]> {
    return this.deployments.listDeploymentLog(deploymentId, parentId);
  }
}
