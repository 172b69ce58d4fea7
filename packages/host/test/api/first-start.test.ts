import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, describe, it } from "vitest";
import { startServe } from "../support/serve-process.ts";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/webjobs.js");

// Each test has a data folder of its own and mostly waits for hosts to start: side by side.
const dirs: string[] = [];
async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-first-start-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** `webjobs serve` expected to refuse to start: its exit code and what it said (not spawnSync,
 * which would hold up the tests beside this one). */
function serveRefused(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ status: number | null; stderr: string }>((resolve) => {
    execFile(process.execPath, [bin, "serve", ...args], { env, encoding: "utf8" }, (error, _out, stderr) =>
      resolve({ status: error ? (typeof error.code === "number" ? error.code : null) : 0, stderr }),
    );
  });
}

describe.concurrent("first start", () => {
  it("generates an admin credential, prints it once and stores only its hash", async ({ expect }) => {
    const dataDir = await newDataDir();
    const first = await startServe(dataDir, { WEBJOBS_USERNAME: "", WEBJOBS_PASSWORD: "" });
    let password: string;
    try {
      const printed = /user:\s+(\S+)\n\s+password: (\S+)/.exec(first.output());
      expect(printed).not.toBeNull();
      const [, user, generated] = printed!;
      password = generated;
      expect(user).toBe("admin");
      const ok = await fetch(`${first.url}/api/webjobs`, {
        headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}` },
      });
      expect(ok.status).toBe(200);
    } finally {
      first.child.kill("SIGTERM");
      await first.exited;
    }
    const db = new Database(path.join(dataDir, "webjobs.db"), { readonly: true });
    const hashes = db.prepare("SELECT hash FROM credentials").all() as { hash: string }[];
    db.close();
    expect(hashes).toHaveLength(1);
    expect(hashes[0].hash).toMatch(/^scrypt\$/);
    expect(hashes[0].hash).not.toContain(password);

    const second = await startServe(dataDir, { WEBJOBS_USERNAME: "", WEBJOBS_PASSWORD: "" });
    try {
      expect(second.output()).not.toContain("password:");
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  });

  it("refuses bad configuration with a clear message", async ({ expect }) => {
    const dataDir = await newDataDir();
    const result = await serveRefused(["--port", "eighty", "--data", dataDir]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/Invalid configuration WEBJOBS_HTTP_PORT \(port\).*"eighty"/);
  });
});

describe.concurrent("one host per data folder", () => {
  it("refuses a second host on the same data folder and leaves the first one's jobs alone", async ({
    expect,
  }) => {
    const dataDir = await newDataDir();
    const first = await startServe(dataDir);
    try {
      const second = await serveRefused(["--port", "0", "--data", dataDir], {
        ...process.env,
        WEBJOBS_PASSWORD: "x",
      });
      expect(second.status).toBe(1);
      expect(second.stderr).toMatch(/Another webjobs host \(pid \d+\) is using the data folder/);
      expect((await fetch(`${first.url}/api/health`)).status).toBe(200);
    } finally {
      first.child.kill("SIGTERM");
      await first.exited;
    }
  });

  it("says so when the port is taken, and starts no job", async ({ expect }) => {
    const dataDir = await newDataDir();
    const first = await startServe(dataDir);
    const otherData = await mkdtemp(path.join(os.tmpdir(), "webjobs-port-taken-"));
    try {
      const port = new URL(first.url).port;
      const second = await serveRefused(["--port", port, "--data", otherData], {
        ...process.env,
        WEBJOBS_PASSWORD: "x",
      });
      expect(second.status).toBe(1);
      expect(second.stderr).toMatch(/EADDRINUSE/);
    } finally {
      first.child.kill("SIGTERM");
      await first.exited;
      await rm(otherData, { recursive: true, force: true });
    }
  });
});
