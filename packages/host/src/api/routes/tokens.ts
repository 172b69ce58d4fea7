import type { FastifyInstance } from "fastify";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import { CredentialKind } from "../../store/types.ts";
import type { ApiContext } from "../context.ts";
import type { TokenJson } from "../json-types.ts";

/** API tokens: list (never the secrets) and revoke. Creating one is `POST /api/tokens` (system.ts). */
export function tokenRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    "/api/tokens",
    { schema: { summary: "API tokens: id, label, creation time (never the secret)", tags: ["auth"] } },
    async (): Promise<TokenJson[]> =>
      (await ctx.store.listCredentials(CredentialKind.Token)).map((token) => ({
        id: token.id,
        label: token.username,
        created_at: token.createdAt.toISOString(),
      })),
  );

  app.delete<{ Params: { id: string } }>(
    "/api/tokens/:id",
    {
      schema: {
        summary: "Revoke an API token",
        tags: ["auth"],
        params: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
      },
    },
    async (request, reply) => {
      const tokens = await ctx.store.listCredentials(CredentialKind.Token);
      if (!tokens.some((token) => token.id === request.params.id)) {
        throw new WebJobsError(ErrorCode.NotFound, `No token '${request.params.id}'.`);
      }
      await ctx.store.deleteCredential(request.params.id);
      return reply.code(204).send();
    },
  );
}
