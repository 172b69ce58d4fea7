/**
 * One error type for everything the host refuses or fails at. `code` is stable and is what the
 * HTTP layer maps to a status (see api/errors.ts); `message` is written for the user.
 */
export const ErrorCode = {
  BadRequest: "bad_request",
  BadName: "bad_name",
  BadSettings: "bad_settings",
  UnsafeZip: "unsafe_zip",
  NoRunnableScript: "no_runnable_script",
  TooLarge: "too_large",
  NotFound: "not_found",
  Conflict: "conflict",
  Stopped: "stopped",
  Unauthorized: "unauthorized",
  Forbidden: "forbidden",
  InterpreterMissing: "interpreter_missing",
  /** The database is out of reach for now (store/unavailable.ts). */
  Unavailable: "database_unavailable",
  Internal: "internal",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class WebJobsError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WebJobsError";
    this.code = code;
  }
}

export const isWebJobsError = (error: unknown): error is WebJobsError => error instanceof WebJobsError;
