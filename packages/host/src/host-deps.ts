import type { Logger } from "pino";
import type { AppSettings } from "./appsettings/app-settings.ts";
import type { HostConfig } from "./config.ts";
import type { JobRegistry } from "./jobs/registry.ts";
import type { HostPaths } from "./paths.ts";
import type { ClusterSignals } from "./instances/signals.ts";
import type { Containment } from "./runs/containment/containment.ts";
import type { ProcSampler } from "./runs/proc-sampler.ts";
import type { Store } from "./store/types.ts";

/** What the runner and the supervisor are built from (see host.ts). */
export interface HostDeps {
  config: HostConfig;
  paths: HostPaths;
  store: Store;
  registry: JobRegistry;
  sampler: ProcSampler;
  /** Keeps every process of a run within reach (cgroups or markers), applies limits and the job user. */
  containment: Containment;
  instanceId: string;
  /** "Something changed" between instances (in-process on SQLite); consumers also poll the store. */
  signals: ClusterSignals;
  log: Logger;
  /**
   * Wall-clock ms that runs are recorded with (start and end times, run ids): the database's on
   * several instances, so a run placed by one machine and run by another has consistent times.
   * Date.now() when absent (one machine).
   */
  clock?: () => number;
  /** Environment variables and secret masking for job processes (none in some tests). */
  appSettings?: Pick<AppSettings, "forJob">;
}
