import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";

declare module "fastify" {
  interface FastifyInstance {
    /** The origin every absolute URL the API writes starts with (JSON, Location). */
    publicUrl: () => string;
  }
}

const WILDCARDS = new Set(["0.0.0.0", "::", "0:0:0:0:0:0:0:0"]);

/**
 * The URL clients reach the host at, when no public URL is configured: the address it listens
 * on. The request's Host header is never used: anyone can write one, and a URL built from it
 * (a run's Location, `output_url`, web hook payloads) would send clients to the attacker's
 * address. An address that means "every interface" is no address to give out; loopback stands
 * in for it, and the host warns at start that `--public-url` should be set.
 */
export function listeningUrl(
  address: AddressInfo | string | null,
  fallback: { host: string; port: number; tlsCert?: string },
) {
  // With a certificate the host speaks HTTPS only (tls/tls-options.ts).
  const scheme = fallback.tlsCert ? "https" : "http";
  if (!address || typeof address === "string") return formatUrl(scheme, fallback.host, fallback.port);
  const host = WILDCARDS.has(address.address)
    ? address.family === "IPv6"
      ? "::1"
      : "127.0.0.1"
    : address.address;
  return formatUrl(scheme, host, address.port);
}

export const listensOnWildcard = (host: string) => WILDCARDS.has(host);

function formatUrl(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

export function decoratePublicUrl(
  app: FastifyInstance,
  config: { publicUrl?: string; host: string; port: number; tlsCert?: string },
): void {
  app.decorate("publicUrl", () => config.publicUrl ?? listeningUrl(app.server.address(), config));
}
