import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { roles, Role } from "../../auth/roles.ts";
import type { TokenRecord } from "../../auth/types.ts";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import type { ApiContext } from "../context.ts";
import type { TokenJson } from "../json-types.ts";
import { bodyDoc, jobNameSchema, noValidation, parseBody } from "../zod-body.ts";

const tags = ["auth"];

const newToken = z.strictObject({
  label: z
    .string({ error: "label must be a string" })
    .max(200, "label has at most 200 characters")
    .optional(),
  role: z.enum(roles, { error: `role must be one of ${roles.join(", ")}` }).optional(),
  jobs: z
    .array(jobNameSchema, { error: "jobs must be a list of job names" })
    .min(1, "jobs, when given, names at least one job")
    .max(100, "jobs names at most 100 jobs")
    .optional(),
});

const tokenJson = (token: TokenRecord): TokenJson => ({
  id: token.id,
  label: token.label,
  role: token.role,
  jobs: token.jobs,
  created_at: token.createdAt.toISOString(),
});

/**
 * API tokens (admins only): create (the secret is shown once), list (never the secrets), revoke.
 * A token has a role (admin when not said) and may be limited to some jobs: a CI pipeline that
 * deploys one job gets `{"role": "operator", "jobs": ["that-job"]}`.
 */
export function tokenRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post(
    "/api/tokens",
    {
      schema: {
        summary: "Create a bearer API token {label, role, jobs}; the secret is shown once",
        tags,
        body: bodyDoc(newToken),
      },
      validatorCompiler: noValidation,
    },
    async (request, reply) => {
      const body = request.body === undefined ? {} : parseBody(newToken, request, "The new token");
      const label = body.label ?? `token for ${request.principal?.name ?? "unknown"}`;
      const role = body.role ?? Role.Admin;
      const jobs = body.jobs ? [...new Set(body.jobs)] : null;
      const created = await ctx.credentials.createToken(label, role, jobs);
      request.auditNote = {
        target: created.id,
        detail: `${label}: ${role}${jobs ? ` for ${jobs.join(", ")}` : ""}`,
      };
      return reply.code(201).send({ id: created.id, label, role, jobs, token: created.token });
    },
  );

  app.get(
    "/api/tokens",
    { schema: { summary: "API tokens: id, label, role, jobs, creation time (never the secret)", tags } },
    async (): Promise<TokenJson[]> => (await ctx.store.auth.listTokens()).map(tokenJson),
  );

  app.delete<{ Params: { id: string } }>(
    "/api/tokens/:id",
    {
      schema: {
        summary: "Revoke an API token",
        tags,
        params: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
      },
    },
    async (request, reply) => {
      const tokens = await ctx.store.auth.listTokens();
      if (!tokens.some((token) => token.id === request.params.id)) {
        throw new WebJobsError(ErrorCode.NotFound, `No token '${request.params.id}'.`);
      }
      await ctx.store.deleteCredential(request.params.id);
      return reply.code(204).send();
    },
  );
}
