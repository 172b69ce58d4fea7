import type { AuditEntry, AuditQuery, AuditStore } from "../audit/types.ts";
import { text, type Queryable } from "./postgres-db.ts";

/** The audit trail in PostgreSQL (migration 006), newest first by sequence number. */
export class PgAuditStore implements AuditStore {
  constructor(private readonly db: Queryable) {}

  async addAudit(e: Omit<AuditEntry, "seq">): Promise<void> {
    await this.db.query(
      `INSERT INTO audit (at, actor, actor_kind, action, target, status, address, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [e.at, e.actor, e.actorKind, e.action, e.target, e.status, e.address, e.detail],
    );
  }

  async queryAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.actor !== undefined) where.push(`actor = ${p(query.actor)}`);
    if (query.action !== undefined) where.push(`action = ${p(query.action)}`);
    // A job's entries include those on its runs and app settings (`job/…`).
    if (query.target !== undefined) {
      const prefix = `${query.target.replace(/[\\%_]/g, "\\$&")}/%`;
      where.push(`(target = ${p(query.target)} OR target LIKE ${p(prefix)} ESCAPE '\\')`);
    }
    if (query.from) where.push(`at >= ${p(query.from)}`);
    if (query.to) where.push(`at < ${p(query.to)}`);
    if (query.before !== undefined) where.push(`seq < ${p(query.before)}`);
    const { rows } = await this.db.query(
      `SELECT * FROM audit ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT ${p(query.limit)}`,
      params,
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: r.at as Date,
      actor: r.actor as string,
      actorKind: r.actor_kind as string,
      action: r.action as string,
      target: text(r.target),
      status: Number(r.status),
      address: text(r.address),
      detail: text(r.detail),
    }));
  }

  async pruneAudit(before: Date): Promise<number> {
    return (await this.db.query("DELETE FROM audit WHERE at < $1", [before])).rowCount ?? 0;
  }
}
