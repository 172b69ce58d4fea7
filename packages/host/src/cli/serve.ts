import type { Command } from "commander";
import { resolveConfig } from "../config.ts";
import { Host } from "../host.ts";
import { isConnectionError } from "../store/unavailable.ts";
import { securityConfig, withSecurityOptions } from "./serve-security.ts";

interface ServeOptions {
  host?: string;
  port?: string;
  data?: string;
  site?: string;
  publicUrl?: string;
  database?: string;
  ftpPort?: string;
  ftpPassivePorts?: string;
}

/**
 * `webjobs serve`: runs the host until SIGTERM/SIGINT. The first signal stops gracefully (jobs get
 * their shutdown file, SIGTERM and grace time) and exits 0; a second one kills every job now.
 */
export function registerServe(program: Command): void {
  withSecurityOptions(program.command("serve"))
    .description("Run the host: API, dashboard, runner and supervisor")
    .option("--host <host>", "address to listen on (WEBJOBS_HTTP_HOST, default 127.0.0.1)")
    .option("--port <port>", "port to listen on (WEBJOBS_HTTP_PORT, default 8080)")
    .option("--data <dir>", "data folder (WEBJOBS_DATA_DIR, default ./data)")
    .option("--site <dir>", "site folder holding App_Data/jobs (WEBJOBS_SITE_DIR, default <data>/site)")
    .option("--public-url <url>", "the URL clients reach the host at (WEBJOBS_PUBLIC_URL)")
    .option(
      "--ftp-port <port>",
      "serve the site folder over FTP(S) on this port (WEBJOBS_FTP_PORT; off by default)",
    )
    .option(
      "--ftp-passive-ports <range>",
      "FTP passive data ports (WEBJOBS_FTP_PASSIVE_PORTS, default 30000-30009)",
    )
    .option(
      "--database <url>",
      "PostgreSQL store shared by several hosts, postgres://… (WEBJOBS_DATABASE_URL)",
    )
    .action(async (options: ServeOptions) => {
      const config = resolveConfig({
        host: options.host,
        port: options.port,
        dataDir: options.data,
        siteDir: options.site,
        ...securityConfig(options),
        publicUrl: options.publicUrl,
        ftpPort: options.ftpPort,
        ftpPassivePorts: options.ftpPassivePorts,
        database: options.database,
      });
      const host = new Host(config, {
        onGeneratedCredential: ({ username, password }) => {
          // Shown once: only its hash is stored.
          process.stdout.write(
            `\nCreated the admin credential (shown only once, only its hash is stored):\n` +
              `  user:     ${username}\n  password: ${password}\n` +
              `Set WEBJOBS_USERNAME / WEBJOBS_PASSWORD to choose your own.\n\n`,
          );
        },
      });
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals += 1;
        if (signals > 1) {
          host.log.warn({ signal }, "second signal: killing every job now");
          host.killAll();
          process.exit(1);
        }
        host.log.info({ signal }, "stopping: jobs get their grace time; send the signal again to force");
        host.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            host.log.error({ err: error }, "error while stopping");
            host.killAll();
            process.exit(1);
          },
        );
      };
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
      // The database out of reach must not end the host: background work that met it (a
      // heartbeat, a status write) is logged, and is done again once the database is back.
      // Anything else unhandled still ends the process, as Node does by default.
      process.on("unhandledRejection", (reason) => {
        if (isConnectionError(reason)) {
          host.log.warn({ err: reason }, "database unavailable (background work, tried again later)");
          return;
        }
        throw reason;
      });
      try {
        await host.start();
      } catch (error) {
        // Release what was taken (data folder lock, store) before saying why.
        await host.stop().catch(() => undefined);
        throw error;
      }
      host.log.info(
        { url: host.url, data: config.dataDir, site: config.siteDir, instance: host.instanceId },
        "webjobs is listening",
      );
    });
}
