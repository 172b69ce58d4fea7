import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import type { ApiContext } from "../context.ts";

/**
 * `GET /vfs/data/jobs/…`: the log files whose URLs appear in the JSON (`output_url`, `log_url`),
 * as Kudu serves them. Only files under `<data>/jobs` are reachable.
 */
export function vfsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { "*": string } }>(
    "/vfs/data/jobs/*",
    { schema: { summary: "Job data files (run logs, continuous logs)", tags: ["logs"] } },
    async (request, reply) => {
      const root = ctx.paths.jobsData;
      const file = path.resolve(root, request.params["*"]);
      if (!file.startsWith(root + path.sep)) throw new WebJobsError(ErrorCode.NotFound, "No such file.");
      const info = await stat(file).catch(() => null);
      if (!info?.isFile()) throw new WebJobsError(ErrorCode.NotFound, "No such file.");
      return reply
        .type("text/plain; charset=utf-8")
        .header("content-length", info.size)
        .send(createReadStream(file));
    },
  );
}
