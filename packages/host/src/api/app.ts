import swagger from "@fastify/swagger";
import { setMaxListeners } from "node:events";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { ErrorCode, WebJobsError } from "../errors.ts";
import { authHook } from "./auth.ts";
import type { ApiContext } from "./context.ts";
import { crossSiteGuard } from "./csrf.ts";
import { appSettingRoutes } from "./routes/app-settings.ts";
import { auditRoutes } from "./routes/audit.ts";
import { commandRoutes } from "./routes/command.ts";
import { sessionRoutes } from "./routes/session.ts";
import { userRoutes } from "./routes/users.ts";
import { registerAccessControl, registerSecurity } from "./security.ts";
import { tlsServerOptions } from "../tls/tls-options.ts";
import { decoratePublicUrl } from "./public-url.ts";
import { handleError } from "./errors.ts";
import { jsonTooDeep, refuseProtoKeys } from "../limits/json-depth.ts";
import { eventsRoute } from "./live/events-route.ts";
import { LiveEvents } from "./live/live-events.ts";
import { continuousRoutes } from "./routes/continuous.ts";
import { dashboardRoutes } from "./routes/dashboard.ts";
import { deploymentRoutes } from "./routes/deployments.ts";
import { siteDeployRoutes } from "./routes/site-deploy.ts";
import { siteZipRoutes } from "./routes/site-zip.ts";
import { logStreamRoutes } from "./routes/logstream.ts";
import { rewriteJobAlias } from "./routes/job-aliases.ts";
import { siteSettingsRoutes } from "./routes/site-settings.ts";
import { gitRoutes } from "./routes/git.ts";
import { hookRoutes } from "./routes/hooks.ts";
import { instanceRoutes } from "./routes/instances.ts";
import { invocationRoutes } from "./routes/invocations.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { passthroughRoutes } from "./routes/passthrough.ts";
import { scheduleRoutes } from "./routes/schedules.ts";
import { runsRoutes } from "./routes/runs.ts";
import { systemRoutes } from "./routes/system.ts";
import { tokenRoutes } from "./routes/tokens.ts";
import { triggeredRoutes } from "./routes/triggered.ts";
import { vfsRoutes } from "./routes/vfs.ts";

declare module "fastify" {
  interface FastifyInstance {
    closingSignal: AbortSignal;
    /** Changes of jobs, runs and continuous statuses, for `GET /api/events` and list ETags. */
    live: LiveEvents;
  }
}

const JSON_LIMIT = 1024 * 1024;
// Node's default limit on the request line and headers together (--max-http-header-size).
const MAX_URL_BYTES = 16 * 1024;

/**
 * Builds the HTTP app (Kudu-compatible API, logs, health, OpenAPI) without listening, so tests
 * can drive it in-process with `inject` and the host decides where it listens.
 */
export async function buildApp(ctx: ApiContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log.child({ component: "http" }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Kudu's older job routes (api/triggeredjobs, jobs/{type}, …) are aliases of the current ones.
    rewriteUrl: (request) => rewriteJobAlias(request.url ?? "/"),
    ...tlsServerOptions(ctx.config),
    // No parameter can be longer than Node lets a request line be: a too-long job name always
    // meets the name rule's precise 400 (or a 404), never the router's 414.
    routerOptions: { maxParamLength: MAX_URL_BYTES },
  });

  // Uploads stream to disk under our own size limit: every body except JSON arrives unparsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "application/json",
    { parseAs: "string", bodyLimit: JSON_LIMIT },
    (_request, body, done) => {
      const text = String(body);
      if (text.trim() === "") return done(null, undefined);
      const tooDeep = jsonTooDeep(text, "The body");
      if (tooDeep) return done(new WebJobsError(ErrorCode.BadRequest, tooDeep), undefined);
      try {
        done(null, JSON.parse(text, refuseProtoKeys));
      } catch (error) {
        done(
          new WebJobsError(ErrorCode.BadRequest, `The body is not valid JSON: ${(error as Error).message}`),
          undefined,
        );
      }
    },
  );
  app.addContentTypeParser("*", (_request, payload, done) => done(null, payload));

  await app.register(swagger, {
    openapi: {
      info: {
        title: "webjobs API",
        description: "Kudu-compatible WebJobs API, plus live logs, cancel and tokens.",
        version: "1.0.0",
      },
      components: {
        securitySchemes: {
          basic: { type: "http", scheme: "basic" },
          bearer: { type: "http", scheme: "bearer" },
        },
      },
      security: [{ basic: [] }, { bearer: [] }],
    },
  });

  // Live log streams hold their connections open: end them when the server closes.
  const closing = new AbortController();
  // One listener per open live stream (each removed when its stream ends): any number is normal.
  setMaxListeners(0, closing.signal);
  app.decorate("closingSignal", closing.signal);
  app.addHook("preClose", async () => closing.abort());
  const live = new LiveEvents(ctx);
  app.decorate("live", live);
  app.addHook("onClose", async () => live.close());

  decoratePublicUrl(app, ctx.config);
  app.decorateRequest("principal", null);
  await registerSecurity(app, ctx);
  // Cross-site requests are refused before authentication, so they never meet a login prompt.
  app.addHook("onRequest", crossSiteGuard());
  app.addHook("onRequest", authHook(ctx.credentials, { loginDelayMaxMs: ctx.config.loginDelayMaxMs }));
  registerAccessControl(app, ctx);
  app.setErrorHandler((error, request, reply) => {
    // After a refused upload the rest of the body is not read: close the connection.
    if ((error as WebJobsError).code === ErrorCode.TooLarge) reply.header("connection", "close");
    handleError(error as Error, request, reply);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .send({ error: `No route ${request.method} ${request.url.split("?")[0]}`, code: "not_found" });
  });

  systemRoutes(app, ctx);
  jobRoutes(app, ctx);
  triggeredRoutes(app, ctx);
  scheduleRoutes(app, ctx);
  continuousRoutes(app, ctx);
  await passthroughRoutes(app, ctx);
  vfsRoutes(app, ctx);
  hookRoutes(app, ctx);
  instanceRoutes(app, ctx);
  invocationRoutes(app, ctx);
  runsRoutes(app, ctx);
  tokenRoutes(app, ctx);
  eventsRoute(app, live);
  deploymentRoutes(app, ctx);
  await siteDeployRoutes(app, ctx);
  await siteZipRoutes(app, ctx);
  logStreamRoutes(app, ctx);
  siteSettingsRoutes(app, ctx);
  commandRoutes(app, ctx);
  await gitRoutes(app, ctx);
  sessionRoutes(app, ctx);
  userRoutes(app, ctx);
  appSettingRoutes(app, ctx);
  auditRoutes(app, ctx);
  await dashboardRoutes(app);
  return app;
}
