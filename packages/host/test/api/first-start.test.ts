import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServe } from "../support/serve-process.ts";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/webjobs.js");

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "webjobs-first-start-"));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe("first start", () => {
  it("generates an admin credential, prints it once and stores only its hash", async () => {
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

  it("refuses bad configuration with a clear message", () => {
    const result = spawnSync(process.execPath, [bin, "serve", "--port", "eighty", "--data", dataDir], {
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/Invalid configuration WEBJOBS_HTTP_PORT \(port\).*"eighty"/);
  });
});

describe("one host per data folder", () => {
  it("refuses a second host on the same data folder and leaves the first one's jobs alone", async () => {
    const first = await startServe(dataDir);
    try {
      const second = spawnSync(process.execPath, [bin, "serve", "--port", "0", "--data", dataDir], {
        encoding: "utf8",
        env: { ...process.env, WEBJOBS_PASSWORD: "x" },
      });
      expect(second.status).toBe(1);
      expect(second.stderr).toMatch(/Another webjobs host \(pid \d+\) is using the data folder/);
      expect((await fetch(`${first.url}/api/health`)).status).toBe(200);
    } finally {
      first.child.kill("SIGTERM");
      await first.exited;
    }
  });

  it("says so when the port is taken, and starts no job", async () => {
    const first = await startServe(dataDir);
    const otherData = await mkdtemp(path.join(os.tmpdir(), "webjobs-port-taken-"));
    try {
      const port = new URL(first.url).port;
      const second = spawnSync(process.execPath, [bin, "serve", "--port", port, "--data", otherData], {
        encoding: "utf8",
        env: { ...process.env, WEBJOBS_PASSWORD: "x" },
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
