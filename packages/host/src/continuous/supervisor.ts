import type { Logger } from "pino";
import type { ContinuousControl } from "../api/context.ts";
import type { ContinuousView } from "../api/kudu-json.ts";
import type { HostConfig } from "../config.ts";
import type { JobRegistry } from "../jobs/registry.ts";
import type { HostPaths } from "../paths.ts";
import type { ProcSampler } from "../runs/proc-sampler.ts";
import { JobType, type JobRecord, type Store } from "../store/types.ts";

export interface SupervisorDeps {
  config: HostConfig;
  paths: HostPaths;
  store: Store;
  registry: JobRegistry;
  sampler: ProcSampler;
  instanceId: string;
  log: Logger;
}

/** Keeps continuous jobs running on this instance (work in progress: desired state only). */
export class ContinuousSupervisor implements ContinuousControl {
  constructor(private readonly deps: SupervisorDeps) {}

  async start(): Promise<void> {}

  async stop(_reason: string): Promise<void> {}

  killAll(): void {}

  async removeJob(_name: string): Promise<void> {}

  versionsInUse(_name: string): Set<string> {
    return new Set();
  }

  view(job: JobRecord): ContinuousView {
    const status = job.desiredState === "running" ? "Running" : "Stopped";
    return { status, detailed_status: `${this.deps.instanceId.slice(0, 6)} - ${status}` };
  }

  async startJob(name: string): Promise<JobRecord> {
    return this.deps.registry.setDesiredState(JobType.Continuous, name, "running");
  }

  async stopJob(name: string): Promise<JobRecord> {
    return this.deps.registry.setDesiredState(JobType.Continuous, name, "stopped");
  }

  port(_name: string): number | null {
    return null;
  }
}
