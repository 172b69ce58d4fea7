import type { FastifyInstance } from "fastify";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import { RunStatus, type RunQuery } from "../../store/types.ts";
import type { ApiContext } from "../context.ts";
import type { RunPageJson } from "../json-types.ts";
import { baseUrl, runJson } from "../kudu-json.ts";

const MAX_LIMIT = 500;
const statuses = new Set<string>(Object.values(RunStatus));

interface RunsQuery {
  job?: string;
  status?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

function instant(name: string, value: string | undefined): Date | undefined {
  if (value === undefined || value === "") return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new WebJobsError(
      ErrorCode.BadRequest,
      `"${name}" must be an ISO 8601 date and time, got "${value}".`,
    );
  }
  return date;
}

const encodeCursor = (id: string, jobName: string) =>
  Buffer.from(JSON.stringify([id, jobName])).toString("base64url");

function decodeCursor(cursor: string): RunQuery["before"] {
  try {
    const [id, jobName] = JSON.parse(Buffer.from(cursor, "base64url").toString()) as unknown[];
    if (typeof id === "string" && typeof jobName === "string") return { id, jobName };
  } catch {
    // answered below
  }
  throw new WebJobsError(ErrorCode.BadRequest, `"cursor" is not one this host gave out: "${cursor}".`);
}

/** `GET /api/runs`: the history of all runs of all jobs, newest first, filtered, in pages. */
export function runsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: RunsQuery }>(
    "/api/runs",
    {
      schema: {
        summary: "Runs of all jobs, newest first; filter by job, status (comma-separated) and start time",
        tags: ["triggered"],
        querystring: {
          type: "object",
          properties: {
            job: { type: "string" },
            status: { type: "string", description: "e.g. Failed,Aborted" },
            from: { type: "string", description: "runs started at or after (ISO 8601)" },
            to: { type: "string", description: "runs started before (ISO 8601)" },
            limit: { type: "integer", minimum: 1, maximum: MAX_LIMIT, default: 50 },
            cursor: { type: "string", description: "next_cursor of the previous page" },
          },
        },
      },
    },
    async (request): Promise<RunPageJson> => {
      const q = request.query;
      const wanted = q.status ? q.status.split(",").filter(Boolean) : [];
      const unknown = wanted.filter((status) => !statuses.has(status));
      if (unknown.length > 0) {
        throw new WebJobsError(
          ErrorCode.BadRequest,
          `"status" must be among ${[...statuses].join(", ")}; got "${unknown.join(", ")}".`,
        );
      }
      const limit = q.limit ?? 50;
      // One row more than asked tells whether another page follows.
      const rows = await ctx.store.queryRuns({
        job: q.job || undefined,
        statuses: wanted as RunStatus[],
        from: instant("from", q.from),
        to: instant("to", q.to),
        before: q.cursor ? decodeCursor(q.cursor) : undefined,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      const base = baseUrl(request);
      return {
        runs: page.map((run) => runJson(base, run)),
        next_cursor: rows.length > limit && last ? encodeCursor(last.id, last.jobName) : null,
      };
    },
  );
}
