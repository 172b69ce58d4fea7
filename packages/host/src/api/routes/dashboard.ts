import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { ErrorCode, WebJobsError } from "../../errors.ts";

/** The dashboard's static files live in packages/host/dashboard (the same depth from src/ and dist/). */
const root = new URL("../../../dashboard/", import.meta.url);
const files: Record<string, string> = {
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
  "index.html": "text/html; charset=utf-8",
};

/** `GET /` and `/dashboard/*`: the web UI (behind the same credentials as the API). */
export function dashboardRoutes(app: FastifyInstance): void {
  const send = async (name: string) => {
    if (!files[name]) throw new WebJobsError(ErrorCode.NotFound, "No such dashboard file.");
    return readFile(new URL(name, root));
  };
  app.get("/", { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type(files["index.html"])
      .header("cache-control", "no-cache")
      .send(await send("index.html")),
  );
  app.get<{ Params: { file: string } }>(
    "/dashboard/:file",
    { schema: { hide: true } },
    async (request, reply) =>
      reply
        .type(files[request.params.file] ?? "text/plain")
        .header("cache-control", "no-cache")
        .send(await send(request.params.file)),
  );
}
