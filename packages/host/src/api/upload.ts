import { parse as parseContentDisposition } from "content-disposition";
import type { FastifyRequest } from "fastify";
import { ErrorCode, WebJobsError } from "../errors.ts";
import { checkUploadFileName, type PackageSource } from "../jobs/install.ts";
import { receiveBody } from "./raw-body.ts";

export interface ReceivedUpload {
  source: PackageSource;
  /** Removes the temporary files, whatever happened. */
  cleanup: () => Promise<void>;
}

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
  const contentType = (request.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  const isZip = contentType === "application/zip" || contentType === "application/x-zip-compressed";
  // A single script keeps its name: refuse a bad one before a byte is written.
  if (!isZip) checkUploadFileName(filename);
  const body = await receiveBody(request, tmpDir, maxBytes, {
    emptyMessage: "The upload is empty.",
    prefix: "upload-",
  });
  return {
    source: isZip ? { kind: "zip", path: body.file } : { kind: "file", path: body.file, filename },
    cleanup: body.cleanup,
  };
}
