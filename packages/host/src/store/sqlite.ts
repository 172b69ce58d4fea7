import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { DeploymentLogEntry, DeploymentPatch, DeploymentRecord } from "../deploy/types.ts";
import type { FirePatch, FireRecord, ScheduleState } from "../schedules/types.ts";
import { loadMigrations } from "./migrations.ts";
import { SqliteAppSettingsStore } from "./sqlite-app-settings.ts";
import { SqliteAuditStore } from "./sqlite-audit.ts";
import { SqliteAuthStore } from "./sqlite-auth.ts";
import { SqliteInstanceStore } from "./sqlite-instances.ts";
import { SqliteRunClaims } from "./sqlite-claims.ts";
import { SqlitePackageStore } from "./sqlite-packages.ts";
import { SqliteRemoteRunStore } from "./sqlite-remote-runs.ts";
import { SqliteContinuousStore } from "./sqlite-continuous.ts";
import {
  activeRunStatuses,
  type CredentialKind,
  type CredentialRecord,
  type HookEvent,
  type HookRecord,
  type JobRecord,
  type JobType,
  type ProcessRecord,
  type RunPatch,
  type RunQuery,
  type RunRecord,
  type Store,
  StoreConflictError,
} from "./types.ts";
import { runColumns } from "./run-columns.ts";

type Row = Record<string, unknown>;

const fireColumns: Record<keyof FirePatch, string> = {
  outcome: "outcome",
  runId: "run_id",
  attempt: "attempt",
  reason: "reason",
  retryAt: "retry_at",
};

/** `('Initializing', 'Running')`: a run in progress. */
const ACTIVE_STATUSES = `(${activeRunStatuses.map((s) => `'${s}'`).join(", ")})`;

export const toDb = (value: unknown): unknown => (value instanceof Date ? value.getTime() : value);
const date = (value: unknown): Date => new Date(Number(value));
const maybeDate = (value: unknown): Date | null => (value == null ? null : date(value));

function fireFromRow(row: Row): FireRecord {
  return {
    jobName: row.job_name as string,
    scheduledTime: date(row.scheduled_time),
    outcome: row.outcome as FireRecord["outcome"],
    runId: (row.run_id as string | null) ?? null,
    attempt: row.attempt as number,
    reason: (row.reason as string | null) ?? null,
    retryAt: maybeDate(row.retry_at),
    recordedAt: date(row.recorded_at),
    ...(row.waiting_for != null ? { waitingFor: row.waiting_for as string } : {}),
  };
}

function scheduleStateFromRow(row: Row): ScheduleState {
  return {
    jobName: row.job_name as string,
    scheduleKey: row.schedule_key as string,
    armedAt: date(row.armed_at),
    lastProcessed: maybeDate(row.last_processed),
    suppressedUntil: maybeDate(row.suppressed_until),
    paused: row.paused === 1,
  };
}

function deploymentFromRow(row: Row): DeploymentRecord {
  return {
    id: row.id as string,
    status: row.status as DeploymentRecord["status"],
    statusText: row.status_text as string,
    author: (row.author as string | null) ?? null,
    authorEmail: (row.author_email as string | null) ?? null,
    deployer: row.deployer as string,
    message: row.message as string,
    progress: row.progress as string,
    receivedTime: date(row.received_time),
    startTime: date(row.start_time),
    endTime: maybeDate(row.end_time),
    complete: row.complete === 1,
    isReadonly: row.is_readonly === 1,
  };
}

const deploymentColumns: Record<keyof DeploymentPatch, string> = {
  status: "status",
  statusText: "status_text",
  progress: "progress",
  endTime: "end_time",
  complete: "complete",
  message: "message",
};

const MAX_CACHED_STATEMENTS = 1000;

/**
 * Makes `db.prepare` reuse statements by their SQL. Preparing on every call costs CPU, and each
 * statement holds native memory until V8 gets round to collecting its wrapper: arming 10,000
 * schedules at start-up used to leave tens of MB of them behind. (None of our statements is
 * iterated, so one statement per SQL text is never busy when it is used again.)
 */
function cacheStatements(db: Database.Database): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let statement = cache.get(sql);
    if (!statement) {
      if (cache.size >= MAX_CACHED_STATEMENTS) cache.clear();
      statement = prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  }) as typeof db.prepare;
}

/** A violated UNIQUE constraint, index or primary key. */
const isUniqueViolation = (error: unknown): boolean =>
  (error as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE" ||
  (error as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY";

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
    script: (row.script as string | null) ?? null,
    settings: JSON.parse(row.settings as string),
    error: (row.error as string | null) ?? null,
    desiredState: row.desired_state as JobRecord["desiredState"],
    sourceFingerprint: (row.source_fingerprint as string | null) ?? null,
    packageHash: (row.package_hash as string | null) ?? null,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

export function runFromRow(row: Row): RunRecord {
  return {
    jobName: row.job_name as string,
    id: row.id as string,
    status: row.status as RunRecord["status"],
    reason: (row.reason as string | null) ?? null,
    trigger: row.trigger as string,
    arguments: row.arguments as string,
    version: row.version as string,
    instanceId: row.instance_id as string,
    startTime: date(row.start_time),
    endTime: row.end_time == null ? null : date(row.end_time),
    exitCode: (row.exit_code as number | null) ?? null,
    signal: (row.signal as string | null) ?? null,
    cpuMs: (row.cpu_ms as number | null) ?? null,
    peakRssBytes: (row.peak_rss_bytes as number | null) ?? null,
    pid: (row.pid as number | null) ?? null,
    scheduledTime: maybeDate(row.scheduled_time),
    attempt: (row.attempt as number | null) ?? null,
  };
}

/** The embedded store: one SQLite file in WAL mode. Calls are synchronous underneath. */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  readonly auth: SqliteAuthStore;
  readonly appSettings: SqliteAppSettingsStore;
  readonly audit: SqliteAuditStore;
  readonly instances: SqliteInstanceStore;
  readonly claims: SqliteRunClaims;
  readonly packages: SqlitePackageStore;
  readonly remoteRuns: SqliteRemoteRunStore;
  readonly continuous: SqliteContinuousStore;
  /** A file on this machine: reachable while the host runs. */
  readonly reachable = true;

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    cacheStatements(this.db);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.auth = new SqliteAuthStore(this.db);
    this.appSettings = new SqliteAppSettingsStore(this.db);
    this.audit = new SqliteAuditStore(this.db);
    this.instances = new SqliteInstanceStore(this.db);
    this.claims = new SqliteRunClaims(this.db);
    this.packages = new SqlitePackageStore(this.db);
    this.remoteRuns = new SqliteRemoteRunStore(this.db);
    this.continuous = new SqliteContinuousStore(this.db);
  }

  async migrate(): Promise<void> {
    this.db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    // IMMEDIATE takes the write lock first, so two hosts starting on one file apply each once.
    const apply = this.db.transaction(() => {
      const done = new Set(
        (this.db.prepare("SELECT id FROM schema_migrations").all() as Row[]).map((r) => r.id),
      );
      for (const migration of loadMigrations("sqlite")) {
        if (done.has(migration.id)) continue;
        this.db.exec(migration.sql);
        this.db
          .prepare("INSERT INTO schema_migrations (id, name) VALUES (?, ?)")
          .run(migration.id, migration.name);
      }
    });
    apply.immediate();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  async upsertJob(job: JobRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO jobs (type, name, version, script, settings, error, desired_state, source_fingerprint, package_hash, created_at, updated_at)
         VALUES (@type, @name, @version, @script, @settings, @error, @desiredState, @sourceFingerprint, @packageHash, @createdAt, @updatedAt)
         ON CONFLICT (type, name) DO UPDATE SET version = excluded.version, script = excluded.script,
           settings = excluded.settings, error = excluded.error, desired_state = excluded.desired_state,
           source_fingerprint = excluded.source_fingerprint, updated_at = excluded.updated_at,
           package_hash = ${KEEP_PACKAGE_HASH}`,
      )
      .run({
        ...job,
        packageHash: job.packageHash ?? null,
        settings: JSON.stringify(job.settings),
        createdAt: job.createdAt.getTime(),
        updatedAt: job.updatedAt.getTime(),
      });
  }

  async getJob(type: JobType, name: string): Promise<JobRecord | null> {
    const row = this.db.prepare("SELECT * FROM jobs WHERE type = ? AND name = ?").get(type, name) as
      Row | undefined;
    return row ? jobFromRow(row) : null;
  }

  async listJobs(type?: JobType): Promise<JobRecord[]> {
    const rows = type
      ? this.db.prepare("SELECT * FROM jobs WHERE type = ? ORDER BY name").all(type)
      : this.db.prepare("SELECT * FROM jobs ORDER BY name, type").all();
    return (rows as Row[]).map(jobFromRow);
  }

  async deleteJob(type: JobType, name: string): Promise<void> {
    this.db.prepare("DELETE FROM jobs WHERE type = ? AND name = ?").run(type, name);
  }

  async setJobDesiredState(
    type: JobType,
    name: string,
    state: JobRecord["desiredState"],
    at: Date,
  ): Promise<JobRecord | null> {
    const row = this.db
      .prepare("UPDATE jobs SET desired_state = ?, updated_at = ? WHERE type = ? AND name = ? RETURNING *")
      .get(state, at.getTime(), type, name) as Row | undefined;
    return row ? jobFromRow(row) : null;
  }

  async insertRun(run: RunRecord): Promise<void> {
    const columns = ["job_name", "id", ...Object.values(runColumns)];
    const values = [
      run.jobName,
      run.id,
      ...Object.keys(runColumns).map((k) => toDb(run[k as keyof RunPatch])),
    ];
    try {
      this.db
        .prepare(`INSERT INTO runs (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`)
        .run(...values);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new StoreConflictError(
          `Job '${run.jobName}' already has an active run, or run '${run.id}' exists.`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  async updateRun(jobName: string, id: string, patch: RunPatch): Promise<boolean> {
    const keys = Object.keys(patch) as (keyof RunPatch)[];
    if (keys.length === 0) return false;
    // A run finishes once: a status change applies only while the run is still active.
    const active = activeRunStatuses.map((s) => `'${s}'`).join(", ");
    const condition = patch.status === undefined ? "" : ` AND status IN (${active})`;
    const result = this.db
      .prepare(
        `UPDATE runs SET ${keys.map((k) => `${runColumns[k]} = ?`).join(", ")} WHERE job_name = ? AND id = ?${condition}`,
      )
      .run(...keys.map((k) => toDb(patch[k])), jobName, id);
    return result.changes > 0;
  }

  async getRun(jobName: string, id: string): Promise<RunRecord | null> {
    const row = this.db.prepare("SELECT * FROM runs WHERE job_name = ? AND id = ?").get(jobName, id) as
      Row | undefined;
    return row ? runFromRow(row) : null;
  }

  async listRuns(jobName: string, limit = 1000): Promise<RunRecord[]> {
    const rows = this.db
      .prepare("SELECT * FROM runs WHERE job_name = ? ORDER BY id DESC LIMIT ?")
      .all(jobName, limit) as Row[];
    return rows.map(runFromRow);
  }

  async latestRunOfEachJob(): Promise<Map<string, RunRecord>> {
    // SQLite fills the other columns from the row holding MAX(id) (its "bare column" rule).
    const rows = this.db.prepare("SELECT *, MAX(id) AS max_id FROM runs GROUP BY job_name").all() as Row[];
    return new Map(rows.map((row) => [row.job_name as string, runFromRow(row)]));
  }

  async queryRuns(query: RunQuery): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (condition: string, ...values: unknown[]) => {
      where.push(condition);
      params.push(...values);
    };
    if (query.job !== undefined) add("job_name = ?", query.job);
    if (query.statuses?.length)
      add(`status IN (${query.statuses.map(() => "?").join(", ")})`, ...query.statuses);
    if (query.from) add("start_time >= ?", query.from.getTime());
    if (query.to) add("start_time < ?", query.to.getTime());
    if (query.before) {
      add("(id < ? OR (id = ? AND job_name < ?))", query.before.id, query.before.id, query.before.jobName);
    }
    const rows = this.db
      .prepare(
        `SELECT * FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY id DESC, job_name DESC LIMIT ?`,
      )
      .all(...params, query.limit) as Row[];
    return rows.map(runFromRow);
  }

  async activeRuns(instanceId?: string): Promise<RunRecord[]> {
    const placeholders = activeRunStatuses.map(() => "?").join(", ");
    const rows = instanceId
      ? this.db
          .prepare(`SELECT * FROM runs WHERE status IN (${placeholders}) AND instance_id = ?`)
          .all(...activeRunStatuses, instanceId)
      : this.db.prepare(`SELECT * FROM runs WHERE status IN (${placeholders})`).all(...activeRunStatuses);
    return (rows as Row[]).map(runFromRow);
  }

  async pruneRuns(jobName: string, keep: number): Promise<string[]> {
    const placeholders = activeRunStatuses.map(() => "?").join(", ");
    const prune = this.db.transaction(() => {
      const ids = (
        this.db
          .prepare(
            `SELECT id FROM runs WHERE job_name = ? AND status NOT IN (${placeholders})
             ORDER BY id DESC LIMIT -1 OFFSET ?`,
          )
          .all(jobName, ...activeRunStatuses, keep) as Row[]
      ).map((r) => r.id as string);
      const del = this.db.prepare("DELETE FROM runs WHERE job_name = ? AND id = ?");
      for (const id of ids) del.run(jobName, id);
      return ids;
    });
    return prune.immediate();
  }

  async deleteRuns(jobName: string): Promise<void> {
    this.db.prepare("DELETE FROM runs WHERE job_name = ?").run(jobName);
  }

  async addProcess(p: ProcessRecord): Promise<void> {
    this.db
      .prepare("INSERT OR REPLACE INTO processes (pid, start_ticks, owner, instance_id) VALUES (?, ?, ?, ?)")
      .run(p.pid, p.startTicks, p.owner, p.instanceId);
  }

  async removeProcess(pid: number, instanceId: string): Promise<void> {
    this.db.prepare("DELETE FROM processes WHERE pid = ? AND instance_id = ?").run(pid, instanceId);
  }

  async listProcesses(instanceId: string): Promise<ProcessRecord[]> {
    const rows = this.db.prepare("SELECT * FROM processes WHERE instance_id = ?").all(instanceId) as Row[];
    return rows.map((r) => ({
      pid: r.pid as number,
      startTicks: r.start_ticks as string,
      owner: r.owner as string,
      instanceId: r.instance_id as string,
    }));
  }

  async addCredential(c: CredentialRecord): Promise<void> {
    this.db
      .prepare("INSERT INTO credentials (id, kind, username, hash, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(c.id, c.kind, c.username, c.hash, c.createdAt.getTime());
  }

  async listCredentials(kind: CredentialKind): Promise<CredentialRecord[]> {
    const rows = this.db
      .prepare("SELECT * FROM credentials WHERE kind = ? ORDER BY created_at")
      .all(kind) as Row[];
    return rows.map((r) => ({
      id: r.id as string,
      kind: r.kind as CredentialKind,
      username: r.username as string,
      hash: r.hash as string,
      createdAt: date(r.created_at),
    }));
  }

  async deleteCredential(id: string): Promise<boolean> {
    return this.db.prepare("DELETE FROM credentials WHERE id = ?").run(id).changes > 0;
  }

  async addHook(hook: HookRecord): Promise<boolean> {
    const result = this.db
      .prepare(
        `INSERT OR IGNORE INTO hooks (id, event, url, insecure_ssl, created_at) VALUES (?, ?, ?, ?, ?)`,
      )
      .run(hook.id, hook.event, hook.url, hook.insecureSsl ? 1 : 0, hook.createdAt.getTime());
    return result.changes > 0;
  }

  async listHooks(event?: HookEvent): Promise<HookRecord[]> {
    const rows = (
      event
        ? this.db.prepare("SELECT * FROM hooks WHERE event = ? ORDER BY created_at").all(event)
        : this.db.prepare("SELECT * FROM hooks ORDER BY created_at").all()
    ) as Row[];
    return rows.map((r) => ({
      id: r.id as string,
      event: r.event as HookEvent,
      url: r.url as string,
      insecureSsl: r.insecure_ssl === 1,
      createdAt: date(r.created_at),
      lastStatus: (r.last_status as string | null) ?? null,
      lastDatetime: r.last_datetime == null ? null : date(r.last_datetime),
      lastReason: (r.last_reason as string | null) ?? null,
    }));
  }

  async deleteHook(id: string): Promise<boolean> {
    return this.db.prepare("DELETE FROM hooks WHERE id = ?").run(id).changes > 0;
  }

  async recordHookDelivery(id: string, status: string, reason: string | null, at: Date): Promise<void> {
    this.db
      .prepare("UPDATE hooks SET last_status = ?, last_reason = ?, last_datetime = ? WHERE id = ?")
      .run(status, reason, at.getTime(), id);
  }

  async armSchedule(jobName: string, scheduleKey: string, now: Date): Promise<ScheduleState> {
    const arm = this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO schedule_state (job_name, schedule_key, armed_at) VALUES (?, ?, ?)
           ON CONFLICT (job_name) DO UPDATE SET schedule_key = excluded.schedule_key,
             armed_at = excluded.armed_at, last_processed = NULL, suppressed_until = NULL
           WHERE schedule_state.schedule_key <> excluded.schedule_key`,
        )
        .run(jobName, scheduleKey, now.getTime());
      return this.db.prepare("SELECT * FROM schedule_state WHERE job_name = ?").get(jobName) as Row;
    });
    return scheduleStateFromRow(arm.immediate());
  }

  async getScheduleState(jobName: string): Promise<ScheduleState | null> {
    const row = this.db.prepare("SELECT * FROM schedule_state WHERE job_name = ?").get(jobName) as
      Row | undefined;
    return row ? scheduleStateFromRow(row) : null;
  }

  async pausedSchedules(): Promise<string[]> {
    const rows = this.db
      .prepare("SELECT job_name FROM schedule_state WHERE paused = 1 ORDER BY job_name")
      .all() as Row[];
    return rows.map((r) => r.job_name as string);
  }

  async setSchedulePaused(jobName: string, paused: boolean, now: Date): Promise<boolean> {
    // Resuming drops what fell due while paused: those occurrences are neither run nor missed.
    const result = paused
      ? this.db.prepare("UPDATE schedule_state SET paused = 1 WHERE job_name = ?").run(jobName)
      : this.db
          .prepare(
            `UPDATE schedule_state SET paused = 0,
               suppressed_until = CASE WHEN paused = 1 THEN MAX(COALESCE(suppressed_until, 0), ?) ELSE suppressed_until END
             WHERE job_name = ?`,
          )
          .run(now.getTime(), jobName);
    return result.changes > 0;
  }

  async suppressSchedules(jobNames: readonly string[], until: Date): Promise<void> {
    const update = this.db.prepare(
      "UPDATE schedule_state SET suppressed_until = MAX(COALESCE(suppressed_until, 0), ?) WHERE job_name = ?",
    );
    this.db.transaction(() => {
      for (const name of jobNames) update.run(until.getTime(), name);
    })();
  }

  async recordFire(fire: FireRecord): Promise<boolean> {
    const record = this.db.transaction(() => {
      const inserted = this.db
        .prepare(
          // Not while the schedule is paused (the rule PostgreSQL enforces for several instances).
          `INSERT OR IGNORE INTO fires (job_name, scheduled_time, outcome, run_id, attempt, reason, retry_at, recorded_at, waiting_for)
           SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
           WHERE NOT EXISTS (SELECT 1 FROM schedule_state WHERE job_name = ? AND paused = 1)`,
        )
        .run(
          fire.jobName,
          fire.scheduledTime.getTime(),
          fire.outcome,
          fire.runId,
          fire.attempt,
          fire.reason,
          toDb(fire.retryAt),
          fire.recordedAt.getTime(),
          fire.waitingFor ?? null,
          fire.jobName,
        );
      if (inserted.changes === 0) return false;
      this.db
        .prepare(
          "UPDATE schedule_state SET last_processed = MAX(COALESCE(last_processed, 0), ?) WHERE job_name = ?",
        )
        .run(fire.scheduledTime.getTime(), fire.jobName);
      return true;
    });
    return record.immediate();
  }

  async updateFire(
    jobName: string,
    scheduledTime: Date,
    patch: FirePatch,
    expectedAttempt?: number,
  ): Promise<boolean> {
    const keys = Object.keys(patch) as (keyof FirePatch)[];
    if (keys.length === 0) return false;
    const condition = expectedAttempt === undefined ? "" : " AND attempt = ? AND retry_at IS NOT NULL";
    const result = this.db
      .prepare(
        `UPDATE fires SET ${keys.map((k) => `${fireColumns[k]} = ?`).join(", ")}
         WHERE job_name = ? AND scheduled_time = ?${condition}`,
      )
      .run(
        ...keys.map((k) => toDb(patch[k])),
        jobName,
        scheduledTime.getTime(),
        ...(expectedAttempt === undefined ? [] : [expectedAttempt]),
      );
    return result.changes > 0;
  }

  async getFire(jobName: string, scheduledTime: Date): Promise<FireRecord | null> {
    const row = this.db
      .prepare("SELECT * FROM fires WHERE job_name = ? AND scheduled_time = ?")
      .get(jobName, scheduledTime.getTime()) as Row | undefined;
    return row ? fireFromRow(row) : null;
  }

  async listFires(jobName: string, limit: number): Promise<FireRecord[]> {
    const rows = this.db
      .prepare("SELECT * FROM fires WHERE job_name = ? ORDER BY scheduled_time DESC LIMIT ?")
      .all(jobName, limit) as Row[];
    return rows.map(fireFromRow);
  }

  async waitingFire(jobName: string, runId: string): Promise<FireRecord | null> {
    const row = this.db
      .prepare("SELECT * FROM fires WHERE job_name = ? AND waiting_for = ? AND outcome = 'queued' LIMIT 1")
      .get(jobName, runId) as Row | undefined;
    return row ? fireFromRow(row) : null;
  }

  async claimWaitingFire(jobName: string, runId: string): Promise<FireRecord | null> {
    const row = this.db
      .prepare(
        `UPDATE fires SET outcome = 'started', reason = NULL
         WHERE job_name = @jobName AND waiting_for = @runId AND outcome = 'queued'
           AND scheduled_time = (SELECT min(scheduled_time) FROM fires
                                 WHERE job_name = @jobName AND waiting_for = @runId AND outcome = 'queued')
           AND NOT EXISTS (SELECT 1 FROM runs WHERE job_name = @jobName AND id = @runId AND status IN ${ACTIVE_STATUSES})
         RETURNING *`,
      )
      .get({ jobName, runId }) as Row | undefined;
    return row ? fireFromRow(row) : null;
  }

  async readyWaitingFires(): Promise<FireRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM fires f WHERE outcome = 'queued' AND waiting_for IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM runs r
                           WHERE r.job_name = f.job_name AND r.id = f.waiting_for AND r.status IN ${ACTIVE_STATUSES})
         ORDER BY scheduled_time`,
      )
      .all() as Row[];
    return rows.map(fireFromRow);
  }

  async pendingRetries(): Promise<FireRecord[]> {
    const rows = this.db
      .prepare("SELECT * FROM fires WHERE retry_at IS NOT NULL ORDER BY retry_at")
      .all() as Row[];
    return rows.map(fireFromRow);
  }

  async pruneFires(jobName: string, keep: number): Promise<void> {
    this.db
      .prepare(
        `DELETE FROM fires WHERE job_name = ? AND scheduled_time < (
           SELECT MIN(scheduled_time) FROM (
             SELECT scheduled_time FROM fires WHERE job_name = ? ORDER BY scheduled_time DESC LIMIT ?))`,
      )
      .run(jobName, jobName, keep);
  }

  async deleteSchedule(jobName: string): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM fires WHERE job_name = ?").run(jobName);
      this.db.prepare("DELETE FROM schedule_state WHERE job_name = ?").run(jobName);
    })();
  }

  async insertDeployment(d: DeploymentRecord, replace = false, instanceId?: string): Promise<void> {
    const insert = this.db.transaction(() => {
      const existing = this.db.prepare("SELECT complete FROM deployments WHERE id = ?").get(d.id) as
        Row | undefined;
      if (existing) {
        if (!replace || existing.complete !== 1) {
          throw new StoreConflictError(`A deployment with id '${d.id}' exists.`);
        }
        this.db.prepare("DELETE FROM deployment_log WHERE deployment_id = ?").run(d.id);
        this.db.prepare("DELETE FROM deployments WHERE id = ?").run(d.id);
      }
      this.db
        .prepare(
          `INSERT INTO deployments (id, status, status_text, author, author_email, deployer, message, progress,
             received_time, start_time, end_time, complete, is_readonly, instance_id, seq)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM deployments))`,
        )
        .run(
          d.id,
          d.status,
          d.statusText,
          d.author,
          d.authorEmail,
          d.deployer,
          d.message,
          d.progress,
          d.receivedTime.getTime(),
          d.startTime.getTime(),
          d.endTime?.getTime() ?? null,
          d.complete ? 1 : 0,
          d.isReadonly ? 1 : 0,
          instanceId ?? null,
        );
    });
    try {
      insert.immediate();
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreConflictError("Another deployment is in progress.");
      throw error;
    }
  }

  async updateDeployment(id: string, patch: DeploymentPatch): Promise<void> {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return;
    const sets = entries.map(([k]) => `${deploymentColumns[k as keyof DeploymentPatch]} = ?`).join(", ");
    const values = entries.map(([, v]) => (typeof v === "boolean" ? (v ? 1 : 0) : toDb(v)));
    this.db.prepare(`UPDATE deployments SET ${sets} WHERE id = ?`).run(...values, id);
  }

  async getDeployment(id: string): Promise<DeploymentRecord | null> {
    const row = this.db.prepare("SELECT * FROM deployments WHERE id = ?").get(id) as Row | undefined;
    return row ? deploymentFromRow(row) : null;
  }

  async listDeployments(limit: number): Promise<DeploymentRecord[]> {
    const rows = this.db.prepare("SELECT * FROM deployments ORDER BY seq DESC LIMIT ?").all(limit) as Row[];
    return rows.map(deploymentFromRow);
  }

  async lastSuccessfulDeployment(): Promise<DeploymentRecord | null> {
    const row = this.db
      .prepare("SELECT * FROM deployments WHERE status = 4 ORDER BY seq DESC LIMIT 1")
      .get() as Row | undefined;
    return row ? deploymentFromRow(row) : null;
  }

  async failIncompleteDeployments(
    at: Date,
    reason: string,
    only?: { deadAfterMs: number; alsoOf?: string; ownedOnly?: boolean },
  ): Promise<string[]> {
    const whose = only
      ? `AND (${only.ownedOnly ? "" : "instance_id IS NULL OR "}instance_id = @alsoOf OR instance_id NOT IN
           (SELECT id FROM instances WHERE stopped_at IS NULL AND last_heartbeat >= @deadline))`
      : "";
    const rows = this.db
      .prepare(
        `UPDATE deployments SET status = 3, status_text = @reason, complete = 1, end_time = @at
         WHERE complete = 0 ${whose} RETURNING id`,
      )
      .all({
        reason,
        at: at.getTime(),
        ...(only ? { alsoOf: only.alsoOf ?? null, deadline: Date.now() - only.deadAfterMs } : {}),
      }) as Row[];
    return rows.map((r) => r.id as string);
  }

  async pruneDeployments(keep: number): Promise<void> {
    this.db.transaction(() => {
      const cut = this.db
        .prepare("SELECT seq FROM deployments ORDER BY seq DESC LIMIT 1 OFFSET ?")
        .get(keep - 1) as Row | undefined;
      if (!cut) return;
      this.db
        .prepare(
          "DELETE FROM deployment_log WHERE deployment_id IN (SELECT id FROM deployments WHERE seq < ? AND complete = 1)",
        )
        .run(cut.seq);
      this.db.prepare("DELETE FROM deployments WHERE seq < ? AND complete = 1").run(cut.seq);
    })();
  }

  async addDeploymentLog(e: DeploymentLogEntry): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO deployment_log (deployment_id, seq, id, log_time, message, type, parent_id)
         VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM deployment_log WHERE deployment_id = ?), ?, ?, ?, ?, ?)`,
      )
      .run(e.deploymentId, e.deploymentId, e.id, e.logTime.getTime(), e.message, e.type, e.parentId);
  }

  async listDeploymentLog(deploymentId: string, parentId: string | null): Promise<DeploymentLogEntry[]> {
    const rows = (
      parentId === null
        ? this.db
            .prepare(
              "SELECT * FROM deployment_log WHERE deployment_id = ? AND parent_id IS NULL ORDER BY seq",
            )
            .all(deploymentId)
        : this.db
            .prepare("SELECT * FROM deployment_log WHERE deployment_id = ? AND parent_id = ? ORDER BY seq")
            .all(deploymentId, parentId)
    ) as Row[];
    return rows.map((row) => ({
      deploymentId: row.deployment_id as string,
      id: row.id as string,
      logTime: date(row.log_time),
      message: row.message as string,
      type: row.type as DeploymentLogEntry["type"],
      parentId: (row.parent_id as string | null) ?? null,
    }));
  }
}
