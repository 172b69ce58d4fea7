import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

const ACCOUNT = "devstoreaccount1";
const KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface Azurite {
  connectionString: string;
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /** Node options for Azurite's process, before its script (e.g. `--require` a preload). */
  nodeArgs?: string[];
  /** More Azurite flags (e.g. `--silent`). */
  args?: string[];
}

/**
 * A real Azurite (npm) on free loopback ports, in memory, its working folder under `<tmp>/webjobs-…`
 * so the leak guard notices it if a test forgets to stop it.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const cwd = await mkdtemp(path.join(os.tmpdir(), "webjobs-azurite-"));
  const main = createRequire(import.meta.url).resolve("azurite/dist/src/azurite.js");
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      main,
      ...(options.args ?? []),
      "--inMemoryPersistence",
      "--disableTelemetry",
      "--skipApiVersionCheck",
      ...["blob", "queue", "table"].flatMap((s) => [`--${s}Host`, "127.0.0.1", `--${s}Port`, "0"]),
    ],
    { cwd, stdio: ["ignore", "pipe", "pipe"] },
  );
  const ports: Record<string, string> = {};
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Azurite did not start:\n${output}`)), 20_000);
    child.once("exit", (code) => reject(new Error(`Azurite exited (${code}):\n${output}`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      for (const m of output.matchAll(
        /Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/g,
      )) {
        ports[m[1]!] = m[2]!;
      }
      if (ports.Blob && ports.Queue && ports.Table) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  });
  const endpoint = (service: string) => `http://127.0.0.1:${ports[service]}/${ACCOUNT}`;
  return {
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};` +
      `BlobEndpoint=${endpoint("Blob")};QueueEndpoint=${endpoint("Queue")};TableEndpoint=${endpoint("Table")};`,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }
      await rm(cwd, { recursive: true, force: true });
    },
  };
}
