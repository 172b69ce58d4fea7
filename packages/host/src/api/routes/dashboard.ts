import { readFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ErrorCode, WebJobsError } from "../../errors.ts";

/** The dashboard is built by Vite into packages/dashboard/dist (the same depth from src/ and dist/). */
const root = new URL("../../../../dashboard/dist/", import.meta.url);

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

interface Asset {
  body: Buffer;
  gzipped: Buffer;
  type: string;
}

/**
 * `GET /` and `/assets/*`: the web UI, behind the same credentials as the API. File names under
 * assets/ carry a content hash, so they are cached for good; index.html is revalidated every time.
 * Files are read and gzipped once, then served from memory.
 */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const cache = new Map<string, Promise<Asset | null>>();
  const load = (file: string) => {
    let asset = cache.get(file);
    if (!asset) {
      asset = readFile(new URL(file, root)).then(
        (body) => ({
          body,
          gzipped: gzipSync(body),
          type: types[path.extname(file)] ?? "application/octet-stream",
        }),
        () => null,
      );
      cache.set(file, asset);
    }
    return asset;
  };
  const send = (request: FastifyRequest, reply: FastifyReply, asset: Asset, cacheControl: string) => {
    reply.type(asset.type).header("cache-control", cacheControl).header("vary", "accept-encoding");
    if (/\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""))) {
      return reply.header("content-encoding", "gzip").send(asset.gzipped);
    }
    return reply.send(asset.body);
  };

  app.get("/", { schema: { hide: true } }, async (request, reply) => {
    const index = await load("index.html");
    if (!index) {
      cache.delete("index.html");
      return reply
        .code(503)
        .type("text/plain; charset=utf-8")
        .send("The dashboard is not built: run `npm run build` (npm install does it).");
    }
    return send(request, reply, index, "no-cache");
  });

  app.get<{ Params: { file: string } }>(
    "/assets/:file",
    { schema: { hide: true } },
    async (request, reply) => {
      const { file } = request.params;
      const asset = /^[\w.-]+$/.test(file) ? await load(`assets/${file}`) : null;
      if (!asset) throw new WebJobsError(ErrorCode.NotFound, "No such dashboard file.");
      return send(request, reply, asset, "public, max-age=31536000, immutable");
    },
  );
}
