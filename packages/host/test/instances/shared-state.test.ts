import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH, makeZip, PASSWORD, USER, waitFor } from "../support/host.ts";
import { stopCluster } from "../support/cluster.ts";
import { startPostgres, type TestPostgres, queryRows } from "../support/postgres.ts";
import { startServe, type ServeProcess } from "../support/serve-process.ts";

/**
 * State two real `webjobs serve` processes on one embedded PostgreSQL share through the store:
 * the login slow-down, revoked tokens and changed passwords, the one deployment in progress, and
 * the first admin when both start at once on an empty database.
 */
let postgres: TestPostgres;
let databaseUrl: string;
const dirs: string[] = [];
const hosts: ServeProcess[] = [];

async function serve(id: string, url: string, env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-shared-"));
  dirs.push(dir);
  const job = path.join(dir, "site/App_Data/jobs/triggered/hello");
  await mkdir(job, { recursive: true });
  await writeFile(path.join(job, "run.sh"), "echo hello\n");
  const host = await startServe(dir, {
    WEBJOBS_DATABASE_URL: url,
    WEBJOBS_INSTANCE_ID: id,
    WEBJOBS_LOG_LEVEL: "info",
    // Failed logins wait at most 1 s here: 3 free, then 125, 250, 500 ms, 1 s…
    WEBJOBS_LOGIN_DELAY_MAX_MS: "1000",
    ...env,
  });
  hosts.push(host);
  return host;
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const call = (host: ServeProcess, p: string, authorization: string, init: RequestInit = {}) =>
  fetch(host.url + p, { ...init, headers: { authorization, ...(init.headers as object) } });
const api = (host: ServeProcess, p: string, init: RequestInit = {}) => call(host, p, AUTH, init);
const json = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

async function timed(work: () => Promise<Response>): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await work();
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

const rows = queryRows;

let a: ServeProcess;
let b: ServeProcess;
beforeAll(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  a = await serve("host-a", databaseUrl);
  b = await serve("host-b", databaseUrl);
}, 60_000);

afterAll(() => stopCluster(hosts, postgres, dirs), 60_000);

describe("state shared by several hosts through PostgreSQL", () => {
  // First: the other cases fail logins from the same address too.
  it("slows down failed logins on B after failures on A (counted in the store)", async () => {
    const wrong = basic(USER, "not-the-password");
    const onA: number[] = [];
    for (let i = 0; i < 4; i++) onA.push((await timed(() => call(a, "/api/triggeredwebjobs", wrong))).ms);
    // Three free failures, then 125 ms.
    expect(onA[3]).toBeGreaterThanOrEqual(120);
    // The fifth failure of this address, on the other instance: 250 ms, not a first (free) one.
    const onB = await timed(() => call(b, "/api/triggeredwebjobs", wrong));
    expect(onB.status).toBe(401);
    expect(onB.ms).toBeGreaterThanOrEqual(240);
    // The right password is never slowed down nor refused.
    expect((await api(b, "/api/triggeredwebjobs")).status).toBe(200);
  }, 30_000);

  it("refuses on B a token revoked on A, at the next request", async () => {
    const created = await api(a, "/api/tokens", json({ label: "ci", role: "reader" }));
    expect(created.status).toBe(201);
    const { id, token } = (await created.json()) as { id: string; token: string };
    expect((await call(b, "/api/triggeredwebjobs", `Bearer ${token}`)).status).toBe(200);
    expect((await api(a, `/api/tokens/${id}`, { method: "DELETE" })).status).toBe(204);
    expect((await call(b, "/api/triggeredwebjobs", `Bearer ${token}`)).status).toBe(401);
    expect((await call(a, "/api/triggeredwebjobs", `Bearer ${token}`)).status).toBe(401);
  }, 30_000);

  it("refuses on B a password changed on A, though B remembered the old one as checked", async () => {
    const created = await api(
      a,
      "/api/users",
      json({ username: "ops", password: "first-password", role: "reader" }),
    );
    expect(created.status).toBe(201);
    const old = basic("ops", "first-password");
    // B checks it once (scrypt) and remembers the success.
    expect((await call(b, "/api/triggeredwebjobs", old)).status).toBe(200);
    const changed = await api(a, "/api/users/ops", {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: "second-password" }),
    });
    expect(changed.status).toBe(200);
    expect((await call(b, "/api/triggeredwebjobs", old)).status).toBe(401);
    expect((await call(b, "/api/triggeredwebjobs", basic("ops", "second-password"))).status).toBe(200);
  }, 30_000);

  it("stops every job on B when WEBJOBS_STOPPED is set as an app setting through A, and starts again when removed", async () => {
    const run = () => api(b, "/api/triggeredwebjobs/hello/run", { method: "POST" });
    const stoppedOnB = async () =>
      ((await (await fetch(`${b.url}/api/health`)).json()) as { stopped: boolean }).stopped;
    await waitFor(async () => (await api(b, "/api/triggeredwebjobs/hello")).ok, 10_000, "hello on B");
    expect(await stoppedOnB()).toBe(false);
    const set = await api(a, "/api/appsettings/WEBJOBS_STOPPED", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ value: "1" }),
    });
    expect(set.status).toBe(200);
    // Signalled at once; polled every 3 s anyway.
    await waitFor(stoppedOnB, 5_000, "B to see WEBJOBS_STOPPED");
    const refused = await run();
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { code: string }).code).toBe("stopped");
    // Only host-wide: a job's own WEBJOBS_STOPPED is refused.
    const perJob = await api(a, "/api/webjobs/hello/appsettings/WEBJOBS_STOPPED", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ value: "1" }),
    });
    expect(perJob.status).toBe(400);

    expect((await api(a, "/api/appsettings/WEBJOBS_STOPPED", { method: "DELETE" })).status).toBe(204);
    await waitFor(async () => !(await stoppedOnB()), 5_000, "B to see WEBJOBS_STOPPED cleared");
    expect((await run()).status).toBe(202);
  }, 30_000);

  it("lets one deployment run at a time: a deploy through B while A deploys answers 409", async () => {
    // Many files: A's deployment takes a while to unpack and swap.
    const files: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) files[`static/f${i}.txt`] = `file ${i}\n`;
    const big = await makeZip(files);
    const small = await makeZip({ "index.html": "<p>hello</p>\n" });
    const deploy = (host: ServeProcess, zip: Buffer, query = "") =>
      api(host, `/api/zipdeploy${query}`, {
        method: "POST",
        headers: { "content-type": "application/zip" },
        body: new Uint8Array(zip),
      });
    const started = await deploy(a, big, "?isAsync=true");
    expect(started.status).toBe(202);
    const refused = await deploy(b, small);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { Message: string }).Message).toBe(
      "There is a deployment currently in progress. Please try again when it completes.",
    );
    // A's deployment was the one in progress, and it ends well; then B may deploy.
    const inProgress = await rows(
      databaseUrl,
      "SELECT deployer, complete FROM deployments WHERE NOT complete",
    );
    expect(inProgress.length).toBeLessThanOrEqual(1);
    const waitForA = async () => {
      for (let i = 0; i < 100; i++) {
        const done = await rows(
          databaseUrl,
          "SELECT status FROM deployments WHERE complete ORDER BY received_time DESC",
        );
        if (done.length > 0) return done[0]!.status;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return null;
    };
    expect(await waitForA()).toBe(4); // Success
    expect((await deploy(b, small)).status).toBe(200);
  }, 60_000);
});

describe("first start of several hosts on an empty database", () => {
  it("creates one admin, whose generated password exactly one instance prints", async () => {
    const empty = await postgres.createDatabase();
    // No credentials given: each would generate an admin password.
    const started = await Promise.all(
      ["first-1", "first-2"].map((id) => serve(id, empty, { WEBJOBS_USERNAME: "", WEBJOBS_PASSWORD: "" })),
    );
    const users = await rows(empty, "SELECT username FROM credentials WHERE kind = 'password'");
    expect(users).toEqual([{ username: "admin" }]);
    const printed = started.filter((host) => host.output().includes("Created the admin credential"));
    expect(printed).toHaveLength(1);
    const other = started.find((host) => host !== printed[0])!;
    expect(other.output()).toContain("a user exists: no admin password generated");
    // The printed password is the one stored.
    const password = /password: (\S+)/.exec(printed[0]!.output())![1]!;
    for (const host of started) {
      expect((await call(host, "/api/triggeredwebjobs", basic("admin", password))).status).toBe(200);
    }
    expect(PASSWORD).not.toBe(password);
  }, 60_000);
});
