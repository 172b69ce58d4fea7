import type Database from "better-sqlite3";
import type { AuditEntry, AuditQuery, AuditStore } from "../audit/types.ts";

type Row = Record<string, unknown>;

/** The audit trail in SQLite (migration 006), newest first by sequence number. */
export class SqliteAuditStore implements AuditStore {
  constructor(private readonly db: Database.Database) {}

  async addAudit(e: Omit<AuditEntry, "seq">): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO audit (at, actor, actor_kind, action, target, status, address, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.at.getTime(), e.actor, e.actorKind, e.action, e.target, e.status, e.address, e.detail);
  }

  async queryAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (condition: string, ...values: unknown[]) => {
      where.push(condition);
      params.push(...values);
    };
    if (query.actor !== undefined) add("actor = ?", query.actor);
    if (query.action !== undefined) add("action = ?", query.action);
    // A job's entries include those on its runs and app settings (`job/…`).
    if (query.target !== undefined) {
      const prefix = `${query.target.replace(/[\\%_]/g, "\\$&")}/%`;
      add("(target = ? OR target LIKE ? ESCAPE '\\')", query.target, prefix);
    }
    if (query.from) add("at >= ?", query.from.getTime());
    if (query.to) add("at < ?", query.to.getTime());
    if (query.before !== undefined) add("seq < ?", query.before);
    const rows = this.db
      .prepare(
        `SELECT * FROM audit ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT ?`,
      )
      .all(...params, query.limit) as Row[];
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: new Date(Number(r.at)),
      actor: r.actor as string,
      actorKind: r.actor_kind as string,
      action: r.action as string,
      target: (r.target as string | null) ?? null,
      status: Number(r.status),
      address: (r.address as string | null) ?? null,
      detail: (r.detail as string | null) ?? null,
    }));
  }

  async pruneAudit(before: Date): Promise<number> {
    return this.db.prepare("DELETE FROM audit WHERE at < ?").run(before.getTime()).changes;
  }
}
