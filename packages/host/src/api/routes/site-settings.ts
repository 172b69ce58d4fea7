import type { FastifyInstance } from "fastify";
import { configEnv, type HostConfig } from "../../config.ts";
import type { ApiContext } from "../context.ts";

/** Settings never shown, whatever is added to the configuration later: credentials and key material. */
const secret = /pass|secret|token|key|cert|credential|username/i;

/** The host's non-secret settings under their variable names, as strings (Kudu's settings are strings). */
export function publicSettings(config: HostConfig, deploymentBranch: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [key, envName] of Object.entries(configEnv)) {
    if (secret.test(key) || secret.test(envName)) continue;
    const value = (config as Record<string, unknown>)[key];
    if (value === undefined || value === null || typeof value === "object") continue;
    settings[envName] = String(value);
  }
  settings.deployment_branch = deploymentBranch;
  return settings;
}

/** `GET /api/settings`: clients call it to warm up; it answers the host's non-secret settings. */
export function siteSettingsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    "/api/settings",
    { schema: { summary: "The host's non-secret settings (a JSON object of strings)", tags: ["system"] } },
    async (_request, reply) =>
      reply
        .type("application/json; charset=utf-8")
        .send(publicSettings(ctx.config, ctx.deployer.deploymentBranch)),
  );
}
