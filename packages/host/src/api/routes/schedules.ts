import { compileSchedule, resolveTimeZone, ScheduleError } from "@webjobs/schedule";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import type { ApiContext } from "../context.ts";
import { jsonObjectBody } from "../json-body.ts";
import { baseUrl, runUrl, sendWithEtag } from "../kudu-json.ts";
import { nameParams } from "./schemas.ts";

const tags = ["schedules"];
const MAX_PREVIEW = 100;
const MAX_FIRES = 500;

const previewBody = z.strictObject({
  schedule: z.union([z.string(), z.looseObject({})], {
    error: "schedule must be a 6-field NCRONTAB string or a recurrence object",
  }),
  time_zone: z.string({ error: "time_zone must be a string (an IANA or Windows time zone name)" }).optional(),
  from: z.iso
    .datetime({ offset: true, error: "from must be an ISO 8601 instant, such as 2026-01-01T00:00:00Z" })
    .optional(),
  count: z
    .number({ error: `count must be a whole number from 1 to ${MAX_PREVIEW}` })
    .int(`count must be a whole number from 1 to ${MAX_PREVIEW}`)
    .min(1, `count must be a whole number from 1 to ${MAX_PREVIEW}`)
    .max(MAX_PREVIEW, `count must be a whole number from 1 to ${MAX_PREVIEW}`)
    .optional(),
});

const limitQuery = z.object({
  limit: z.coerce
    .number({ error: `limit must be a whole number from 1 to ${MAX_FIRES}` })
    .int(`limit must be a whole number from 1 to ${MAX_FIRES}`)
    .min(1, `limit must be a whole number from 1 to ${MAX_FIRES}`)
    .max(MAX_FIRES, `limit must be a whole number from 1 to ${MAX_FIRES}`)
    .default(100),
});

/** Schedules: preview any schedule, a job's recent fires, pause and resume. */
export function scheduleRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post(
    "/api/schedule/preview",
    {
      schema: {
        summary: "The next occurrences of a schedule (NCRONTAB string or recurrence object), in UTC",
        tags,
        body: {
          type: "object",
          properties: {
            schedule: { description: "A 6-field NCRONTAB string or a recurrence object" },
            time_zone: { type: "string", description: "IANA or Windows zone; default: the host's" },
            from: {
              type: "string",
              description: "ISO instant; occurrences strictly after it (default: now)",
            },
            count: { type: "integer", description: `1…${MAX_PREVIEW}, default 10` },
          },
        },
      },
      // Validation is ours (zod, with messages that name the field); the schema above documents it.
      validatorCompiler: () => () => true,
    },
    async (request) => {
      const parsed = previewBody.safeParse(jsonObjectBody(request, "The preview request"));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const message =
          issue.code === "unrecognized_keys"
            ? `unknown key ${issue.keys.map((key) => `'${key}'`).join(", ")}: the preview takes schedule, time_zone, from and count`
            : issue.path.length === 0 || issue.message.startsWith(String(issue.path[0]))
              ? issue.message
              : `${String(issue.path[0])}: ${issue.message}`;
        throw new WebJobsError(ErrorCode.BadRequest, message);
      }
      const { schedule: source, time_zone, from, count = 10 } = parsed.data;
      const start = from ? new Date(from) : new Date();
      try {
        const timeZone = resolveTimeZone(time_zone ?? ctx.config.timeZone, "time_zone");
        // A recurrence without startTime starts when it is armed: here, at `from`.
        const schedule = compileSchedule(source, timeZone, { defaultStartTime: start });
        const occurrences: string[] = [];
        // Strictly after `from`, except that a recurrence starting at `from` itself is shown.
        const startsAtFrom = typeof source !== "string" && source.startTime === undefined;
        let after = new Date(start.getTime() - (startsAtFrom ? 1 : 0));
        while (occurrences.length < count) {
          const next = schedule.next(after);
          if (!next) break;
          occurrences.push(next.toISOString());
          after = next;
        }
        return { schedule: source, time_zone: timeZone, description: schedule.description, occurrences };
      } catch (error) {
        if (error instanceof ScheduleError) throw new WebJobsError(ErrorCode.BadRequest, error.message);
        throw error;
      }
    },
  );

  app.get<{ Params: { name: string }; Querystring: { limit?: string } }>(
    "/api/triggeredwebjobs/:name/fires",
    {
      schema: {
        summary: "Recent due instants of the job's schedule, newest first, with their outcome",
        tags,
        params: nameParams,
        querystring: { type: "object", properties: { limit: { type: "string" } } },
      },
    },
    async (request, reply) => {
      const query = limitQuery.safeParse(request.query);
      if (!query.success) throw new WebJobsError(ErrorCode.BadRequest, query.error.issues[0].message);
      const job = await ctx.registry.require("triggered", request.params.name);
      const fires = await ctx.store.listFires(job.name, query.data.limit);
      const base = baseUrl(request);
      return sendWithEtag(
        request,
        reply,
        fires.map((fire) => ({
          scheduled_time: fire.scheduledTime.toISOString(),
          outcome: fire.outcome,
          run_id: fire.runId,
          run_url: fire.runId ? runUrl(base, job.name, fire.runId) : null,
          attempt: fire.attempt,
          reason: fire.reason,
          retry_at: fire.retryAt?.toISOString() ?? null,
          recorded_at: fire.recordedAt.toISOString(),
        })),
      );
    },
  );

  for (const action of ["pause", "resume"] as const) {
    app.post<{ Params: { name: string } }>(
      `/api/triggeredwebjobs/:name/schedule/${action}`,
      {
        schema: {
          summary:
            action === "pause"
              ? "Pause the job's schedule (kept across restarts and redeploys; on-demand runs still work)"
              : "Resume the job's schedule; what fell due while paused does not run",
          tags,
          params: nameParams,
        },
      },
      async (request) => {
        await ctx.schedules[action](request.params.name);
        return { name: request.params.name, schedule_paused: action === "pause" };
      },
    );
  }
}
