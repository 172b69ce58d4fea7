/** Stable codes, so logs and invocation records can be searched by kind of failure. */
export const SdkErrorCode = {
  Options: "options",
  Connection: "connection",
  Binding: "binding",
  Poison: "poison",
  Timeout: "timeout",
} as const;
export type SdkErrorCode = (typeof SdkErrorCode)[keyof typeof SdkErrorCode];

export class SdkError extends Error {
  readonly code: SdkErrorCode;

  constructor(code: SdkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SdkError";
    this.code = code;
  }
}

/** The HTTP status of an Azure SDK error, when there is one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
