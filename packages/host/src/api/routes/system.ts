import type { FastifyInstance } from "fastify";
import type { ApiContext } from "../context.ts";

/** Health (no auth), the OpenAPI document, metrics. */
export function systemRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    "/api/health",
    { schema: { summary: "Liveness probe; needs no credentials", tags: ["system"] } },
    // Still 200 when the database is out of reach: the host lives (runs go on, their ends are
    // written when it is back); `database` says so, and requests that need it answer 503.
    async () => ({
      status: ctx.store.reachable ? "ok" : "degraded",
      database: ctx.store.reachable ? "ok" : "unreachable",
      instance: ctx.instanceId,
      started_at: ctx.startedAt.toISOString(),
      stopped: ctx.config.stopped,
    }),
  );

  app.get("/api/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  app.get(
    "/metrics",
    { schema: { summary: "Prometheus metrics (same credentials as the API)", tags: ["system"] } },
    async (_request, reply) =>
      reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()),
  );
}
