import type { FastifyReply, FastifyRequest } from "fastify";
import type { Credentials, Principal } from "../auth/credentials.ts";
import { isPublicRoute } from "./route-rules.ts";
import { FailureDelay } from "../auth/failure-delay.ts";
import { errorBody } from "./errors.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** Routes anyone may call: the health probe only. */
const publicPaths = new Set(["/api/health"]);

/**
 * Every route but health needs credentials: HTTP Basic (what Kudu clients send) or a bearer API
 * token. A browser gets the Basic challenge, so the dashboard works without a login page.
 */
export function authHook(credentials: Credentials, options: { loginDelayMaxMs: number }) {
  // Failed logins are slowed down, never the right one: a lockout would let anyone lock the admin out.
  // Counted in the store (through credentials): every instance on one database slows the same guesser.
  const failures = new FailureDelay({ maxDelayMs: options.loginDelayMaxMs, counter: credentials });
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const path = request.url.split("?")[0];
    // Public routes (route-rules.ts) need nothing; a valid session cookie (security.ts) is enough.
    if (publicPaths.has(path) || isPublicRoute(request) || request.principal) return;
    request.principal = await authenticate(credentials, request.headers.authorization);
    if (request.principal) return;
    // A request without credentials is a browser asking for the login prompt, not a guess.
    if (request.headers.authorization) {
      const delay = await failures.fail(request.ip);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    }
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
