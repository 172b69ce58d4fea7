import { existsSync, readdirSync, watch } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH, deployScript, makeZip, startHost, waitFor, type TestHost } from "../support/host.ts";
import {
  answer,
  expectAlive,
  expectRefused,
  lieAboutSizes,
  raw,
  rawRequest,
  renameEntry,
  snapshot,
  type HostileCase,
} from "./support.ts";

// Hostile uploads, zips and job names against one host: each is refused with a precise 4xx, leaves
// nothing behind (files, store) and the host keeps answering. `victim` exists beforehand, so a
// refused redeploy must also leave its installed version alone.

let t: TestHost;
const LIMIT = 256 * 1024;
beforeAll(async () => {
  t = await startHost({ maxUploadBytes: LIMIT, zipMaxEntries: 50, zipMaxUnpackedBytes: 1024 * 1024 });
  expect((await deployScript(t, "triggered", "victim", "run.sh", "echo victim\n")).status).toBe(200);
});
afterAll(() => t.stop());

const put = (name: string, body: Buffer | string, headers: Record<string, string>) => (tt: TestHost) =>
  tt
    .api(`/api/triggeredwebjobs/${name}`, {
      method: "PUT",
      headers,
      body: typeof body === "string" ? body : new Uint8Array(body),
    })
    .then(answer);
const zipHeaders = { "content-type": "application/zip", "content-disposition": "attachment; filename=x.zip" };
const script = (filename: string) => ({
  "content-type": "application/octet-stream",
  "content-disposition": `attachment; filename="${filename}"`,
});
const putZip = (name: string, zip: () => Promise<Buffer>) => async (tt: TestHost) =>
  put(name, await zip(), zipHeaders)(tt);
const withSettings = (settings: string) => () => makeZip({ "run.sh": "echo hi\n", "settings.job": settings });
const placeholderZip =
  (placeholder: string, name: string, extra: Record<string, string> = {}) =>
  async () =>
    renameEntry(await makeZip({ "run.sh": "echo hi\n", [placeholder]: "x", ...extra }), placeholder, name);

const uploads: HostileCase[] = [
  {
    name: "no Content-Disposition",
    send: put("u1", "echo\n", { "content-type": "text/x-sh" }),
    status: 400,
    message: /Missing Content-Disposition/,
  },
  {
    name: "Content-Disposition without a file name",
    send: put("u1", "echo\n", { "content-disposition": "attachment" }),
    status: 400,
    message: /Invalid Content-Disposition/,
  },
  {
    name: "file name with a folder",
    send: put("u1", "echo\n", script("a/run.sh")),
    status: 400,
    message: /plain file name/,
  },
  {
    name: "file name '..'",
    send: put("u1", "echo\n", script("..")),
    status: 400,
    message: /plain file name/,
  },
  { name: "file name '.'", send: put("u1", "echo\n", script(".")), status: 400, message: /plain file name/ },
  {
    name: "file name with a backslash",
    send: put("u1", "echo\n", script("..\\\\run.sh")),
    status: 400,
    message: /plain file name/,
  },
  {
    name: "file name with a drive letter",
    send: put("u1", "echo\n", script("C:run.sh")),
    status: 400,
    message: /plain file name/,
  },
  {
    name: "file name with an encoded NUL",
    send: put("u1", "echo\n", { "content-disposition": "attachment; filename*=UTF-8''run%00.sh" }),
    status: 400,
    message: /plain file name/,
  },
  {
    name: "303-character file name",
    send: put("u1", "echo\n", script(`${"a".repeat(300)}.sh`)),
    status: 400,
    message: /at most 255 bytes, this one has 303/,
  },
  {
    name: "file name of 256 bytes in 128 letters",
    send: put("u1", "echo\n", {
      "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent("é".repeat(128))}`,
    }),
    status: 400,
    message: /at most 255 bytes/,
  },
  { name: "empty body", send: put("u1", "", script("run.sh")), status: 400, message: /empty/ },
  {
    name: "declared length over the limit",
    send: put("u1", Buffer.alloc(LIMIT + 1, 0x41), script("run.sh")),
    status: 413,
    message: /larger than the limit/,
  },
  {
    name: "chunked body over the limit",
    send: (tt) =>
      rawRequest(
        tt.url,
        raw(
          "PUT",
          "/api/triggeredwebjobs/u1",
          { Authorization: AUTH, ...script("run.sh"), "Transfer-Encoding": "chunked" },
          `${(LIMIT + 10).toString(16)}\r\n${"A".repeat(LIMIT + 10)}\r\n0\r\n\r\n`,
        ),
      ),
    status: 413,
    message: /larger than the limit/,
  },
  {
    name: "a script type nothing runs",
    send: put("u1", "notes\n", script("notes.txt")),
    status: 400,
    message: /No runnable script/,
  },
  {
    name: "a name that is only an extension",
    send: put("u1", "echo\n", script(".sh")),
    status: 400,
    message: /No runnable script/,
  },
];

const zips: HostileCase[] = [
  {
    name: "not a zip",
    send: put("z1", "PK but not really", zipHeaders),
    status: 400,
    message: /not a valid zip/,
  },
  {
    name: "truncated zip",
    send: putZip("z1", async () => (await makeZip({ "run.sh": "echo\n" })).subarray(0, 30)),
    status: 400,
    message: /not a valid zip/,
  },
  {
    name: "entry climbing out with ..",
    send: putZip("z1", placeholderZip("zz/evil.sh", "../evil.sh")),
    status: 400,
    message: /climbs out/,
  },
  {
    name: "entry climbing out with ..\\",
    send: putZip("z1", placeholderZip("zz_evil.sh", "..\\evil.sh")),
    status: 400,
    message: /climbs out/,
  },
  {
    name: "entry with a nested ..",
    send: putZip("z1", placeholderZip("a/zz/zz/x", "a/../../x")),
    status: 400,
    message: /climbs out/,
  },
  {
    name: "entry with an absolute path",
    send: putZip("z1", placeholderZip("xtmp/evil", "/tmp/evil")),
    status: 400,
    message: /absolute path/,
  },
  {
    name: "entry with a drive letter",
    send: putZip("z1", placeholderZip("zzevil", "C:evil")),
    status: 400,
    message: /drive letter/,
  },
  {
    name: "entry with a NUL",
    send: putZip("z1", placeholderZip("evilX.sh", "evil\0.sh")),
    status: 400,
    message: /NUL/,
  },
  {
    name: "symbolic link",
    send: putZip("z1", () => makeZip({ "run.sh": "echo\n", link: { data: "/etc/passwd", mode: 0o120777 } })),
    status: 400,
    message: /symbolic link/,
  },
  {
    name: "more entries than the limit",
    send: putZip("z1", () =>
      makeZip(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}.txt`, "x"]))),
    ),
    status: 400,
    message: /51 entries, more than the limit of 50/,
  },
  {
    name: "declares more bytes than the limit",
    send: putZip("z1", () => makeZip({ "run.sh": "echo\n", "big.bin": Buffer.alloc(1024 * 1024 + 1) })),
    status: 400,
    message: /more than the limit of 1048576 bytes/,
  },
  {
    name: "zip bomb whose headers lie",
    send: putZip("z1", async () =>
      lieAboutSizes(await makeZip({ "bomb.bin": Buffer.alloc(200_000), "run.sh": "echo\n" }), 100),
    ),
    status: 400,
    message: /more than the 100 bytes its header declares/,
  },
  {
    name: "entry name of 300 characters",
    send: putZip("z1", placeholderZip("x".repeat(300), "y".repeat(300))),
    status: 400,
    message: /longer than 255 bytes/,
  },
  {
    name: "entry path of 1,500 characters",
    send: putZip("z1", () => makeZip({ "run.sh": "echo\n", [`${"d/".repeat(750)}f`]: "x" })),
    status: 400,
    message: /longer than 1024 bytes/,
  },
  {
    name: "no runnable script",
    send: putZip("z1", () => makeZip({ "readme.txt": "hi" })),
    status: 400,
    message: /No runnable script/,
  },
  {
    name: "settings.job nested 5,000 deep",
    send: putZip("z1", withSettings(`{"a":${"[".repeat(5000)}${"]".repeat(5000)}}`)),
    status: 400,
    message: /nested more than 64 levels/,
  },
  {
    name: "settings.job nested 65 deep",
    send: putZip("z1", withSettings(`${"[".repeat(64)}${"]".repeat(64)}`.replace(/^/, '{"a":').concat("}"))),
    status: 400,
    message: /nested more than 64 levels/,
  },
  {
    name: "settings.job not JSON",
    send: putZip("z1", withSettings("{nope")),
    status: 400,
    message: /not valid JSON/,
  },
  {
    name: "settings.job an array",
    send: putZip("z1", withSettings("[1]")),
    status: 400,
    message: /must be a JSON object, got an array/,
  },
  {
    name: "settings.job time_limit past the timer limit",
    send: putZip("z1", withSettings('{"time_limit": 2200000}')),
    status: 400,
    message: /"time_limit" must be .*2147483.*got the number 2200000/,
  },
  {
    name: "settings.job memory_limit not a size",
    send: putZip("z1", withSettings('{"memory_limit": "lots"}')),
    status: 400,
    message: /"memory_limit" must be .*got the string "lots"/,
  },
  {
    name: "settings.job cpu_limit negative",
    send: putZip("z1", withSettings('{"cpu_limit": -1}')),
    status: 400,
    message: /"cpu_limit" must be .*got the number -1/,
  },
  {
    name: "settings.job schedule of 5 fields",
    send: putZip("z1", withSettings('{"schedule": "* * * * *"}')),
    status: 400,
    message: /6 fields|six fields|fields/i,
  },
  {
    name: "same file twice",
    send: putZip("z1", async () =>
      renameEntry(await makeZip({ "run.sh": "echo\n", "a.txt": "1", "b.txt": "2" }), "b.txt", "a.txt"),
    ),
    status: 400,
    message: /collides/,
  },
  // The same refusals on a redeploy of an existing job: its installed version stays.
  {
    name: "redeploy with deep settings.job",
    send: putZip("victim", withSettings(`{"a":${"[".repeat(5000)}${"]".repeat(5000)}}`)),
    status: 400,
    message: /nested more than 64 levels/,
  },
  {
    name: "redeploy with an unsafe zip",
    send: putZip("victim", placeholderZip("zz/evil.sh", "../evil.sh")),
    status: 400,
    message: /climbs out/,
  },
];

const badName = /Invalid job name/;
const names: HostileCase[] = [
  { name: "name with a dot", send: put("a.b", "echo\n", script("run.sh")), status: 400, message: badName },
  {
    name: "name starting with -",
    send: put("-a", "echo\n", script("run.sh")),
    status: 400,
    message: badName,
  },
  {
    name: "name starting with _",
    send: put("_a", "echo\n", script("run.sh")),
    status: 400,
    message: badName,
  },
  {
    name: "name with a space",
    send: put("a%20b", "echo\n", script("run.sh")),
    status: 400,
    message: badName,
  },
  {
    name: "name with an accent",
    send: put("%C3%A9t%C3%A9", "echo\n", script("run.sh")),
    status: 400,
    message: badName,
  },
  {
    name: "name with an encoded NUL",
    send: put("a%00b", "echo\n", script("run.sh")),
    status: 400,
    message: badName,
  },
  {
    // fetch would resolve `%2e%2e` as `..` itself: sent raw, as an attacker would.
    name: "name '..' encoded",
    send: (tt) =>
      rawRequest(
        tt.url,
        raw("PUT", "/api/triggeredwebjobs/%2e%2e", { Authorization: AUTH, ...script("run.sh") }, "echo\n"),
      ),
    status: 400,
    message: badName,
  },
  {
    name: "name with an encoded slash",
    send: put("..%2fetc", "echo\n", script("run.sh")),
    status: 400,
    message: badName,
  },
  {
    name: "name of 129 characters",
    send: put("n".repeat(129), "echo\n", script("run.sh")),
    status: 400,
    message: /at most 128 characters long, this one has 129/,
  },
  {
    name: "name of 1,000 characters",
    send: put("n".repeat(1000), "echo\n", script("run.sh")),
    status: 400,
    message: /at most 128 characters/,
  },
  {
    name: "name of 10,000 characters",
    send: put("n".repeat(10_000), "echo\n", script("run.sh")),
    status: 400,
    message: /at most 128 characters long, this one has 10000/,
  },
  {
    name: "request line past Node's header limit",
    send: (tt) =>
      rawRequest(tt.url, raw("GET", `/api/triggeredwebjobs/${"n".repeat(20_000)}`, { Authorization: AUTH })),
    status: 431,
    message: /Request Header Fields Too Large/,
  },
  {
    name: "delete with a bad name",
    send: (tt) => tt.api("/api/triggeredwebjobs/a.b", { method: "DELETE" }).then(answer),
    status: 400,
    message: badName,
  },
  {
    name: "bad percent-encoding in the name",
    send: (tt) => rawRequest(tt.url, raw("GET", "/api/triggeredwebjobs/%ZZ", { Authorization: AUTH })),
    status: 400,
    message: /./,
  },
];

describe("hostile uploads", () => {
  for (const item of uploads) it(item.name, () => expectRefused(t, item));
});

describe("hostile zips", () => {
  for (const item of zips) it(item.name, () => expectRefused(t, item));
});

describe("an upload cut by a malformed chunk", () => {
  it("answers 400 and leaves no <data>/tmp/upload-* behind", async () => {
    const tmp = path.join(t.dataDir, "tmp");
    // inotify sees the upload folder even if it lives for a millisecond only.
    const seen: string[] = [];
    const watcher = watch(tmp, (_event, name) => {
      if (name?.startsWith("upload-") && !seen.includes(name)) seen.push(name);
    });
    try {
      // All in one packet, as the client sent it: the framing breaks before the host has
      // even made the upload's temporary folder.
      const got = await rawRequest(
        t.url,
        raw(
          "PUT",
          "/api/triggeredwebjobs/u1",
          { Authorization: AUTH, ...script("run.sh"), "Transfer-Encoding": "chunked" },
          "5\r\nhello\r\nZZ\r\n",
        ),
      );
      expect(got.status).toBe(400);
      await waitFor(() => seen.length > 0, 5000, "the upload folder to be made");
      await waitFor(() => !existsSync(path.join(tmp, seen[0])), 5000, `${seen[0]} to be removed`);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      watcher.close();
    }
    expect(await t.host.registry.get("triggered", "u1")).toBeNull();
    await expectAlive(t);
  });
});

describe("hostile names", () => {
  for (const item of names) it(item.name, () => expectRefused(t, item));

  it("names of 101 to 128 characters can be deployed, run, read and deleted", async () => {
    for (const length of [101, 128]) {
      const name = "n".repeat(length);
      expect((await deployScript(t, "triggered", name, "run.sh", "echo long\n")).status).toBe(200);
      expect((await t.api(`/api/triggeredwebjobs/${name}`)).status).toBe(200);
      expect((await t.api(`/api/triggeredwebjobs/${name}/run`, { method: "POST" })).status).toBe(202);
      expect((await t.api(`/api/triggeredwebjobs/${name}/history`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect((await t.api(`/api/triggeredwebjobs/${name}`, { method: "DELETE" })).status).toBe(200);
      expect((await t.api(`/api/triggeredwebjobs/${name}`)).status).toBe(404);
    }
    await expectAlive(t);
  });

  it("a refused first deploy leaves no site folder, version or job", async () => {
    const before = snapshot(t.dataDir);
    const zip = await makeZip({
      "run.sh": "echo\n",
      "settings.job": `{"a":${"[".repeat(5000)}${"]".repeat(5000)}}`,
    });
    const response = await t.api("/api/triggeredwebjobs/fresh", {
      method: "PUT",
      headers: zipHeaders,
      body: new Uint8Array(zip),
    });
    expect(response.status).toBe(400);
    expect(existsSync(path.join(t.dataDir, "site/App_Data/jobs/triggered/fresh"))).toBe(false);
    expect(existsSync(path.join(t.dataDir, "versions/triggered/fresh"))).toBe(false);
    expect(snapshot(t.dataDir)).toEqual(before);
  });
});
