import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { LogTail } from "../../deploy/log-tail.ts";
import type { ApiContext } from "../context.ts";

const levels: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

/** One of pino's JSON lines as a readable line; anything else as it is. */
function hostLine(json: string): string {
  try {
    const entry = JSON.parse(json) as { time?: number; level?: number; msg?: string; component?: string };
    const time = new Date(entry.time ?? Date.now()).toISOString();
    const where = entry.component ? ` [${entry.component}]` : "";
    return `${time}  ${levels[entry.level ?? 30] ?? "INFO"}${where}  ${entry.msg ?? ""}`;
  } catch {
    return json;
  }
}

/**
 * Kudu's log stream (`GET /logstream`, `/api/logstream[/…]`), what `az webapp log tail` and the
 * portal read: 200 `text/plain` at once with a welcome line, then the host's log, the deployments'
 * log lines and every job's output as they are written, until the client leaves. A line every
 * minute without news keeps proxies from closing the connection, as Kudu does.
 */
export function logStreamRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const stream = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    });
    const now = () => new Date().toISOString();
    res.write(`${now()}  Welcome, you are now connected to log-streaming service.\n`);
    const write = (line: string) => {
      if (!res.writableEnded) res.write(`${line}\n`);
    };
    const tail = new LogTail(ctx.paths.jobsData, write);
    const onHost = (line: string) => write(hostLine(line));
    const onDeploy = (message: string) => write(`${now()}  [deployment]  ${message}`);
    ctx.logHub.lines.on("line", onHost);
    ctx.deployer.deployments.on("line", onDeploy);
    const keepAlive = setInterval(() => write(`${now()}  No new trace in the past 1 min(s).`), 60_000);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(keepAlive);
      tail.close();
      ctx.logHub.lines.off("line", onHost);
      ctx.deployer.deployments.off("line", onDeploy);
      if (!res.writableEnded) res.end();
    };
    res.on("close", end);
    request.server.closingSignal.addEventListener("abort", end, { once: true });
    await tail.start();
    if (ended) tail.close();
  };

  const schema = {
    summary: "Log stream: the host's log and the jobs' output, live (text/plain)",
    tags: ["logs"],
  };
  app.get("/logstream", { schema }, stream);
  app.get("/api/logstream", { schema }, stream);
  app.get("/api/logstream/*", { schema }, stream);
}
