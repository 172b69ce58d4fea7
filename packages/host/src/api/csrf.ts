import type { FastifyReply, FastifyRequest } from "fastify";
import { errorBody } from "./errors.ts";

/** Methods that never change state; every other one must come from the host's own pages. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Refuses state-changing requests that a browser sent from another origin.
 *
 * A browser that holds the dashboard's Basic credentials attaches them to every request to the
 * host, including a form POST or a `no-cors` fetch made by a page on another site: without this
 * check such a page could start runs, stop jobs or create tokens. Browsers say where a request
 * comes from (`Sec-Fetch-Site` in every current browser, `Origin` on every cross-origin POST);
 * only same-origin requests may change state. Clients that are not browsers (curl, the CLI, Kudu
 * tools, CI) send neither header and are not affected.
 */
export function crossSiteGuard(allowedOrigins: readonly string[] = []) {
  const allowed = new Set(allowedOrigins.map((origin) => origin.replace(/\/+$/, "").toLowerCase()));
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (SAFE_METHODS.has(request.method)) return;
    const refusal = crossSiteReason(request, allowed);
    if (!refusal) return;
    await reply
      .code(403)
      .send(
        errorBody(
          "cross_site_request",
          `Refused a ${request.method} from another origin (${refusal}): ` +
            "state changes are accepted only from the host's own pages or from clients that are not browsers.",
        ),
      );
  };
}

function crossSiteReason(request: FastifyRequest, allowed: ReadonlySet<string>): string | undefined {
  const fetchSite = header(request, "sec-fetch-site");
  // `none`: the user typed the address or used a bookmark; nothing forged it.
  if (fetchSite !== undefined && fetchSite !== "same-origin" && fetchSite !== "none") {
    return `Sec-Fetch-Site: ${fetchSite}`;
  }
  const origin = header(request, "origin");
  if (origin === undefined) return undefined;
  const normalized = origin.toLowerCase();
  if (normalized === ownOrigin(request) || allowed.has(normalized)) return undefined;
  return `Origin: ${origin}`;
}

/** The origin the browser addressed: it wrote the Host header itself, a page cannot forge it. */
function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.headers.host ?? ""}`.toLowerCase();
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
