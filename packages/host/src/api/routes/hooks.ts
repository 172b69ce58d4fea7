import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import { HookEvent, type HookRecord } from "../../store/types.ts";
import type { ApiContext } from "../context.ts";

const tags = ["hooks"];
const events = Object.values(HookEvent);

/** Kudu's JSON for a hook. */
function hookJson(hook: HookRecord) {
  return {
    id: hook.id,
    event: hook.event,
    url: hook.url,
    insecure_ssl: hook.insecureSsl,
    last_status: hook.lastStatus,
    last_datetime: hook.lastDatetime?.toISOString() ?? null,
    last_reason: hook.lastReason,
  };
}

/** `/api/hooks`: subscribe a URL to `TriggeredJobFinished`; the run JSON is POSTed there when a run ends. */
export function hookRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx;

  app.get("/api/hooks", { schema: { summary: "Web hooks", tags } }, async () =>
    (await store.listHooks()).map(hookJson),
  );

  app.get<{ Params: { id: string } }>(
    "/api/hooks/:id",
    { schema: { summary: "One web hook", tags } },
    async (request) => {
      const hook = (await store.listHooks()).find((h) => h.id === request.params.id);
      if (!hook) throw new WebJobsError(ErrorCode.NotFound, `No web hook '${request.params.id}'.`);
      return hookJson(hook);
    },
  );

  app.post<{ Body: { url?: unknown; event?: unknown; insecure_ssl?: unknown } | undefined }>(
    "/api/hooks",
    {
      schema: {
        summary: 'Subscribe a URL: {"url": …, "event": "TriggeredJobFinished", "insecure_ssl": false}',
        tags,
        body: {
          type: "object",
          properties: {
            url: { type: "string" },
            event: { type: "string" },
            insecure_ssl: { type: "boolean" },
          },
        },
      },
    },
    async (request, reply) => {
      const { url, event = HookEvent.TriggeredJobFinished, insecure_ssl = false } = request.body ?? {};
      if (typeof url !== "string" || !/^https?:\/\//i.test(url) || !URL.canParse(url)) {
        throw new WebJobsError(
          ErrorCode.BadRequest,
          `"url" must be an http:// or https:// address, got ${JSON.stringify(url)}.`,
        );
      }
      if (!events.includes(event as HookEvent)) {
        throw new WebJobsError(
          ErrorCode.BadRequest,
          `"event" must be one of ${events.join(", ")}, got ${JSON.stringify(event)}.`,
        );
      }
      const hook: HookRecord = {
        id: randomUUID(),
        event: event as HookEvent,
        url,
        insecureSsl: insecure_ssl === true,
        createdAt: new Date(),
        lastStatus: null,
        lastDatetime: null,
        lastReason: null,
      };
      // Kudu answers 409 when the same address is already subscribed to the event.
      if (!(await store.addHook(hook))) {
        throw new WebJobsError(ErrorCode.Conflict, `A web hook for ${hook.event} at ${url} already exists.`);
      }
      return reply.code(201).send(hookJson(hook));
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/api/hooks/:id",
    { schema: { summary: "Remove a web hook", tags } },
    async (request) => {
      if (!(await store.deleteHook(request.params.id))) {
        throw new WebJobsError(ErrorCode.NotFound, `No web hook '${request.params.id}'.`);
      }
      return {};
    },
  );
}
