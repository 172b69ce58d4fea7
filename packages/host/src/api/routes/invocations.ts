import type { FastifyInstance } from "fastify";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import { readInvocations, setJobsDataRoot, summarizeFunctions } from "../../sdk/invocations.ts";
import type { JobType } from "../../store/types.ts";
import type { ApiContext } from "../context.ts";
import { baseUrl } from "../kudu-json.ts";

const tags = ["sdk"];

/**
 * Functions and invocations of jobs using webjobs-sdk, under both job collections:
 * `…/{name}/functions`, `…/functions/{function}/invocations` (newest first) and each invocation's log.
 */
export function invocationRoutes(app: FastifyInstance, ctx: ApiContext): void {
  setJobsDataRoot(ctx.paths.jobsData);
  for (const type of ["continuous", "triggered"] as const satisfies readonly JobType[]) {
    const root = `/api/${type}webjobs/:name/functions`;
    const dataDir = async (name: string) => {
      const job = await ctx.registry.require(type, name);
      return ctx.paths.jobData(type, job.name);
    };

    app.get<{ Params: { name: string } }>(
      root,
      { schema: { summary: "The job's SDK functions with invocation counts", tags } },
      async (request) => summarizeFunctions(await dataDir(request.params.name)),
    );

    app.get<{ Params: { name: string; fn: string }; Querystring: { limit?: string } }>(
      `${root}/:fn/invocations`,
      { schema: { summary: "Recent invocations of a function, newest first", tags } },
      async (request) => {
        const { name, fn } = request.params;
        const limit = Math.min(Math.max(Number(request.query.limit ?? 100) || 100, 1), 1000);
        const all = await readInvocations(await dataDir(name));
        const base = `${baseUrl(request)}/api/${type}webjobs/${encodeURIComponent(name)}/functions/${encodeURIComponent(fn)}/invocations`;
        return all
          .filter((invocation) => invocation.function === fn)
          .reverse()
          .slice(0, limit)
          .map((invocation) => ({
            id: invocation.id,
            status: invocation.status,
            start_time: invocation.start_time,
            duration_ms: invocation.duration_ms,
            trigger_details: invocation.trigger_details,
            arguments: invocation.arguments,
            error: invocation.error,
            reason: invocation.reason,
            parent_id: invocation.parent?.id ?? null,
            parent: invocation.parent,
            children: invocation.children,
            log_url: `${base}/${invocation.id}/log`,
          }));
      },
    );

    app.get<{ Params: { name: string; fn: string; id: string } }>(
      `${root}/:fn/invocations/:id/log`,
      { schema: { summary: "The log lines of one invocation, as text", tags } },
      async (request, reply) => {
        const { name, fn, id } = request.params;
        const found = (await readInvocations(await dataDir(name))).find(
          (invocation) => invocation.id === id && invocation.function === fn,
        );
        if (!found) throw new WebJobsError(ErrorCode.NotFound, `No invocation ${id} of function ${fn}`);
        const lines = [...found.log];
        if (found.error) lines.push(`error: ${found.error}`);
        return reply.type("text/plain; charset=utf-8").send(lines.join("\n") + (lines.length ? "\n" : ""));
      },
    );
  }
}
