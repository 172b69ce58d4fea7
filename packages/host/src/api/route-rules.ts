import type { FastifyRequest } from "fastify";
import { Permission } from "../auth/roles.ts";

/**
 * What every route needs, in one table: the permission (a role holds every permission up to its
 * rank, auth/roles.ts), where the job it concerns is named (tokens limited to some jobs), and the
 * action recorded in the audit trail for requests that change something. access.ts enforces it
 * before any handler runs; audit.ts records after the answer. A route missing here is for admins
 * only (and the host logs it at start), so a new route is never open by mistake.
 */
export interface RouteRule {
  permission: Permission;
  /** Where the concerned job is named: the `:name` parameter, the vfs path, or `?job=`. */
  job?: "name" | "vfs" | "query";
  /** Action name in the audit trail. */
  audit?: string;
}

const P = Permission;
const rules = new Map<string, RouteRule>();
/** Sets the rule of every method × URL (each a space-separated list). */
const rule = (methods: string, urls: string, value: RouteRule) => {
  for (const method of methods.split(" "))
    for (const url of urls.split(" ")) rules.set(`${method} ${url}`, value);
};

// The dashboard's static files hold no data: the login page must load without credentials.
rule("GET", "/", { permission: P.Public });
rule("GET", "/assets/:file", { permission: P.Public });
rule("GET", "/api/health", { permission: P.Public });
rule("GET", "/api/openapi.json", { permission: P.Read });
rule("GET", "/metrics", { permission: P.Read });
rule("GET", "/api/events", { permission: P.Read });
rule("GET", "/api/runs", { permission: P.Read, job: "query" });
rule("GET", "/api/instances", { permission: P.Read });

// Sessions: logging in takes Basic credentials (checked like any other request); logging out needs
// nothing, so an expired session can still clear its cookie.
rule("POST", "/api/session", { permission: P.Authenticated, audit: "login" });
rule("GET", "/api/session", { permission: P.Authenticated });
rule("DELETE", "/api/session", { permission: P.Public, audit: "logout" });

rule("GET", "/api/users", { permission: P.Admin });
rule("POST", "/api/users", { permission: P.Admin, audit: "user_add" });
rule("PATCH", "/api/users/:username", { permission: P.Admin, audit: "user_change" });
rule("DELETE", "/api/users/:username", { permission: P.Admin, audit: "user_remove" });
rule("GET", "/api/tokens", { permission: P.Admin });
rule("POST", "/api/tokens", { permission: P.Admin, audit: "token_create" });
rule("DELETE", "/api/tokens/:id", { permission: P.Admin, audit: "token_revoke" });
rule("GET", "/api/audit", { permission: P.Admin });
rule("GET", "/api/hooks /api/hooks/:id", { permission: P.Read });
rule("POST", "/api/hooks", { permission: P.Admin, audit: "hook_add" });
rule("DELETE", "/api/hooks/:id", { permission: P.Admin, audit: "hook_remove" });

rule("GET", "/api/appsettings", { permission: P.Read });
rule("PUT", "/api/appsettings/:setting", { permission: P.Admin, audit: "app_setting_set" });
rule("DELETE", "/api/appsettings/:setting", { permission: P.Admin, audit: "app_setting_remove" });
rule("GET", "/api/webjobs/:name/appsettings", { permission: P.Read, job: "name" });
rule("PUT", "/api/webjobs/:name/appsettings/:setting", {
  permission: P.Operate,
  job: "name",
  audit: "app_setting_set",
});
rule("DELETE", "/api/webjobs/:name/appsettings/:setting", {
  permission: P.Operate,
  job: "name",
  audit: "app_setting_remove",
});

rule("GET", "/api/webjobs /api/triggeredwebjobs /api/continuouswebjobs", { permission: P.Read });
rule("GET", "/api/triggeredwebjobsswagger", { permission: P.Read });
rule("POST", "/api/schedule/preview", { permission: P.Read });
for (const type of ["triggered", "continuous"]) {
  const job = `/api/${type}webjobs/:name`;
  rule("GET", `${job} ${job}/settings`, { permission: P.Read, job: "name" });
  rule("PUT", job, { permission: P.Operate, job: "name", audit: "deploy" });
  rule("DELETE", job, { permission: P.Operate, job: "name", audit: "delete" });
  rule("PUT", `${job}/settings`, { permission: P.Operate, job: "name", audit: "job_settings" });
}
const triggered = "/api/triggeredwebjobs/:name";
rule("GET", `${triggered}/history ${triggered}/history/:id ${triggered}/history/:id/log ${triggered}/fires`, {
  permission: P.Read,
  job: "name",
});
rule("POST", `${triggered}/run`, { permission: P.Operate, job: "name", audit: "run" });
rule("POST", `${triggered}/history/:id/cancel`, { permission: P.Operate, job: "name", audit: "cancel" });
rule("POST", `${triggered}/schedule/pause`, { permission: P.Operate, job: "name", audit: "schedule_pause" });
rule("POST", `${triggered}/schedule/resume`, {
  permission: P.Operate,
  job: "name",
  audit: "schedule_resume",
});
const continuous = "/api/continuouswebjobs/:name";
rule("POST", `${continuous}/start`, { permission: P.Operate, job: "name", audit: "start" });
rule("POST", `${continuous}/stop`, { permission: P.Operate, job: "name", audit: "stop" });
rule("GET", `${continuous}/log`, { permission: P.Read, job: "name" });
// What a job serves: reading it is looking, anything else may change the job's state.
rule("GET HEAD OPTIONS", `${continuous}/passthrough/*`, { permission: P.Read, job: "name" });
rule("POST PUT PATCH DELETE TRACE QUERY", `${continuous}/passthrough/*`, {
  permission: P.Operate,
  job: "name",
});

// What the SDK's functions did, per job.
for (const type of ["triggered", "continuous"]) {
  const functions = `/api/${type}webjobs/:name/functions`;
  rule("GET", `${functions} ${functions}/:fn/invocations ${functions}/:fn/invocations/:id/log`, {
    permission: P.Read,
    job: "name",
  });
}
// The host's own log and its non-secret settings (Kudu's /api/settings).
rule("GET", "/logstream /api/logstream /api/logstream/* /api/settings", { permission: P.Read });
// Kudu's remote shell: anything the host's user can do, so admins only (and off unless enabled).
rule("POST", "/api/command", { permission: P.Admin, audit: "command" });

// git over smart HTTP: cloning reads the code, a push (POST …/git-receive-pack) deploys it.
rule("GET", "/:repo.git/*", { permission: P.Read });
rule("POST", "/:repo.git/*", { permission: P.Operate, audit: "git" });

// Kudu's deployment routes: the whole site at once, so never for a token limited to some jobs.
rule("GET", "/api/vfs/* /vfs/* /vfs/data/jobs/*", { permission: P.Read, job: "vfs" });
rule("PUT DELETE", "/api/vfs/* /vfs/*", { permission: P.Operate, job: "vfs", audit: "vfs_write" });
rule("POST", "/api/zipdeploy /api/publish", { permission: P.Operate, audit: "site_deploy" });
rule("PUT", "/api/zip/*", { permission: P.Operate, audit: "site_deploy" });
rule("GET", "/api/zip/*", { permission: P.Read });
const deployments = "/api/deployments /deployments";
rule("GET", deployments, { permission: P.Read });
for (const prefix of deployments.split(" ")) {
  rule("GET", `${prefix}/:id ${prefix}/:id/log ${prefix}/:id/log/:logId`, { permission: P.Read });
  rule("PUT", `${prefix}/:id`, { permission: P.Operate, audit: "site_deploy" });
}

/** For a request that matched no route: credentials first, then the 404. */
const unrouted: RouteRule = { permission: P.Authenticated };
const unlisted: RouteRule = { permission: P.Admin };

/** The rule of a registered route (HEAD as its GET); undefined when the table lacks it. */
export function listedRule(method: string, url: string): RouteRule | undefined {
  return rules.get(`${method} ${url}`) ?? (method === "HEAD" ? rules.get(`GET ${url}`) : undefined);
}

export function ruleFor(request: FastifyRequest): RouteRule {
  const url = request.routeOptions.url;
  if (url === undefined) return unrouted;
  return listedRule(request.method, url) ?? unlisted;
}

export const isPublicRoute = (request: FastifyRequest): boolean =>
  ruleFor(request).permission === Permission.Public;

/** The job a request concerns, for tokens limited to some jobs; null when it names none. */
export function jobOf(request: FastifyRequest, rule: RouteRule): string | null {
  const params = request.params as Record<string, string | undefined>;
  if (rule.job === "name") return params.name ?? null;
  if (rule.job === "vfs") {
    // A job's own folders: its code in the site, its logs in the data folder.
    const jobPath = /^(?:(?:site\/wwwroot\/App_Data\/jobs|data\/jobs)\/)?(?:triggered|continuous)\/([^/]+)/;
    return jobPath.exec(params["*"] ?? "")?.[1] ?? null;
  }
  if (rule.job === "query") {
    const job = (request.query as Record<string, unknown>).job;
    return typeof job === "string" ? job : null;
  }
  return null;
}
