import type { Command } from "commander";
import {
  ApiClient,
  CliError,
  jobCollection,
  printJson,
  withConnection,
  type ConnectionOptions,
} from "./client.ts";

interface JobJson {
  name: string;
  type: string;
  status?: string;
  error: string | null;
  latest_run?: { id: string; status: string; start_time: string } | null;
}

interface RunJson {
  id: string;
  status: string;
  start_time: string;
  duration: string;
  exit_code: number | null;
  reason: string | null;
  trigger: string;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return (
    rows
      .map((row) =>
        row
          .map((cell, column) => cell.padEnd(widths[column]))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

const checkType = (type: string) => {
  if (!["triggered", "continuous"].includes(type))
    throw new CliError(`--type must be 'triggered' or 'continuous', got '${type}'.`);
  return type;
};

/** Read and control commands: list, history, cancel, delete, start, stop. */
export function registerJobCommands(program: Command): void {
  withConnection(program.command("list").description("List jobs").option("--json", "print JSON")).action(
    async (options: ConnectionOptions & { json?: boolean }) => {
      const jobs = await new ApiClient(options).json<JobJson[]>("GET", "/api/webjobs");
      if (options.json) return printJson(jobs);
      if (jobs.length === 0)
        return void process.stdout.write("No jobs yet. Deploy one with `webjobs deploy <folder>`.\n");
      const rows = jobs.map((job) => [
        job.name,
        job.type,
        job.type === "continuous" ? (job.status ?? "") : (job.latest_run?.status ?? "never run"),
        job.latest_run?.start_time?.replace(/\.\d+Z$/, "Z") ?? "",
        job.error ?? "",
      ]);
      process.stdout.write(table([["NAME", "TYPE", "STATUS", "LAST RUN", "ERROR"], ...rows]));
    },
  );

  withConnection(
    program
      .command("history <name>")
      .description("Recent runs of a triggered job")
      .option("--json", "print JSON"),
  ).action(async (name: string, options: ConnectionOptions & { json?: boolean }) => {
    const { runs } = await new ApiClient(options).json<{ runs: RunJson[] }>(
      "GET",
      `/api/triggeredwebjobs/${encodeURIComponent(name)}/history`,
    );
    if (options.json) return printJson({ runs });
    if (runs.length === 0) return void process.stdout.write(`Job '${name}' has no runs yet.\n`);
    const rows = runs.map((run) => [
      run.id,
      run.status,
      run.start_time.replace(/\.\d+Z$/, "Z"),
      run.duration,
      run.exit_code === null ? "" : String(run.exit_code),
      run.reason ?? "",
    ]);
    process.stdout.write(table([["RUN", "STATUS", "STARTED", "DURATION", "EXIT", "REASON"], ...rows]));
  });

  withConnection(
    program.command("cancel <name> <run>").description("Cancel a run (shutdown file, grace, then kill)"),
  ).action(async (name: string, run: string, options: ConnectionOptions) => {
    const result = await new ApiClient(options).json<RunJson>(
      "POST",
      `/api/triggeredwebjobs/${encodeURIComponent(name)}/history/${encodeURIComponent(run)}/cancel`,
    );
    process.stdout.write(
      `Run ${result.id} of '${name}': ${result.status}${result.reason ? ` (${result.reason})` : ""}\n`,
    );
  });

  withConnection(
    program
      .command("delete <name>")
      .description("Delete a job: stops it, removes code, data and history")
      .option("--type <type>", "triggered or continuous", "triggered"),
  ).action(async (name: string, options: ConnectionOptions & { type: string }) => {
    await new ApiClient(options).request(
      "DELETE",
      `${jobCollection(checkType(options.type))}/${encodeURIComponent(name)}`,
    );
    process.stdout.write(`Deleted ${options.type} job '${name}'.\n`);
  });

  for (const action of ["start", "stop"] as const) {
    withConnection(
      program
        .command(`${action} <name>`)
        .description(`${action === "start" ? "Start" : "Stop"} a continuous job (kept across restarts)`)
        .option("--json", "print JSON"),
    ).action(async (name: string, options: ConnectionOptions & { json?: boolean }) => {
      const job = await new ApiClient(options).json<JobJson>(
        "POST",
        `/api/continuouswebjobs/${encodeURIComponent(name)}/${action}`,
      );
      if (options.json) return printJson(job);
      process.stdout.write(`Continuous job '${name}': ${job.status}\n`);
    });
  }
}
