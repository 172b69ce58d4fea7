import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startHost, type TestHost } from "../support/host.ts";
import { freePort } from "../support/serve-process.ts";
import { selfSignedCertificate } from "../support/tls.ts";

/**
 * A client that starts its TLS handshake the moment it reads `234` (curl does) must get TLS, every
 * time, and then the answers to its own commands. ftp-srv wraps the command socket a few event-loop
 * turns after writing 234; a ClientHello read in between was taken for a command and answered in
 * clear, and the client failed with "wrong version number" (a third of curl's uploads in the
 * README's example); and the ClientHello must not be answered as a command once TLS is on either
 * (`502 Command not allowed` in place of the answer to USER).
 */
let t: TestHost;
let dir: string;
let ftpPort: number;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "webjobs-ftp-auth-"));
  const { cert, key } = selfSignedCertificate(dir);
  ftpPort = await freePort();
  const base = 40_000 + Math.floor(Math.random() * 20_000);
  t = await startHost({ tlsCert: cert, tlsKey: key, ftpPort, ftpPassivePorts: `${base}-${base + 4}` });
}, 30_000);

afterAll(async () => {
  await t?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Run in a process of its own, so the handshake races the host's event loop as a real client's
 * does: AUTH TLS, then TLS at once on 234; prints how each of `count` connections ended.
 */
const CLIENT = `
import net from "node:net";
import tls from "node:tls";
const [port, count] = process.argv.slice(1).map(Number);
const once = () => new Promise((resolve) => {
  const socket = net.connect(port, "127.0.0.1");
  let text = "";
  let asked = false;
  socket.setTimeout(3000, () => { socket.destroy(); resolve("timeout"); });
  socket.on("error", (error) => resolve(error.code ?? error.message));
  socket.on("data", (chunk) => {
    text += chunk.toString("latin1");
    if (!asked && /(^|\\n)220 /.test(text)) { asked = true; socket.write("AUTH TLS\\r\\n"); }
    if (!asked || !/(^|\\n)234 /.test(text)) return;
    socket.removeAllListeners("data");
    const secure = tls.connect({ socket, rejectUnauthorized: false }, () => secure.write("USER someone\\r\\n"));
    let answer = "";
    secure.on("data", (chunk) => {
      answer += chunk.toString("latin1");
      if (!answer.includes("\\r\\n")) return;
      secure.end();
      resolve(answer.startsWith("331 ") ? "ok" : JSON.stringify(answer.slice(0, 40)));
    });
    secure.on("error", (error) => { socket.destroy(); resolve(error.code ?? error.message); });
  });
});
const outcomes = [];
for (let i = 0; i < count; i++) outcomes.push(await once());
console.log(JSON.stringify(outcomes));
`;

it("gives TLS, then the answer to USER, to a client that starts TLS as soon as AUTH TLS is answered", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--input-type=module", "-e", CLIENT, String(ftpPort), "40"],
    { timeout: 20_000 },
  );
  const outcomes = JSON.parse(stdout) as string[];
  expect(outcomes).toHaveLength(40);
  expect(outcomes.filter((outcome) => outcome !== "ok")).toEqual([]);
}, 30_000);
