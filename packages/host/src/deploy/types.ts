/**
 * Site deployments, in Kudu's terms: a zip deploy, a OneDeploy, a git push or a record a client
 * PUT itself. Glossary: the *site* is the folder served as `site/wwwroot` (it holds
 * `App_Data/jobs/…`); a *deployment* replaces it (or a part of it) as one step and keeps a log.
 */

/** Kudu's DeployStatus numbers. */
export const DeployStatus = { Pending: 0, Building: 1, Deploying: 2, Failed: 3, Success: 4 } as const;
export type DeployStatus = (typeof DeployStatus)[keyof typeof DeployStatus];

export const deployStatusText: Record<DeployStatus, string> = {
  0: "Pending",
  1: "Building",
  2: "Deploying",
  3: "Failed",
  4: "Success",
};

/** Kudu's LogEntryType: 0 message, 1 warning, 2 error. */
export const LogEntryType = { Message: 0, Warning: 1, Error: 2 } as const;
export type LogEntryType = (typeof LogEntryType)[keyof typeof LogEntryType];

export interface DeploymentRecord {
  id: string;
  status: DeployStatus;
  statusText: string;
  author: string | null;
  authorEmail: string | null;
  deployer: string;
  message: string;
  progress: string;
  receivedTime: Date;
  startTime: Date;
  endTime: Date | null;
  complete: boolean;
  /** Recorded by a client (PUT /api/deployments/{id}), not performed here. */
  isReadonly: boolean;
}

export type DeploymentPatch = Partial<
  Pick<DeploymentRecord, "status" | "statusText" | "progress" | "endTime" | "complete" | "message">
>;

export interface DeploymentLogEntry {
  deploymentId: string;
  id: string;
  logTime: Date;
  message: string;
  type: LogEntryType;
  /** The entry this one details (`/log/{logId}`), or null for a top-level entry. */
  parentId: string | null;
}
