import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { ErrorCode, WebJobsError } from "../errors.ts";
import { StoreConflictError, type Store } from "../store/types.ts";
import {
  DeployStatus,
  deployStatusText,
  LogEntryType,
  type DeploymentLogEntry,
  type DeploymentRecord,
} from "./types.ts";

/** Deployments kept (with their logs); Kudu keeps a similar handful. */
const KEEP = 50;

export const IN_PROGRESS_MESSAGE =
  "There is a deployment currently in progress. Please try again when it completes.";

export interface DeploymentsEvents {
  /** A log line of a deployment, for the log stream. */
  line: [text: string, entry: DeploymentLogEntry];
}

export const newDeploymentId = () => randomBytes(16).toString("hex");

/**
 * Deployment records and their logs, kept in the store. The store's unique index on deployments in
 * progress is what serialises deploys: a second one is refused (409) while the first runs.
 */
export class Deployments extends EventEmitter<DeploymentsEvents> {
  /**
   * `owner`: this instance, recorded on the deployments it runs, so that the clean-up at start
   * (`recover`) leaves alone a deployment another live instance is running.
   */
  constructor(
    private readonly store: Store,
    private readonly owner?: { instanceId: string; timeoutMs: number },
  ) {
    super();
  }

  /** Records a new deployment in progress; 409 while another one runs. */
  async begin(info: {
    id?: string;
    deployer: string;
    message: string;
    author?: string | null;
    authorEmail?: string | null;
  }): Promise<DeploymentRecord> {
    const now = new Date();
    const record: DeploymentRecord = {
      id: info.id ?? newDeploymentId(),
      status: DeployStatus.Pending,
      statusText: "Receiving changes.",
      author: info.author ?? null,
      authorEmail: info.authorEmail ?? null,
      deployer: info.deployer,
      message: info.message,
      progress: "",
      receivedTime: now,
      startTime: now,
      endTime: null,
      complete: false,
      isReadonly: false,
    };
    try {
      // A commit pushed again is deployed again under the same id, as Kudu does.
      await this.store.insertDeployment(record, true, this.owner?.instanceId);
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new WebJobsError(ErrorCode.Conflict, IN_PROGRESS_MESSAGE);
      throw error;
    }
    await this.store.pruneDeployments(KEEP);
    return record;
  }

  /** A deployment recorded by a client (PUT /api/deployments/{id}); 409 when the id is taken. */
  async record(deployment: DeploymentRecord, details: string | null): Promise<void> {
    try {
      await this.store.insertDeployment(deployment, false);
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new WebJobsError(ErrorCode.Conflict, `Deployment with id '${deployment.id}' exists.`);
      throw error;
    }
    const ok = deployment.status === DeployStatus.Success;
    const entry = await this.log(
      deployment.id,
      ok ? "Deployment successful." : "Deployment failed.",
      ok ? LogEntryType.Message : LogEntryType.Error,
    );
    if (details) await this.log(deployment.id, details, LogEntryType.Message, entry.id);
  }

  async progress(id: string, status: DeployStatus, progress: string): Promise<void> {
    await this.store.updateDeployment(id, { status, statusText: deployStatusText[status], progress });
  }

  async log(
    deploymentId: string,
    message: string,
    type: LogEntryType = LogEntryType.Message,
    parentId: string | null = null,
  ): Promise<DeploymentLogEntry> {
    const entry: DeploymentLogEntry = {
      deploymentId,
      id: randomBytes(8).toString("hex"),
      logTime: new Date(),
      message,
      type,
      parentId,
    };
    await this.store.addDeploymentLog(entry);
    this.emit("line", message, entry);
    return entry;
  }

  async finish(id: string, error: Error | null): Promise<DeploymentRecord> {
    const status = error ? DeployStatus.Failed : DeployStatus.Success;
    if (error) await this.log(id, `Deployment failed: ${error.message}`, LogEntryType.Error);
    else await this.log(id, "Deployment successful.");
    await this.store.updateDeployment(id, {
      status,
      statusText: error ? error.message : "",
      progress: "",
      endTime: new Date(),
      complete: true,
    });
    return (await this.store.getDeployment(id))!;
  }

  /**
   * Deployments a dead host left in progress are failed: their site swap either happened or not.
   * This instance's own (a restart) and those of instances that are not live; never one that a
   * live instance is running.
   */
  async recover(): Promise<string[]> {
    const { owner } = this;
    return this.store.failIncompleteDeployments(
      new Date(),
      "The host stopped during the deployment.",
      owner ? { deadAfterMs: owner.timeoutMs, alsoOf: owner.instanceId } : undefined,
    );
  }

  get(id: string) {
    return this.store.getDeployment(id);
  }

  list(limit = KEEP) {
    return this.store.listDeployments(limit);
  }

  lastSuccess() {
    return this.store.lastSuccessfulDeployment();
  }

  logEntries(id: string, parentId: string | null) {
    return this.store.listDeploymentLog(id, parentId);
  }
}
