import type { JobType } from "../store/types.ts";

/** The `WEBJOBS_*` variables a job sees (kudu-reference §4), on top of the host's environment. */
export function jobEnvironment(vars: {
  type: JobType;
  name: string;
  jobPath: string;
  dataPath: string;
  runId: string;
  arguments: string;
  shutdownFile: string;
  port?: number;
  /** App settings (host-wide and the job's), already opened. */
  appSettings?: Record<string, string>;
  /** Set last: the run's containment marker, the job user's HOME… */
  extra?: Record<string, string>;
}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Below the host's own variables, which an app setting cannot replace.
    ...vars.appSettings,
    WEBJOBS_NAME: vars.name,
    WEBJOBS_TYPE: vars.type,
    WEBJOBS_PATH: vars.jobPath,
    WEBJOBS_DATA_PATH: vars.dataPath,
    WEBJOBS_RUN_ID: vars.runId,
    WEBJOBS_COMMAND_ARGUMENTS: vars.arguments,
    WEBJOBS_SHUTDOWN_FILE: vars.shutdownFile,
  };
  if (vars.port !== undefined) env.WEBJOBS_PORT = String(vars.port);
  Object.assign(env, vars.extra);
  // The host's own credentials are not the job's business.
  delete env.WEBJOBS_PASSWORD;
  delete env.WEBJOBS_SECRET_KEY;
  return env;
}
