import { RunStatus, type RunRecord } from "../../src/store/types.ts";

/** A run record for store tests: a running run of `job` on instance `i1`, changed by `fields`. */
export function runRecord(fields: Partial<RunRecord> & Pick<RunRecord, "id">): RunRecord {
  return {
    jobName: "job",
    status: RunStatus.Running,
    reason: null,
    trigger: "test",
    arguments: "",
    version: "v1",
    instanceId: "i1",
    startTime: new Date(1_000),
    endTime: null,
    exitCode: null,
    signal: null,
    cpuMs: null,
    peakRssBytes: null,
    pid: null,
    scheduledTime: null,
    attempt: null,
    ...fields,
  };
}
