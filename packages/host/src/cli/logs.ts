import type { Command } from "commander";
import { ApiClient, CliError, printLogLine, withConnection, type ConnectionOptions } from "./client.ts";

interface JobJson {
  name: string;
  type: string;
  latest_run: { id: string } | null;
}

/** Finds the job among all jobs, triggered first. */
async function findJob(client: ApiClient, name: string): Promise<JobJson> {
  const jobs = await client.json<JobJson[]>("GET", "/api/webjobs");
  const job =
    jobs.find((j) => j.name === name && j.type === "triggered") ?? jobs.find((j) => j.name === name);
  if (!job) throw new CliError(`No job named '${name}'.`);
  return job;
}

export function registerLogs(program: Command): void {
  withConnection(
    program
      .command("logs <name> [run]")
      .description(
        "Print a job's log: a run of a triggered job (the latest by default) or a continuous job's log",
      )
      .option("-f, --follow", "follow the log live (until the run ends; Ctrl-C for a continuous job)")
      .option("--raw", "print the lines in Kudu's format"),
  ).action(
    async (
      name: string,
      run: string | undefined,
      options: ConnectionOptions & { follow?: boolean; raw?: boolean },
    ) => {
      const client = new ApiClient(options);
      const job = await findJob(client, name);
      let path: string;
      if (job.type === "triggered") {
        const runId = run ?? job.latest_run?.id;
        if (!runId) throw new CliError(`Job '${name}' has no runs yet.`);
        path = `/api/triggeredwebjobs/${encodeURIComponent(name)}/history/${encodeURIComponent(runId)}/log`;
      } else {
        path = `/api/continuouswebjobs/${encodeURIComponent(name)}/log`;
      }
      const raw = Boolean(options.raw);
      if (options.follow) {
        const abort = new AbortController();
        process.once("SIGINT", () => abort.abort());
        await client.followLog(path, (line) => printLogLine(line, raw), abort.signal);
        return;
      }
      const text = await (await client.request("GET", path)).text();
      for (const line of text.split("\n")) if (line) printLogLine(line, raw);
    },
  );
}
