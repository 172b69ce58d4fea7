import type { FastifyInstance } from "fastify";
import type { ApiContext } from "../context.ts";

/** Health (no auth), the OpenAPI document, and API tokens. */
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

  app.post<{ Body: { label?: string } | undefined }>(
    "/api/tokens",
    {
      schema: {
        summary: "Create a bearer API token; the secret is shown once",
        tags: ["auth"],
        body: { type: "object", properties: { label: { type: "string", maxLength: 200 } } },
      },
    },
    async (request, reply) => {
      const label = request.body?.label ?? `token for ${request.principal?.name ?? "unknown"}`;
      const created = await ctx.credentials.createToken(label);
      return reply.code(201).send({ id: created.id, label, token: created.token });
    },
  );
}
