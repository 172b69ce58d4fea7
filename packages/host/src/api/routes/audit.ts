import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { AuditEntry } from "../../audit/types.ts";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import type { ApiContext } from "../context.ts";
import type { AuditEntryJson, AuditPageJson } from "../json-types.ts";

const MAX_LIMIT = 500;

const auditQuery = z.strictObject({
  actor: z.string().max(200).optional(),
  action: z.string().max(100).optional(),
  target: z.string().max(400).optional(),
  from: z.iso.datetime({ offset: true, error: "from must be an ISO 8601 instant" }).optional(),
  to: z.iso.datetime({ offset: true, error: "to must be an ISO 8601 instant" }).optional(),
  limit: z.coerce
    .number({ error: `limit must be a whole number from 1 to ${MAX_LIMIT}` })
    .int(`limit must be a whole number from 1 to ${MAX_LIMIT}`)
    .min(1, `limit must be a whole number from 1 to ${MAX_LIMIT}`)
    .max(MAX_LIMIT, `limit must be a whole number from 1 to ${MAX_LIMIT}`)
    .default(100),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, "cursor must be the next_cursor of a previous page")
    .optional(),
});

const entryJson = (entry: AuditEntry): AuditEntryJson => ({
  id: entry.seq,
  at: entry.at.toISOString(),
  actor: entry.actor,
  actor_kind: entry.actorKind,
  action: entry.action,
  target: entry.target,
  status: entry.status,
  address: entry.address,
  detail: entry.detail,
});

/** `GET /api/audit`: who changed what, newest first, filtered, in pages (admins only). */
export function auditRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    "/api/audit",
    {
      schema: {
        summary: "The audit trail, newest first: ?actor=&action=&target=&from=&to=&limit=&cursor=",
        tags: ["auth"],
        querystring: {
          type: "object",
          properties: {
            actor: { type: "string" },
            action: { type: "string", description: "deploy, run, cancel, start, stop, delete, login…" },
            target: { type: "string", description: "a job (its runs and settings included), a user…" },
            from: { type: "string", description: "ISO instant" },
            to: { type: "string", description: "ISO instant" },
            limit: { type: "integer", description: `1…${MAX_LIMIT}, default 100` },
            cursor: { type: "string" },
          },
        },
      },
      validatorCompiler: () => () => true,
    },
    async (request): Promise<AuditPageJson> => {
      const parsed = auditQuery.safeParse(request.query);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const message =
          issue.code === "unrecognized_keys"
            ? `unknown parameter ${issue.keys.join(", ")}: use actor, action, target, from, to, limit, cursor`
            : issue.message;
        throw new WebJobsError(ErrorCode.BadRequest, message);
      }
      const q = parsed.data;
      const entries = await ctx.store.audit.queryAudit({
        actor: q.actor,
        action: q.action,
        target: q.target,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        before: q.cursor ? Number(q.cursor) : undefined,
        limit: q.limit + 1,
      });
      const page = entries.slice(0, q.limit);
      return {
        entries: page.map(entryJson),
        next_cursor: entries.length > q.limit ? String(page[page.length - 1].seq) : null,
      };
    },
  );
}
