/**
 * Instances: every `webjobs serve` process registers a row in the store and heartbeats into it.
 * Liveness is decided by the database's clock (PostgreSQL's `now()`), never by comparing clocks of
 * different machines: an instance is dead when it stopped, or when its last heartbeat is older
 * than the timeout by the database's own clock.
 *
 * Glossary
 * - incarnation: a random token per process start. Two processes configured with the same
 *   instance id have different incarnations, which is how the second one tells the row is not
 *   its own.
 * - lost run: an active run of an instance declared dead; a live instance closes it `Aborted`
 *   ("instance lost"), once, whoever does it.
 */

export interface InstanceRecord {
  id: string;
  hostName: string;
  /** Where the instance is reached: its public URL, else the address it listens on. */
  url: string;
  startedAt: Date;
  lastHeartbeat: Date;
  /** Runs going on it at its last heartbeat: its load. */
  activeRuns: number;
  /** Stopped on purpose, or no heartbeat within the timeout (by the database's clock). */
  live: boolean;
}

export interface InstanceRegistration {
  id: string;
  hostName: string;
  url: string;
  incarnation: string;
  /**
   * The incarnation that last registered from this data folder (kept in the folder, which this
   * process holds the lock of): a row still carrying it is our own predecessor, dead even if its
   * last heartbeat is recent (a restart right after `kill -9`).
   */
  previousIncarnation: string | null;
  activeRuns: number;
}

/** A run closed because its instance was lost. */
export interface LostRunKey {
  jobName: string;
  id: string;
}

export interface InstanceStore {
  /**
   * Registers this process under its id. Refused, writing nothing, when another process holds the
   * id: a row with another incarnation (not our predecessor's) that is not stopped and whose
   * heartbeat is within `timeoutMs`. Returns null when registered, that live row when refused.
   */
  registerInstance(registration: InstanceRegistration, timeoutMs: number): Promise<InstanceRecord | null>;
  /** Records a heartbeat and the load; false when the row is no longer this incarnation's. */
  heartbeatInstance(id: string, incarnation: string, url: string, activeRuns: number): Promise<boolean>;
  /** A graceful stop: the instance is dead at once, nobody waits for its timeout. */
  stopInstance(id: string, incarnation: string): Promise<void>;
  /** Every instance, with liveness decided by the database; by id. */
  listInstances(timeoutMs: number): Promise<InstanceRecord[]>;
  /**
   * Closes the active runs of dead instances other than `self` as Aborted with `reason` (a
   * conditional write: a run ends once, whichever live instance gets there first). Returns the
   * runs closed by this call.
   */
  abortRunsOfDeadInstances(self: string, timeoutMs: number, reason: string): Promise<LostRunKey[]>;
  /**
   * The database's clock now (SQLite: this machine's, the only one). Machines' clocks may differ
   * by seconds: the schedulers of all instances fire by this one (instances/database-clock.ts).
   */
  databaseTime(): Promise<Date>;
  /** Forgets instances dead for longer than `olderThanMs` that hold no active run; returns how many. */
  pruneInstances(olderThanMs: number): Promise<number>;
}
