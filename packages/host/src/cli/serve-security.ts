import type { Command } from "commander";
import type { ConfigInput } from "../config.ts";

/** `webjobs serve`'s TLS flags (each also an environment variable, see config.ts). */
export function withSecurityOptions(command: Command): Command {
  return command
    .option("--tls-cert <file>", "PEM certificate: serve HTTPS (WEBJOBS_TLS_CERT)")
    .option("--tls-key <file>", "PEM private key of the certificate (WEBJOBS_TLS_KEY)")
    .option(
      "--insecure-http",
      "allow plain HTTP on a non-loopback address, e.g. behind a TLS proxy (WEBJOBS_INSECURE_HTTP)",
    );
}

export function securityConfig(options: object): ConfigInput {
  const flags = options as { tlsCert?: string; tlsKey?: string; insecureHttp?: boolean };
  return { tlsCert: flags.tlsCert, tlsKey: flags.tlsKey, insecureHttp: flags.insecureHttp };
}
