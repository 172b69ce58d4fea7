import path from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import { formatKuduTime } from "../../runs/kudu-format.ts";
import type { Deployments } from "../../deploy/deployments.ts";
import {
  DeployStatus,
  deployStatusText,
  type DeploymentLogEntry,
  type DeploymentRecord,
} from "../../deploy/types.ts";
import type { ApiContext } from "../context.ts";
import { jsonObjectBody } from "../json-body.ts";
import { baseUrl } from "../kudu-json.ts";

const tags = ["deployments"];
const LATEST = "latest";

/** Kudu's `site_name`: the site folder's name here. */
export const deploymentSiteName = (ctx: ApiContext) => path.basename(ctx.paths.siteDir);

const kuduTime = (date: Date | null) => (date ? formatKuduTime(date) : null);

/** Kudu's DeployResult JSON (field names exactly). `root` is `{base}/api/deployments` or `{base}/deployments`. */
export function deploymentJson(
  root: string,
  d: DeploymentRecord,
  lastSuccess: DeploymentRecord | null,
  siteName: string,
) {
  const url = `${root}/${encodeURIComponent(d.id)}`;
  return {
    id: d.id,
    status: d.status,
    status_text: d.statusText,
    author_email: d.authorEmail,
    author: d.author,
    deployer: d.deployer,
    message: d.message,
    progress: d.progress,
    received_time: formatKuduTime(d.receivedTime),
    start_time: formatKuduTime(d.startTime),
    end_time: kuduTime(d.endTime),
    last_success_end_time: kuduTime(lastSuccess?.endTime ?? null),
    complete: d.complete,
    active: lastSuccess?.id === d.id,
    is_temp: false,
    is_readonly: d.isReadonly,
    url,
    log_url: `${url}/log`,
    site_name: siteName,
    provisioningState:
      d.status === DeployStatus.Success
        ? "Succeeded"
        : d.status === DeployStatus.Failed
          ? "Failed"
          : "InProgress",
  };
}

function logEntryJson(url: string, e: DeploymentLogEntry, hasDetails: boolean) {
  return {
    log_time: formatKuduTime(e.logTime),
    id: e.id,
    message: e.message,
    type: e.type,
    details_url: hasDetails ? `${url}/${e.id}` : null,
  };
}

/** A deployment a client performed itself and reports (Kudu's `PUT /api/deployments/{id}`). */
const recordedSchema = z.object({
  status: z.union([z.literal(3), z.literal(4)], { error: "status must be 3 (failed) or 4 (success)" }),
  message: z.string().min(1, "message is required"),
  deployer: z.string().min(1, "deployer is required"),
  author: z.string().min(1, "author is required"),
  author_email: z.string().nullish(),
  start_time: z.iso.datetime({ offset: true, local: true }).nullish(),
  end_time: z.iso.datetime({ offset: true, local: true }).nullish(),
  active: z.boolean().nullish(),
  details: z.string().nullish(),
});

const idPattern = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Deployment status (kudu-reference: DeploymentController): list, one, `latest`, logs, and a
 * client-recorded deployment. VS Code calls them without the `/api` prefix: both are answered.
 */
export function deploymentRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const deployments: Deployments = ctx.deployer.deployments;
  const siteName = deploymentSiteName(ctx);

  for (const prefix of ["/api/deployments", "/deployments"]) {
    const root = (request: FastifyRequest) => `${baseUrl(request)}${prefix}`;
    const find = async (id: string) => {
      const found = id === LATEST ? (await deployments.list(1))[0] : await deployments.get(id);
      if (!found) throw new WebJobsError(ErrorCode.NotFound, `Deployment '${id}' not found.`);
      return found;
    };
    const send = async (request: FastifyRequest, reply: FastifyReply, d: DeploymentRecord, code = 200) =>
      reply
        .code(code)
        .type("application/json; charset=utf-8")
        .send(deploymentJson(root(request), d, await deployments.lastSuccess(), siteName));

    app.get(prefix, { schema: { summary: "Deployments, newest first", tags } }, async (request, reply) => {
      const [list, lastSuccess] = await Promise.all([deployments.list(), deployments.lastSuccess()]);
      return reply
        .type("application/json; charset=utf-8")
        .send(list.map((d) => deploymentJson(root(request), d, lastSuccess, siteName)));
    });

    app.get<{ Params: { id: string } }>(
      `${prefix}/:id`,
      {
        schema: {
          summary: "One deployment; `latest` is the newest (202 while it is in progress, 200 when complete)",
          tags,
        },
      },
      async (request, reply) => {
        const d = await find(request.params.id);
        const pending = request.params.id === LATEST && !d.complete;
        return send(request, reply, d, pending ? 202 : 200);
      },
    );

    app.get<{ Params: { id: string } }>(
      `${prefix}/:id/log`,
      { schema: { summary: "A deployment's log entries", tags } },
      async (request, reply) => {
        const d = await find(request.params.id);
        const url = `${root(request)}/${encodeURIComponent(d.id)}/log`;
        const entries = await deployments.logEntries(d.id, null);
        const json = await Promise.all(
          entries.map(async (e) =>
            logEntryJson(url, e, (await deployments.logEntries(d.id, e.id)).length > 0),
          ),
        );
        return reply.type("application/json; charset=utf-8").send(json);
      },
    );

    app.get<{ Params: { id: string; logId: string } }>(
      `${prefix}/:id/log/:logId`,
      { schema: { summary: "The details of one log entry", tags } },
      async (request, reply) => {
        const d = await find(request.params.id);
        const url = `${root(request)}/${encodeURIComponent(d.id)}/log`;
        const entries = await deployments.logEntries(d.id, request.params.logId);
        return reply
          .type("application/json; charset=utf-8")
          .send(entries.map((e) => logEntryJson(url, e, false)));
      },
    );

    app.put<{ Params: { id: string } }>(
      `${prefix}/:id`,
      {
        schema: {
          summary:
            "Record a deployment a client performed: {status: 3|4, message, deployer, author, author_email?, start_time?, end_time?, active?, details?}",
          tags,
        },
      },
      async (request, reply) => {
        const id = request.params.id;
        if (!idPattern.test(id) || id === LATEST) {
          throw new WebJobsError(
            ErrorCode.BadRequest,
            `Invalid deployment id '${id.slice(0, 200)}': use 1 to 128 letters, digits, '.', '_' or '-'.`,
          );
        }
        const parsed = recordedSchema.safeParse(jsonObjectBody(request, "The deployment"));
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new WebJobsError(
            ErrorCode.BadRequest,
            `Invalid deployment: ${issue.path.join(".") || "body"}: ${issue.message}`,
          );
        }
        const body = parsed.data;
        if (body.active && body.status !== DeployStatus.Success) {
          throw new WebJobsError(ErrorCode.BadRequest, "Only successful status can be active!");
        }
        const now = new Date();
        const start = body.start_time ? new Date(body.start_time) : now;
        const record: DeploymentRecord = {
          id,
          status: body.status,
          statusText: deployStatusText[body.status],
          author: body.author,
          authorEmail: body.author_email ?? null,
          deployer: body.deployer,
          message: body.message,
          progress: "",
          receivedTime: start,
          startTime: start,
          endTime: body.end_time ? new Date(body.end_time) : now,
          complete: true,
          isReadonly: true,
        };
        await deployments.record(record, body.details ?? null);
        return send(request, reply, (await deployments.get(id))!);
      },
    );
  }
}
