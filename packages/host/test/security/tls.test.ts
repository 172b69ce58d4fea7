import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkListenPolicy, isLoopback } from "../../src/tls/tls-options.ts";
import { AUTH, startHost, type TestHost } from "../support/host.ts";
import { selfSignedCertificate } from "../support/tls.ts";

let dir: string;
let cert: string;
let key: string;
let t: TestHost;
let origin: string;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** HTTPS that trusts only the test's self-signed certificate. */
function get(url: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...init, ca: readFileSync(cert), servername: "localhost" }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "webjobs-tls-"));
  ({ cert, key } = selfSignedCertificate(dir));
  t = await startHost({ tlsCert: cert, tlsKey: key });
  origin = t.url;
}, 30_000);

afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("TLS", () => {
  it("serves the API over HTTPS with HSTS, and the session cookie is Secure", async () => {
    expect(origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await get(`${origin}/api/health`);
    expect(health.status).toBe(200);
    expect(health.headers["strict-transport-security"]).toMatch(/max-age=\d+/);
    expect((await get(`${origin}/api/webjobs`, { headers: { authorization: AUTH } })).status).toBe(200);
    const login = await get(`${origin}/api/session`, { method: "POST", headers: { authorization: AUTH } });
    expect(login.status).toBe(201);
    expect(String(login.headers["set-cookie"])).toMatch(/; Secure/);
  });

  it("needs both files, readable", async () => {
    await expect(startHost({ tlsCert: cert })).rejects.toThrow(/needs both --tls-cert and --tls-key/);
    await expect(startHost({ tlsCert: cert, tlsKey: path.join(dir, "missing.pem") })).rejects.toThrow(
      /Cannot read --tls-key .*missing\.pem: ENOENT/,
    );
  });
});

describe("plain HTTP beyond loopback", () => {
  it("is refused at start with a clear message, unless told --insecure-http or given a certificate", async () => {
    await expect(startHost({ host: "192.0.2.10" })).rejects.toThrow(
      /Refusing to listen on 192\.0\.2\.10 over plain HTTP: .*--tls-cert FILE --tls-key FILE.*--insecure-http/,
    );
    await expect(startHost({ host: "0.0.0.0" })).rejects.toThrow(/Refusing to listen on 0\.0\.0\.0/);
    expect(() => checkListenPolicy({ host: "0.0.0.0", insecureHttp: true })).not.toThrow();
    expect(() => checkListenPolicy({ host: "0.0.0.0", insecureHttp: false, tlsCert: cert })).not.toThrow();
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
      expect(isLoopback(host), host).toBe(true);
    for (const host of ["0.0.0.0", "::", "10.0.0.1", "example.com"])
      expect(isLoopback(host), host).toBe(false);
  });
});
