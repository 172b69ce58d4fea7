import type { FastifyInstance } from "fastify";
import type { ApiContext } from "../context.ts";
import { baseUrl, jobJson } from "../kudu-json.ts";
import { sendLog } from "../log-stream.ts";
import { nameParams } from "./schemas.ts";

const tags = ["continuous"];

/** Continuous jobs: start / stop (persisted), the live log. */
export function continuousRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { registry, continuous } = ctx;

  for (const [action, method] of [
    ["start", "startJob"],
    ["stop", "stopJob"],
  ] as const) {
    app.post<{ Params: { name: string } }>(
      `/api/continuouswebjobs/:name/${action}`,
      {
        schema: {
          summary: `${action === "start" ? "Start" : "Stop"} a continuous job (persisted across restarts)`,
          tags,
          params: nameParams,
        },
      },
      async (request) => {
        const job = await continuous[method](request.params.name);
        return jobJson(baseUrl(request), job, { continuous: continuous.view(job) });
      },
    );
  }

  app.get<{ Params: { name: string } }>(
    "/api/continuouswebjobs/:name/log",
    {
      schema: {
        summary: "The job's log; with Accept: text/event-stream, followed live",
        tags,
        params: nameParams,
      },
    },
    async (request, reply) => {
      const job = await registry.require("continuous", request.params.name);
      return sendLog(request, reply, ctx.paths.continuousLog(job.name), async () => false);
    },
  );
}
