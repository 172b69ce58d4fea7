import type { FastifyReply, FastifyRequest } from "fastify";
import type { Principal } from "../auth/credentials.ts";
import type { Sessions } from "../auth/sessions.ts";

/** The browser session's cookie: HttpOnly (no script reads it), SameSite=Strict, Secure over TLS. */
export const SESSION_COOKIE = "webjobs_session";

export async function sessionPrincipal(
  sessions: Sessions | undefined,
  request: FastifyRequest,
): Promise<Principal | null> {
  const id = request.cookies?.[SESSION_COOKIE];
  return sessions && id ? sessions.principal(id) : null;
}

/**
 * A browser says so with `Sec-Fetch-Site` (every current browser, on https and loopback) or, from
 * the dashboard's own scripts, `X-Requested-With`. Node's fetch sends `Sec-Fetch-Mode` but never
 * `Sec-Fetch-Site`, so API clients are told apart.
 */
const fromBrowser = (request: FastifyRequest) =>
  request.headers["sec-fetch-site"] !== undefined || request.headers["x-requested-with"] !== undefined;

/** A page the user navigates to (an address typed, a log link opened), as opposed to a script's fetch. */
function isNavigation(request: FastifyRequest): boolean {
  if (request.method !== "GET") return false;
  if (request.headers["sec-fetch-site"] !== undefined)
    return request.headers["sec-fetch-mode"] === "navigate";
  return request.headers["x-requested-with"] === undefined && /text\/html/.test(request.headers.accept ?? "");
}

/**
 * Turns the 401 of a request without valid credentials (auth.ts answers with the Basic challenge,
 * which Kudu's clients expect) into what a browser needs: a page the user navigates to is sent to
 * the dashboard's login page, which brings it back afterwards; a script of the dashboard gets the
 * 401 without the challenge, which would make the browser show its own password prompt.
 */
export async function browserUnauthorized(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): Promise<unknown> {
  if (reply.statusCode !== 401 || !reply.hasHeader("www-authenticate")) return payload;
  if (isNavigation(request)) {
    reply.removeHeader("www-authenticate");
    reply.code(303).header("location", `/#/login?next=${encodeURIComponent(request.url)}`);
    reply.header("content-type", "text/plain; charset=utf-8");
    return "See the login page.";
  }
  if (fromBrowser(request)) reply.removeHeader("www-authenticate");
  return payload;
}
