import type { Command } from "commander";
import { quote } from "shell-quote";
import { ApiClient, printJson, printLogLine, withConnection, type ConnectionOptions } from "./client.ts";

interface RunJson {
  id: string;
  status: string;
  exit_code: number | null;
  reason: string | null;
}

/** The job's exit code when it exited by itself; 1 for any other failure (signal, abort, start error). */
export function exitCodeOf(run: RunJson): number {
  if (run.status === "Success") return 0;
  return typeof run.exit_code === "number" && run.exit_code !== 0 ? run.exit_code : 1;
}

export function registerRun(program: Command): void {
  withConnection(
    program
      .command("run <name> [args...]")
      .description("Start a run of a triggered job; arguments go after --")
      .option(
        "--wait",
        "stream the output live and exit with the job's exit code (1 when it did not exit by itself)",
      )
      .option("--raw", "with --wait, print the log lines in Kudu's format")
      .option("--json", "print the run as JSON")
      .addHelpText("after", '\nExample: webjobs run report --wait -- --month 2026-11 "two words"'),
  ).action(
    async (
      name: string,
      args: string[],
      options: ConnectionOptions & { wait?: boolean; raw?: boolean; json?: boolean },
    ) => {
      const client = new ApiClient(options);
      // Quoted so that the host's shell-like split gives back exactly these arguments.
      const query = args.length > 0 ? `?arguments=${encodeURIComponent(quote(args))}` : "";
      const started = await client.request(
        "POST",
        `/api/triggeredwebjobs/${encodeURIComponent(name)}/run${query}`,
      );
      const runPath = new URL(started.headers.get("location")!).pathname;
      if (!options.wait) {
        if (options.json) return printJson(await client.json("GET", runPath));
        process.stdout.write(
          `Started run ${runPath.split("/").pop()} of '${name}': ${client.baseUrl}${runPath}\n`,
        );
        return;
      }
      const abort = new AbortController();
      process.once("SIGINT", () => abort.abort());
      await client.followLog(
        `${runPath}/log`,
        (line) => printLogLine(line, Boolean(options.raw)),
        abort.signal,
      );
      const run = await client.json<RunJson>("GET", runPath);
      if (options.json) printJson(run);
      process.exitCode = exitCodeOf(run);
    },
  );
}
