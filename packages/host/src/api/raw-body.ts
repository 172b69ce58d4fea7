import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ErrorCode, WebJobsError } from "../errors.ts";

export interface ReceivedBody {
  file: string;
  bytes: number;
  cleanup: () => Promise<void>;
}

const tooLarge = (max: number) =>
  new WebJobsError(
    ErrorCode.TooLarge,
    `The upload is larger than the limit of ${Math.round(max / 1024 / 1024)} MB.`,
  );

/**
 * Registers routes whose body is raw bytes whatever its Content-Type says: deploy tools label a zip
 * `application/zip`, `application/octet-stream` or even `application/json`, and a file PUT over
 * VFS may be JSON that must be stored, not parsed. The routes live in their own plugin scope, so
 * the app's JSON parser does not apply to them.
 */
export async function rawBodyScope(
  app: FastifyInstance,
  routes: (scope: FastifyInstance) => void | Promise<void>,
): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    await routes(scope);
  });
}

/** Streams the request body to a temporary file under `tmpDir`, refusing it past `maxBytes` (413). */
export async function receiveBody(
  request: FastifyRequest,
  tmpDir: string,
  maxBytes: number,
  {
    allowEmpty = false,
    emptyMessage = "The request body is empty.",
    prefix = "body-",
  }: { allowEmpty?: boolean; emptyMessage?: string; prefix?: string } = {},
): Promise<ReceivedBody> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  await mkdir(tmpDir, { recursive: true });
  const dir = await mkdtemp(path.join(tmpDir, prefix));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const file = path.join(dir, "body");
  try {
    const body = request.body as Readable | undefined;
    const bytes = body ? await copyWithLimit(body, file, maxBytes) : await emptyFile(file);
    if (bytes === 0 && !allowEmpty) throw new WebJobsError(ErrorCode.BadRequest, emptyMessage);
    return { file, bytes, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function emptyFile(file: string): Promise<number> {
  await new Promise<void>((resolve, reject) =>
    createWriteStream(file)
      .on("error", reject)
      .end(() => resolve()),
  );
  return 0;
}

/**
 * Copies the request body to a file, refusing it as soon as it passes `maxBytes`. The request
 * stream is paused, not destroyed, so the 413 answer still reaches the client (the reply closes
 * the connection).
 */
function copyWithLimit(source: Readable, file: string, maxBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file);
    let received = 0;
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      source.unpipe(out);
      source.pause();
      out.destroy();
      reject(error);
    };
    const interrupted = () => fail(new WebJobsError(ErrorCode.BadRequest, "The upload was interrupted."));
    source.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) fail(tooLarge(maxBytes));
    });
    source.on("aborted", interrupted);
    // A malformed chunk ends the connection without 'aborted' or 'error' on the request: without
    // this the copy would wait for ever and its temporary folder would stay behind.
    source.on("close", () => {
      if (!source.readableEnded) interrupted();
    });
    source.on("error", (error) =>
      fail(new WebJobsError(ErrorCode.BadRequest, `The upload was interrupted: ${error.message}`)),
    );
    out.on("error", (error) => fail(error));
    out.on("finish", () => {
      if (!failed) resolve(received);
    });
    source.pipe(out);
    // The client may have gone (or sent a malformed chunk) while the temporary folder was made.
    if (source.destroyed && !source.readableEnded) interrupted();
  });
}
