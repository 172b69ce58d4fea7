import path from "node:path";
import { resolveTimeZone, ScheduleError } from "@webjobs/schedule";
import { z } from "zod";
import { ErrorCode, WebJobsError } from "./errors.ts";
import { parsePassivePorts } from "./ftp/passive-ports.ts";

/**
 * Host configuration: one schema, read once at start-up from command-line options and the
 * environment (options win), producing a fully resolved object with every default filled in.
 * The `WEBJOBS_*` names are Kudu's where Kudu has one.
 */
const MB = 1024 * 1024;

const boolish = z.string().transform((v) => ["1", "true", "yes", "on"].includes(v.trim().toLowerCase()));

const seconds = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a number of seconds` })
    .int(`${what} must be a whole number of seconds`)
    .positive(`${what} must be greater than 0`);

const publicUrlSchema = z
  .string()
  .trim()
  .transform((text, context) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      context.addIssue({
        code: "custom",
        message: "must be an absolute URL such as https://jobs.example.com",
      });
      return z.NEVER;
    }
    if (!["http:", "https:"].includes(url.protocol) || url.search || url.hash || url.username) {
      context.addIssue({ code: "custom", message: "must be an http(s) URL without query, fragment or user" });
      return z.NEVER;
    }
    return url.href.replace(/\/+$/, "");
  });

const databaseUrlSchema = z
  .string()
  .trim()
  .regex(
    /^postgres(ql)?:\/\//,
    "must be a PostgreSQL URL such as postgres://user:password@db.example.com/webjobs",
  );

const configSchema = z.object({
  host: z.string().min(1).default("127.0.0.1"),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  dataDir: z.string().min(1).default("./data"),
  siteDir: z.string().min(1).optional(),
  historySize: z.coerce.number().int().min(1).default(30),
  idleTimeoutSec: seconds("WEBJOBS_IDLE_TIMEOUT").default(120),
  restartTimeSec: seconds("WEBJOBS_RESTART_TIME").default(60),
  stableRunSec: seconds("WEBJOBS_STABLE_RUN").default(60),
  restartBackoffMs: z.coerce.number().int().min(0).default(1000),
  crashLoopRestarts: z.coerce.number().int().min(1).default(5),
  stopped: boolish.default(false),
  disableSchedule: boolish.default(false),
  // The default zone of schedules: an IANA name or a Windows id (as on Azure), else UTC.
  timeZone: z
    .string()
    .default("UTC")
    .transform((name, context) => {
      try {
        return resolveTimeZone(name.trim());
      } catch (error) {
        if (!(error instanceof ScheduleError)) throw error;
        context.addIssue({ code: "custom", message: error.message });
        return z.NEVER;
      }
    }),
  maxUploadBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(100 * MB),
  zipMaxEntries: z.coerce.number().int().positive().default(10_000),
  zipMaxUnpackedBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * MB),
  runLogMaxBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(100 * MB),
  continuousLogMaxBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * MB),
  continuousLogFiles: z.coerce.number().int().min(1).default(5),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  watchDebounceMs: z.coerce.number().int().min(0).default(1000),
  instanceId: z.string().min(1).optional(),
  // The branch a git push deploys (others are stored only); Kudu's `deployment_branch`.
  deploymentBranch: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, "must be a plain branch name such as main")
    .default("main"),
  // TLS: PEM files; without them the host refuses non-loopback addresses unless insecureHttp.
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  insecureHttp: boolish.default(false),
  // FTP(S) on the site folder: off unless a port is given; TLS from tlsCert/tlsKey (ftp/ftp-server.ts).
  ftpPort: z.coerce.number().int().min(0).max(65535).optional(),
  ftpPassivePorts: z
    .string()
    .default("30000-30009")
    .transform((value, context) => {
      const range = parsePassivePorts(value);
      if (!range) context.addIssue({ code: "custom", message: "must be a port range such as 30000-30009" });
      return range ?? { min: 0, max: 0 };
    }),
  // The key of secret app settings (32 bytes, base64 or hex); else <data>/secret.key.
  secretKey: z.string().min(1).optional(),
  sessionHours: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(12),
  auditRetentionDays: z.coerce.number().positive().default(90),
  // The longest wait before the answer to a failed login (0: none); see auth/failure-delay.ts.
  loginDelayMaxMs: z.coerce.number().int().min(0).max(60_000).default(5000),
  // The address clients use (a reverse proxy's): URLs in the JSON and Location headers start
  // with it; by default the address the host listens on. Never the request's Host header.
  publicUrl: publicUrlSchema.optional(),
  // How job processes are contained; see runs/containment/.
  containment: z.enum(["auto", "cgroup", "proc"]).default("auto"),
  // When the host runs as root: the user jobs run as.
  runAs: z.string().min(1).optional(),
  // The store: a PostgreSQL URL shared by several instances; unset, SQLite in the data folder.
  database: databaseUrlSchema.optional(),
  // An instance silent for this long is declared dead (by the store's clock) and its runs closed.
  instanceTimeoutSec: seconds("WEBJOBS_INSTANCE_TIMEOUT").default(10),
  // POST /api/command, Kudu's remote shell: off unless the operator turns it on, then admins only.
  enableCommand: boolish.default(false),
  // A command still running after this long is killed with its process group (Kudu: 10 min).
  commandTimeoutSec: seconds("WEBJOBS_COMMAND_TIMEOUT").default(600),
  // Past this many bytes of stdout or stderr, the command is stopped and its output truncated.
  commandMaxOutputBytes: z.coerce.number().int().positive().default(MB),
});

export type HostConfig = Omit<z.output<typeof configSchema>, "siteDir"> & { siteDir: string };
export type ConfigInput = Partial<Record<keyof z.input<typeof configSchema>, string | number | boolean>>;

/** Environment variable for each option. */
export const configEnv: Record<keyof z.input<typeof configSchema>, string> = {
  host: "WEBJOBS_HTTP_HOST",
  port: "WEBJOBS_HTTP_PORT",
  dataDir: "WEBJOBS_DATA_DIR",
  siteDir: "WEBJOBS_SITE_DIR",
  historySize: "WEBJOBS_HISTORY_SIZE",
  idleTimeoutSec: "WEBJOBS_IDLE_TIMEOUT",
  restartTimeSec: "WEBJOBS_RESTART_TIME",
  stableRunSec: "WEBJOBS_STABLE_RUN",
  restartBackoffMs: "WEBJOBS_RESTART_BACKOFF_MS",
  crashLoopRestarts: "WEBJOBS_CRASH_LOOP_RESTARTS",
  stopped: "WEBJOBS_STOPPED",
  disableSchedule: "WEBJOBS_DISABLE_SCHEDULE",
  timeZone: "WEBSITE_TIME_ZONE",
  maxUploadBytes: "WEBJOBS_MAX_UPLOAD_BYTES",
  zipMaxEntries: "WEBJOBS_ZIP_MAX_ENTRIES",
  zipMaxUnpackedBytes: "WEBJOBS_ZIP_MAX_UNPACKED_BYTES",
  runLogMaxBytes: "WEBJOBS_RUN_LOG_MAX_BYTES",
  continuousLogMaxBytes: "WEBJOBS_CONTINUOUS_LOG_MAX_BYTES",
  continuousLogFiles: "WEBJOBS_CONTINUOUS_LOG_FILES",
  username: "WEBJOBS_USERNAME",
  password: "WEBJOBS_PASSWORD",
  watchDebounceMs: "WEBJOBS_WATCH_DEBOUNCE_MS",
  instanceId: "WEBJOBS_INSTANCE_ID",
  deploymentBranch: "WEBJOBS_DEPLOYMENT_BRANCH",
  tlsCert: "WEBJOBS_TLS_CERT",
  tlsKey: "WEBJOBS_TLS_KEY",
  insecureHttp: "WEBJOBS_INSECURE_HTTP",
  ftpPort: "WEBJOBS_FTP_PORT",
  ftpPassivePorts: "WEBJOBS_FTP_PASSIVE_PORTS",
  secretKey: "WEBJOBS_SECRET_KEY",
  sessionHours: "WEBJOBS_SESSION_HOURS",
  auditRetentionDays: "WEBJOBS_AUDIT_RETENTION_DAYS",
  loginDelayMaxMs: "WEBJOBS_LOGIN_DELAY_MAX_MS",
  publicUrl: "WEBJOBS_PUBLIC_URL",
  containment: "WEBJOBS_CONTAINMENT",
  runAs: "WEBJOBS_RUN_AS",
  database: "WEBJOBS_DATABASE_URL",
  instanceTimeoutSec: "WEBJOBS_INSTANCE_TIMEOUT",
  enableCommand: "WEBJOBS_ENABLE_COMMAND",
  commandTimeoutSec: "WEBJOBS_COMMAND_TIMEOUT",
  commandMaxOutputBytes: "WEBJOBS_COMMAND_MAX_OUTPUT_BYTES",
};

export function resolveConfig(options: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): HostConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, envName] of Object.entries(configEnv)) {
    const value = options[key as keyof ConfigInput] ?? env[envName];
    if (value !== undefined && value !== "") raw[key] = typeof value === "boolean" ? String(value) : value;
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0]) as keyof typeof configEnv;
    throw new WebJobsError(
      ErrorCode.BadRequest,
      `Invalid configuration ${configEnv[key] ?? key} (${key}): ${issue.message}; got ${JSON.stringify(raw[key])}`,
    );
  }
  const dataDir = path.resolve(parsed.data.dataDir);
  return {
    ...parsed.data,
    dataDir,
    siteDir: path.resolve(parsed.data.siteDir ?? path.join(dataDir, "site")),
  };
}
