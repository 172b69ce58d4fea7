import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH, makeZip, waitFor } from "../support/host.ts";
import { stopCluster } from "../support/cluster.ts";
import { startPostgres, type TestPostgres, queryRows } from "../support/postgres.ts";
import { startServe, type ServeProcess } from "../support/serve-process.ts";

/**
 * Two real `webjobs serve` processes with their own data folders (no shared disk) on one embedded
 * PostgreSQL: a deploy, a removal or a redeploy made through one reaches the other once, by the
 * package stored in the database and the job change feed.
 */
let postgres: TestPostgres;
let databaseUrl: string;
const dirs: string[] = [];
const hosts: ServeProcess[] = [];
let a: ServeProcess;
let b: ServeProcess;
let dataA: string;
let dataB: string;

async function serve(id: string): Promise<{ host: ServeProcess; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-packages-"));
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

async function deploy(host: ServeProcess, type: string, name: string, files: Record<string, string>) {
  const response = await api(host, `/api/${type}webjobs/${name}`, {
    method: "PUT",
    headers: { "content-type": "application/zip", "content-disposition": `attachment; filename=${name}.zip` },
    body: new Uint8Array(await makeZip(files)),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

const rows = (sql: string, values: unknown[] = []) => queryRows(databaseUrl, sql, values);

const siteJob = (dir: string, type: string, name: string) =>
  path.join(dir, "site", "App_Data", "jobs", type, name);
const readOr = (file: string) => readFile(file, "utf8").catch(() => "");
const versionOf = async (type: string, name: string) =>
  (await rows("SELECT version FROM jobs WHERE type = $1 AND name = $2", [type, name]))[0]?.version as
    string | undefined;

beforeAll(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  ({ host: a, dir: dataA } = await serve("pkg-a"));
  ({ host: b, dir: dataB } = await serve("pkg-b"));
}, 60_000);

afterAll(() => stopCluster(hosts, postgres, dirs), 60_000);

describe("packages and job changes shared through PostgreSQL", () => {
  it("runs through B a job deployed through A, with the code B fetched from the database", async () => {
    await deploy(a, "triggered", "hello", { "run.sh": 'echo "hello v1 from $WEBJOBS_NAME"\n' });
    const version = await versionOf("triggered", "hello");
    const stored = await rows(
      "SELECT j.package_hash, p.size FROM jobs j JOIN packages p ON p.hash = j.package_hash",
    );
    expect(stored).toHaveLength(1);
    // B unpacked the version into its own cache and published its own site folder.
    await waitFor(
      async () =>
        (await readOr(path.join(siteJob(dataB, "triggered", "hello"), "run.sh"))).includes("hello v1"),
      10_000,
      "the job in B's site folder",
    );
    expect(existsSync(path.join(dataB, "versions", "triggered", "hello", version!, "run.sh"))).toBe(true);

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
        15_000,
        "the run to end",
      );
      expect(run.status).toBe("Success");
      const [row] = await rows("SELECT instance_id FROM runs WHERE job_name = 'hello' AND id = $1", [run.id]);
      if (row?.instance_id !== "pkg-b") continue;
      ranOnB = true;
      const log = await (await api(b, `${location}/log`)).text().catch(() => "");
      const onDisk = await readOr(
        path.join(dataB, "jobs", "triggered", "hello", String(run.id), "output_log.txt"),
      );
      expect(log + onDisk).toContain("hello v1 from hello");
    }
    expect(ranOnB).toBe(true);
    // One install, one package: B's site folder was not taken for an edit and deployed again.
    expect(await versionOf("triggered", "hello")).toBe(version);
    expect(await rows("SELECT hash FROM packages")).toHaveLength(1);
  }, 60_000);

  it("tells B's live event stream about a job deployed and removed through A", async () => {
    const controller = new AbortController();
    const stream = await api(b, "/api/events", { signal: controller.signal });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let text = "";
    const heard = (change: string) =>
      text.includes(`"kind":"job","type":"triggered","name":"evented","change":"${change}"`);
    const until = async (change: string) => {
      const deadline = Date.now() + 10_000;
      while (!heard(change)) {
        if (Date.now() > deadline) throw new Error(`no '${change}' event for evented on B:\n${text}`);
        const { value, done } = await reader.read();
        if (done) throw new Error("the event stream ended");
        text += new TextDecoder().decode(value);
      }
    };
    await deploy(a, "triggered", "evented", { "run.sh": "echo evented\n" });
    await until("deployed");
    expect((await api(a, "/api/triggeredwebjobs/evented", { method: "DELETE" })).status).toBe(200);
    await until("removed");
    controller.abort();
  }, 30_000);

  it("removes from A a job deleted through B", async () => {
    await deploy(b, "triggered", "doomed", { "run.sh": "echo doomed\n" });
    await waitFor(() => existsSync(siteJob(dataA, "triggered", "doomed")), 10_000, "doomed on A");
    const deleted = await api(b, "/api/triggeredwebjobs/doomed", { method: "DELETE" });
    expect(deleted.status).toBe(200);
    await waitFor(
      () =>
        !existsSync(siteJob(dataA, "triggered", "doomed")) &&
        !existsSync(path.join(dataA, "versions", "triggered", "doomed")),
      10_000,
      "doomed gone from A's disk",
    );
    expect((await api(a, "/api/triggeredwebjobs/doomed")).status).toBe(404);
    // A removed its copy without taking the vanished folder for a deletion of its own.
    expect(await rows("SELECT 1 FROM jobs WHERE name = 'doomed'")).toHaveLength(0);
  }, 30_000);

  it("starts on B a continuous job deployed on A, and restarts it once on each after a redeploy", async () => {
    const script = (v: string) =>
      `echo "start ${v}" >> "$WEBJOBS_DATA_PATH/starts.txt"\nwhile true; do sleep 1; done\n`;
    await deploy(a, "continuous", "worker", { "run.sh": script("v1") });
    const starts = (dir: string) => readOr(path.join(dir, "jobs", "continuous", "worker", "starts.txt"));
    await waitFor(async () => (await starts(dataA)) === "start v1\n", 15_000, "worker started on A");
    await waitFor(async () => (await starts(dataB)) === "start v1\n", 15_000, "worker started on B");

    await deploy(a, "continuous", "worker", { "run.sh": script("v2") });
    await waitFor(async () => (await starts(dataA)).includes("start v2"), 20_000, "worker on v2 on A");
    await waitFor(async () => (await starts(dataB)).includes("start v2"), 20_000, "worker on v2 on B");
    // Stop through B reaches A: the desired state is followed everywhere.
    const stopped = await api(b, "/api/continuouswebjobs/worker/stop", { method: "POST" });
    expect(stopped.status).toBe(200);
    await waitFor(
      async () => {
        const json = (await (await api(a, "/api/continuouswebjobs/worker")).json()) as { status: string };
        return json.status === "Stopped";
      },
      15_000,
      "worker stopped on A",
    );
    // Once each: v1 started once, v2 once (no second restart from a site folder taken for an edit).
    expect(await starts(dataA)).toBe("start v1\nstart v2\n");
    expect(await starts(dataB)).toBe("start v1\nstart v2\n");
    expect((await readdir(path.join(dataB, "versions", "continuous", "worker"))).length).toBeLessThanOrEqual(
      2,
    );
  }, 60_000);

  it("installs on B the jobs of a whole site zip-deployed through A, once", async () => {
    const zip = await makeZip({
      "index.html": "<h1>site</h1>",
      "App_Data/jobs/triggered/from-site/run.sh": "echo from the site\n",
    });
    const response = await api(a, "/api/zipdeploy", {
      method: "POST",
      headers: { "content-type": "application/zip" },
      body: new Uint8Array(zip),
    });
    expect(response.status).toBe(200);
    const version = await versionOf("triggered", "from-site");
    expect(version).toBeDefined();
    await waitFor(
      async () => (await readOr(path.join(siteJob(dataB, "triggered", "from-site"), "run.sh"))) !== "",
      10_000,
      "from-site in B's site folder",
    );
    expect(await readOr(path.join(dataB, "versions", "triggered", "from-site", version!, "run.sh"))).toBe(
      "echo from the site\n",
    );
    // The rest of A's site reaches B as a site revision (see site-revisions.test.ts).
    await waitFor(
      async () => (await readOr(path.join(dataB, "site", "index.html"))) === "<h1>site</h1>",
      10_000,
      "index.html in B's site folder",
    );
    // The zip deploy removed the jobs its site lacks, on both.
    await waitFor(() => !existsSync(siteJob(dataB, "triggered", "hello")), 10_000, "hello gone from B");
    expect(await versionOf("triggered", "from-site")).toBe(version);
  }, 30_000);

  it("installs on B a job folder copied into A's site, once", async () => {
    const folder = siteJob(dataA, "triggered", "copied");
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, "run.sh"), "echo copied by hand\n");
    await waitFor(
      async () => (await readOr(path.join(siteJob(dataB, "triggered", "copied"), "run.sh"))) !== "",
      15_000,
      "copied in B's site folder",
    );
    const version = await versionOf("triggered", "copied");
    expect(await readOr(path.join(dataB, "versions", "triggered", "copied", version!, "run.sh"))).toBe(
      "echo copied by hand\n",
    );
    const installs = (output: string) =>
      output
        .split("\n")
        .filter((l) => l.includes('"name":"copied"') && l.includes("installed job from the site folder"));
    expect(installs(a.output())).toHaveLength(1);
    expect(installs(b.output())).toHaveLength(0);
  }, 30_000);

  it("arms on B a schedule deployed through A, each due instant fired once", async () => {
    await deploy(a, "triggered", "ticker", {
      "run.sh": "echo tick\n",
      "settings.job": JSON.stringify({ schedule: "* * * * * *", time_zone: "UTC" }),
    });
    await waitFor(() => existsSync(siteJob(dataB, "triggered", "ticker")), 10_000, "ticker on B");
    // A leaves: whatever fires from now on, B fires it, so B armed the schedule without a restart.
    a.child.kill("SIGTERM");
    await a.exited;
    const [{ at }] = (await rows("SELECT now() AS at")) as [{ at: Date }];
    const after =
      "SELECT scheduled_time, instance_id FROM runs WHERE job_name = 'ticker' AND scheduled_time > $1";
    const runs = await waitFor(
      async () => {
        const found = await rows(after, [at]);
        return found.length >= 2 && found;
      },
      15_000,
      "two scheduled runs after A left",
    );
    expect(new Set(runs.map((r) => r.instance_id))).toEqual(new Set(["pkg-b"]));
    const instants = runs.map((r) => (r.scheduled_time as Date).getTime());
    expect(new Set(instants).size).toBe(instants.length);
    // B never installed anything itself: every job's version is the one its deploy made.
    expect(b.output()).not.toContain("installed job from the site folder");
  }, 45_000);
});
