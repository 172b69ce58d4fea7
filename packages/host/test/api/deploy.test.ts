import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployScript, deployZip, makeZip, runToEnd, startHost, type TestHost } from "../support/host.ts";

let t: TestHost;
beforeAll(async () => {
  t = await startHost({ maxUploadBytes: 64 * 1024, zipMaxEntries: 20, zipMaxUnpackedBytes: 256 * 1024 });
});
afterAll(() => t.stop());

/** Everything under the data and site folders, to prove a refused upload wrote nothing. */
function snapshot(): string[] {
  const walk = (dir: string, prefix = ""): string[] =>
    existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? walk(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
        )
      : [];
  return walk(t.dataDir).filter((f) => !f.startsWith("webjobs.db"));
}

async function expectRefused(response: Response, status: number, message: RegExp, before: string[]) {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error: string; Message: string };
  expect(body.error).toMatch(message);
  expect(body.Message).toBe(body.error);
  expect(snapshot()).toEqual(before);
}

describe("deploying triggered jobs", () => {
  it("installs a zip and answers with Kudu's job JSON", async () => {
    const zip = await makeZip({ "run.sh": "echo hello from zip\n", "lib/data.txt": "x" });
    const response = await deployZip(t, "triggered", "hello", zip);
    expect(response.status).toBe(200);
    const job = (await response.json()) as Record<string, unknown>;
    expect(job).toMatchObject({
      name: "hello",
      run_command: "run.sh",
      type: "triggered",
      error: null,
      using_sdk: false,
      settings: {},
      latest_run: null,
      scheduler_logs_url: null,
    });
    expect(job.url).toBe(`${t.url}/api/triggeredwebjobs/hello`);
    expect(job.history_url).toBe(`${t.url}/api/triggeredwebjobs/hello/history`);
    // The Kudu folder layout is there for users and tools.
    const site = path.join(t.dataDir, "site/App_Data/jobs/triggered/hello");
    expect(readFileSync(path.join(site, "run.sh"), "utf8")).toBe("echo hello from zip\n");
    const run = await runToEnd(t, "hello");
    expect(run.status).toBe("Success");
  });

  it("installs a single script and applies the single-subfolder rule for zips", async () => {
    const single = await deployScript(t, "triggered", "single", "job.py", "print('py ok')\n");
    expect(single.status).toBe(200);
    expect(((await single.json()) as { run_command: string }).run_command).toBe("job.py");

    const nested = await deployZip(
      t,
      "triggered",
      "nested",
      await makeZip({ "app/run.js": "console.log('nested')" }),
    );
    expect(nested.status).toBe(200);
    expect(((await nested.json()) as { run_command: string }).run_command).toBe("app/run.js");
    expect((await runToEnd(t, "nested")).status).toBe("Success");
  });

  it("lists jobs with ETag and 304", async () => {
    const first = await t.api("/api/triggeredwebjobs");
    expect(first.status).toBe(200);
    const names = ((await first.json()) as { name: string }[]).map((j) => j.name);
    expect(names).toContain("hello");
    const etag = first.headers.get("etag")!;
    const again = await t.api("/api/triggeredwebjobs", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    const all = (await (await t.api("/api/webjobs")).json()) as { name: string }[];
    expect(all.map((j) => j.name)).toContain("single");
    expect((await t.api("/api/triggeredwebjobs/nope")).status).toBe(404);
  });

  it("refuses a bad name", async () => {
    const before = snapshot();
    for (const name of ["-leading", "has.dot", "has%20space", "_x"]) {
      const response = await deployScript(t, "triggered", name, "run.sh", "echo");
      await expectRefused(
        response,
        400,
        /must start with a letter or digit and hold only letters, digits, '-' and '_'/,
        before,
      );
    }
  });

  it("refuses an upload without Content-Disposition", async () => {
    const before = snapshot();
    const response = await t.api("/api/triggeredwebjobs/nohdr", {
      method: "PUT",
      body: "echo",
      headers: { "content-type": "text/plain" },
    });
    await expectRefused(response, 400, /Content-Disposition/, before);
  });

  it("refuses a single-file upload whose file name holds a path", async () => {
    const before = snapshot();
    for (const filename of ["../../evil.sh", "sub/run.sh", "C:run.sh"]) {
      const response = await deployScript(t, "triggered", "pathname", filename, "echo");
      await expectRefused(response, 400, /plain file name/, before);
    }
  });

  it("serves only files under the jobs data folder over /vfs", async () => {
    for (const route of [
      "/vfs/data/jobs/%2e%2e/webjobs.db",
      "/vfs/data/jobs/..%2fwebjobs.db",
      "/vfs/data/jobs/%2e%2e%2fsite",
    ]) {
      expect((await t.api(route)).status, route).toBe(404);
    }
  });

  it("refuses a package without a runnable script", async () => {
    const before = snapshot();
    const response = await deployZip(t, "triggered", "noscript", await makeZip({ "readme.txt": "hi" }));
    await expectRefused(response, 400, /^No runnable script file was found\.$/, before);
  });

  it("refuses settings.job with a wrong type, naming the key", async () => {
    const before = snapshot();
    const zip = await makeZip({
      "run.sh": "echo",
      "settings.job": JSON.stringify({ stopping_wait_time: "60" }),
    });
    const response = await deployZip(t, "triggered", "badsettings", zip);
    await expectRefused(response, 400, /stopping_wait_time/, before);
  });

  it("refuses unsafe zips: absolute path, '..', drive letter, symlink", async () => {
    const before = snapshot();
    const cases: [Record<string, string | { data: string; mode?: number }>, RegExp][] = [
      [{ "run.sh": "echo", "/etc/evil": "x" }, /etc\/evil|absolute/i],
      [{ "run.sh": "echo", "../evil": "x" }, /\.\./],
      [{ "run.sh": "echo", "C:/evil": "x" }, /C:|drive/i],
      [{ "run.sh": "echo", link: { data: "/etc/passwd", mode: 0o120777 } }, /link/i],
    ];
    for (const [files, message] of cases) {
      // yazl refuses some of these names itself, so those zips are patched after building.
      const zip = await makeUnsafeZip(files);
      const response = await deployZip(t, "triggered", "unsafe", zip);
      await expectRefused(response, 400, message, before);
    }
  });

  it("refuses zip bombs: too many entries, too many unpacked bytes", async () => {
    const before = snapshot();
    const many: Record<string, string> = { "run.sh": "echo" };
    for (let i = 0; i < 30; i++) many[`f${i}.txt`] = "x";
    await expectRefused(
      await deployZip(t, "triggered", "bomb", await makeZip(many)),
      400,
      /entries/i,
      before,
    );
    const big = await makeZip({ "run.sh": "echo", "zeros.bin": "0".repeat(1024 * 1024) });
    expect(big.length).toBeLessThan(64 * 1024);
    await expectRefused(await deployZip(t, "triggered", "bomb", big), 400, /bytes|large|limit/i, before);
  });

  it("answers 413 to an upload over the limit without storing it", async () => {
    const before = snapshot();
    const body = Buffer.alloc(200 * 1024, 1);
    const response = await deployZip(t, "triggered", "huge", body);
    await expectRefused(response, 413, /larger than the limit/, before);
  });

  it("answers 413 to a chunked upload that passes the limit mid-stream, and keeps serving", async () => {
    const before = snapshot();
    const url = new URL(`${t.url}/api/triggeredwebjobs/huge`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(url, {
        method: "PUT",
        headers: {
          authorization: `Basic ${Buffer.from("admin:test-password").toString("base64")}`,
          "content-type": "application/zip",
          "content-disposition": "attachment; filename=huge.zip",
          "transfer-encoding": "chunked",
        },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      const chunk = Buffer.alloc(16 * 1024, 1);
      let sent = 0;
      const pump = () => {
        while (sent < 50) {
          sent += 1;
          if (!req.write(chunk)) return req.once("drain", pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    expect(snapshot()).toEqual(before);
    expect((await t.api("/api/health")).status).toBe(200);
  });

  it("keeps the previous version when an upload fails, and switches on success", async () => {
    await deployScript(t, "triggered", "versioned", "run.sh", "echo version one\n");
    const bad = await deployZip(t, "triggered", "versioned", await makeZip({ "notes.txt": "no script" }));
    expect(bad.status).toBe(400);
    let run = await runToEnd(t, "versioned");
    expect(
      readFileSync(path.join(t.dataDir, `jobs/triggered/versioned/${run.id}/output_log.txt`), "utf8"),
    ).toContain("version one");
    await deployScript(t, "triggered", "versioned", "run.sh", "echo version two\n");
    run = await runToEnd(t, "versioned");
    expect(
      readFileSync(path.join(t.dataDir, `jobs/triggered/versioned/${run.id}/output_log.txt`), "utf8"),
    ).toContain("version two");
    // Old versions no run needs are removed: exactly one version folder is left.
    expect(readdirSync(path.join(t.dataDir, "versions/triggered/versioned"))).toHaveLength(1);
  });

  it("never collects a version a deploy under way has installed but not recorded yet", async () => {
    // A run that ends while the same job deploys collects old versions outside the deploy's lock;
    // it used to delete the new version between its install and its record (a 500 on the deploy).
    await deployScript(t, "triggered", "racing", "run.sh", "true\n");
    const versions = path.join(t.dataDir, "versions/triggered/racing");
    const [current] = readdirSync(versions);
    const inFlight = `${(parseInt(current.split("-")[0], 36) + 1).toString(36).padStart(9, "0")}-abcdef`;
    const older = `${(parseInt(current.split("-")[0], 36) - 1).toString(36).padStart(9, "0")}-abcdef`;
    mkdirSync(path.join(versions, inFlight));
    mkdirSync(path.join(versions, older));
    await t.host.registry.collectVersions("triggered", "racing");
    expect(readdirSync(versions).sort()).toEqual(
      [older, current, inFlight].sort().filter((v) => v !== older),
    );
    // The next deploy sorts after the folder left in flight, so a later collection removes it.
    await deployScript(t, "triggered", "racing", "run.sh", "true # v2\n");
    expect(readdirSync(versions)).toHaveLength(1);
    expect(readdirSync(versions)[0] > inFlight).toBe(true);
  });

  it("reads and replaces settings.job, validating it", async () => {
    await deployScript(t, "triggered", "withsettings", "run.sh", "echo");
    const put = await t.api("/api/triggeredwebjobs/withsettings/settings", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ stopping_wait_time: 7, custom_key: "kept" }),
    });
    expect(put.status).toBe(200);
    const settings = await (await t.api("/api/triggeredwebjobs/withsettings/settings")).json();
    expect(settings).toEqual({ stopping_wait_time: 7, custom_key: "kept" });
    const bad = await t.api("/api/triggeredwebjobs/withsettings/settings", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ is_singleton: "yes" }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/is_singleton/);
    expect(await (await t.api("/api/triggeredwebjobs/withsettings/settings")).json()).toEqual(settings);
  });

  it("shows a missing interpreter in the job's error and fails its runs with that message", async () => {
    const response = await deployScript(t, "triggered", "windows", "run.cmd", "echo hi");
    expect(response.status).toBe(200);
    const job = (await response.json()) as { error: string };
    expect(job.error).toMatch(/cmd/i);
    const run = await runToEnd(t, "windows");
    expect(run.status).toBe("Failed");
    expect(run.reason).toBe(job.error);
  });

  it("deletes a job: code, data and history", async () => {
    await deployScript(t, "triggered", "doomed", "run.sh", "echo bye");
    await runToEnd(t, "doomed");
    expect((await t.api("/api/triggeredwebjobs/doomed", { method: "DELETE" })).status).toBe(200);
    expect((await t.api("/api/triggeredwebjobs/doomed")).status).toBe(404);
    expect(existsSync(path.join(t.dataDir, "site/App_Data/jobs/triggered/doomed"))).toBe(false);
    expect(existsSync(path.join(t.dataDir, "jobs/triggered/doomed"))).toBe(false);
    expect(existsSync(path.join(t.dataDir, "versions/triggered/doomed"))).toBe(false);
    // Kudu answers 200 for a job that does not exist.
    expect((await t.api("/api/triggeredwebjobs/doomed", { method: "DELETE" })).status).toBe(200);
  });
});

/**
 * yazl validates names, so unsafe names are written with a placeholder of the same length and
 * patched in the bytes of the finished zip (local header and central directory).
 */
async function makeUnsafeZip(
  files: Record<string, string | { data: string; mode?: number }>,
): Promise<Buffer> {
  const renames = new Map<string, string>();
  const safe: Record<string, string | { data: string; mode?: number }> = {};
  let i = 0;
  for (const [name, content] of Object.entries(files)) {
    if (name.startsWith("/") || name.includes("..") || /^[A-Za-z]:/.test(name)) {
      const placeholder = `p${String(i++).padStart(name.length - 1, "0")}`;
      renames.set(placeholder, name);
      safe[placeholder] = content;
    } else {
      safe[name] = content;
    }
  }
  let zip = await makeZip(safe);
  for (const [placeholder, name] of renames) {
    const from = Buffer.from(placeholder);
    let at = zip.indexOf(from);
    while (at >= 0) {
      zip = Buffer.concat([zip.subarray(0, at), Buffer.from(name), zip.subarray(at + from.length)]);
      at = zip.indexOf(from, at + from.length);
    }
  }
  return zip;
}
