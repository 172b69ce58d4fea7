import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { Client } from "basic-ftp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, startHost, USER, waitFor, type TestHost } from "../support/host.ts";
import { freePort } from "../support/serve-process.ts";

/**
 * A slow FTP upload into a job folder, with pauses longer than the site watcher's debounce (300 ms
 * in tests): the job must be installed once, complete, after the upload has ended, never from the
 * half-written file. Real host, real FTP client (basic-ftp), plain FTP on loopback.
 */
let t: TestHost;
let ftpPort: number;
const deploys: { name: string; version: string; at: number }[] = [];

beforeAll(async () => {
  ftpPort = await freePort();
  // A range of its own, away from other tests' ports (ftp-srv skips ports in use).
  const base = 40_000 + Math.floor(Math.random() * 20_000);
  t = await startHost({ ftpPort, ftpPassivePorts: `${base}-${base + 19}` });
  t.host.registry.on("deployed", (job) =>
    deploys.push({ name: job.name, version: job.version, at: Date.now() }),
  );
}, 30_000);

afterAll(async () => {
  await t?.stop();
});

async function connect(): Promise<Client> {
  const client = new Client(20_000);
  await client.access({ host: "127.0.0.1", port: ftpPort, user: USER, password: PASSWORD });
  return client;
}

/** Sends `chunks` one by one, `gapMs` apart; `onLast` is called as the last one is sent. */
function trickle(chunks: string[], gapMs: number, onLast: () => void): Readable {
  let next = 0;
  return new Readable({
    read() {
      if (next === chunks.length) {
        this.push(null);
        return;
      }
      const index = next++;
      setTimeout(
        () => {
          if (index === chunks.length - 1) onLast();
          this.push(chunks[index]);
        },
        index === 0 ? 0 : gapMs,
      );
    },
  });
}

describe("a slow FTP upload into a job folder", () => {
  it("is installed once, complete, after the upload has ended", async () => {
    // Each piece alone is a runnable script: a half-uploaded file would install without complaint.
    const chunks = ["#!/bin/sh\necho part 1\n", "echo part 2\n", "echo part 3\n", "echo part 4\n"];
    let lastChunkAt = Number.POSITIVE_INFINITY;
    const client = await connect();
    try {
      await client.ensureDir("/App_Data/jobs/triggered/slowjob");
      // About 1.5 s in all, with pauses of 500 ms: each longer than the watcher's debounce.
      await client.uploadFrom(
        trickle(chunks, 500, () => (lastChunkAt = Date.now())),
        "run.sh",
      );
      await waitFor(() => deploys.some((d) => d.name === "slowjob"), 15_000, "slowjob to be installed");
      // Uploaded after slowjob was installed: once this one is, any later sync of slowjob would
      // have happened too (same debounce, started earlier).
      await client.ensureDir("/App_Data/jobs/triggered/ftpsentinel");
      await client.uploadFrom(Readable.from(["echo sentinel\n"]), "run.sh");
    } finally {
      client.close();
    }
    await waitFor(() => deploys.some((d) => d.name === "ftpsentinel"), 15_000, "the sentinel job");

    const installs = deploys.filter((d) => d.name === "slowjob");
    expect(installs).toHaveLength(1);
    expect(installs[0].at).toBeGreaterThan(lastChunkAt);
    const installed = t.host.paths.version("triggered", "slowjob", installs[0].version);
    expect(readFileSync(path.join(installed, "run.sh"), "utf8")).toBe(chunks.join(""));
  }, 30_000);

  it("is not held back forever by a client that vanished in the middle of an upload", async () => {
    const client = await connect();
    await client.ensureDir("/App_Data/jobs/triggered/vanished");
    let sent = false;
    // The first piece, then nothing: the data connection stays open, as a hung client leaves it.
    const upload = client
      .uploadFrom(
        new Readable({
          read() {
            if (sent) return;
            sent = true;
            this.push("#!/bin/sh\necho half\n");
          },
        }),
        "run.sh",
      )
      .catch(() => undefined);
    const file = path.join(t.host.paths.siteDir, "App_Data/jobs/triggered/vanished/run.sh");
    await waitFor(() => existsSync(file) && statSync(file).size > 0, 10_000, "the first piece on disk");
    // Only the control connection goes: ftp-srv ends nothing then, the upload stays open there.
    client.ftp.socket.destroy();
    // Treated like a copy tool that died: what arrived is installed, after the debounce.
    await waitFor(() => deploys.some((d) => d.name === "vanished"), 15_000, "the folder to be synced");
    client.close();
    await upload;
  }, 30_000);
});
