import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from "node:http";
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

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !hopByHop.has(name.toLowerCase())) out[name] = value;
  }
  return out;
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
  await ctx.registry.require("continuous", request.params.name);
  const port = ctx.continuous.port(request.params.name);
  if (!port) {
    return reply
      .code(502)
      .send(errorBody("bad_gateway", `Continuous job '${request.params.name}' is not running.`));
  }
  const target = forwardedPath(request.raw.url ?? "/");
  const headers = {
    ...forwardable(request.headers),
    host: `127.0.0.1:${port}`,
    "x-forwarded-for": request.ip,
    "x-forwarded-host": request.host,
    "x-forwarded-proto": request.protocol,
  };
  await new Promise<void>((resolve, reject) => {
    let upstream: ClientRequest;
    try {
      upstream = httpRequest(
        { host: "127.0.0.1", port, method: request.method, path: target, headers },
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
