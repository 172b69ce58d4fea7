import type { FastifyInstance } from "fastify";
import type { InstanceRecord } from "../../instances/types.ts";
import type { ApiContext } from "../context.ts";

/** One instance as `GET /api/instances` answers it (issue 11's shape). */
export function instanceJson(instance: InstanceRecord) {
  return {
    id: instance.id,
    host_name: instance.hostName,
    url: instance.url,
    started_at: instance.startedAt.toISOString(),
    last_heartbeat: instance.lastHeartbeat.toISOString(),
    state: instance.live ? ("live" as const) : ("dead" as const),
    active_runs: instance.activeRuns,
  };
}

/** `/api/instances`: the hosts sharing this store, live or dead (by the store's clock). */
export function instanceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const timeoutMs = ctx.config.instanceTimeoutSec * 1000;
  app.get(
    "/api/instances",
    { schema: { summary: "Instances sharing the store, with their state and load", tags: ["instances"] } },
    async () => (await ctx.store.instances.listInstances(timeoutMs)).map(instanceJson),
  );
}
