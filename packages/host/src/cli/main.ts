import { readFileSync } from "node:fs";
import { Command } from "commander";
import { isWebJobsError } from "../errors.ts";
import { CliError } from "./client.ts";
import { registerDeploy } from "./deploy.ts";
import { registerJobCommands } from "./jobs.ts";
import { registerLogs } from "./logs.ts";
import { registerRun } from "./run.ts";
import { registerScheduleCommands } from "./schedule.ts";
import { registerSecurityCommands } from "./security.ts";
import { registerServe } from "./serve.ts";

/** `webjobs`: the host (`serve`) and a client for its API. */
const program = new Command()
  .name("webjobs")
  .description(
    "Self-hosted WebJobs host: run scripts on demand, continuously or on a schedule, Kudu-compatible.",
  )
  .version(`${hostVersion()} (Node.js ${process.versions.node})`, "-V, --version")
  .showHelpAfterError();

registerServe(program);
registerDeploy(program);
registerRun(program);
registerLogs(program);
registerJobCommands(program);
registerScheduleCommands(program);
registerSecurityCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  const known = error instanceof CliError || isWebJobsError(error);
  console.error(`webjobs: ${known || error instanceof Error ? (error as Error).message : String(error)}`);
  process.exit(1);
});

function hostVersion(): string {
  const manifest = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}
