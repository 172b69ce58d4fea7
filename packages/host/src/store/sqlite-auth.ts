import type Database from "better-sqlite3";
import type { AuthStore, SessionRecord, TokenRecord, UserRecord } from "../auth/types.ts";
import { Role } from "../auth/roles.ts";

type Row = Record<string, unknown>;

const userFromRow = (r: Row): UserRecord => ({
  id: r.id as string,
  username: r.username as string,
  role: r.role as Role,
  hash: r.hash as string,
  createdAt: new Date(Number(r.created_at)),
});

const tokenFromRow = (r: Row): TokenRecord => ({
  id: r.id as string,
  label: r.username as string,
  role: r.role as Role,
  jobs: r.jobs == null ? null : (JSON.parse(r.jobs as string) as string[]),
  hash: r.hash as string,
  createdAt: new Date(Number(r.created_at)),
});

const sessionFromRow = (r: Row): SessionRecord => ({
  idHash: r.id_hash as string,
  username: r.username as string,
  address: (r.address as string | null) ?? null,
  createdAt: new Date(Number(r.created_at)),
  expiresAt: new Date(Number(r.expires_at)),
});

/** Users, tokens (rows of `credentials` with a role) and sessions, in SQLite (migration 006). */
export class SqliteAuthStore implements AuthStore {
  constructor(private readonly db: Database.Database) {}

  async addUser(user: UserRecord): Promise<boolean> {
    const result = this.db
      .prepare(
        `INSERT INTO credentials (id, kind, username, hash, created_at, role) VALUES (?, 'password', ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      )
      .run(user.id, user.username, user.hash, user.createdAt.getTime(), user.role);
    return result.changes > 0;
  }

  async addFirstUser(user: UserRecord): Promise<boolean> {
    // One statement: SQLite runs writes one at a time, so the check and the insert cannot interleave.
    const result = this.db
      .prepare(
        `INSERT INTO credentials (id, kind, username, hash, created_at, role)
         SELECT ?, 'password', ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM credentials WHERE kind = 'password')
         ON CONFLICT DO NOTHING`,
      )
      .run(user.id, user.username, user.hash, user.createdAt.getTime(), user.role);
    return result.changes > 0;
  }

  async getUser(username: string): Promise<UserRecord | null> {
    const row = this.db
      .prepare("SELECT * FROM credentials WHERE kind = 'password' AND username = ?")
      .get(username) as Row | undefined;
    return row ? userFromRow(row) : null;
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = this.db
      .prepare("SELECT * FROM credentials WHERE kind = 'password' ORDER BY username")
      .all() as Row[];
    return rows.map(userFromRow);
  }

  async setUserPassword(username: string, hash: string): Promise<boolean> {
    return this.db.transaction(() => {
      const changed = this.db
        .prepare("UPDATE credentials SET hash = ? WHERE kind = 'password' AND username = ?")
        .run(hash, username).changes;
      this.db.prepare("DELETE FROM sessions WHERE username = ?").run(username);
      return changed > 0;
    })();
  }

  async removeUser(username: string): Promise<"removed" | "missing" | "last_admin"> {
    return this.db
      .transaction(() => {
        const user = this.db
          .prepare("SELECT role FROM credentials WHERE kind = 'password' AND username = ?")
          .get(username) as Row | undefined;
        if (!user) return "missing";
        if (user.role === Role.Admin && this.otherAdmins(username) === 0) return "last_admin";
        this.db.prepare("DELETE FROM credentials WHERE kind = 'password' AND username = ?").run(username);
        this.db.prepare("DELETE FROM sessions WHERE username = ?").run(username);
        return "removed";
      })
      .immediate();
  }

  async changeRole(username: string, role: Role): Promise<"changed" | "missing" | "last_admin"> {
    return this.db
      .transaction(() => {
        const user = this.db
          .prepare("SELECT role FROM credentials WHERE kind = 'password' AND username = ?")
          .get(username) as Row | undefined;
        if (!user) return "missing";
        if (user.role === Role.Admin && role !== Role.Admin && this.otherAdmins(username) === 0) {
          return "last_admin";
        }
        this.db
          .prepare("UPDATE credentials SET role = ? WHERE kind = 'password' AND username = ?")
          .run(role, username);
        return "changed";
      })
      .immediate();
  }

  private otherAdmins(username: string): number {
    const row = this.db
      .prepare(
        "SELECT COUNT(*) AS n FROM credentials WHERE kind = 'password' AND role = 'admin' AND username <> ?",
      )
      .get(username) as Row;
    return Number(row.n);
  }

  async addToken(token: TokenRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO credentials (id, kind, username, hash, created_at, role, jobs) VALUES (?, 'token', ?, ?, ?, ?, ?)`,
      )
      .run(
        token.id,
        token.label,
        token.hash,
        token.createdAt.getTime(),
        token.role,
        token.jobs === null ? null : JSON.stringify(token.jobs),
      );
  }

  async listTokens(): Promise<TokenRecord[]> {
    const rows = this.db
      .prepare("SELECT * FROM credentials WHERE kind = 'token' ORDER BY created_at")
      .all() as Row[];
    return rows.map(tokenFromRow);
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    const row = this.db.prepare("SELECT * FROM credentials WHERE kind = 'token' AND hash = ?").get(hash) as
      Row | undefined;
    return row ? tokenFromRow(row) : null;
  }

  async addSession(session: SessionRecord): Promise<void> {
    this.db
      .prepare(
        "INSERT INTO sessions (id_hash, username, address, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
      )
      .run(
        session.idHash,
        session.username,
        session.address,
        session.createdAt.getTime(),
        session.expiresAt.getTime(),
      );
  }

  async getSession(idHash: string, now: Date): Promise<SessionRecord | null> {
    const row = this.db
      .prepare("SELECT * FROM sessions WHERE id_hash = ? AND expires_at > ?")
      .get(idHash, now.getTime()) as Row | undefined;
    return row ? sessionFromRow(row) : null;
  }

  async deleteSession(idHash: string): Promise<void> {
    this.db.prepare("DELETE FROM sessions WHERE id_hash = ?").run(idHash);
  }

  async deleteExpiredSessions(now: Date): Promise<number> {
    return this.db.prepare("DELETE FROM sessions WHERE expires_at <= ?").run(now.getTime()).changes;
  }

  async recordLoginFailure(address: string, windowMs: number): Promise<number> {
    const now = Date.now();
    const row = this.db
      .prepare(
        `INSERT INTO login_failures (address, count, last_failure) VALUES (@address, 1, @now)
         ON CONFLICT (address) DO UPDATE SET
           count = CASE WHEN login_failures.last_failure < @since THEN 1 ELSE login_failures.count + 1 END,
           last_failure = @now
         RETURNING count`,
      )
      .get({ address, now, since: now - windowMs }) as Row;
    return Number(row.count);
  }

  async pruneLoginFailures(windowMs: number): Promise<number> {
    return this.db.prepare("DELETE FROM login_failures WHERE last_failure < ?").run(Date.now() - windowMs)
      .changes;
  }
}
