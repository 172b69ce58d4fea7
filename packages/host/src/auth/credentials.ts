import { createHash, randomBytes, randomUUID, scrypt, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { ErrorCode, WebJobsError } from "../errors.ts";
import type { Store } from "../store/types.ts";
import type { FailureCounter } from "./failure-delay.ts";
import { Role } from "./roles.ts";
import type { UserRecord } from "./types.ts";

/**
 * Users and API tokens. Only hashes are stored: scrypt for passwords (slow on purpose), sha256
 * for tokens (they are 256 random bits, so a fast hash is enough). Successful password checks are
 * remembered for a few minutes so that a busy client does not pay for scrypt on every request.
 * Every request still reads the user (or the token) from the store, and a remembered check is
 * keyed on the stored hash too: a password changed, a user removed, a role changed or a token
 * revoked through any instance applies at once on every instance sharing the store.
 */
const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const TOKEN_PREFIX = "wj_";
const CACHE_MS = 5 * 60_000;

export const PrincipalKind = { Password: "password", Token: "token", Session: "session" } as const;
export type PrincipalKind = (typeof PrincipalKind)[keyof typeof PrincipalKind];

/** Who a request comes from, and what it may do. */
export interface Principal {
  kind: PrincipalKind;
  /** User name, or a token's label. */
  name: string;
  role: Role;
  /** A token limited to these jobs; null for every job. */
  jobs: string[] | null;
  /** The token's id (tokens only). */
  tokenId?: string;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32);
  return `scrypt$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !key) return false;
  const expected = Buffer.from(key, "base64url");
  const actual = await scryptAsync(password, Buffer.from(salt, "base64url"), expected.length);
  return timingSafeEqual(actual, expected);
}

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export class Credentials implements FailureCounter {
  private readonly verified = new Map<string, number>();

  constructor(private readonly store: Store) {}

  /**
   * Makes sure an admin can log in. Given a user name and password (from the environment) that
   * user is an admin with that password; with none, and no user yet, one is generated and returned
   * to be shown once. Returns the generated password, or null.
   */
  async ensureAdmin(
    username?: string,
    password?: string,
  ): Promise<{ username: string; password: string } | null> {
    if (password) {
      const name = username ?? "admin";
      // Several instances may start at once on an empty database: the user may appear between the
      // read and the write, and then is updated like an existing one.
      const existing =
        (await this.store.auth.getUser(name)) ??
        ((await this.store.auth.addUser(await this.newUser(name, password, Role.Admin)))
          ? null
          : await this.store.auth.getUser(name));
      if (!existing) return null;
      if (!(await passwordMatches(password, existing.hash))) await this.setPassword(name, password);
      if (existing.role !== Role.Admin) await this.store.auth.changeRole(name, Role.Admin);
      return null;
    }
    if ((await this.store.auth.listUsers()).length > 0) return null;
    const generated = { username: username ?? "admin", password: randomBytes(18).toString("base64url") };
    // Conditional: of instances starting at once on an empty database, one creates the admin and
    // shows its password; the others find a user.
    const added = await this.store.auth.addFirstUser(
      await this.newUser(generated.username, generated.password, Role.Admin),
    );
    return added ? generated : null;
  }

  private async newUser(username: string, password: string, role: Role): Promise<UserRecord> {
    return { id: randomUUID(), username, role, hash: await hashPassword(password), createdAt: new Date() };
  }

  /** Adds a user; a 409 when the name is taken. */
  async addUser(username: string, password: string, role: Role): Promise<void> {
    const added = await this.store.auth.addUser(await this.newUser(username, password, role));
    if (!added) throw new WebJobsError(ErrorCode.Conflict, `A user named '${username}' exists.`);
  }

  /** Sets a user's password and ends its sessions. */
  async setPassword(username: string, password: string): Promise<void> {
    if (!(await this.store.auth.setUserPassword(username, await hashPassword(password)))) {
      throw new WebJobsError(ErrorCode.NotFound, `No user '${username}'.`);
    }
    this.forget();
  }

  /** Creates an API token; the secret is returned here and never again. */
  async createToken(
    label: string,
    role: Role = Role.Admin,
    jobs: string[] | null = null,
  ): Promise<{ id: string; token: string }> {
    const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
    const id = randomUUID();
    await this.store.auth.addToken({ id, label, role, jobs, hash: sha256(token), createdAt: new Date() });
    return { id, token };
  }

  async verifyPassword(username: string, password: string): Promise<Principal | null> {
    const user = await this.store.auth.getUser(username);
    if (!user) return null;
    // The stored hash is part of the key: once the password changes (through any instance), the
    // old password's remembered check no longer matches.
    const cacheKey = sha256(`${username}\0${password}\0${user.hash}`);
    const until = this.verified.get(cacheKey);
    if (!(until && until > Date.now())) {
      if (!(await passwordMatches(password, user.hash))) return null;
      this.verified.set(cacheKey, Date.now() + CACHE_MS);
    }
    return { kind: PrincipalKind.Password, name: user.username, role: user.role, jobs: null };
  }

  async verifyToken(token: string): Promise<Principal | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const match = await this.store.auth.findTokenByHash(sha256(token));
    return match
      ? {
          kind: PrincipalKind.Token,
          name: match.label,
          role: match.role,
          jobs: match.jobs,
          tokenId: match.id,
        }
      : null;
  }

  /** Forgets cached password checks (after a password change). */
  forget(): void {
    this.verified.clear();
  }

  /** Failed logins are counted in the store, for every instance on it (see failure-delay.ts). */
  recordLoginFailure(address: string, windowMs: number): Promise<number> {
    return this.store.auth.recordLoginFailure(address, windowMs);
  }

  pruneLoginFailures(windowMs: number): Promise<number> {
    return this.store.auth.pruneLoginFailures(windowMs);
  }
}
