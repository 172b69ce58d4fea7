import { Command } from "commander";
import { isWebJobsError } from "../errors.ts";
import { registerServe } from "./serve.ts";

/** `webjobs`: the host (`serve`) and a client for its API (one file per command). */
const program = new Command()
  .name("webjobs")
  .description("Self-hosted WebJobs host: run scripts on demand, continuously or on a schedule.")
  .showHelpAfterError();

registerServe(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(
    `webjobs: ${isWebJobsError(error) || error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(isWebJobsError(error) ? 2 : 1);
});
