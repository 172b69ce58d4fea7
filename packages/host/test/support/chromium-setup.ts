import chromium from "@sparticuz/chromium";

/**
 * Vitest global setup: unpacks @sparticuz/chromium's browser once, before the test files run in
 * parallel. Its `executablePath()` treats /tmp/chromium as ready as soon as the file exists, so
 * two files unpacking it at the same time could launch a half-written binary.
 */
export async function setup(): Promise<void> {
  await chromium.executablePath();
}
