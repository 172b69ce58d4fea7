import type { FastifyReply, FastifyRequest } from "fastify";
import type { Credentials, Principal } from "../auth/credentials.ts";
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
export function authHook(credentials: Credentials) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const path = request.url.split("?")[0];
    if (publicPaths.has(path)) return;
    request.principal = await authenticate(credentials, request.headers.authorization);
    if (request.principal) return;
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
