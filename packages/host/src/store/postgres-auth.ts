import type { AuthStore, SessionRecord, TokenRecord, UserRecord } from "../auth/types.ts";
import { Role } from "../auth/roles.ts";
import { text, type PgDatabase, type Queryable, type Row } from "./postgres-db.ts";

const userFromRow = (r: Row): UserRecord => ({
  id: r.id as string,
  username: r.username as string,
  role: r.role as Role,
  hash: r.hash as string,
  createdAt: r.created_at as Date,
});

const tokenFromRow = (r: Row): TokenRecord => ({
  id: r.id as string,
  label: r.username as string,
  role: r.role as Role,
  jobs: r.jobs == null ? null : (JSON.parse(r.jobs as string) as string[]),
  hash: r.hash as string,
  createdAt: r.created_at as Date,
});

const sessionFromRow = (r: Row): SessionRecord => ({
  idHash: r.id_hash as string,
  username: r.username as string,
  address: text(r.address),
  createdAt: r.created_at as Date,
  expiresAt: r.expires_at as Date,
});

/**
 * Users, tokens (rows of `credentials` with a role) and sessions in PostgreSQL (migration 006).
 * "Never remove the last admin" holds across instances: the admins' rows are locked before they
 * are counted, so two instances demoting the two last admins at once cannot both succeed.
 */
export class PgAuthStore implements AuthStore {
  constructor(private readonly db: PgDatabase) {}

  async addUser(user: UserRecord): Promise<boolean> {
    const result = await this.db.query(
      `INSERT INTO credentials (id, kind, username, hash, created_at, role) VALUES ($1, 'password', $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [user.id, user.username, user.hash, user.createdAt, user.role],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async addFirstUser(user: UserRecord): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // Instances starting at once on an empty database: the lock makes them take turns, so the
      // second one sees the first one's user (a plain INSERT … WHERE NOT EXISTS would not).
      await tx.query("LOCK TABLE credentials IN SHARE ROW EXCLUSIVE MODE");
      const result = await tx.query(
        `INSERT INTO credentials (id, kind, username, hash, created_at, role)
         SELECT $1, 'password', $2, $3, $4, $5
         WHERE NOT EXISTS (SELECT 1 FROM credentials WHERE kind = 'password')
         ON CONFLICT DO NOTHING`,
        [user.id, user.username, user.hash, user.createdAt, user.role],
      );
      return (result.rowCount ?? 0) > 0;
    });
  }

  async getUser(username: string): Promise<UserRecord | null> {
    const { rows } = await this.db.query(
      "SELECT * FROM credentials WHERE kind = 'password' AND username = $1",
      [username],
    );
    return rows[0] ? userFromRow(rows[0]) : null;
  }

  async listUsers(): Promise<UserRecord[]> {
    const { rows } = await this.db.query(
      "SELECT * FROM credentials WHERE kind = 'password' ORDER BY username",
    );
    return rows.map(userFromRow);
  }

  async setUserPassword(username: string, hash: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const changed = await tx.query(
        "UPDATE credentials SET hash = $1 WHERE kind = 'password' AND username = $2",
        [hash, username],
      );
      await tx.query("DELETE FROM sessions WHERE username = $1", [username]);
      return (changed.rowCount ?? 0) > 0;
    });
  }

  async removeUser(username: string): Promise<"removed" | "missing" | "last_admin"> {
    return this.db.transaction(async (tx) => {
      const user = await this.lockUser(tx, username);
      if (!user) return "missing";
      if (user.role === Role.Admin && (await this.otherAdmins(tx, username)) === 0) return "last_admin";
      await tx.query("DELETE FROM credentials WHERE kind = 'password' AND username = $1", [username]);
      await tx.query("DELETE FROM sessions WHERE username = $1", [username]);
      return "removed";
    });
  }

  async changeRole(username: string, role: Role): Promise<"changed" | "missing" | "last_admin"> {
    return this.db.transaction(async (tx) => {
      const user = await this.lockUser(tx, username);
      if (!user) return "missing";
      if (user.role === Role.Admin && role !== Role.Admin && (await this.otherAdmins(tx, username)) === 0) {
        return "last_admin";
      }
      await tx.query("UPDATE credentials SET role = $1 WHERE kind = 'password' AND username = $2", [
        role,
        username,
      ]);
      return "changed";
    });
  }

  /** Locks the admins' rows and the user's own, then reads the user (see the class comment). */
  private async lockUser(tx: Queryable, username: string): Promise<Row | undefined> {
    await tx.query(
      "SELECT id FROM credentials WHERE kind = 'password' AND (role = 'admin' OR username = $1) ORDER BY id FOR UPDATE",
      [username],
    );
    const { rows } = await tx.query(
      "SELECT role FROM credentials WHERE kind = 'password' AND username = $1",
      [username],
    );
    return rows[0];
  }

  private async otherAdmins(tx: Queryable, username: string): Promise<number> {
    const { rows } = await tx.query(
      "SELECT COUNT(*) AS n FROM credentials WHERE kind = 'password' AND role = 'admin' AND username <> $1",
      [username],
    );
    return Number(rows[0]!.n);
  }

  async addToken(token: TokenRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO credentials (id, kind, username, hash, created_at, role, jobs) VALUES ($1, 'token', $2, $3, $4, $5, $6)`,
      [
        token.id,
        token.label,
        token.hash,
        token.createdAt,
        token.role,
        token.jobs === null ? null : JSON.stringify(token.jobs),
      ],
    );
  }

  async listTokens(): Promise<TokenRecord[]> {
    const { rows } = await this.db.query(
      "SELECT * FROM credentials WHERE kind = 'token' ORDER BY created_at",
    );
    return rows.map(tokenFromRow);
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    const { rows } = await this.db.query("SELECT * FROM credentials WHERE kind = 'token' AND hash = $1", [
      hash,
    ]);
    return rows[0] ? tokenFromRow(rows[0]) : null;
  }

  async addSession(session: SessionRecord): Promise<void> {
    await this.db.query(
      "INSERT INTO sessions (id_hash, username, address, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
      [session.idHash, session.username, session.address, session.createdAt, session.expiresAt],
    );
  }

  async getSession(idHash: string, now: Date): Promise<SessionRecord | null> {
    const { rows } = await this.db.query("SELECT * FROM sessions WHERE id_hash = $1 AND expires_at > $2", [
      idHash,
      now,
    ]);
    return rows[0] ? sessionFromRow(rows[0]) : null;
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.query("DELETE FROM sessions WHERE id_hash = $1", [idHash]);
  }

  async deleteExpiredSessions(now: Date): Promise<number> {
    return (await this.db.query("DELETE FROM sessions WHERE expires_at <= $1", [now])).rowCount ?? 0;
  }

  async recordLoginFailure(address: string, windowMs: number): Promise<number> {
    const { rows } = await this.db.query(
      `INSERT INTO login_failures (address, count, last_failure) VALUES ($1, 1, now())
       ON CONFLICT (address) DO UPDATE SET
         count = CASE WHEN login_failures.last_failure < now() - $2::bigint * interval '1 millisecond'
                 THEN 1 ELSE login_failures.count + 1 END,
         last_failure = now()
       RETURNING count`,
      [address, windowMs],
    );
    return Number(rows[0]!.count);
  }

  async pruneLoginFailures(windowMs: number): Promise<number> {
    const result = await this.db.query(
      "DELETE FROM login_failures WHERE last_failure < now() - $1::bigint * interval '1 millisecond'",
      [windowMs],
    );
    return result.rowCount ?? 0;
  }
}
