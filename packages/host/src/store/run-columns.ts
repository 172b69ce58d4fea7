import type { RunPatch } from "./types.ts";

/** The runs table's column of each run field: one table, the same columns in both dialects. */
export const runColumns: Record<keyof RunPatch, string> = {
  status: "status",
  reason: "reason",
  trigger: "trigger",
  arguments: "arguments",
  version: "version",
  instanceId: "instance_id",
  startTime: "start_time",
  endTime: "end_time",
  exitCode: "exit_code",
  signal: "signal",
  cpuMs: "cpu_ms",
  peakRssBytes: "peak_rss_bytes",
  pid: "pid",
  scheduledTime: "scheduled_time",
  attempt: "attempt",
};
