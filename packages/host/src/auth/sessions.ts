import { randomBytes } from "node:crypto";
import type { Store } from "../store/types.ts";
import { PrincipalKind, sha256, type Principal } from "./credentials.ts";

/**
 * Browser sessions: the login page exchanges a user's password for a random id kept in an
 * HttpOnly cookie. Only the id's sha256 is stored, so reading the database gives no session; the
 * user's role is read on every request, so a role change or a removal applies at once.
 */
export class Sessions {
  constructor(
    private readonly store: Store,
    private readonly ttlMs: number,
  ) {}

  async create(username: string, address: string | null): Promise<{ id: string; expiresAt: Date }> {
    const id = randomBytes(32).toString("base64url");
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    await this.store.auth.addSession({ idHash: sha256(id), username, address, createdAt: now, expiresAt });
    return { id, expiresAt };
  }

  /** The principal behind a cookie's value, or null when it is unknown, expired or its user gone. */
  async principal(id: string): Promise<(Principal & { expiresAt: Date }) | null> {
    if (!/^[\w-]{43}$/.test(id)) return null;
    const session = await this.store.auth.getSession(sha256(id), new Date());
    if (!session) return null;
    const user = await this.store.auth.getUser(session.username);
    if (!user) return null;
    return {
      kind: PrincipalKind.Session,
      name: user.username,
      role: user.role,
      jobs: null,
      expiresAt: session.expiresAt,
    };
  }

  async end(id: string): Promise<void> {
    await this.store.auth.deleteSession(sha256(id));
  }
}
