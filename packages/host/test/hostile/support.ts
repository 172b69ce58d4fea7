import { readdirSync, statSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { expect } from "vitest";
import type { TestHost } from "../support/host.ts";

/** One hostile request and what the host must answer. */
export interface HostileCase {
  name: string;
  send: (t: TestHost) => Promise<Answer>;
  status: number;
  /** Matched against the answer's `error` (our JSON) or, failing that, its whole body. */
  message: RegExp;
  /** Checks of its own, after the common ones (status, message, nothing written, host alive). */
  also?: (t: TestHost, answer: Answer) => Promise<void> | void;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export async function answer(response: Response): Promise<Answer> {
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body: await response.text(),
  };
}

/** Files under the data folder (but the database and the lock), with sizes: what a request wrote. */
export function snapshot(dataDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const relative = path.relative(dataDir, full);
      if (/^(webjobs\.db.*|host\.lock)$/.test(relative)) continue;
      if (entry.isDirectory()) {
        out.push(`${relative}/`);
        walk(full);
      } else {
        out.push(`${relative} ${statSync(full).size}`);
      }
    }
  };
  walk(dataDir);
  return out.sort();
}

/** What the store holds that a refused request must not change. */
export async function storeState(t: TestHost): Promise<string> {
  const jobs = await t.host.store.listJobs();
  const runs = await Promise.all(jobs.map((job) => t.host.store.listRuns(job.name, 1000)));
  return JSON.stringify({
    jobs: jobs.map((job) => [job.type, job.name, job.version, job.settings]),
    runs: runs.flat().map((run) => [run.jobName, run.id]),
  });
}

/** Runs one case: the status, the message, nothing written (files and store), the host still answers. */
export async function expectRefused(t: TestHost, item: HostileCase): Promise<void> {
  const filesBefore = snapshot(t.dataDir);
  const storeBefore = await storeState(t);
  const got = await item.send(t);
  expect(got.status, `${item.name}: ${got.body.slice(0, 300)}`).toBe(item.status);
  let text = got.body;
  try {
    text = (JSON.parse(got.body) as { error?: string }).error ?? got.body;
  } catch {
    // not JSON: match the raw body
  }
  expect(text, item.name).toMatch(item.message);
  await item.also?.(t, got);
  expect(snapshot(t.dataDir), `${item.name}: files written`).toEqual(filesBefore);
  expect(await storeState(t), `${item.name}: store changed`).toBe(storeBefore);
  await expectAlive(t);
}

export async function expectAlive(t: TestHost): Promise<void> {
  expect((await fetch(`${t.url}/api/health`)).status).toBe(200);
  expect((await t.api("/api/webjobs")).status).toBe(200);
}

/**
 * Sends bytes as they are (a request fetch would refuse to write: raw bytes in a path, a forged
 * Host, a broken chunk) and reads the answer until the server closes the connection.
 */
export function rawRequest(url: string, request: string | Buffer, timeoutMs = 10_000): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("raw request timed out"));
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(chunks).toString("latin1")));
    });
    socket.write(request);
  });
}

function parseAnswer(text: string): Answer {
  const [head, ...rest] = text.split("\r\n\r\n");
  const [statusLine, ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = rest.join("\r\n\r\n");
  if (headers["transfer-encoding"] === "chunked") body = unchunk(body);
  return {
    status: Number(statusLine.split(" ")[1] ?? 0),
    headers,
    body: Buffer.from(body, "latin1").toString(),
  };
}

function unchunk(body: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const end = body.indexOf("\r\n", at);
    if (end < 0) return out;
    const size = parseInt(body.slice(at, end), 16);
    if (!size) return out;
    out += body.slice(end + 2, end + 2 + size);
    at = end + 2 + size + 2;
  }
}

/** A raw HTTP/1.1 request with our credentials and `Connection: close`. */
export function raw(
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body: string | Buffer = "",
): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, "Connection: close"];
  if (!Object.keys(headers).some((h) => h.toLowerCase() === "host")) lines.push("Host: 127.0.0.1");
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  if (bytes.length > 0 && !Object.keys(headers).some((h) => /^(content-length|transfer-encoding)$/i.test(h)))
    lines.push(`Content-Length: ${bytes.length}`);
  return Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1"), bytes]);
}

/** Replaces every occurrence of a placeholder entry name (local header and central directory). */
export function renameEntry(zip: Buffer, placeholder: string, name: string): Buffer {
  const from = Buffer.from(placeholder);
  const to = Buffer.from(name);
  if (to.length !== from.length) throw new Error("renameEntry: the names must have the same length");
  if (zip.indexOf(from) < 0) throw new Error(`renameEntry: no entry named ${placeholder}`);
  for (let at = zip.indexOf(from); at >= 0; at = zip.indexOf(from, at + 1)) to.copy(zip, at);
  return zip;
}

/** Makes every central header claim `size` unpacked bytes (a zip bomb's lie). */
export function lieAboutSizes(zip: Buffer, size: number): Buffer {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let offset = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < zip.readUInt16LE(eocd + 10); i++) {
    zip.writeUInt32LE(size, offset + 24);
    const local = zip.readUInt32LE(offset + 42);
    if (zip.readUInt32LE(local + 22) !== 0) zip.writeUInt32LE(size, local + 22);
    offset +=
      46 + zip.readUInt16LE(offset + 28) + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
  }
  return zip;
}
