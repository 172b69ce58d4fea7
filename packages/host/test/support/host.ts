import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import yazl from "yazl";
import { resolveConfig, type ConfigInput } from "../../src/config.ts";
import { Host } from "../../src/host.ts";

export const USER = "admin";
export const PASSWORD = "test-password";
export const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;

export interface TestHost {
  host: Host;
  url: string;
  dataDir: string;
  /** fetch against the host with admin credentials unless headers say otherwise. */
  api: (path: string, init?: RequestInit) => Promise<Response>;
  stop: () => Promise<void>;
}

/**
 * A real host on a free loopback port with its own temporary data folder. Kept when the
 * environment variable KEEP_TEST_DATA is set, for inspection after a failure.
 */
export async function startHost(options: ConfigInput = {}, dataDir?: string): Promise<TestHost> {
  const dir = dataDir ?? (await mkdtemp(path.join(os.tmpdir(), "webjobs-test-")));
  const config = resolveConfig(
    {
      host: "127.0.0.1",
      port: 0,
      dataDir: dir,
      username: USER,
      password: PASSWORD,
      watchDebounceMs: 300,
      ...options,
    },
    {},
  );
  const host = new Host(config, { log: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }) });
  await host.start();
  const url = host.url;
  const api = (p: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has("authorization")) headers.set("authorization", AUTH);
    return fetch(url + p, { ...init, headers });
  };
  return {
    host,
    url,
    dataDir: dir,
    api,
    stop: async () => {
      await host.stop();
      if (!process.env.KEEP_TEST_DATA && !dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

type ZipContent = string | Buffer | { data: string | Buffer; mode?: number };

/** Builds a zip in memory from `{ path: content }` (text, bytes, or { data, mode }). */
export function makeZip(files: Record<string, ZipContent>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) {
    const entry = typeof content === "string" || Buffer.isBuffer(content) ? { data: content } : content;
    zip.addBuffer(Buffer.from(entry.data), name, { mode: entry.mode ?? 0o100644 });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on("data", (c: Buffer) => chunks.push(c));
    zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on("error", reject);
  });
}

/** Kudu-style deploy of a zip. */
export function deployZip(
  t: TestHost,
  type: "triggered" | "continuous",
  name: string,
  zip: Buffer,
): Promise<Response> {
  return t.api(`/api/${type}webjobs/${name}`, {
    method: "PUT",
    headers: { "content-type": "application/zip", "content-disposition": `attachment; filename=${name}.zip` },
    body: new Uint8Array(zip),
  });
}

/** Kudu-style deploy of a single script. */
export function deployScript(
  t: TestHost,
  type: "triggered" | "continuous",
  name: string,
  filename: string,
  script: string,
): Promise<Response> {
  return t.api(`/api/${type}webjobs/${name}`, {
    method: "PUT",
    headers: {
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename=${filename}`,
    },
    body: script,
  });
}

/** Polls until `check` returns a value (not undefined/false) or the time is up. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  label = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts a run and waits until it has finished; returns the run JSON. */
export async function runToEnd(
  t: TestHost,
  name: string,
  args?: string,
  timeoutMs = 15_000,
): Promise<Record<string, unknown>> {
  const query = args === undefined ? "" : `?arguments=${encodeURIComponent(args)}`;
  const started = await t.api(`/api/triggeredwebjobs/${name}/run${query}`, { method: "POST" });
  if (started.status !== 202) throw new Error(`run answered ${started.status}: ${await started.text()}`);
  const location = started.headers.get("location")!;
  return waitFor(
    async () => {
      const run = (await (await t.api(new URL(location).pathname)).json()) as Record<string, unknown>;
      return ["Success", "Failed", "Aborted"].includes(run.status as string) ? run : undefined;
    },
    timeoutMs,
    `run of ${name} to end`,
  );
}
