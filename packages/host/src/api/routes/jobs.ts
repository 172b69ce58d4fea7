import { existsSync } from "node:fs";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ErrorCode } from "../../errors.ts";
import { validateJobName } from "../../jobs/names.ts";
import { JobType, type JobRecord, type RunRecord } from "../../store/types.ts";
import type { ApiContext } from "../context.ts";
import { baseUrl, jobJson, sendWithEtag } from "../kudu-json.ts";
import { answeredNotModified, generationEtag, sendJsonWithEtag } from "../live/generation-etag.ts";
import { jsonObjectBody } from "../json-body.ts";
import { receiveUpload } from "../upload.ts";
import { nameParams } from "./schemas.ts";

const RENDERED_KEPT = 16;

const collections = [
  { type: JobType.Triggered, path: "/api/triggeredwebjobs" },
  { type: JobType.Continuous, path: "/api/continuouswebjobs" },
] as const;

/** Job routes common to both types: list, read, deploy, delete, settings (kudu-reference §5). */
export function jobRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { registry } = ctx;

  const render = async (request: FastifyRequest, job: JobRecord, latest?: Map<string, RunRecord>) => {
    const base = baseUrl(request);
    if (job.type === JobType.Continuous) return jobJson(base, job, { continuous: ctx.continuous.view(job) });
    const latestRun = latest ? latest.get(job.name) : (await ctx.runner.latestRuns(job.name, 1))[0];
    return jobJson(base, job, {
      latestRun: latestRun ?? null,
      schedule: ctx.schedules.view(job.name),
      schedulerLog: existsSync(ctx.paths.schedulerLog(job.name)),
    });
  };
  // Lists answer If-None-Match from the live-event generation before reading anything, and read
  // every job's latest run in one query.
  // The list as last rendered for each tag: the tag changes with every event and every 10 s, so
  // clients without If-None-Match (20 dashboards, a monitoring script) share one rendering.
  const rendered = new Map<string, string>();
  const sendList = async (request: FastifyRequest, reply: FastifyReply, type?: JobType) => {
    const etag = generationEtag(app.live, request, "jobs");
    if (answeredNotModified(request, reply, etag)) return reply;
    const cached = rendered.get(etag);
    if (cached !== undefined) return sendJsonWithEtag(reply, etag, cached);
    const [jobs, latest] = await Promise.all([registry.list(type), ctx.store.latestRunOfEachJob()]);
    const text = JSON.stringify(await Promise.all(jobs.map((job) => render(request, job, latest))));
    if (rendered.size >= RENDERED_KEPT) rendered.delete(rendered.keys().next().value!);
    rendered.set(etag, text);
    return sendJsonWithEtag(reply, etag, text);
  };

  app.get(
    "/api/webjobs",
    { schema: { summary: "All jobs, triggered and continuous", tags: ["jobs"] } },
    async (request, reply) => sendList(request, reply),
  );

  for (const { type, path } of collections) {
    const tags = [type];
    app.get(path, { schema: { summary: `List ${type} jobs`, tags } }, async (request, reply) =>
      sendList(request, reply, type),
    );

    app.get<{ Params: { name: string } }>(
      `${path}/:name`,
      { schema: { summary: `One ${type} job`, tags, params: nameParams } },
      async (request, reply) =>
        sendWithEtag(
          request,
          reply,
          await render(request, await registry.require(type, request.params.name)),
        ),
    );

    app.put<{ Params: { name: string } }>(
      `${path}/:name`,
      {
        schema: {
          summary: `Deploy a ${type} job: a zip (Content-Type: application/zip) or a single script, with Content-Disposition: attachment; filename=…`,
          tags,
          params: nameParams,
        },
      },
      async (request) => {
        validateJobName(request.params.name);
        const upload = await receiveUpload(request, ctx.paths.tmp, ctx.config.maxUploadBytes);
        try {
          const job = await registry.deploy(type, request.params.name, upload.source);
          return render(request, job);
        } finally {
          await upload.cleanup();
        }
      },
    );

    app.delete<{ Params: { name: string } }>(
      `${path}/:name`,
      {
        schema: {
          summary: `Delete a ${type} job: stops it, removes its code, data and history`,
          tags,
          params: nameParams,
        },
      },
      async (request, reply) => {
        // Kudu answers 200 even when the job does not exist; so do we.
        await registry.remove(type, request.params.name);
        return reply.code(200).send();
      },
    );

    app.get<{ Params: { name: string } }>(
      `${path}/:name/settings`,
      { schema: { summary: `Read a ${type} job's settings.job`, tags, params: nameParams } },
      async (request) => (await registry.require(type, request.params.name)).settings,
    );

    app.put<{ Params: { name: string }; Body: unknown }>(
      `${path}/:name/settings`,
      { schema: { summary: `Replace a ${type} job's settings.job`, tags, params: nameParams } },
      async (request) => {
        const settings = jsonObjectBody(request, "settings.job", ErrorCode.BadSettings);
        const job = await registry.updateSettings(type, request.params.name, settings);
        return job.settings;
      },
    );
  }
}
