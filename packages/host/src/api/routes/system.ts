import type { FastifyInstance } from "fastify";
import type { ApiContext } from "../context.ts";

/** Health (no auth), the OpenAPI document, metrics. */
export function systemRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    "/api/health",
    { schema: { summary: "Liveness probe; needs no credentials", tags: ["system"] } },
    async () => ({
      status: "ok",
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
