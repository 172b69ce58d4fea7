/** One change made through the API: who, what, on what, with what answer, when and from where. */
export interface AuditEntry {
  /** Increasing number: the cursor of pages. */
  seq: number;
  at: Date;
  /** User name, token label, or "anonymous". */
  actor: string;
  /** How the actor authenticated: password, token, session. */
  actorKind: string;
  /** What was asked: deploy, run, cancel, start, stop, delete, job_settings, app_setting… */
  action: string;
  /** What it was asked on: a job, `job/run`, a user, a token id, a setting. */
  target: string | null;
  /** The HTTP status of the answer (a refused attempt is recorded too). */
  status: number;
  address: string | null;
  /** A few words more (the run id started, the role given…); never a secret. */
  detail: string | null;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  target?: string;
  from?: Date;
  to?: Date;
  /** Entries older than this sequence number (the previous page's last). */
  before?: number;
  limit: number;
}

export interface AuditStore {
  addAudit(entry: Omit<AuditEntry, "seq">): Promise<void>;
  /** Newest first. */
  queryAudit(query: AuditQuery): Promise<AuditEntry[]>;
  /** Deletes entries older than `before`; returns how many. */
  pruneAudit(before: Date): Promise<number>;
}
