import {
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  mkdirSync,
  existsSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { Client, FTPError } from "basic-ftp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { resolveConfig } from "../../src/config.ts";
import { FtpService } from "../../src/ftp/ftp-server.ts";
import type { JobRecord } from "../../src/store/types.ts";
import { PASSWORD, startHost, USER, type TestHost } from "../support/host.ts";
import { freePort } from "../support/serve-process.ts";
import { selfSignedCertificate } from "../support/tls.ts";

/**
 * The site folder over FTP with explicit TLS, driven by a real FTP client (basic-ftp) against a
 * real host on loopback with a self-signed certificate.
 */
let t: TestHost;
let dir: string;
let ftpPort: number;
const deployed: JobRecord[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "webjobs-ftp-"));
  const { cert, key } = selfSignedCertificate(dir);
  ftpPort = await freePort();
  // A range of its own, away from other tests' ports (ftp-srv skips ports in use).
  const base = 40_000 + Math.floor(Math.random() * 20_000);
  t = await startHost({
    tlsCert: cert,
    tlsKey: key,
    ftpPort,
    ftpPassivePorts: `${base}-${base + 19}`,
  });
  t.host.registry.on("deployed", (job) => deployed.push(job));
  await t.host.credentials.addUser("reader", "reader-password", "reader");
}, 30_000);

afterAll(async () => {
  await t?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function connect(user: string, password: string, secure = true): Promise<Client> {
  const client = new Client(10_000);
  try {
    await client.access({
      host: "127.0.0.1",
      port: ftpPort,
      user,
      password,
      secure,
      secureOptions: { rejectUnauthorized: false },
    });
  } catch (error) {
    client.close();
    throw error;
  }
  return client;
}

const ftpCode = (error: unknown): number => (error instanceof FTPError ? error.code : 0);

async function until<T>(what: string, check: () => T | undefined | null | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function download(client: Client, file: string): Promise<string> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await client.downloadTo(sink, file);
  return Buffer.concat(chunks).toString("utf8");
}

describe("FTP(S) on the site folder", () => {
  it("refuses a wrong password and a login before AUTH TLS", async () => {
    await expect(connect(USER, "wrong-password")).rejects.toSatisfy((error) => ftpCode(error) === 530);
    await expect(connect("nobody", PASSWORD)).rejects.toSatisfy((error) => ftpCode(error) === 530);
    const plain = connect(USER, PASSWORD, false);
    await expect(plain).rejects.toThrow(/TLS required/);
  });

  it("installs a job folder uploaded over explicit TLS once, however many files it holds", async () => {
    const local = path.join(dir, "upload");
    mkdirSync(path.join(local, "node_modules", "lib"), { recursive: true });
    writeFileSync(path.join(local, "run.sh"), "echo uploaded over ftp\n");
    for (let i = 0; i < 40; i++) {
      writeFileSync(path.join(local, "node_modules", "lib", `f${i}.js`), `module.exports = ${i};\n`);
    }
    const client = await connect(USER, PASSWORD);
    try {
      expect(client.ftp.socket.constructor.name).toBe("TLSSocket");
      await client.ensureDir("/App_Data/jobs/triggered/ftpjob");
      await client.uploadFromDir(local);
      // A second job uploaded after the first one's last file: once it is installed, every
      // debounce timer of the first job has fired too.
      await client.ensureDir("/App_Data/jobs/triggered/ftpsentinel");
      await client.uploadFrom(path.join(local, "run.sh"), "run.sh");
    } finally {
      client.close();
    }
    await until("the sentinel job", () => deployed.some((job) => job.name === "ftpsentinel"));
    expect(deployed.filter((job) => job.name === "ftpjob")).toHaveLength(1);
    const job = (await t.host.registry.get("triggered", "ftpjob"))!;
    expect(job.script).toBe("run.sh");
    const version = t.host.paths.version("triggered", "ftpjob", job.version);
    expect(readFileSync(path.join(version, "node_modules", "lib", "f39.js"), "utf8")).toBe(
      "module.exports = 39;\n",
    );
  });

  it("lets a reader read but not write, create, rename or delete", async () => {
    const client = await connect("reader", "reader-password");
    try {
      expect(await download(client, "/App_Data/jobs/triggered/ftpjob/run.sh")).toBe(
        "echo uploaded over ftp\n",
      );
      const names = (await client.list("/App_Data/jobs/triggered")).map((entry) => entry.name);
      expect(names).toContain("ftpjob");
      writeFileSync(path.join(dir, "evil.sh"), "echo evil\n");
      await expect(
        client.uploadFrom(path.join(dir, "evil.sh"), "/App_Data/jobs/triggered/ftpjob/run.sh"),
      ).rejects.toSatisfy((error) => ftpCode(error) >= 400);
      await expect(client.send("MKD /App_Data/jobs/triggered/readerjob")).rejects.toSatisfy(
        (error) => ftpCode(error) >= 400,
      );
      await expect(client.remove("/App_Data/jobs/triggered/ftpjob/run.sh")).rejects.toSatisfy(
        (error) => ftpCode(error) >= 400,
      );
      await expect(
        client.rename("/App_Data/jobs/triggered/ftpjob/run.sh", "/App_Data/jobs/triggered/ftpjob/x.sh"),
      ).rejects.toSatisfy((error) => ftpCode(error) >= 400);
    } finally {
      client.close();
    }
    const site = path.join(t.host.config.siteDir, "App_Data/jobs/triggered");
    expect(readFileSync(path.join(site, "ftpjob", "run.sh"), "utf8")).toBe("echo uploaded over ftp\n");
    expect(existsSync(path.join(site, "readerjob"))).toBe(false);
  });

  it("keeps every path inside the site folder: '..', absolute paths and links that lead out", async () => {
    // A link in the site to the data folder (which holds the store and the secret key).
    symlinkSync(t.dataDir, path.join(t.host.config.siteDir, "escape"));
    writeFileSync(path.join(t.dataDir, "outside.txt"), "not for ftp\n");
    const client = await connect(USER, PASSWORD);
    try {
      await client.cd("../../../..");
      expect(await client.pwd()).toBe("/");
      // The answer names the client's path, never where the site lives on disk.
      expect((await client.send("MKD /made-by-ftp")).message).toBe('257 "/made-by-ftp"');
      const top = (await client.list()).map((entry) => entry.name);
      expect(top).toContain("App_Data");
      await expect(download(client, "../outside.txt")).rejects.toSatisfy((error) => ftpCode(error) >= 400);
      await expect(download(client, "/../../outside.txt")).rejects.toSatisfy(
        (error) => ftpCode(error) >= 400,
      );
      await expect(download(client, "/escape/outside.txt")).rejects.toSatisfy(
        (error) => ftpCode(error) >= 400,
      );
      await expect(client.list("/escape")).rejects.toSatisfy((error) => ftpCode(error) >= 400);
      writeFileSync(path.join(dir, "planted.txt"), "planted\n");
      await expect(client.uploadFrom(path.join(dir, "planted.txt"), "/escape/planted.txt")).rejects.toSatisfy(
        (error) => ftpCode(error) >= 400,
      );
    } finally {
      client.close();
    }
    expect(existsSync(path.join(t.dataDir, "planted.txt"))).toBe(false);
  });
});

describe("FTP configuration", () => {
  it("refuses to serve FTP beyond loopback without TLS, before listening", async () => {
    const service = new FtpService(
      {
        host: "0.0.0.0",
        ftpPort: 0,
        ftpPassivePorts: { min: 30000, max: 30009 },
        siteDir: path.join(dir, "site"),
        loginDelayMaxMs: 0,
      },
      t.host.credentials,
      pino({ level: "silent" }),
    );
    await expect(service.start()).rejects.toThrow(/Refusing to serve FTP on 0.0.0.0 without TLS/);
    expect(service.port).toBeNull();
  });

  it("validates the passive port range", () => {
    expect(() => resolveConfig({ ftpPassivePorts: "30010-30000" }, {})).toThrow(
      /WEBJOBS_FTP_PASSIVE_PORTS \(ftpPassivePorts\): must be a port range such as 30000-30009; got "30010-30000"/,
    );
    expect(resolveConfig({ ftpPort: 2121 }, {}).ftpPassivePorts).toEqual({ min: 30000, max: 30009 });
    expect(resolveConfig({}, {}).ftpPort).toBeUndefined();
  });
});
