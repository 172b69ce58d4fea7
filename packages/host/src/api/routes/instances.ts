import type { FastifyInstance } from "fastify";
import { instanceJson } from "../../instances/instance-json.ts";
import type { ApiContext } from "../context.ts";

/** `/api/instances`: the hosts sharing this store, live or dead (by the store's clock). */
export function instanceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const timeoutMs = ctx.config.instanceTimeoutSec * 1000;
  app.get(
    "/api/instances",
    { schema: { summary: "Instances sharing the store, with their state and load", tags: ["instances"] } },
    async () => (await ctx.store.instances.listInstances(timeoutMs)).map(instanceJson),
  );
}
