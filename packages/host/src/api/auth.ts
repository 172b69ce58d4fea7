import type { FastifyReply, FastifyRequest } from "fastify";
import type { Credentials, Principal } from "../auth/credentials.ts";
import { isPublicRoute } from "./route-rules.ts";
import { errorBody } from "./errors.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** Routes anyone may call: the health probe only. */
const MAX_FAILURES = 20;
const FAILURE_WINDOW_MS = 60_000;

/**
 * Slows down password guessing: after `max` failed logins from one address within the window,
 * that address gets 429 until the window ends. Kept in memory; a restart forgets it.
 */
class FailureLimiter {
  private readonly byAddress = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  record(address: string): void {
    const now = Date.now();
    const entry = this.byAddress.get(address);
    if (!entry || entry.until <= now) this.byAddress.set(address, { count: 1, until: now + this.windowMs });
    else entry.count += 1;
    if (this.byAddress.size > 10_000) this.prune(now);
  }

  /** Milliseconds the address must still wait, or 0. */
  blockedFor(address: string): number {
    const entry = this.byAddress.get(address);
    if (!entry || entry.count < this.max) return 0;
    return Math.max(0, entry.until - Date.now());
  }

  private prune(now: number): void {
    for (const [address, entry] of this.byAddress) if (entry.until <= now) this.byAddress.delete(address);
  }
}

const publicPaths = new Set(["/api/health"]);

/**
 * Every route but health needs credentials: HTTP Basic (what Kudu clients send) or a bearer API
 * token. A browser gets the Basic challenge, so the dashboard works without a login page.
 */
export function authHook(credentials: Credentials) {
  const failures = new FailureLimiter(MAX_FAILURES, FAILURE_WINDOW_MS);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const path = request.url.split("?")[0];
    // Public routes (route-rules.ts) need nothing; a valid session cookie (security.ts) is enough.
    if (publicPaths.has(path) || isPublicRoute(request) || request.principal) return;
    const retryAfter = failures.blockedFor(request.ip);
    if (retryAfter > 0) {
      await reply
        .code(429)
        .header("retry-after", Math.ceil(retryAfter / 1000))
        .send(errorBody("too_many_failures", "Too many failed logins from this address; try again later."));
      return;
    }
    request.principal = await authenticate(credentials, request.headers.authorization);
    if (request.principal) return;
    // A request without credentials is a browser asking for the login prompt, not a guess.
    if (request.headers.authorization) failures.record(request.ip);
    await reply
      .code(401)
      .header("www-authenticate", 'Basic realm="webjobs", charset="UTF-8"')
      .send(
        errorBody(
          "unauthorized",
          "Authentication required: use HTTP Basic credentials or a bearer API token.",
        ),
      );
  };
}

async function authenticate(credentials: Credentials, header: string | undefined): Promise<Principal | null> {
  if (!header) return null;
  const [scheme, value] = header.split(" ", 2);
  if (!value) return null;
  if (scheme.toLowerCase() === "bearer") return credentials.verifyToken(value.trim());
  if (scheme.toLowerCase() !== "basic") return null;
  const decoded = Buffer.from(value.trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return credentials.verifyPassword(decoded.slice(0, colon), decoded.slice(colon + 1));
}
