import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import yauzl from "yauzl";
import { makeZip, startHost, type TestHost } from "../support/host.ts";

let t: TestHost;
beforeAll(async () => {
  t = await startHost();
});
afterAll(async () => t?.stop());

const site = () => t.host.paths.siteDir;

describe("VFS", () => {
  it("creates, reads, lists, replaces with If-Match and deletes files", async () => {
    const created = await t.api("/api/vfs/site/wwwroot/conf/app.json", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: '{"a":1}',
    });
    expect(created.status).toBe(201);
    const etag = created.headers.get("etag")!;
    expect(readFileSync(path.join(site(), "conf/app.json"), "utf8")).toBe('{"a":1}');

    const file = await t.api("/vfs/site/wwwroot/conf/app.json");
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toMatch(/^application\/json/);
    expect(file.headers.get("etag")).toBe(etag);
    expect(await file.text()).toBe('{"a":1}');

    const listing = await t.api("/api/vfs/site/wwwroot/conf/");
    expect(listing.headers.get("content-type")).toMatch(/^application\/json/);
    const entries = (await listing.json()) as Record<string, unknown>[];
    expect(entries).toEqual([
      expect.objectContaining({
        name: "app.json",
        size: 7,
        mime: "application/json",
        href: `${t.url}/api/vfs/site/wwwroot/conf/app.json`,
        path: "/home/site/wwwroot/conf/app.json",
      }),
    ]);
    expect(entries[0]).toHaveProperty("mtime");
    expect(entries[0]).toHaveProperty("crtime");

    const put = (body: string, ifMatch?: string) =>
      t.api("/api/vfs/site/wwwroot/conf/app.json", {
        method: "PUT",
        headers: ifMatch ? { "if-match": ifMatch } : {},
        body,
      });
    expect((await put("x")).status).toBe(412);
    expect((await put("x", '"nope"')).status).toBe(412);
    const replaced = await put('{"a":2}', etag);
    expect(replaced.status).toBe(204);
    // The old ETag is stale now.
    expect((await put("x", etag)).status).toBe(412);
    expect(readFileSync(path.join(site(), "conf/app.json"), "utf8")).toBe('{"a":2}');
    expect((await put("{}", "*")).status).toBe(204);

    expect((await t.api("/api/vfs/site/wwwroot/conf/", { method: "DELETE" })).status).toBe(409);
    expect((await t.api("/api/vfs/site/wwwroot/conf/?recursive=true", { method: "DELETE" })).status).toBe(
      200,
    );
    expect((await t.api("/api/vfs/site/wwwroot/conf/app.json")).status).toBe(404);
    expect((await t.api("/api/vfs/site/wwwroot/", { method: "DELETE" })).status).toBe(409);
  });

  it("serves run logs under data/jobs/ and lists the virtual roots", async () => {
    const root = (await (await t.api("/api/vfs/")).json()) as { name: string }[];
    expect(root.map((e) => e.name).sort()).toEqual(["data", "site"]);
    mkdirSync(path.join(t.host.paths.jobsData, "triggered/x/1"), { recursive: true });
    writeFileSync(path.join(t.host.paths.jobsData, "triggered/x/1/output_log.txt"), "line\n");
    const log = await t.api("/vfs/data/jobs/triggered/x/1/output_log.txt");
    expect(log.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await log.text()).toBe("line\n");
    // Escaped slashes are decoded.
    expect((await t.api("/api/vfs/data%2Fjobs%2Ftriggered%2Fx%2F1%2Foutput_log.txt")).status).toBe(200);
  });

  it("never reaches outside its roots", async () => {
    writeFileSync(path.join(t.dataDir, "secret.txt"), "secret");
    symlinkSync(t.dataDir, path.join(site(), "link"));
    symlinkSync(path.join(t.dataDir, "secret.txt"), path.join(site(), "secret-link.txt"));
    const attempts = [
      "/api/vfs/site/wwwroot/../../secret.txt",
      "/api/vfs/site/wwwroot/..%2F..%2Fsecret.txt",
      "/api/vfs/site/wwwroot/%2e%2e/%2e%2e/secret.txt",
      "/api/vfs/site/wwwroot/%252e%252e/%252e%252e/secret.txt",
      "/api/vfs/site/wwwroot/..%5C..%5Csecret.txt",
      "/api/vfs/%2Fetc%2Fpasswd",
      "/api/vfs/etc/passwd",
      "/api/vfs/site/wwwroot/link/secret.txt",
      "/api/vfs/site/wwwroot/secret-link.txt",
      "/api/vfs/data/jobs/../webjobs.db",
    ];
    for (const url of attempts) {
      for (const method of ["GET", "PUT", "DELETE"]) {
        const res = await t.api(url, {
          method,
          body: method === "PUT" ? "x" : undefined,
          headers: { "if-match": "*" },
        });
        expect([400, 404], `${method} ${url}`).toContain(res.status);
        expect(res.headers.get("content-type"), `${method} ${url}`).toMatch(/^application\/json/);
      }
    }
    expect(readFileSync(path.join(t.dataDir, "secret.txt"), "utf8")).toBe("secret");
    const listing = (await (await t.api("/api/vfs/site/wwwroot/")).json()) as { name: string }[];
    expect(listing.map((e) => e.name)).not.toContain("link");
  });
});

describe("/api/zip", () => {
  it("unpacks a zip into a folder and downloads a folder as a zip", async () => {
    const zip = await makeZip({ "run.sh": "echo zipped\n", "lib/util.sh": "true\n" });
    const put = await t.api("/api/zip/site/wwwroot/App_Data/jobs/triggered/zipped/", {
      method: "PUT",
      headers: { "content-type": "application/zip" },
      body: new Uint8Array(zip),
    });
    expect(put.status).toBe(200);
    expect(readFileSync(path.join(site(), "App_Data/jobs/triggered/zipped/lib/util.sh"), "utf8")).toBe(
      "true\n",
    );

    const got = await t.api("/api/zip/site/wwwroot/App_Data/jobs/triggered/zipped/");
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("application/zip");
    const names = await zipNames(Buffer.from(await got.arrayBuffer()));
    expect(names.sort()).toEqual(["lib/", "lib/util.sh", "run.sh"]);

    const refused = await t.api("/api/zip/site/wwwroot/x/", { method: "PUT", body: "not a zip" });
    expect(refused.status).toBe(400);
    expect((await t.api("/api/zip/site/wwwroot/..%2F..%2F", { method: "GET" })).status).toBe(404);
  });
});

function zipNames(buffer: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true }, (error, zip) => {
      if (error) return reject(error);
      const names: string[] = [];
      zip.on("entry", (entry: yauzl.Entry) => {
        names.push(entry.fileName);
        zip.readEntry();
      });
      zip.on("end", () => resolve(names));
      zip.readEntry();
    });
  });
}
