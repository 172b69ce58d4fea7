import type { FastifyRequest } from "fastify";
import { ErrorCode, WebJobsError } from "../errors.ts";

/**
 * The request's JSON object body. Only `application/json` bodies are parsed (see app.ts); any
 * other content type arrives as a raw stream, which must get a 400 that says what to send, not
 * reach a handler that expects an object.
 */
export function jsonObjectBody(
  request: FastifyRequest,
  what: string,
  code: ErrorCode = ErrorCode.BadRequest,
) {
  const type = (request.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  const body = request.body as unknown;
  if (type !== "application/json" || typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new WebJobsError(code, `${what} must be a JSON object (send Content-Type: application/json).`);
  }
  return body as Record<string, unknown>;
}
