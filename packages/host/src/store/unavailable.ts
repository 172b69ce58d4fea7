import { ErrorCode, WebJobsError } from "../errors.ts";

/**
 * The database cannot be reached (PostgreSQL down, restarting, or cut off by the network). The
 * host keeps running: runs in flight go on and their ends are written once it is back
 * (runs/store-write-retry.ts), new runs and fires wait, requests that need the store answer 503.
 */
export class StoreUnavailableError extends WebJobsError {
  constructor(cause: unknown) {
    super(
      ErrorCode.Unavailable,
      `The database is unavailable (${messageOf(cause)}); try again when it is back.`,
      { cause },
    );
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error)) || "no answer";

/** Socket errors of the connection itself. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * Whether an error of the `pg` driver means "the database is out of reach" rather than "this query
 * is wrong": a socket error, a connection that ended or timed out, SQLSTATE class 08 (connection
 * exception) or 57P01–57P03 (the server shutting down, crashed, or not yet accepting connections).
 */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === "string") {
    if (NETWORK_CODES.has(code) || code.startsWith("08") || /^57P0[123]$/.test(code)) return true;
  }
  return (
    typeof message === "string" &&
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(
      message,
    )
  );
}
