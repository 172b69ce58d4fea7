import type { DeploymentLogEntry, DeploymentPatch, DeploymentRecord } from "../deploy/types.ts";
import { isUniqueViolation, maybeDate, text, type PgDatabase, type Row } from "./postgres-db.ts";
import { StoreConflictError } from "./types.ts";

function deploymentFromRow(row: Row): DeploymentRecord {
  return {
    id: row.id as string,
    status: Number(row.status) as DeploymentRecord["status"],
    statusText: row.status_text as string,
    author: text(row.author),
    authorEmail: text(row.author_email),
    deployer: row.deployer as string,
    message: row.message as string,
    progress: row.progress as string,
    receivedTime: row.received_time as Date,
    startTime: row.start_time as Date,
    endTime: maybeDate(row.end_time),
    complete: row.complete === true,
    isReadonly: row.is_readonly === true,
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

/**
 * Site deployments in PostgreSQL (migration 005). "One deployment in progress" is the partial
 * unique index `deployments_one_in_progress`, so two instances deploying at once cannot both
 * start.
 */
export class PgDeployments {
  constructor(private readonly db: PgDatabase) {}

  async insertDeployment(d: DeploymentRecord, replace = false, instanceId?: string): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        // Locks the row being replaced: a concurrent replace of the same id waits, then conflicts.
        const existing = await tx.query("SELECT complete FROM deployments WHERE id = $1 FOR UPDATE", [d.id]);
        if (existing.rows[0]) {
          if (!replace || existing.rows[0].complete !== true) {
            throw new StoreConflictError(`A deployment with id '${d.id}' exists.`);
          }
          await tx.query("DELETE FROM deployments WHERE id = $1", [d.id]);
        }
        await tx.query(
          `INSERT INTO deployments (id, status, status_text, author, author_email, deployer, message, progress,
             received_time, start_time, end_time, complete, is_readonly, instance_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
          [
            d.id,
            d.status,
            d.statusText,
            d.author,
            d.authorEmail,
            d.deployer,
            d.message,
            d.progress,
            d.receivedTime,
            d.startTime,
            d.endTime,
            d.complete,
            d.isReadonly,
            instanceId ?? null,
          ],
        );
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new StoreConflictError("Another deployment is in progress.", { cause: error });
      }
      throw error;
    }
  }

  async updateDeployment(id: string, patch: DeploymentPatch): Promise<void> {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return;
    const sets = entries
      .map(([k], i) => `${deploymentColumns[k as keyof DeploymentPatch]} = $${i + 2}`)
      .join(", ");
    await this.db.query(`UPDATE deployments SET ${sets} WHERE id = $1`, [id, ...entries.map(([, v]) => v)]);
  }

  async getDeployment(id: string): Promise<DeploymentRecord | null> {
    const { rows } = await this.db.query("SELECT * FROM deployments WHERE id = $1", [id]);
    return rows[0] ? deploymentFromRow(rows[0]) : null;
  }

  async listDeployments(limit: number): Promise<DeploymentRecord[]> {
    const { rows } = await this.db.query("SELECT * FROM deployments ORDER BY seq DESC LIMIT $1", [limit]);
    return rows.map(deploymentFromRow);
  }

  async lastSuccessfulDeployment(): Promise<DeploymentRecord | null> {
    const { rows } = await this.db.query(
      "SELECT * FROM deployments WHERE status = 4 ORDER BY seq DESC LIMIT 1",
    );
    return rows[0] ? deploymentFromRow(rows[0]) : null;
  }

  async failIncompleteDeployments(
    at: Date,
    reason: string,
    only?: { deadAfterMs: number; alsoOf?: string; ownedOnly?: boolean },
  ): Promise<string[]> {
    // Liveness by the database's clock, as for instances (postgres-instances.ts).
    const whose = only
      ? `AND (${only.ownedOnly ? "" : "instance_id IS NULL OR "}instance_id = $4 OR instance_id NOT IN
           (SELECT id FROM instances WHERE stopped_at IS NULL
              AND last_heartbeat >= now() - $3::bigint * interval '1 millisecond'))`
      : "";
    const { rows } = await this.db.query(
      `UPDATE deployments SET status = 3, status_text = $1, complete = TRUE, end_time = $2
       WHERE NOT complete ${whose} RETURNING id`,
      only ? [reason, at, only.deadAfterMs, only.alsoOf ?? null] : [reason, at],
    );
    return rows.map((r) => r.id as string);
  }

  async pruneDeployments(keep: number): Promise<void> {
    // The log goes with its deployment (ON DELETE CASCADE).
    await this.db.query(
      `DELETE FROM deployments WHERE complete AND seq < (
         SELECT seq FROM deployments ORDER BY seq DESC LIMIT 1 OFFSET GREATEST($1::int, 0))`,
      [keep - 1],
    );
  }

  async addDeploymentLog(e: DeploymentLogEntry): Promise<void> {
    await this.db.query(
      `INSERT INTO deployment_log (deployment_id, id, log_time, message, type, parent_id)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [e.deploymentId, e.id, e.logTime, e.message, e.type, e.parentId],
    );
  }

  async listDeploymentLog(deploymentId: string, parentId: string | null): Promise<DeploymentLogEntry[]> {
    const { rows } =
      parentId === null
        ? await this.db.query(
            "SELECT * FROM deployment_log WHERE deployment_id = $1 AND parent_id IS NULL ORDER BY seq",
            [deploymentId],
          )
        : await this.db.query(
            "SELECT * FROM deployment_log WHERE deployment_id = $1 AND parent_id = $2 ORDER BY seq",
            [deploymentId, parentId],
          );
    return rows.map((row) => ({
      deploymentId: row.deployment_id as string,
      id: row.id as string,
      logTime: row.log_time as Date,
      message: row.message as string,
      type: Number(row.type) as DeploymentLogEntry["type"],
      parentId: text(row.parent_id),
    }));
  }
}
