import type { Role } from "./roles.ts";

/**
 * Who may call the host. Glossary:
 * - user: a name, a password (scrypt hash) and a role; logs in with Basic or the login page.
 * - token: an API secret (sha256 hash) with a role, optionally limited to some jobs.
 * - session: what the login page gives a browser: a random id in an HttpOnly cookie, stored hashed,
 *   valid until it expires or the user logs out.
 */
export interface UserRecord {
  id: string;
  username: string;
  role: Role;
  /** scrypt hash; never the password. */
  hash: string;
  createdAt: Date;
}

export interface TokenRecord {
  id: string;
  label: string;
  role: Role;
  /** The jobs the token may touch; null for every job. */
  jobs: string[] | null;
  /** sha256 of the secret. */
  hash: string;
  createdAt: Date;
}

export interface SessionRecord {
  /** sha256 of the cookie's value. */
  idHash: string;
  username: string;
  address: string | null;
  createdAt: Date;
  expiresAt: Date;
}

/** What the store keeps for authentication; the SQLite one is store/sqlite-auth.ts. */
export interface AuthStore {
  /** False, writing nothing, when the user name is taken. */
  addUser(user: UserRecord): Promise<boolean>;
  /**
   * Adds the user only if there is no user at all: of instances starting at the same moment on an
   * empty store, one creates the first admin. False, writing nothing, when a user exists.
   */
  addFirstUser(user: UserRecord): Promise<boolean>;
  getUser(username: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  /** False when there is no such user. Ends the user's sessions. */
  setUserPassword(username: string, hash: string): Promise<boolean>;
  /**
   * Removes a user and its sessions, in one transaction. Refused (nothing removed) when it is the
   * last admin, so that the host can always be administered.
   */
  removeUser(username: string): Promise<"removed" | "missing" | "last_admin">;
  /** Changes a role unless that leaves no admin; same answers as removeUser. */
  changeRole(username: string, role: Role): Promise<"changed" | "missing" | "last_admin">;

  addToken(token: TokenRecord): Promise<void>;
  listTokens(): Promise<TokenRecord[]>;
  findTokenByHash(hash: string): Promise<TokenRecord | null>;

  addSession(session: SessionRecord): Promise<void>;
  /** The session with that hash, if it has not expired at `now`. */
  getSession(idHash: string, now: Date): Promise<SessionRecord | null>;
  deleteSession(idHash: string): Promise<void>;
  deleteExpiredSessions(now: Date): Promise<number>;

  /**
   * Counts a failed login from `address` and returns its failures within the window: the count
   * restarts when the last failure is older than `windowMs` (by the store's clock). Shared by
   * every instance on the store.
   */
  recordLoginFailure(address: string, windowMs: number): Promise<number>;
  /** Forgets addresses whose last failure is older than `windowMs`; returns how many. */
  pruneLoginFailures(windowMs: number): Promise<number>;
}
