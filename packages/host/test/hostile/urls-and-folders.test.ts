import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config.ts";
import { deployScript, waitFor, type TestHost } from "../support/host.ts";
import { startLoggedHost } from "../containment/support.ts";
import { raw, rawRequest } from "./support.ts";

let t: TestHost & { logs: string[] };
beforeAll(async () => {
  t = await startLoggedHost({ publicUrl: "https://jobs.example.com/webjobs/" });
  expect((await deployScript(t, "triggered", "app", "run.sh", "echo hi\n")).status).toBe(200);
});
afterAll(() => t.stop());

describe("--public-url", () => {
  it("starts every URL of the JSON, whatever Host the request names", async () => {
    const got = await rawRequest(
      t.url,
      raw("GET", "/api/triggeredwebjobs/app", {
        Authorization: `Basic ${Buffer.from("admin:test-password").toString("base64")}`,
        Host: "evil.example",
      }),
    );
    const job = JSON.parse(got.body) as Record<string, string>;
    expect(job.url).toBe("https://jobs.example.com/webjobs/api/triggeredwebjobs/app");
    expect(job.history_url).toBe("https://jobs.example.com/webjobs/api/triggeredwebjobs/app/history");
    expect(got.body).not.toMatch(/evil|127\.0\.0\.1/);
  });

  it("starts Location and the run's URLs", async () => {
    const started = await t.api("/api/triggeredwebjobs/app/run", {
      method: "POST",
      headers: { host: "evil.example" },
    });
    const location = started.headers.get("location")!;
    expect(location).toMatch(
      /^https:\/\/jobs\.example\.com\/webjobs\/api\/triggeredwebjobs\/app\/history\/\d+$/,
    );
    const runPath = location.replace("https://jobs.example.com/webjobs", "");
    const run = await waitFor(async () => {
      const json = (await (await t.api(runPath)).json()) as Record<string, string>;
      return json.status === "Success" ? json : undefined;
    });
    expect(run.output_url).toMatch(
      /^https:\/\/jobs\.example\.com\/webjobs\/vfs\/data\/jobs\/triggered\/app\//,
    );
    const swagger = (await (await t.api("/api/triggeredwebjobsswagger")).json()) as { host: string };
    expect(swagger.host).toBe("jobs.example.com");
  });

  it("must be an http(s) URL", () => {
    for (const bad of [
      "jobs.example.com",
      "ftp://jobs.example.com",
      "https://jobs.example.com/?x=1",
      "https://u:p@jobs.example.com",
    ]) {
      expect(() => resolveConfig({ publicUrl: bad }, {}), bad).toThrow(/WEBJOBS_PUBLIC_URL/);
    }
  });
});

describe("a folder copied into the site with a name the API cannot address", () => {
  it("is not listed, and the host says why", async () => {
    const root = path.join(t.dataDir, "site/App_Data/jobs/triggered");
    for (const name of ["n".repeat(129), "my job", "a.b"]) {
      mkdirSync(path.join(root, name));
      writeFileSync(path.join(root, name, "run.sh"), "echo hi\n");
    }
    for (const name of ["n".repeat(129), "my job", "a.b"]) {
      await waitFor(
        () =>
          t.logs.some(
            (line) =>
              line.includes("a folder in the site is not a job") &&
              line.includes(JSON.stringify(path.join(root, name))),
          ),
        5000,
        `the warning about '${name.slice(0, 20)}'`,
      );
    }
    const line = t.logs.find((l) => l.includes("n".repeat(129)))!;
    expect(line).toMatch(/at most 128 characters long, this one has 129/);
    const jobs = (await (await t.api("/api/triggeredwebjobs")).json()) as { name: string }[];
    expect(jobs.map((job) => job.name)).toEqual(["app"]);
  });
});

describe("valid limits", () => {
  it("are kept as given", async () => {
    const settings = { memory_limit: "256M", cpu_limit: 0.5 };
    const put = await t.api("/api/triggeredwebjobs/app/settings", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(settings),
    });
    expect(put.status).toBe(200);
    expect(await (await t.api("/api/triggeredwebjobs/app/settings")).json()).toEqual(settings);
  });
});
