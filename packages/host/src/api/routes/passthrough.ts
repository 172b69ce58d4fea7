import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import type { ApiContext } from "../context.ts";
import { errorBody } from "../errors.ts";

/** Headers that belong to one connection, not to the request: never forwarded. */
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  // The host's credentials are not the job's business.
  "authorization",
]);

/**
 * Set on a request one instance forwards to the instance running a singleton job: that one
 * answers from its own process or says the job is not running, never forwards again.
 */
const FORWARDED_BY = "x-webjobs-forwarded-by";

function forwardable(
  headers: IncomingHttpHeaders,
  keep: ReadonlySet<string> = new Set(),
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value !== undefined && (!hopByHop.has(lower) || keep.has(lower))) out[name] = value;
  }
  return out;
}

/** Where a request for a job's port goes: its process on this machine, or the instance running it. */
interface Upstream {
  protocol: "http:" | "https:";
  host: string;
  port: number;
  path: string;
  headers: Record<string, string | string[]>;
}

/**
 * `ANY /api/continuouswebjobs/{name}/passthrough/{path}` is proxied to the job's WEBJOBS_PORT on
 * loopback, as Kudu does: a job serving HTTP answers through the host (and its auth).
 */
export async function passthroughRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  await app.register(async (scope) => {
    // Bodies go through untouched, JSON included.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    scope.all<{ Params: { name: string; "*": string } }>(
      "/api/continuouswebjobs/:name/passthrough/*",
      { schema: { summary: "Proxied to the continuous job's WEBJOBS_PORT", tags: ["continuous"] } },
      (request, reply) => proxy(request, reply, ctx),
    );
  });
}

/**
 * The path after `/passthrough` exactly as the client sent it, query included: never decoded, so
 * that `%2f`, `%0d%0a` or `%C3%A9` reach the job as they were written and the job decides what
 * they mean. The raw URL went through Node's HTTP parser, so it holds no bytes that are invalid
 * in a request line.
 */
export function forwardedPath(rawUrl: string): string {
  // /api/continuouswebjobs/{name}/passthrough/{rest}: the rest starts after the 5th slash.
  let at = -1;
  for (let i = 0; i < 5; i++) {
    at = rawUrl.indexOf("/", at + 1);
    if (at < 0) return "/";
  }
  return rawUrl.slice(at);
}

async function proxy(
  request: FastifyRequest<{ Params: { name: string; "*": string } }>,
  reply: FastifyReply,
  ctx: ApiContext,
): Promise<FastifyReply> {
  const job = await ctx.registry.require("continuous", request.params.name);
  const port = ctx.continuous.port(request.params.name);
  const forwarded = {
    "x-forwarded-for": request.ip,
    "x-forwarded-host": request.host,
    "x-forwarded-proto": request.protocol,
  };
  let upstream: Upstream;
  if (port) {
    upstream = {
      protocol: "http:",
      host: "127.0.0.1",
      port,
      path: forwardedPath(request.raw.url ?? "/"),
      headers: { ...forwardable(request.headers), host: `127.0.0.1:${port}`, ...forwarded },
    };
  } else {
    const holder =
      job.settings.is_singleton && !request.headers[FORWARDED_BY]
        ? await singletonHolderUrl(ctx, job.name)
        : null;
    if (!holder) {
      return reply
        .code(502)
        .send(errorBody("bad_gateway", `Continuous job '${request.params.name}' is not running.`));
    }
    // The same route on the instance running the singleton, with the client's credentials (the
    // instances share them) and the path exactly as the client sent it.
    const base = holder.pathname.replace(/\/$/, "");
    const rest = forwardedPath(request.raw.url ?? "/");
    upstream = {
      protocol: holder.protocol === "https:" ? "https:" : "http:",
      host: holder.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: Number(holder.port) || (holder.protocol === "https:" ? 443 : 80),
      path: `${base}/api/continuouswebjobs/${encodeURIComponent(job.name)}/passthrough${rest}`,
      headers: {
        ...forwardable(request.headers, new Set(["authorization"])),
        host: holder.host,
        ...forwarded,
        [FORWARDED_BY]: ctx.instanceId,
      },
    };
  }
  return send(request, reply, upstream);
}

/** The URL of the live instance holding a singleton job's lease, when it is another one. */
async function singletonHolderUrl(ctx: ApiContext, name: string): Promise<URL | null> {
  const holder = await ctx.store.continuous.singletonLeaseHolder(name);
  if (!holder || holder === ctx.instanceId) return null;
  const instances = await ctx.store.instances.listInstances(ctx.config.instanceTimeoutSec * 1000);
  const url = instances.find((instance) => instance.id === holder && instance.live)?.url;
  return url ? new URL(url) : null;
}

async function send(
  request: FastifyRequest<{ Params: { name: string; "*": string } }>,
  reply: FastifyReply,
  target: Upstream,
): Promise<FastifyReply> {
  const open = target.protocol === "https:" ? httpsRequest : httpRequest;
  await new Promise<void>((resolve, reject) => {
    let upstream: ClientRequest;
    try {
      upstream = open(
        {
          host: target.host,
          port: target.port,
          method: request.method,
          path: target.path,
          headers: target.headers,
        },
        (response) => {
          const forwarded = forwardable(response.headers);
          const status = response.statusCode ?? 502;
          // Some Kudu clients parse an untyped body as JSON: say it is bytes when the job did not say.
          if (!response.headers["content-type"] && status !== 204 && status !== 304) {
            forwarded["content-type"] = "application/octet-stream";
          }
          void reply.code(status).headers(forwarded).send(response);
          resolve();
        },
      );
    } catch (error) {
      // Node refuses to send what it considers invalid (a path or header it would not accept).
      const message = `This request cannot be forwarded to the job: ${(error as Error).message}`;
      reject(new WebJobsError(ErrorCode.BadRequest, message));
      return;
    }
    upstream.on("error", (error) => {
      void reply
        .code(502)
        .send(
          errorBody(
            "bad_gateway",
            `Continuous job '${request.params.name}' did not answer on its port: ${error.message}`,
          ),
        );
      resolve();
    });
    const body = request.body as Readable | undefined;
    if (body && typeof body.pipe === "function") body.pipe(upstream);
    else upstream.end();
  });
  return reply;
}
