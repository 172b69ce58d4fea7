import { getEventListeners, getMaxListeners } from "node:events";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUTH,
  deployScript,
  deployZip,
  makeZip,
  runToEnd,
  startHost,
  waitFor,
  type TestHost,
} from "../support/host.ts";
import { answer, expectAlive, expectRefused, raw, rawRequest, type HostileCase } from "./support.ts";

// Hostile settings, paths, headers, arguments and credentials against one host: each refused with
// a precise 4xx (or answered without harm), nothing written, the host still answering.

let t: TestHost;
beforeAll(async () => {
  // No login delay here: this file sends wrong credentials on purpose (auth.test.ts tests the delay).
  t = await startHost({ loginDelayMaxMs: 0 });
  expect((await deployScript(t, "triggered", "victim", "run.sh", 'echo "args: $*"\n')).status).toBe(200);
  // A continuous job that answers every request with the path it received.
  const web = `require("node:http").createServer((req, res) => res.end(req.url)).listen(Number(process.env.WEBJOBS_PORT), "127.0.0.1");\n`;
  expect((await deployZip(t, "continuous", "web", await makeZip({ "run.js": web }))).status).toBe(200);
  await waitFor(
    async () => {
      const response = await t.api("/api/continuouswebjobs/web/passthrough/ready").catch(() => null);
      return response?.status === 200;
    },
    15_000,
    "the web job to answer",
  );
});
afterAll(() => t.stop());

const json = "application/json";
const putSettings =
  (body: string, type: string | null = json, name = "victim") =>
  (tt: TestHost) =>
    tt
      .api(`/api/triggeredwebjobs/${name}/settings`, {
        method: "PUT",
        headers: type ? { "content-type": type } : {},
        body,
      })
      .then(answer);
const deep = (levels: number) => `{"a":${"[".repeat(levels - 1)}${"]".repeat(levels - 1)}}`;
const key = (name: string, value: unknown) => putSettings(JSON.stringify({ [name]: value }));
const settingMessage = (name: string) => new RegExp(`"${name}" must be`);

const settings: HostileCase[] = [
  {
    name: "text/plain body",
    send: putSettings('{"is_singleton": true}', "text/plain"),
    status: 400,
    message: /must be a JSON object \(send Content-Type: application\/json\)/,
  },
  {
    name: "no content type",
    send: putSettings('{"is_singleton": true}', null),
    status: 400,
    message: /must be a JSON object/,
  },
  {
    name: "form body",
    send: putSettings("is_singleton=true", "application/x-www-form-urlencoded"),
    status: 400,
    message: /must be a JSON object/,
  },
  { name: "JSON array", send: putSettings("[]"), status: 400, message: /must be a JSON object/ },
  { name: "JSON string", send: putSettings('"x"'), status: 400, message: /must be a JSON object/ },
  { name: "JSON null", send: putSettings("null"), status: 400, message: /must be a JSON object/ },
  { name: "JSON number", send: putSettings("42"), status: 400, message: /must be a JSON object/ },
  { name: "not JSON", send: putSettings("{nope"), status: 400, message: /not valid JSON/ },
  {
    name: "nested 5,000 deep",
    send: putSettings(deep(5000)),
    status: 400,
    message: /nested more than 64 levels/,
  },
  { name: "nested 65 deep", send: putSettings(deep(65)), status: 400, message: /nested more than 64 levels/ },
  {
    name: "a __proto__ key",
    send: putSettings('{"__proto__": {"time_limit": 1}}'),
    status: 400,
    message: /__proto__/,
  },
  {
    name: "time_limit past the timer limit",
    send: key("time_limit", 2_200_000),
    status: 400,
    message: /"time_limit" must be a whole number of seconds \(1 to 2147483\), got the number 2200000/,
  },
  {
    name: "time_limit as a string",
    send: key("time_limit", "60"),
    status: 400,
    message: /"time_limit" must be .*got the string "60"/,
  },
  { name: "time_limit 0", send: key("time_limit", 0), status: 400, message: settingMessage("time_limit") },
  {
    name: "time_limit 1.5",
    send: key("time_limit", 1.5),
    status: 400,
    message: settingMessage("time_limit"),
  },
  {
    name: "stopping_wait_time negative",
    send: key("stopping_wait_time", -1),
    status: 400,
    message: settingMessage("stopping_wait_time"),
  },
  {
    name: "idle_timeout 1e12",
    send: key("idle_timeout", 1e12),
    status: 400,
    message: settingMessage("idle_timeout"),
  },
  {
    name: "is_singleton as a string",
    send: key("is_singleton", "yes"),
    status: 400,
    message: /"is_singleton" must be true or false/,
  },
  { name: "schedule of 5 fields", send: key("schedule", "* * * * *"), status: 400, message: /field/i },
  { name: "schedule of garbage", send: key("schedule", "every tuesday-ish"), status: 400, message: /./ },
  {
    name: "unknown time zone",
    send: putSettings(JSON.stringify({ schedule: "0 0 * * * *", time_zone: "Mars/Olympus" })),
    status: 400,
    message: /Mars\/Olympus/,
  },
  {
    name: "memory_limit not a size",
    send: key("memory_limit", "12 parsecs"),
    status: 400,
    message: /"memory_limit" must be a number of bytes or a size such as "256M".*got the string "12 parsecs"/,
  },
  {
    name: "memory_limit 0",
    send: key("memory_limit", 0),
    status: 400,
    message: /"memory_limit" must be .*got the number 0/,
  },
  {
    name: "memory_limit below 4 MiB",
    send: key("memory_limit", "1M"),
    status: 400,
    message: settingMessage("memory_limit"),
  },
  {
    name: "memory_limit absurd",
    send: key("memory_limit", "9000000T"),
    status: 400,
    message: settingMessage("memory_limit"),
  },
  {
    name: "memory_limit a boolean",
    send: key("memory_limit", true),
    status: 400,
    message: /"memory_limit" must be .*got the boolean true/,
  },
  {
    name: "cpu_limit 0",
    send: key("cpu_limit", 0),
    status: 400,
    message: /"cpu_limit" must be a number of CPUs .*got the number 0/,
  },
  {
    name: "cpu_limit a string",
    send: key("cpu_limit", "fast"),
    status: 400,
    message: /"cpu_limit" must be .*got the string "fast"/,
  },
  { name: "cpu_limit 1e9", send: key("cpu_limit", 1e9), status: 400, message: settingMessage("cpu_limit") },
  {
    name: "body over 1 MB",
    send: putSettings(JSON.stringify({ pad: "x".repeat(1024 * 1024) })),
    status: 413,
    message: /./,
  },
  {
    name: "settings of no such job",
    send: putSettings("{}", json, "nobody-here"),
    status: 404,
    message: /No triggered job named 'nobody-here'/,
  },
];

const get =
  (target: string, headers: Record<string, string> = {}) =>
  (tt: TestHost) =>
    rawRequest(tt.url, raw("GET", target, { Authorization: AUTH, ...headers }));
const paths: HostileCase[] = [
  {
    name: "run id not a number",
    send: get("/api/triggeredwebjobs/victim/history/abc"),
    status: 404,
    message: /No run 'abc' of job 'victim'/,
  },
  {
    name: "run id climbing out",
    send: get("/api/triggeredwebjobs/victim/history/..%2f..%2fwebjobs.db"),
    status: 404,
    message: /No run/,
  },
  {
    name: "log of a run id climbing out",
    send: get("/api/triggeredwebjobs/victim/history/..%2f..%2f..%2fwebjobs.db/log"),
    status: 404,
    message: /No run/,
  },
  {
    name: "vfs with encoded ../",
    send: get("/vfs/data/jobs/..%2f..%2fwebjobs.db"),
    status: 404,
    message: /climbs out of its root/,
  },
  {
    name: "vfs with %2e%2e segments",
    send: get("/vfs/data/jobs/%2e%2e/%2e%2e/webjobs.db"),
    status: 404,
    message: /./,
  },
  { name: "vfs with a NUL", send: get("/vfs/data/jobs/triggered/victim/%00"), status: 404, message: /./ },
  {
    name: "unknown route",
    send: get("/api/nothing-here"),
    status: 404,
    message: /No route GET \/api\/nothing-here/,
  },
  { name: "doubled slashes", send: get("//api//webjobs"), status: 404, message: /No route/ },
  {
    name: "bad percent-encoding in a path",
    send: get("/api/triggeredwebjobs/victim/history/%E0%A4%A"),
    status: 400,
    message: /./,
  },
  {
    name: "passthrough to a triggered job",
    send: get("/api/continuouswebjobs/victim/passthrough/x"),
    status: 404,
    message: /No continuous job named 'victim'/,
  },
  {
    name: "passthrough to no job",
    send: get("/api/continuouswebjobs/ghost/passthrough/x"),
    status: 404,
    message: /No continuous job named 'ghost'/,
  },
  {
    name: "passthrough with CR LF in the path",
    send: get("/api/continuouswebjobs/web/passthrough/a%0d%0aSet-Cookie:%20x=1"),
    status: 200,
    message: /^\/a%0d%0aSet-Cookie:%20x=1$/,
  },
  {
    name: "passthrough with an encoded accent",
    send: get("/api/continuouswebjobs/web/passthrough/%C3%A9"),
    status: 200,
    message: /^\/%C3%A9$/,
  },
  {
    name: "passthrough with encoded ../",
    send: get("/api/continuouswebjobs/web/passthrough/..%2f..%2fsecret?x=%2e%2e"),
    status: 200,
    message: /^\/\.\.%2f\.\.%2fsecret\?x=%2e%2e$/,
  },
  {
    name: "passthrough with a NUL",
    send: get("/api/continuouswebjobs/web/passthrough/a%00b"),
    status: 200,
    message: /^\/a%00b$/,
  },
];

const headers: HostileCase[] = [
  {
    name: "a forged Host is not copied into URLs",
    send: (tt) =>
      rawRequest(
        tt.url,
        raw("GET", "/api/triggeredwebjobs/victim", { Authorization: AUTH, Host: "evil.example" }),
      ),
    status: 200,
    message: /"url":"http:\/\/127\.0\.0\.1:\d+\/api\/triggeredwebjobs\/victim"/,
    also: (_tt, got) => expect(got.body).not.toMatch(/evil/),
  },
  {
    name: "X-Forwarded-Host is not copied into URLs",
    send: get("/api/triggeredwebjobs/victim/history", { "X-Forwarded-Host": "evil.example" }),
    status: 200,
    message: /runs/,
    also: (_tt, got) => expect(got.body).not.toMatch(/evil/),
  },
  {
    name: "Content-Length and Transfer-Encoding together",
    send: (tt) =>
      rawRequest(
        tt.url,
        raw(
          "PUT",
          "/api/triggeredwebjobs/victim/settings",
          {
            Authorization: AUTH,
            "Content-Type": json,
            "Content-Length": "2",
            "Transfer-Encoding": "chunked",
          },
          "2\r\n{}\r\n0\r\n\r\n",
        ),
      ),
    status: 400,
    message: /Bad Request/,
  },
  {
    name: "Content-Length not a number",
    send: (tt) =>
      rawRequest(
        tt.url,
        raw(
          "PUT",
          "/api/triggeredwebjobs/victim/settings",
          { Authorization: AUTH, "Content-Type": json, "Content-Length": "abc" },
          "{}",
        ),
      ),
    status: 400,
    message: /Bad Request/,
  },
  {
    name: "two different Content-Lengths",
    send: (tt) =>
      rawRequest(
        tt.url,
        raw(
          "PUT",
          "/api/triggeredwebjobs/victim/settings",
          { Authorization: AUTH, "Content-Type": json, "Content-Length": "2\r\nContent-Length: 3" },
          "{}",
        ),
      ),
    status: 400,
    message: /Bad Request/,
  },
  {
    name: "a bare CR in a header",
    send: (tt) =>
      rawRequest(
        tt.url,
        Buffer.from(
          `GET /api/webjobs HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nX-Evil: a\rb\r\nConnection: close\r\n\r\n`,
        ),
      ),
    status: 400,
    message: /Bad Request/,
  },
  {
    name: "headers of 20 KB",
    send: get("/api/webjobs", { "X-Pad": "x".repeat(20_000) }),
    status: 431,
    message: /Request Header Fields Too Large/,
  },
  {
    name: "a cross-site form POST",
    send: (tt) =>
      rawRequest(
        tt.url,
        raw("POST", "/api/triggeredwebjobs/victim/run", {
          Authorization: AUTH,
          "Sec-Fetch-Site": "cross-site",
        }),
      ),
    status: 403,
    message: /another origin/,
  },
  {
    name: "a POST from another Origin",
    send: (tt) =>
      rawRequest(
        tt.url,
        raw("POST", "/api/triggeredwebjobs/victim/run", {
          Authorization: AUTH,
          Origin: "http://evil.example",
        }),
      ),
    status: 403,
    message: /another origin/,
  },
];

const run = (query: string) => (tt: TestHost) =>
  tt.api(`/api/triggeredwebjobs/victim/run${query}`, { method: "POST" }).then(answer);
const args: HostileCase[] = [
  {
    name: "a NUL in the arguments",
    send: run("?arguments=a%00b"),
    status: 400,
    message: /must not contain a NUL character/,
  },
  { name: "a NUL alone", send: run("?arguments=%00"), status: 400, message: /NUL/ },
  {
    name: "arguments past the header limit",
    send: run(`?arguments=${"a".repeat(20_000)}`),
    status: 431,
    message: /./,
  },
  {
    name: "run of a continuous job",
    send: (tt) => tt.api("/api/triggeredwebjobs/web/run", { method: "POST" }).then(answer),
    status: 404,
    message: /No triggered job named 'web'/,
  },
  {
    name: "run of no job",
    send: (tt) => tt.api("/api/triggeredwebjobs/ghost/run", { method: "POST" }).then(answer),
    status: 404,
    message: /No triggered job named 'ghost'/,
  },
  {
    name: "cancel of no run",
    send: (tt) => tt.api("/api/triggeredwebjobs/victim/history/1/cancel", { method: "POST" }).then(answer),
    status: 404,
    message: /No run '1'/,
  },
];

const withAuth = (authorization: string) => (tt: TestHost) =>
  rawRequest(tt.url, raw("GET", "/api/webjobs", { Authorization: authorization }));
const basic = (text: string) => `Basic ${Buffer.from(text).toString("base64")}`;
const unauthorized = /Authentication required/;
const auth: HostileCase[] = [
  {
    name: "no credentials",
    send: (tt) => fetch(`${tt.url}/api/webjobs`).then(answer),
    status: 401,
    message: unauthorized,
  },
  { name: "wrong password", send: withAuth(basic("admin:guess")), status: 401, message: unauthorized },
  { name: "unknown user", send: withAuth(basic("root:test-password")), status: 401, message: unauthorized },
  { name: "no colon", send: withAuth(basic("admintest-password")), status: 401, message: unauthorized },
  { name: "not base64", send: withAuth("Basic !!!***"), status: 401, message: unauthorized },
  {
    name: "NUL in the credentials",
    send: withAuth(basic("admin\0:test-password")),
    status: 401,
    message: unauthorized,
  },
  { name: "scheme only", send: withAuth("Basic"), status: 401, message: unauthorized },
  { name: "empty bearer", send: withAuth("Bearer "), status: 401, message: unauthorized },
  {
    name: "made-up bearer token",
    send: withAuth("Bearer wj_0123456789abcdef"),
    status: 401,
    message: unauthorized,
  },
  { name: "another scheme", send: withAuth('Digest username="admin"'), status: 401, message: unauthorized },
  {
    name: "8 KB of credentials",
    send: withAuth(basic(`admin:${"x".repeat(6000)}`)),
    status: 401,
    message: unauthorized,
  },
  {
    name: "a forged session cookie",
    send: get("/api/webjobs", { Authorization: "", Cookie: "webjobs_session=forged" }),
    status: 401,
    message: unauthorized,
  },
];

describe("hostile settings", () => {
  for (const item of settings) it(item.name, () => expectRefused(t, item));
});
describe("hostile paths", () => {
  for (const item of paths) it(item.name, () => expectRefused(t, item));
});
describe("hostile headers", () => {
  for (const item of headers) it(item.name, () => expectRefused(t, item));

  it("a forged Host never reaches Location", async () => {
    const got = await rawRequest(
      t.url,
      raw("POST", "/api/triggeredwebjobs/victim/run", { Authorization: AUTH, Host: "evil.example" }),
    );
    expect(got.status).toBe(202);
    expect(got.headers.location).toMatch(new RegExp(`^${t.url}/api/triggeredwebjobs/victim/history/\\d+$`));
    await waitFor(async () => !t.host.runner.isRunning("victim"));
  });
});
describe("hostile arguments", () => {
  for (const item of args) it(item.name, () => expectRefused(t, item));

  it("never reach a shell", async () => {
    const text = "$(touch /tmp/webjobs-pwned) `id` ; echo x && echo y | cat > /tmp/webjobs-pwned";
    const ended = await runToEnd(t, "victim", text);
    expect(ended.status).toBe("Success");
    const log = await (await t.api(`${new URL(ended.url as string).pathname}/log`)).text();
    // Split like a shell would split words, but run by none: every operator arrives as a word.
    expect(log).toContain(
      "args: $ ( touch /tmp/webjobs-pwned ) `id` ; echo x && echo y | cat > /tmp/webjobs-pwned",
    );
    expect(log).not.toMatch(/uid=/);
    expect(existsSync("/tmp/webjobs-pwned")).toBe(false);
  });
});
describe("hostile credentials", () => {
  for (const item of auth) it(item.name, () => expectRefused(t, item));
});

describe("live streams", () => {
  // Node 20 and 22 print MaxListenersExceededWarning past 10 listeners on one AbortSignal (Node 24
  // no longer does): every stream listens to the server's closing signal, so the signal must allow
  // any number, and a stream that ends must take its listener away (or they pile up for ever).
  it("more than 10 at once: no listener limit to exceed, and none left behind", async () => {
    const app = await t.host.http();
    const listeners = () => getEventListeners(app.closingSignal, "abort").length;
    const baseline = listeners();
    expect(getMaxListeners(app.closingSignal)).toBe(0);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    const controller = new AbortController();
    try {
      const streams = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          t.api(i % 2 ? "/api/events" : "/api/continuouswebjobs/web/log", {
            headers: { accept: "text/event-stream" },
            signal: controller.signal,
          }),
        ),
      );
      expect(streams.map((s) => s.status)).toEqual(Array(12).fill(200));
      await Promise.all(streams.map((s) => s.body!.getReader().read()));
      expect(listeners()).toBeGreaterThanOrEqual(baseline + 12);
    } finally {
      controller.abort();
      process.off("warning", onWarning);
    }
    await waitFor(() => listeners() === baseline, 5000, "the streams' listeners to go");
    expect(warnings.map((w) => w.name)).not.toContain("MaxListenersExceededWarning");
    await expectAlive(t);
  });
});
