import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { ErrorCode, WebJobsError } from "../errors.ts";

interface TlsConfig {
  host: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureHttp: boolean;
}

/** The certificate and key for Fastify's `https` option, or nothing for plain HTTP. */
export function tlsServerOptions(config: TlsConfig): { https: { cert: Buffer; key: Buffer } } | object {
  if (!config.tlsCert && !config.tlsKey) return {};
  if (!config.tlsCert || !config.tlsKey) {
    throw new WebJobsError(
      ErrorCode.BadRequest,
      "TLS needs both --tls-cert and --tls-key (WEBJOBS_TLS_CERT, WEBJOBS_TLS_KEY): only one was given.",
    );
  }
  return { https: { cert: readPem(config.tlsCert, "--tls-cert"), key: readPem(config.tlsKey, "--tls-key") } };
}

function readPem(file: string, option: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new WebJobsError(
      ErrorCode.BadRequest,
      `Cannot read ${option} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** Loopback addresses: what only this machine can reach. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || bare.startsWith("::ffff:127.");
  return false;
}

/**
 * Refuses to listen beyond loopback over plain HTTP: Basic credentials and session cookies would
 * cross the network in clear. `--insecure-http` says the user knows (a TLS proxy in front, say).
 */
export function checkListenPolicy(config: TlsConfig): void {
  if (config.tlsCert || config.insecureHttp || isLoopback(config.host)) return;
  throw new WebJobsError(
    ErrorCode.BadRequest,
    `Refusing to listen on ${config.host} over plain HTTP: passwords and tokens would cross the network in clear. ` +
      "Give a certificate (--tls-cert FILE --tls-key FILE), listen on 127.0.0.1, or pass --insecure-http " +
      "(WEBJOBS_INSECURE_HTTP=1) when a TLS proxy stands in front.",
  );
}
