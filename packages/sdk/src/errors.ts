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

/**
 * Why storage refused or could not be reached, in words that point at the setting to fix. The Azure
 * clients say only "Unexpected status code: 403" for a wrong account key, since the body of a HEAD or
 * of some refusals is empty.
 */
export function storageProblem(error: unknown, setting: string): string {
  const status = statusOf(error);
  if (status === 403) {
    return `the storage account refused the credentials of the setting ${setting} (403): a wrong account key, or a SAS that is expired or lacks a permission`;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return `cannot reach the storage endpoint of the setting ${setting} (${String(code)}): ${messageOf(error)}`;
  }
  return messageOf(error);
}
