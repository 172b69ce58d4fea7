import type { FastifyInstance } from "fastify";
import type { ApiContext } from "../context.ts";
import { baseUrl, runJson, runUrl, sendWithEtag } from "../kudu-json.ts";
import { sendLog, sendStoredRunLog } from "../log-stream.ts";
import { activeRunStatuses, RunStatus } from "../../store/types.ts";
import { nameParams, runParams } from "./schemas.ts";

const tags = ["triggered"];

/** Runs of triggered jobs: start, history, one run, its log (live), cancel. */
export function triggeredRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { registry, runner } = ctx;

  app.post<{ Params: { name: string }; Querystring: { arguments?: string } }>(
    "/api/triggeredwebjobs/:name/run",
    {
      schema: {
        summary: "Start a run; 202 with Location of the run",
        tags,
        params: nameParams,
        querystring: { type: "object", properties: { arguments: { type: "string" } } },
      },
    },
    async (request, reply) => {
      const run = await runner.start(request.params.name, {
        arguments: request.query.arguments,
        trigger: `External - ${request.headers["user-agent"] ?? "unknown"}`,
      });
      return reply
        .code(202)
        .header("location", runUrl(baseUrl(request), run.jobName, run.id))
        .send();
    },
  );

  app.get<{ Params: { name: string } }>(
    "/api/triggeredwebjobs/:name/history",
    { schema: { summary: "Recent runs, newest first", tags, params: nameParams } },
    async (request, reply) => {
      const job = await registry.require("triggered", request.params.name);
      const runs = await runner.latestRuns(job.name, ctx.config.historySize);
      const base = baseUrl(request);
      return sendWithEtag(request, reply, { runs: runs.map((run) => runJson(base, run)) });
    },
  );

  app.get<{ Params: { name: string; id: string } }>(
    "/api/triggeredwebjobs/:name/history/:id",
    { schema: { summary: "One run", tags, params: runParams } },
    async (request, reply) => {
      const run = await runner.requireRun(request.params.name, request.params.id);
      return sendWithEtag(request, reply, runJson(baseUrl(request), run));
    },
  );

  app.get<{ Params: { name: string; id: string } }>(
    "/api/triggeredwebjobs/:name/history/:id/log",
    {
      schema: {
        summary: "The run's output log; with Accept: text/event-stream, followed live until the run ends",
        tags,
        params: runParams,
      },
    },
    async (request, reply) => {
      const { name, id } = request.params;
      const run = await runner.requireRun(name, id);
      // A run of another instance (several on PostgreSQL): its log as that instance shipped it.
      if (run.instanceId !== ctx.instanceId && ctx.store.remoteRuns.shared) {
        return sendStoredRunLog(request, reply, ctx.store, name, id);
      }
      // Done once not going here, nor about to (a run placed here that this host has yet to start).
      const isDone = async () =>
        !runner.isRunningRun(name, id) &&
        !activeRunStatuses.includes((await ctx.store.getRun(name, id))?.status ?? RunStatus.Success);
      return sendLog(request, reply, ctx.paths.runLog(name, id), isDone);
    },
  );

  app.post<{ Params: { name: string; id: string } }>(
    "/api/triggeredwebjobs/:name/history/:id/cancel",
    {
      schema: {
        summary: "Cancel a run: shutdown file, SIGTERM, grace (stopping_wait_time), kill",
        tags,
        params: runParams,
      },
    },
    async (request, reply) => {
      // From any instance; 202 when a run going elsewhere has not ended within the wait.
      const { run, ended } = await ctx.cancels.cancel(request.params.name, request.params.id);
      return reply.code(ended ? 200 : 202).send(runJson(baseUrl(request), run));
    },
  );

  app.get(
    "/api/triggeredwebjobsswagger",
    { schema: { summary: "Swagger 2.0 of each job's run endpoint", tags } },
    async (request) => {
      const jobs = await registry.list("triggered");
      const paths: Record<string, unknown> = {};
      for (const job of jobs) {
        paths[`/api/triggeredwebjobs/${job.name}/run`] = {
          post: {
            operationId: `${job.name}_run`,
            parameters: [{ name: "arguments", in: "query", type: "string", required: false }],
            responses: { "202": { description: "Run started" } },
          },
        };
      }
      return {
        swagger: "2.0",
        info: { title: "webjobs triggered jobs", version: "1.0" },
        host: new URL(baseUrl(request)).host,
        paths,
      };
    },
  );
}
