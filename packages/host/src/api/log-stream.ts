import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ErrorCode, WebJobsError } from "../errors.ts";
import { followFile } from "../runs/log-follow.ts";
import { followStoredLog, readStoredLog } from "../runs/stored-log.ts";
import type { Store } from "../store/types.ts";
import { onStreamEnd } from "./live/stream-end.ts";

/**
 * Serves a log file: as plain text, or — when the client sends `Accept: text/event-stream` —
 * as Server-Sent Events, one `data:` per line, following the file while `isDone()` is false and
 * ending with an `end` event.
 */
export async function sendLog(
  request: FastifyRequest,
  reply: FastifyReply,
  file: string,
  isDone: () => Promise<boolean>,
): Promise<FastifyReply> {
  const wantsStream = (request.headers.accept ?? "").includes("text/event-stream");
  if (!wantsStream) {
    const info = await stat(file).catch(() => null);
    if (!info) throw new WebJobsError(ErrorCode.NotFound, "This log does not exist (yet).");
    return reply
      .type("text/plain; charset=utf-8")
      .header("content-length", info.size)
      .send(createReadStream(file));
  }
  return streamEvents(request, reply, (signal, onChunk) =>
    followFile(file, { fromStart: true, isDone, signal }, onChunk),
  );
}

/**
 * Serves the log of a run of another instance from the store (what that instance shipped), as
 * `sendLog` serves a file: plain text, or Server-Sent Events following it until the run ends.
 */
export async function sendStoredRunLog(
  request: FastifyRequest,
  reply: FastifyReply,
  store: Store,
  jobName: string,
  runId: string,
): Promise<FastifyReply> {
  const wantsStream = (request.headers.accept ?? "").includes("text/event-stream");
  if (!wantsStream) {
    const chunks = readStoredLog(store, jobName, runId);
    const first = await chunks.next();
    if (first.done) throw new WebJobsError(ErrorCode.NotFound, "This log does not exist (yet).");
    async function* all(): AsyncGenerator<string> {
      yield first.value as string;
      yield* chunks;
    }
    return reply.type("text/plain; charset=utf-8").send(Readable.from(all()));
  }
  return streamEvents(request, reply, (signal, onChunk) =>
    followStoredLog(store, jobName, runId, { signal }, onChunk),
  );
}

/** Writes what `follow` hands over as one `data:` event per line, then an `end` event. */
async function streamEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  follow: (signal: AbortSignal, onChunk: (text: string) => void) => Promise<void>,
): Promise<FastifyReply> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  const abort = new AbortController();
  const forget = onStreamEnd(request, () => abort.abort());
  // A comment line every 15 s keeps proxies from closing an idle stream.
  const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
  try {
    await follow(abort.signal, (text) => {
      for (const line of text.split("\n")) {
        if (line.length > 0) res.write(`data: ${line.replace(/\r/g, "")}\n\n`);
      }
    });
    if (!abort.signal.aborted) res.write("event: end\ndata: {}\n\n");
  } finally {
    forget();
    clearInterval(keepAlive);
    res.end();
  }
  return reply;
}

/** `data/jobs/triggered/{name}/{runId}/output_log.txt`, the VFS path of a run's log (its `output_url`). */
const RUN_LOG_VFS = /^data\/jobs\/triggered\/([^/]+)\/(\d+)\/output_log\.txt$/;

/**
 * The run whose log a VFS path names (a run's `output_url`) when this instance did not run it and
 * the log is in the store (several instances on PostgreSQL); else null.
 */
export async function storedRunLogAt(
  ctx: { store: Store; instanceId: string },
  virtual: string,
): Promise<{ jobName: string; id: string } | null> {
  const match = RUN_LOG_VFS.exec(virtual);
  if (!match || !ctx.store.remoteRuns.shared) return null;
  const run = await ctx.store.getRun(match[1]!, match[2]!);
  return run && run.instanceId !== ctx.instanceId ? { jobName: run.jobName, id: run.id } : null;
}
