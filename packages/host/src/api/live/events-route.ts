import type { FastifyInstance } from "fastify";
import type { LiveEvent, LiveEvents } from "./live-events.ts";
import { onStreamEnd } from "./stream-end.ts";

const KEEP_ALIVE_MS = 15_000;

/**
 * `GET /api/events`: Server-Sent Events, one per change of a job, a run or a continuous job's
 * status (`event:` is the kind, `data:` the JSON of the `LiveEvent`). The stream ends when the
 * client goes away or the server closes.
 */
export function eventsRoute(app: FastifyInstance, live: LiveEvents): void {
  app.get(
    "/api/events",
    {
      schema: {
        summary: "Live changes of jobs, runs and continuous statuses (text/event-stream)",
        tags: ["system"],
      },
    },
    async (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      // `retry` makes a browser reconnect quickly after a host restart.
      res.write("retry: 1000\n: connected\n\n");
      const send = (event: LiveEvent) =>
        res.write(`event: ${event.kind}\ndata: ${JSON.stringify(event)}\n\n`);
      const unsubscribe = live.subscribe(send);
      const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), KEEP_ALIVE_MS);
      const close = () => {
        clearInterval(keepAlive);
        unsubscribe();
        res.end();
      };
      onStreamEnd(request, close);
      return reply;
    },
  );
}
