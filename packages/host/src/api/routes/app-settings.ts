import type { FastifyInstance, FastifyRequest } from "fastify";
import { settingNameSchema, settingValueSchema } from "../../appsettings/app-settings.ts";
import { HOST_SCOPE } from "../../appsettings/types.ts";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import { validateJobName } from "../../jobs/names.ts";
import type { ApiContext } from "../context.ts";
import { bodyDoc, noValidation, parseBody } from "../zod-body.ts";
import { nameParams } from "./schemas.ts";

const tags = ["app settings"];

const settingParams = {
  type: "object",
  properties: {
    name: nameParams.properties.name,
    setting: { type: "string", description: "An environment variable name" },
  },
  required: ["setting"],
} as const;

function settingName(request: FastifyRequest<{ Params: { setting: string } }>): string {
  const parsed = settingNameSchema.safeParse(request.params.setting);
  if (!parsed.success) {
    throw new WebJobsError(
      ErrorCode.BadRequest,
      `Invalid app setting name '${request.params.setting.slice(0, 64)}': ${parsed.error.issues[0].message}.`,
    );
  }
  return parsed.data;
}

/**
 * App settings (Azure's "application settings"), given to jobs as environment variables:
 * host-wide ones under `/api/appsettings` (admins change them), a job's own under
 * `/api/webjobs/{name}/appsettings` (operators change them; they win over host-wide ones). A
 * secret's value is never answered after it is set: `value` is null, `secret` true.
 */
export function appSettingRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { appSettings } = ctx;
  const scopes = [
    { path: "/api/appsettings", scope: () => HOST_SCOPE, what: "host-wide" },
    {
      path: "/api/webjobs/:name/appsettings",
      scope: (request: FastifyRequest) => {
        const { name } = request.params as { name: string };
        validateJobName(name);
        return name;
      },
      what: "one job's",
    },
  ];

  for (const { path, scope, what } of scopes) {
    app.get(
      path,
      {
        schema: {
          summary: `List ${what} app settings (secret values are never shown)`,
          tags,
          ...(path.includes(":name") ? { params: nameParams } : {}),
        },
      },
      async (request) => appSettings.list(scope(request)),
    );

    app.put<{ Params: { setting: string } }>(
      `${path}/:setting`,
      {
        schema: {
          summary: `Set a ${what} app setting: {"value": "…", "secret": false}`,
          tags,
          params: settingParams,
          body: bodyDoc(settingValueSchema),
        },
        validatorCompiler: noValidation,
      },
      async (request) => {
        const target = scope(request);
        const name = settingName(request);
        const body = parseBody(settingValueSchema, request, "The app setting");
        request.auditNote = body.secret ? { detail: "secret" } : null;
        return appSettings.set(target, name, body.value, body.secret ?? false);
      },
    );

    app.delete<{ Params: { setting: string } }>(
      `${path}/:setting`,
      { schema: { summary: `Remove a ${what} app setting`, tags, params: settingParams } },
      async (request, reply) => {
        await appSettings.remove(scope(request), settingName(request));
        return reply.code(204).send();
      },
    );
  }
}
