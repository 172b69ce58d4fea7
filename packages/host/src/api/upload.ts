import { parse as parseContentDisposition } from "content-disposition";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type { FastifyRequest } from "fastify";
import { ErrorCode, WebJobsError } from "../errors.ts";
import { checkUploadFileName, type PackageSource } from "../jobs/install.ts";

export interface ReceivedUpload {
  source: PackageSource;
  /** Removes the temporary files, whatever happened. */
  cleanup: () => Promise<void>;
}

const tooLarge = (max: number) =>
  new WebJobsError(
    ErrorCode.TooLarge,
    `The upload is larger than the limit of ${Math.round(max / 1024 / 1024)} MB.`,
  );

/**
 * Streams a Kudu-style upload (`Content-Disposition: attachment; filename=X`, zip or single
 * script) to a temporary file, stopping at the size limit instead of buffering or filling the
 * disk. The caller installs it; nothing here touches the job.
 */
export async function receiveUpload(
  request: FastifyRequest,
  tmpDir: string,
  maxBytes: number,
): Promise<ReceivedUpload> {
  const header = request.headers["content-disposition"];
  if (!header) {
    throw new WebJobsError(
      ErrorCode.BadRequest,
      "Missing Content-Disposition header: send 'Content-Disposition: attachment; filename=<file name>'.",
    );
  }
  let filename: string | undefined;
  try {
    filename = parseContentDisposition(header).parameters.filename;
  } catch {
    // Not RFC 6266-valid (e.g. an unquoted name with a slash): take the name as written, so that
    // the check of the name itself can say precisely what is wrong with it.
    const loose = /filename=(?:"([^"]*)"|([^;]*))/i.exec(header);
    filename = (loose?.[1] ?? loose?.[2])?.trim() || undefined;
  }
  if (!filename) {
    throw new WebJobsError(
      ErrorCode.BadRequest,
      `Invalid Content-Disposition header '${header}': expected 'attachment; filename=<file name>'.`,
    );
  }
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);

  const contentType = (request.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  const isZip = contentType === "application/zip" || contentType === "application/x-zip-compressed";
  // A single script keeps its name: refuse a bad one before a byte is written.
  if (!isZip) checkUploadFileName(filename);
  await mkdir(tmpDir, { recursive: true });
  const dir = await mkdtemp(path.join(tmpDir, "upload-"));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const file = path.join(dir, "body");
  let received: number;
  try {
    received = await copyWithLimit(request.body as Readable, file, maxBytes);
  } catch (error) {
    await cleanup();
    throw error;
  }
  if (received === 0) {
    await cleanup();
    throw new WebJobsError(ErrorCode.BadRequest, "The upload is empty.");
  }
  return {
    source: isZip ? { kind: "zip", path: file } : { kind: "file", path: file, filename },
    cleanup,
  };
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
    source.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) fail(tooLarge(maxBytes));
    });
    source.on("aborted", () => fail(new WebJobsError(ErrorCode.BadRequest, "The upload was interrupted.")));
    // A malformed chunk ends the connection without 'aborted' or 'error' on the request: without
    // this the copy would wait for ever and its temporary folder would stay behind.
    source.on("close", () => {
      if (!source.readableEnded) fail(new WebJobsError(ErrorCode.BadRequest, "The upload was interrupted."));
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
    if (source.destroyed && !source.readableEnded) {
      fail(new WebJobsError(ErrorCode.BadRequest, "The upload was interrupted."));
    }
  });
}
