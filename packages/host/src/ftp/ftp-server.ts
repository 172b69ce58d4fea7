import type { EventEmitter } from "node:events";
import { mkdir } from "node:fs/promises";
import type { AddressInfo, Server, Socket } from "node:net";
import os from "node:os";
import { FtpSrv, type FtpConnection } from "ftp-srv";
import type { Logger } from "pino";
import type { Credentials } from "../auth/credentials.ts";
import { FailureDelay } from "../auth/failure-delay.ts";
import { Permission, roleAllows } from "../auth/roles.ts";
import { ErrorCode, WebJobsError } from "../errors.ts";
import { isLoopback, tlsServerOptions } from "../tls/tls-options.ts";
import type { SiteUploads } from "../jobs/site-uploads.ts";
import { SiteFileSystem } from "./site-file-system.ts";
import { ConnectionUploads } from "./upload-tracking.ts";

/** The FTP side of the host's configuration (config.ts). */
export interface FtpConfig {
  host: string;
  ftpPort?: number;
  ftpPassivePorts: { min: number; max: number };
  siteDir: string;
  tlsCert?: string;
  tlsKey?: string;
  loginDelayMaxMs: number;
}

/** What a reader may not send: every command that changes the site (refused before the file system). */
const WRITE_COMMANDS = ["STOR", "STOU", "APPE", "DELE", "MKD", "RMD", "RNFR", "RNTO", "SITE", "ALLO"];

/**
 * The site folder over FTP with explicit TLS (AUTH TLS), as App Service offers it: the same users
 * and passwords as the API; admins and operators read and write, readers only read. Off unless a
 * port is given. A job folder uploaded under `App_Data/jobs/` is installed by the site watcher like
 * any folder copied there (debounced per job). Beyond loopback it refuses to start without TLS, as
 * the HTTP side does: FTP sends the password in clear otherwise.
 */
export class FtpService {
  private server: FtpSrv | null = null;
  private readonly uploadsByConnection = new Map<string, ConnectionUploads>();
  private readonly failures: FailureDelay;

  constructor(
    private readonly config: FtpConfig,
    private readonly credentials: Credentials,
    private readonly log: Logger,
    /** Uploads in progress, which the site watcher waits for before installing a job folder. */
    private readonly uploads: SiteUploads | null = null,
  ) {
    this.failures = new FailureDelay({ maxDelayMs: config.loginDelayMaxMs, counter: credentials });
  }

  get enabled(): boolean {
    return this.config.ftpPort !== undefined;
  }

  /** The port the FTP server listens on (the real one when 0 was asked for), or null when off. */
  get port(): number | null {
    const server = (this.server as unknown as { server?: Server } | null)?.server;
    const address = server?.address() as AddressInfo | null | undefined;
    return address ? address.port : null;
  }

  async start(): Promise<void> {
    if (this.server || this.config.ftpPort === undefined) return;
    const tls = tlsServerOptions({ ...this.config, insecureHttp: false });
    const secure = "https" in tls ? tls.https : null;
    if (!secure && !isLoopback(this.config.host)) {
      throw new WebJobsError(
        ErrorCode.BadRequest,
        `Refusing to serve FTP on ${this.config.host} without TLS: passwords would cross the network in clear. ` +
          "Give a certificate (--tls-cert FILE --tls-key FILE), which FTP clients then use through AUTH TLS, " +
          "or listen on 127.0.0.1.",
      );
    }
    await mkdir(this.config.siteDir, { recursive: true });
    const host = this.config.host === "localhost" ? "127.0.0.1" : this.config.host;
    const server = new FtpSrv({
      url: `ftp://${host.includes(":") ? `[${host}]` : host}:${this.config.ftpPort}`,
      pasv_min: this.config.ftpPassivePorts.min,
      pasv_max: this.config.ftpPassivePorts.max,
      // ftp-srv calls it with the client's address (the type says string; a function is supported).
      pasv_url: ((clientIp: string) => passiveAddress(host, clientIp)) as unknown as string,
      tls: secure ?? false,
      anonymous: false,
      greeting: "webjobs: the site folder over FTP" + (secure ? " (send AUTH TLS before logging in)" : ""),
      // Its own log reports every failed login as an error; we log what matters ourselves.
      log: this.log.child({ component: "ftp" }, { level: "fatal" }),
      timeout: 10 * 60_000,
    });
    if (secure) {
      // ftp-srv emits "connect" (before reading the connection) but its types do not list it.
      (server as unknown as EventEmitter).on("connect", ({ connection }: { connection: FtpConnection }) =>
        holdHandshakeUntilWrapped(connection),
      );
    }
    server.on("login", ({ connection, username, password }, resolve, reject) => {
      this.login(connection, username, password, secure !== null).then(resolve, reject);
    });
    // An upload the client left unfinished never finishes: it must not hold its job folder back.
    server.on("disconnect", ({ id }) => {
      this.uploadsByConnection.get(id)?.abandon();
      this.uploadsByConnection.delete(id);
    });
    server.on("client-error", ({ context, error }) => {
      this.log.debug({ component: "ftp", context, err: error.message }, "FTP client error");
    });
    try {
      await server.listen();
    } catch (error) {
      await server.close().catch(() => undefined);
      throw new WebJobsError(
        ErrorCode.BadRequest,
        `Cannot listen for FTP on ${host}:${this.config.ftpPort}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.server = server;
    this.log.info(
      { component: "ftp", port: this.port, tls: secure !== null, passivePorts: this.config.ftpPassivePorts },
      "FTP server listening on the site folder",
    );
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    await server?.close();
  }

  private async login(
    connection: FtpConnection,
    username: string,
    password: string,
    tlsRequired: boolean,
  ): Promise<{ fs: SiteFileSystem; blacklist: string[] }> {
    if (tlsRequired && !connection.secure) {
      throw new Error("TLS required: send AUTH TLS before logging in (explicit FTPS).");
    }
    const principal = await this.credentials.verifyPassword(username, password);
    if (!principal) {
      const delay = await this.failures.fail(connection.ip);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      this.log.info({ component: "ftp", user: username, ip: connection.ip }, "FTP login refused");
      throw new Error("Login incorrect.");
    }
    const writable = roleAllows(principal.role, Permission.Operate);
    this.log.info(
      { component: "ftp", user: principal.name, role: principal.role, ip: connection.ip },
      "FTP login",
    );
    let uploads: ConnectionUploads | null = null;
    if (writable && this.uploads) {
      uploads = new ConnectionUploads(this.uploads);
      this.uploadsByConnection.set(connection.id, uploads);
    }
    return {
      fs: new SiteFileSystem(connection, this.config.siteDir, writable, uploads),
      blacklist: writable ? [] : WRITE_COMMANDS,
    };
  }
}

/** What holdHandshakeUntilWrapped uses of ftp-srv's connection (not in its types). */
interface ConnectionInternals {
  /** Node's own handle of a TCP socket (internal): reading stops there, not just in the stream. */
  commandSocket: Socket & { _handle?: { reading: boolean; readStop(): number } | null };
  commands: { handle(command: unknown): unknown };
}

/**
 * ftp-srv answers AUTH TLS with 234 and wraps the command socket in TLS only a few event-loop turns
 * later (its promises resolve on setImmediate). A client that starts its handshake as soon as it
 * reads 234, as curl does, could have its ClientHello read in between, taken for a command and
 * answered in clear: the client failed with "wrong version number" (a third of curl's uploads on a
 * busy machine). The socket stops reading before the answer, so those bytes wait in the kernel until
 * the TLS socket that wraps it starts reading them. (Pausing the stream is not enough: Node hands a
 * paused socket's buffered bytes to TLS by reading them, which emits them as data too, and ftp-srv
 * then answered them as a command, over TLS, in place of the next answer.)
 */
function holdHandshakeUntilWrapped(connection: FtpConnection): void {
  const internals = connection as unknown as ConnectionInternals;
  const commands = internals.commands;
  const handle = commands.handle.bind(commands);
  commands.handle = (command: unknown) => {
    if (typeof command === "string" && /^\s*AUTH\s+TLS\s*$/i.test(command) && !connection.secure) {
      const socket = internals.commandSocket;
      socket.pause();
      if (socket._handle) {
        socket._handle.reading = false;
        socket._handle.readStop();
      }
    }
    return handle(command);
  };
}

/**
 * The IPv4 address a PASV answer gives (EPSV, which most clients use first, needs none): the
 * address the server listens on, the loopback for a local client, or else this machine's first
 * external IPv4 address when it listens on every address.
 */
function passiveAddress(host: string, clientIp: string): string {
  const client = clientIp.replace(/^::ffff:/, "");
  if (isLoopback(client)) return "127.0.0.1";
  if (host !== "0.0.0.0" && host !== "::" && !host.includes(":")) return host;
  for (const addresses of Object.values(os.networkInterfaces())) {
    const external = addresses?.find((address) => address.family === "IPv4" && !address.internal);
    if (external) return external.address;
  }
  return "127.0.0.1";
}
