import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PASSWORD, USER, waitFor } from "./host.ts";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/webjobs.js");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A real `webjobs serve` child process on a free loopback port, ready when health answers. */
export async function startServe(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  // An empty value drops a variable (e.g. WEBJOBS_PASSWORD: "" to let the host generate one).
  const port = await freePort();
  const child = spawn(process.execPath, [bin, "serve", "--port", String(port), "--data", dataDir], {
    env: {
      ...process.env,
      WEBJOBS_USERNAME: USER,
      WEBJOBS_PASSWORD: PASSWORD,
      WEBJOBS_LOG_LEVEL: "debug",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`webjobs serve exited early:\n${output}`);
      return fetch(`${url}/api/health`).then(
        (r) => r.ok,
        () => false,
      );
    },
    20_000,
    "webjobs serve to answer",
  );
  return { child, url, output: () => output, exited };
}

/**
 * Kills the host's watchdog (the process that kills a host's jobs when the host dies), so that a
 * test can leave job processes behind a `kill -9` and check that the next start finds them.
 */
export function killWatchdog(hostPid: number): void {
  const watchdog = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(hostPid)], { encoding: "utf8" })
    .split("\n")
    .find((line) => line.includes("webjobs-watchdog"));
  if (!watchdog) throw new Error(`no webjobs-watchdog under the host ${hostPid}`);
  process.kill(Number(watchdog.trim().split(/\s+/)[0]), "SIGKILL");
}
