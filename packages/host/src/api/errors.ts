import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ErrorCode, isWebJobsError } from "../errors.ts";

/** The one place where error codes become HTTP statuses. */
const statusByCode: Record<ErrorCode, number> = {
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.BadName]: 400,
  [ErrorCode.BadSettings]: 400,
  [ErrorCode.UnsafeZip]: 400,
  [ErrorCode.NoRunnableScript]: 400,
  [ErrorCode.TooLarge]: 413,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.Stopped]: 409,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.InterpreterMissing]: 400,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.Internal]: 500,
};

export interface ErrorBody {
  error: string;
  code: string;
  /** Kudu clients read `Message`. */
  Message: string;
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: message, code, Message: message };
}

/** Maps errors to JSON answers; never leaks a stack trace. */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (isWebJobsError(error)) {
    void reply.code(statusByCode[error.code]).send(errorBody(error.code, error.message));
    return;
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    void reply.code(400).send(errorBody(ErrorCode.BadRequest, fastifyError.message));
    return;
  }
  if (fastifyError.statusCode && fastifyError.statusCode < 500) {
    void reply
      .code(fastifyError.statusCode)
      .send(errorBody(fastifyError.code ?? "bad_request", fastifyError.message));
    return;
  }
  request.log.error({ err: error }, "request failed");
  void reply.code(500).send(errorBody(ErrorCode.Internal, "Internal error; see the host log."));
}
