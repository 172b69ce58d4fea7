import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
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
  const query = request.url.includes("?") ? request.url.slice(request.url.indexOf("?")) : "";
  const headers = {
    ...forwardable(request.headers),
    host: `127.0.0.1:${port}`,
    "x-forwarded-for": request.ip,
    "x-forwarded-host": request.host,
    "x-forwarded-proto": request.protocol,
  };
  await new Promise<void>((resolve) => {
    const upstream = httpRequest(
      { host: "127.0.0.1", port, method: request.method, path: `/${request.params["*"]}${query}`, headers },
      (response) => {
        void reply
          .code(response.statusCode ?? 502)
          .headers(forwardable(response.headers))
          .send(response);
        resolve();
      },
    );
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
