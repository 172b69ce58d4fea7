import { createHash, randomBytes, randomUUID, scrypt, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { CredentialKind, type Store } from "../store/types.ts";

/**
 * Users and API tokens. Only hashes are stored: scrypt for passwords (slow on purpose), sha256
 * for tokens (they are 256 random bits, so a fast hash is enough). Successful password checks are
 * remembered for a few minutes so that a busy client does not pay for scrypt on every request.
 */
const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const TOKEN_PREFIX = "wj_";
const CACHE_MS = 5 * 60_000;

export interface Principal {
  kind: CredentialKind;
  name: string;
}

async function hashPassword(password: string): Promise<string> {
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

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export class Credentials {
  private readonly verified = new Map<string, number>();

  constructor(private readonly store: Store) {}

  /**
   * Makes sure an admin can log in. Given a user name and password (from the environment) the
   * password is set to it; with none, and no user yet, one is generated and returned to be shown
   * once. Returns the generated password, or null.
   */
  async ensureAdmin(
    username?: string,
    password?: string,
  ): Promise<{ username: string; password: string } | null> {
    const users = await this.store.listCredentials(CredentialKind.Password);
    if (password) {
      const name = username ?? "admin";
      const existing = users.find((u) => u.username === name);
      if (existing && (await passwordMatches(password, existing.hash))) return null;
      if (existing) await this.store.deleteCredential(existing.id);
      await this.addUser(name, password);
      return null;
    }
    if (users.length > 0) return null;
    const generated = { username: username ?? "admin", password: randomBytes(18).toString("base64url") };
    await this.addUser(generated.username, generated.password);
    return generated;
  }

  async addUser(username: string, password: string): Promise<void> {
    await this.store.addCredential({
      id: randomUUID(),
      kind: CredentialKind.Password,
      username,
      hash: await hashPassword(password),
      createdAt: new Date(),
    });
  }

  /** Creates an API token; the secret is returned here and never again. */
  async createToken(label: string): Promise<{ id: string; token: string }> {
    const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
    const id = randomUUID();
    await this.store.addCredential({
      id,
      kind: CredentialKind.Token,
      username: label,
      hash: sha256(token),
      createdAt: new Date(),
    });
    return { id, token };
  }

  async verifyPassword(username: string, password: string): Promise<Principal | null> {
    const cacheKey = sha256(`${username}\0${password}`);
    const until = this.verified.get(cacheKey);
    if (until && until > Date.now()) return { kind: CredentialKind.Password, name: username };
    const users = await this.store.listCredentials(CredentialKind.Password);
    for (const user of users) {
      if (user.username === username && (await passwordMatches(password, user.hash))) {
        this.verified.set(cacheKey, Date.now() + CACHE_MS);
        return { kind: CredentialKind.Password, name: username };
      }
    }
    return null;
  }

  async verifyToken(token: string): Promise<Principal | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const hash = sha256(token);
    const tokens = await this.store.listCredentials(CredentialKind.Token);
    const match = tokens.find(
      (t) => t.hash.length === hash.length && timingSafeEqual(Buffer.from(t.hash), Buffer.from(hash)),
    );
    return match ? { kind: CredentialKind.Token, name: match.username } : null;
  }

  /** Forgets cached password checks (after a password change). */
  forget(): void {
    this.verified.clear();
  }
}
