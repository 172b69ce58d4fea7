import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeZip, startHost, waitFor, type TestHost } from "../support/host.ts";

let t: TestHost;
beforeAll(async () => {
  t = await startHost({ restartBackoffMs: 100 });
});
afterAll(async () => t?.stop());

const site = () => t.host.paths.siteDir;
const loop = 'echo "v$VERSION started"; while true; do sleep 0.2; done\n';

async function zipDeploy(zip: Buffer, query = "", contentType = "application/zip"): Promise<Response> {
  return t.api(`/api/zipdeploy${query}`, {
    method: "POST",
    headers: { "content-type": contentType },
    body: new Uint8Array(zip),
  });
}

/** A zip with an entry `../escape.txt`: yazl refuses to write one, so the name is patched in. */
async function hostileZip(): Promise<Buffer> {
  const zip = await makeZip({ "ok.txt": "y", "zz/escape.txt": "x" });
  let at = zip.indexOf("zz/escape.txt");
  while (at >= 0) {
    zip.write("../", at);
    at = zip.indexOf("zz/escape.txt", at + 1);
  }
  return zip;
}

const continuousStatus = async (name: string) => {
  const res = await t.api(`/api/continuouswebjobs/${name}`);
  return res.status === 200 ? ((await res.json()) as { status: string }).status : null;
};

describe("zip deploy of a whole site", () => {
  it("installs the jobs in the site, then a redeploy removes what the new zip lacks", async () => {
    const first = await makeZip({
      "index.html": "<h1>v1</h1>",
      "App_Data/jobs/triggered/tick/run.sh": "echo tick\n",
      "App_Data/jobs/continuous/worker/run.sh": loop.replace("$VERSION", "1"),
    });
    // Clients label the zip as they like: JSON included.
    const res = await zipDeploy(first, "?message=first&deployer=GitHub", "application/json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const done = (await res.json()) as Record<string, unknown>;
    expect(done).toMatchObject({
      status: 4,
      complete: true,
      active: true,
      deployer: "GitHub",
      message: "first",
    });
    expect(readFileSync(path.join(site(), "index.html"), "utf8")).toBe("<h1>v1</h1>");
    expect((await t.api("/api/triggeredwebjobs/tick")).status).toBe(200);
    await waitFor(async () => (await continuousStatus("worker")) === "Running", 10_000, "worker running");

    const log = (await (await t.api(`/api/deployments/${String(done.id)}/log`)).json()) as {
      message: string;
    }[];
    const text = log.map((e) => e.message).join("\n");
    expect(text).toContain("Added triggered job 'tick'");
    expect(text).toContain("Added continuous job 'worker'");

    const second = await makeZip({
      "other.html": "v2",
      "App_Data/jobs/continuous/worker/run.sh": loop.replace("$VERSION", "2"),
    });
    const async = await zipDeploy(second, "?isAsync=true&deployer=Pipelines", "application/octet-stream");
    expect(async.status).toBe(202);
    const location = async.headers.get("location")!;
    expect(location).toMatch(
      /\/api\/deployments\/latest\?deployer=Pipelines&time=\d{4}-\d\d-\d\d_\d\d-\d\d-\d\dZ$/,
    );
    const accepted = (await async.json()) as { id: string };
    // Polling the Location never shows the previous deployment.
    const final = await waitFor(async () => {
      const poll = await t.api(new URL(location).pathname + new URL(location).search);
      const body = (await poll.json()) as { id: string; status: number; complete: boolean };
      expect(body.id).toBe(accepted.id);
      if (poll.status === 202) expect(body.complete).toBe(false);
      return poll.status === 200 ? body : undefined;
    });
    expect(final.status).toBe(4);
    expect(existsSync(path.join(site(), "index.html"))).toBe(false);
    expect(readFileSync(path.join(site(), "other.html"), "utf8")).toBe("v2");
    expect((await t.api("/api/triggeredwebjobs/tick")).status).toBe(404);
    await waitFor(
      async () => {
        const logText = await (await t.api("/vfs/data/jobs/continuous/worker/job_log.txt")).text();
        return logText.includes("v2 started") && (await continuousStatus("worker")) === "Running";
      },
      10_000,
      "worker restarted on v2",
    );

    const list = (await (await t.api("/deployments")).json()) as {
      id: string;
      active: boolean;
      url: string;
    }[];
    expect(list.map((d) => d.id).slice(0, 2)).toEqual([accepted.id, done.id]);
    expect(list[0]).toMatchObject({ active: true });
    expect(list[1]).toMatchObject({ active: false });
    expect(list[0].url).toBe(`${t.url}/deployments/${accepted.id}`);
  });

  it("keeps a stopped continuous job stopped across a deploy", async () => {
    expect((await t.api("/api/continuouswebjobs/worker/stop", { method: "POST" })).status).toBe(200);
    await waitFor(async () => (await continuousStatus("worker")) === "Stopped");
    const zip = await makeZip({ "App_Data/jobs/continuous/worker/run.sh": loop.replace("$VERSION", "3") });
    expect((await zipDeploy(zip)).status).toBe(200);
    const job = (await (await t.api("/api/continuouswebjobs/worker")).json()) as { status: string };
    expect(job.status).toBe("Stopped");
  });

  it("refuses a corrupt or hostile zip and leaves the site as it was", async () => {
    const before = readFileSync(path.join(site(), "App_Data/jobs/continuous/worker/run.sh"), "utf8");
    const corrupt = await zipDeploy(Buffer.from("this is not a zip"));
    expect(corrupt.status).toBe(400);
    expect(((await corrupt.json()) as { Message: string }).Message).toMatch(/not a valid zip/);
    const hostile = await zipDeploy(await hostileZip());
    expect(hostile.status).toBe(400);
    expect(((await hostile.json()) as { Message: string }).Message).toMatch(/climbs out/);
    expect(readFileSync(path.join(site(), "App_Data/jobs/continuous/worker/run.sh"), "utf8")).toBe(before);
    const latest = (await (await t.api("/api/deployments/latest")).json()) as {
      status: number;
      complete: boolean;
    };
    expect(latest).toMatchObject({ status: 3, complete: true });
    // Nothing left beside the site folder.
    const leftovers = (await import("node:fs"))
      .readdirSync(path.dirname(site()))
      .filter((n) => n.startsWith("."));
    expect(leftovers).toEqual([]);
  });

  it("answers 409 to a deploy while another one runs", async () => {
    const big: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) big[`node_modules/p${i % 40}/f${i}.js`] = `module.exports=${i}`;
    const zip = await makeZip(big);
    const first = zipDeploy(zip, "?isAsync=true");
    const accepted = await first;
    expect(accepted.status).toBe(202);
    const second = await zipDeploy(await makeZip({ "a.txt": "a" }));
    const latest = (await (await t.api("/api/deployments/latest")).json()) as { complete: boolean };
    // The second request either met the first in progress (409) or came after it ended.
    if (!latest.complete || second.status === 409) {
      expect(second.status).toBe(409);
      expect(((await second.json()) as { Message: string }).Message).toMatch(
        /deployment currently in progress/,
      );
    }
    await waitFor(async () => (await t.api("/api/deployments/latest")).status === 200);
  });
});

describe("OneDeploy and recorded deployments", () => {
  it("deploys a zip into a sub-folder, a static file, and refuses other types", async () => {
    const sub = await t.api("/api/publish?type=zip&path=/home/site/wwwroot/sub&async=false", {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array(await makeZip({ "a.txt": "A" })),
    });
    expect(sub.status).toBe(200);
    expect(readFileSync(path.join(site(), "sub/a.txt"), "utf8")).toBe("A");
    const file = await t.api("/api/publish?type=static&path=conf/app.json", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"x":1}',
    });
    expect(file.status).toBe(200);
    expect(readFileSync(path.join(site(), "conf/app.json"), "utf8")).toBe('{"x":1}');
    expect(readFileSync(path.join(site(), "sub/a.txt"), "utf8")).toBe("A");
    const war = await t.api("/api/publish?type=war", { method: "POST", body: "x" });
    expect(war.status).toBe(400);
    expect(((await war.json()) as { Message: string }).Message).toMatch(
      /not supported.*supported types: zip, static, startup/,
    );
    const escape = await t.api("/api/publish?type=zip&path=../up", { method: "POST", body: "x" });
    expect(escape.status).toBe(400);
  });

  it("records a deployment a client reports, and refuses a bad one", async () => {
    const put = await t.api("/deployments/abc123", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        status: 4,
        message: "from VS Code",
        deployer: "VSCode",
        author: "me",
        details: "d",
      }),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ id: "abc123", status: 4, is_readonly: true, complete: true });
    const log = (await (await t.api("/api/deployments/abc123/log")).json()) as { details_url: string }[];
    expect(log[0].details_url).toMatch(/\/api\/deployments\/abc123\/log\/[0-9a-f]+$/);
    const details = (await (await t.api(new URL(log[0].details_url).pathname)).json()) as {
      message: string;
    }[];
    expect(details[0].message).toBe("d");
    const again = await t.api("/api/deployments/abc123", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ status: 4, message: "m", deployer: "d", author: "a" }),
    });
    expect(again.status).toBe(409);
    const bad = await t.api("/api/deployments/xyz", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ status: 2, message: "m", deployer: "d", author: "a" }),
    });
    expect(bad.status).toBe(400);
    expect((await t.api("/api/deployments/nope")).status).toBe(404);
  });
});
