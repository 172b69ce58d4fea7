import cookie from "@fastify/cookie";
import helmet from "@fastify/helmet";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { leastRoleFor, Permission } from "../auth/roles.ts";
import { accessHook } from "./access.ts";
import { browserUnauthorized, sessionPrincipal } from "./browser-auth.ts";
import type { ApiContext } from "./context.ts";
import { listedRule, ruleFor } from "./route-rules.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** What a handler adds to its audit entry: the target it created, a few words. */
    auditNote: { target?: string; detail?: string } | null;
  }
}

/**
 * Everything that must run before the routes are registered and before authentication: security
 * headers on every answer, cookies, the browser session, the login page instead of the Basic
 * prompt for browsers, and the role of each route in the OpenAPI document.
 */
export async function registerSecurity(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const tls = Boolean(ctx.config.tlsCert);
  await app.register(helmet, {
    // The built dashboard loads only its own hashed files: no inline script or style, no CDN.
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: "deny" },
    referrerPolicy: { policy: "no-referrer" },
    // Over plain HTTP a browser ignores HSTS; over TLS it keeps the browser on https.
    strictTransportSecurity: tls ? { maxAge: 180 * 24 * 3600 } : false,
  });
  await app.register(cookie);
  app.decorateRequest("auditNote", null);

  // A browser's session: credentials in the request (Basic, bearer) win, and auth.ts checks them.
  app.addHook("onRequest", async (request) => {
    if (!request.headers.authorization) request.principal = await sessionPrincipal(ctx.sessions, request);
  });
  app.addHook("onSend", browserUnauthorized);

  // The OpenAPI document says what each operation needs; the role walk test holds the host to it.
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const roleByMethod: Record<string, string> = {};
    for (const method of methods) {
      const rule = listedRule(method, route.url);
      if (!rule) ctx.log.warn({ route: `${method} ${route.url}` }, "route has no access rule: admins only");
      const permission = rule?.permission ?? Permission.Admin;
      roleByMethod[method] =
        permission === Permission.Public ? "public" : (leastRoleFor(permission) ?? "any");
    }
    const schema = (route.schema ??= {}) as Record<string, unknown>;
    const shown = new Set(Object.values(roleByMethod));
    if (shown.size === 1 && shown.has("public")) schema.security = [];
    else if (shown.size === 1) schema["x-required-role"] = [...shown][0];
    // One route for several methods (the passthrough) documents each method's role.
    else schema["x-required-role-by-method"] = roleByMethod;
  });
}

/** Authorisation and the audit trail: registered after authentication (auth.ts). */
export function registerAccessControl(app: FastifyInstance, ctx: ApiContext): void {
  app.addHook("onRequest", accessHook);
  app.addHook("onResponse", async (request: FastifyRequest, reply: FastifyReply) => {
    const rule = ruleFor(request);
    if (!rule.audit) return;
    const principal = request.principal;
    // Anonymous attempts are not recorded (anyone could fill the trail), failed logins are.
    const actor = principal?.name ?? (rule.audit === "login" ? basicUser(request) : null);
    if (actor === null) return;
    try {
      await ctx.store.audit.addAudit({
        at: new Date(),
        actor,
        actorKind: principal?.kind ?? "password",
        action: rule.audit,
        target: request.auditNote?.target ?? targetOf(request),
        status: reply.statusCode,
        address: request.ip,
        detail: request.auditNote?.detail ?? null,
      });
    } catch (error) {
      request.log.error({ err: error }, "could not record an audit entry");
    }
  });
}

/** The job, run, user or setting a request names, from its path parameters. */
function targetOf(request: FastifyRequest): string | null {
  const params = request.params as Record<string, string>;
  const parts = ["repo", "name", "id", "setting", "username"].map((key) => params[key]).filter(Boolean);
  // git: which service (a push is `git-receive-pack`).
  if (params.repo && params["*"]) parts.push(params["*"]);
  return parts.length > 0 ? parts.join("/") : null;
}

function basicUser(request: FastifyRequest): string | null {
  const [scheme, value] = (request.headers.authorization ?? "").split(" ", 2);
  if (scheme?.toLowerCase() !== "basic" || !value) return null;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon > 0 ? decoded.slice(0, Math.min(colon, 100)) : null;
}
