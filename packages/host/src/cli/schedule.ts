import { compileSchedule, resolveTimeZone, ScheduleError } from "@webjobs/schedule";
import type { Command } from "commander";
import { ApiClient, CliError, printJson, withConnection, type ConnectionOptions } from "./client.ts";

interface ScheduledJobJson {
  name: string;
  settings: Record<string, unknown>;
  schedule_description: string | null;
  time_zone: string | null;
  next_runs: string[];
  schedule_paused: boolean;
}

/** A schedule typed on the command line: JSON for a recurrence object, else an NCRONTAB string. */
function scheduleArgument(text: string, what: string): string | Record<string, unknown> {
  if (!text.trimStart().startsWith("{")) return text;
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch (error) {
    throw new CliError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
  throw new CliError(`${what} must be a JSON object.`);
}

function printSchedule(job: ScheduledJobJson): void {
  if (job.schedule_description === null) {
    process.stdout.write(`Job '${job.name}' has no schedule: it runs on demand only.\n`);
    return;
  }
  const paused = job.schedule_paused ? " (paused)" : "";
  process.stdout.write(`${job.name}: ${job.schedule_description}${paused}, time zone ${job.time_zone}\n`);
  if (job.next_runs.length > 0) process.stdout.write(`Next runs (UTC):\n  ${job.next_runs.join("\n  ")}\n`);
  else process.stdout.write("No more runs: the schedule is over.\n");
}

/** `webjobs schedule` (set, clear, pause, resume a job's schedule) and `webjobs next` (preview, offline). */
export function registerScheduleCommands(program: Command): void {
  withConnection(
    program
      .command("schedule <name> [expression]")
      .description(
        "Show or set a triggered job's schedule: a 6-field NCRONTAB string ('0 */15 * * * *') or, with --recurrence, a recurrence object",
      )
      .option(
        "--recurrence <json>",
        'a recurrence object, e.g. \'{"frequency":"Day","schedule":{"hours":[6]}}\'',
      )
      .option(
        "--time-zone <zone>",
        "the schedule's time zone (IANA or Windows name); 'host' for the host's default",
      )
      .option("--clear", "remove the schedule (the job then runs on demand only)")
      .option("--pause", "pause the schedule (kept across restarts and redeploys)")
      .option("--resume", "resume a paused schedule")
      .option("--json", "print JSON"),
  ).action(
    async (
      name: string,
      expression: string | undefined,
      options: ConnectionOptions & {
        recurrence?: string;
        timeZone?: string;
        clear?: boolean;
        pause?: boolean;
        resume?: boolean;
        json?: boolean;
      },
    ) => {
      const client = new ApiClient(options);
      const job = `/api/triggeredwebjobs/${encodeURIComponent(name)}`;
      const changes = [expression !== undefined, !!options.recurrence, !!options.clear].filter(
        Boolean,
      ).length;
      if (changes > 1) throw new CliError("Give one of: an expression, --recurrence or --clear.");
      if (options.pause && options.resume) throw new CliError("Give --pause or --resume, not both.");
      if (options.clear && options.timeZone)
        throw new CliError("--clear removes the schedule: --time-zone does not apply.");
      if (changes > 0 || options.timeZone) {
        const settings = await client.json<Record<string, unknown>>("GET", `${job}/settings`);
        if (options.clear) {
          delete settings.schedule;
          delete settings.time_zone;
        }
        if (expression !== undefined) settings.schedule = expression;
        if (options.recurrence) settings.schedule = scheduleArgument(options.recurrence, "--recurrence");
        if (options.timeZone === "host") delete settings.time_zone;
        else if (options.timeZone) settings.time_zone = options.timeZone;
        if (settings.schedule === undefined && !options.clear)
          throw new CliError(`Job '${name}' has no schedule yet: give an expression or --recurrence.`);
        await client.request("PUT", `${job}/settings`, {
          headers: { "content-type": "application/json" },
          body: JSON.stringify(settings),
        });
      }
      if (options.pause) await client.request("POST", `${job}/schedule/pause`);
      if (options.resume) await client.request("POST", `${job}/schedule/resume`);
      const result = await client.json<ScheduledJobJson>("GET", job);
      if (options.json) return printJson(result);
      printSchedule(result);
    },
  );

  program
    .command("next <expression>")
    .description(
      "Print the next occurrences of a schedule (an NCRONTAB string, or a recurrence object as JSON), without a host",
    )
    .option("--time-zone <zone>", "IANA or Windows time zone (default: WEBSITE_TIME_ZONE, else UTC)")
    .option("-n, --count <n>", "how many occurrences", "10")
    .option("--from <instant>", "occurrences strictly after this ISO instant (default: now)")
    .option("--json", "print JSON")
    .action(
      (expression: string, options: { timeZone?: string; count: string; from?: string; json?: boolean }) => {
        const count = Number(options.count);
        if (!Number.isInteger(count) || count < 1 || count > 1000)
          throw new CliError(`--count must be a whole number from 1 to 1000, got '${options.count}'.`);
        const from = options.from ? new Date(options.from) : new Date();
        if (Number.isNaN(from.getTime()))
          throw new CliError(
            `--from must be an ISO instant such as 2026-01-01T00:00:00Z, got '${options.from}'.`,
          );
        const source = scheduleArgument(expression, "The recurrence");
        try {
          const timeZone = resolveTimeZone(
            options.timeZone ?? process.env.WEBSITE_TIME_ZONE ?? "UTC",
            "time_zone",
          );
          const schedule = compileSchedule(source, timeZone, { defaultStartTime: from });
          const occurrences: Date[] = [];
          const startsAtFrom = typeof source !== "string" && source.startTime === undefined;
          let after = new Date(from.getTime() - (startsAtFrom ? 1 : 0));
          while (occurrences.length < count) {
            const next = schedule.next(after);
            if (!next) break;
            occurrences.push(next);
            after = next;
          }
          if (options.json) {
            return printJson({
              schedule: source,
              time_zone: timeZone,
              description: schedule.description,
              occurrences: occurrences.map((instant) => instant.toISOString()),
            });
          }
          const zone = schedule.description.includes(`(${timeZone})`) ? "" : ` (${timeZone})`;
          process.stdout.write(`${schedule.description}${zone}\n`);
          for (const instant of occurrences)
            process.stdout.write(`${instant.toISOString()}  ${local(instant, timeZone)}\n`);
          if (occurrences.length < count)
            process.stdout.write("No more occurrences: the schedule is over.\n");
        } catch (error) {
          if (error instanceof ScheduleError) throw new CliError(error.message);
          throw error;
        }
      },
    );
}

/** The instant as wall-clock time in the zone, e.g. `Mon 2026-03-09 02:30:00 EDT`. */
function local(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).format(instant);
}
