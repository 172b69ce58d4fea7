import type { InstanceRecord } from "./types.ts";

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
