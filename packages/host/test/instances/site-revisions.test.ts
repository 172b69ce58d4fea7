import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH, makeZip, waitFor } from "../support/host.ts";
import { stopCluster } from "../support/cluster.ts";
import { queryRows, startPostgres, type TestPostgres } from "../support/postgres.ts";
import { startServe, type ServeProcess } from "../support/serve-process.ts";

/**
 * Real `webjobs serve` processes with their own data folders (no shared disk) on one embedded
 * PostgreSQL: a site deployed through one instance (zip deploy) reaches the others' site folders,
 * the jobs in it included, and an instance started later catches up.
 */
let postgres: TestPostgres;
let databaseUrl: string;
const dirs: string[] = [];
const hosts: ServeProcess[] = [];
let a: ServeProcess;
let b: ServeProcess;
let dataB: string;

async function serve(id: string): Promise<{ host: ServeProcess; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-site-revisions-"));
  dirs.push(dir);
  const host = await startServe(dir, {
    WEBJOBS_DATABASE_URL: databaseUrl,
    WEBJOBS_INSTANCE_ID: id,
    WEBJOBS_LOG_LEVEL: "info",
    WEBJOBS_WATCH_DEBOUNCE_MS: "100",
  });
  hosts.push(host);
  return { host, dir };
}

const api = (host: ServeProcess, p: string, init: RequestInit = {}) =>
  fetch(host.url + p, { ...init, headers: { authorization: AUTH, ...(init.headers as object) } });

async function zipDeploy(host: ServeProcess, files: Record<string, string>): Promise<void> {
  const response = await api(host, "/api/zipdeploy", {
    method: "POST",
    headers: { "content-type": "application/zip" },
    body: new Uint8Array(await makeZip(files)),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

/** A file of the site as the instance's VFS serves it, or null for a 404. */
async function vfs(host: ServeProcess, file: string): Promise<string | null> {
  const response = await api(host, `/api/vfs/site/wwwroot/${file}`);
  if (response.status === 404) return null;
  expect(response.status).toBe(200);
  return response.text();
}

const rows = (sql: string, values: unknown[] = []) => queryRows(databaseUrl, sql, values);
const siteJob = (dir: string, name: string) => path.join(dir, "site", "App_Data", "jobs", "triggered", name);
const helloVersion = async () =>
  (await rows("SELECT version FROM jobs WHERE type = 'triggered' AND name = 'hello'"))[0]?.version as
    string | undefined;

const job = { "App_Data/jobs/triggered/hello/run.sh": 'echo "hello from $WEBJOBS_NAME"\n' };

beforeAll(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  ({ host: a } = await serve("site-a"));
  ({ host: b, dir: dataB } = await serve("site-b"));
}, 60_000);

afterAll(() => stopCluster(hosts, postgres, dirs), 60_000);

describe("site deployments shared through PostgreSQL", () => {
  it("serves through B a site zip-deployed through A, and runs its job on B", async () => {
    await zipDeploy(a, { "index.html": "<h1>v1</h1>", ...job });
    await waitFor(async () => (await vfs(b, "index.html")) === "<h1>v1</h1>", 8_000, "index.html on B");
    // B kept the job folder its registry published (the revision holds no App_Data/jobs).
    await waitFor(() => existsSync(path.join(siteJob(dataB, "hello"), "run.sh")), 8_000, "hello on B");
    const [revision] = await rows(
      "SELECT r.instance_id, r.deployment_id, p.size FROM site_revisions r JOIN packages p ON p.hash = r.package_hash",
    );
    expect(revision).toMatchObject({ instance_id: "site-a" });
    const log = await (await api(a, `/api/deployments/${String(revision!.deployment_id)}/log`)).text();
    expect(log).toContain("Stored the site's files for the other instances");

    // Runs asked of B; where one runs is the cluster's choice, so ask until one ran on B.
    let ranOnB = false;
    for (let attempt = 0; attempt < 8 && !ranOnB; attempt++) {
      const started = await api(b, "/api/triggeredwebjobs/hello/run", { method: "POST" });
      expect(started.status).toBe(202);
      const location = new URL(started.headers.get("location")!).pathname;
      const run = await waitFor(
        async () => {
          const json = (await (await api(b, location)).json()) as Record<string, unknown>;
          return json.status === "Success" || json.status === "Failed" ? json : undefined;
        },
        10_000,
        "the run to end",
      );
      expect(run.status).toBe("Success");
      const [row] = await rows("SELECT instance_id FROM runs WHERE job_name = 'hello' AND id = $1", [run.id]);
      ranOnB = row?.instance_id === "site-b";
    }
    expect(ranOnB).toBe(true);
  }, 30_000);

  it("stores one package for the same site deployed twice, and a new revision", async () => {
    const before = await rows("SELECT count(*)::int AS n FROM packages");
    await zipDeploy(a, { "index.html": "<h1>v1</h1>", ...job });
    const revisions = await rows("SELECT package_hash FROM site_revisions ORDER BY revision");
    expect(revisions).toHaveLength(2);
    expect(revisions[1]!.package_hash).toBe(revisions[0]!.package_hash);
    expect(await rows("SELECT count(*)::int AS n FROM packages")).toEqual(before);
  }, 15_000);

  it("removes from B a file the next deployment through A lacks", async () => {
    await zipDeploy(a, { "other.html": "<p>other</p>", ...job });
    const version = await helloVersion();
    await waitFor(async () => (await vfs(b, "other.html")) === "<p>other</p>", 8_000, "other.html on B");
    expect(await vfs(b, "index.html")).toBeNull();
    expect(existsSync(path.join(siteJob(dataB, "hello"), "run.sh"))).toBe(true);
    // The job is the same: B's swap was not taken for an edit of its folder (checked at the end too).
    expect(await helloVersion()).toBe(version);
  }, 15_000);

  it("adds on A a single file published through B (OneDeploy), over the site B had applied", async () => {
    const published = await api(b, "/api/publish?type=static&path=conf/app.json", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"x":1}',
    });
    expect(published.status, await published.clone().text()).toBe(200);
    await waitFor(async () => (await vfs(a, "conf/app.json")) === '{"x":1}', 8_000, "conf/app.json on A");
    expect(await vfs(a, "other.html")).toBe("<p>other</p>");
    expect(await vfs(a, "index.html")).toBeNull();
    const [latest] = await rows("SELECT instance_id FROM site_revisions ORDER BY revision DESC LIMIT 1");
    expect(latest).toMatchObject({ instance_id: "site-b" });
  }, 15_000);

  it("brings an instance started later to the latest site, jobs included, after checking its hash", async () => {
    const version = await helloVersion();
    // The latest site package damaged in the database: refused whole, the site folder untouched.
    const [latest] = await rows("SELECT package_hash FROM site_revisions ORDER BY revision DESC LIMIT 1");
    const hash = latest!.package_hash as string;
    const [{ content }] = (await rows("SELECT content FROM packages WHERE hash = $1", [hash])) as {
      content: Buffer;
    }[];
    await rows("UPDATE packages SET content = $2 WHERE hash = $1", [
      hash,
      Buffer.concat([content, Buffer.from([0])]),
    ]);
    const { host: c, dir: dataC } = await serve("site-c");
    await waitFor(
      () => c.output().includes("does not match its hash"),
      8_000,
      "C to refuse the damaged package",
    );
    expect(await vfs(c, "other.html")).toBeNull();
    // Repaired: C's poll applies it.
    await rows("UPDATE packages SET content = $2 WHERE hash = $1", [hash, content]);
    await waitFor(async () => (await vfs(c, "other.html")) === "<p>other</p>", 10_000, "other.html on C");
    expect(await vfs(c, "conf/app.json")).toBe('{"x":1}');
    expect(await vfs(c, "index.html")).toBeNull();
    await waitFor(() => existsSync(path.join(siteJob(dataC, "hello"), "run.sh")), 8_000, "hello on C");
    // Nobody installed the job again from a site folder the swap had moved.
    expect(await helloVersion()).toBe(version);
    for (const host of [b, c]) expect(host.output()).not.toContain("installed job from the site folder");
  }, 30_000);
});
