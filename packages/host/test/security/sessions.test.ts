import Database from "better-sqlite3";
import { get, type IncomingMessage } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH, PASSWORD, USER, startHost, waitFor, type TestHost } from "../support/host.ts";

let t: TestHost;
beforeAll(async () => {
  t = await startHost();
});
afterAll(() => t?.stop());

const json = { "content-type": "application/json" };
const cookieOf = (response: Response) => response.headers.get("set-cookie")!.split(";")[0];
async function login(host: TestHost, user = USER, password = PASSWORD): Promise<Response> {
  return fetch(`${host.url}/api/session`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` },
  });
}

describe("browser sessions", () => {
  it("exchanges a password for an HttpOnly SameSite=Strict cookie, stored only hashed, ended by logout", async () => {
    const response = await login(t);
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ name: USER, role: "admin", kind: "password" });
    const setCookie = response.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^webjobs_session=[\w-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toMatch(/Secure/); // plain HTTP on loopback
    const cookie = cookieOf(response);

    const me = await fetch(`${t.url}/api/session`, { headers: { cookie } });
    expect(await me.json()).toMatchObject({ name: USER, role: "admin", kind: "session" });
    expect((await fetch(`${t.url}/api/webjobs`, { headers: { cookie } })).status).toBe(200);

    const db = new Database(path.join(t.dataDir, "webjobs.db"), { readonly: true });
    const rows = db.prepare("SELECT id_hash FROM sessions").all() as { id_hash: string }[];
    db.close();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.id_hash)).not.toContain(cookie.split("=")[1]);

    const out = await fetch(`${t.url}/api/session`, { method: "DELETE", headers: { cookie } });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/webjobs_session=;/);
    expect((await fetch(`${t.url}/api/webjobs`, { headers: { cookie } })).status).toBe(401);
  });

  it("refuses a wrong password and a token as a login", async () => {
    expect((await login(t, USER, "wrong-password")).status).toBe(401);
    const created = await t.api("/api/tokens", { method: "POST", headers: json, body: "{}" });
    const { token } = (await created.json()) as { token: string };
    const withToken = await fetch(`${t.url}/api/session`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(withToken.status).toBe(400);
    // The failed login is in the audit trail, with the name tried and the address.
    const audit = (await (await t.api("/api/audit?action=login")).json()) as {
      entries: { actor: string; status: number; address: string }[];
    };
    expect(audit.entries).toContainEqual(
      expect.objectContaining({ actor: USER, status: 401, address: "127.0.0.1" }),
    );
  });

  it("expires", async () => {
    const short = await startHost({ sessionHours: 1 / 3600 }); // one second
    try {
      const cookie = cookieOf(await login(short));
      expect((await fetch(`${short.url}/api/webjobs`, { headers: { cookie } })).status).toBe(200);
      await waitFor(
        async () => (await fetch(`${short.url}/api/webjobs`, { headers: { cookie } })).status === 401,
        5000,
      );
    } finally {
      await short.stop();
    }
  });

  it("sends a browser to the login page, a dashboard script gets a 401 without the Basic prompt, API clients the challenge", async () => {
    // node:http, since fetch writes its own Sec-Fetch-Mode.
    const navigation = await new Promise<IncomingMessage>((resolve, reject) =>
      get(
        `${t.url}/api/webjobs?x=1`,
        { headers: { "sec-fetch-site": "none", "sec-fetch-mode": "navigate", accept: "text/html" } },
        resolve,
      ).on("error", reject),
    );
    navigation.resume();
    expect(navigation.statusCode).toBe(303);
    expect(navigation.headers.location).toBe("/#/login?next=%2Fapi%2Fwebjobs%3Fx%3D1");
    expect(navigation.headers["www-authenticate"]).toBeUndefined();
    const script = await fetch(`${t.url}/api/webjobs`, {
      headers: { "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors" },
    });
    expect(script.status).toBe(401);
    expect(script.headers.get("www-authenticate")).toBeNull();
    const client = await fetch(`${t.url}/api/webjobs`);
    expect(client.status).toBe(401);
    expect(client.headers.get("www-authenticate")).toMatch(/^Basic/);
    // The dashboard's page itself needs no credentials: it shows the login form.
    expect((await fetch(t.url)).status).toBe(200);
  });

  it("puts security headers on every answer", async () => {
    for (const [route, auth] of [
      ["/", false],
      ["/api/health", false],
      ["/api/webjobs", false],
      ["/api/webjobs", true],
      ["/api/nothing", true],
    ] as const) {
      const response = await fetch(t.url + route, { headers: auth ? { authorization: AUTH } : {} });
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp, route).toContain("frame-ancestors 'none'");
      expect(csp, route).toContain("script-src 'self'");
      expect(response.headers.get("x-content-type-options"), route).toBe("nosniff");
      expect(response.headers.get("referrer-policy"), route).toBe("no-referrer");
      expect(response.headers.get("x-frame-options"), route).toBe("DENY");
      expect(response.headers.get("strict-transport-security"), route).toBeNull();
    }
  });
});

describe("users", () => {
  it("adds, lists, changes and removes users; a role change and a removal apply at once", async () => {
    const add = (body: unknown) =>
      t.api("/api/users", { method: "POST", headers: json, body: JSON.stringify(body) });
    expect((await add({ username: "ops", password: "ops-password", role: "operator" })).status).toBe(201);
    expect((await add({ username: "ops", password: "ops-password", role: "operator" })).status).toBe(409);
    const bad = await add({ username: "x:y", password: "short", role: "boss" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^The new user: username: a user name/);
    const users = (await (await t.api("/api/users")).json()) as { username: string; role: string }[];
    expect(users).toEqual(
      expect.arrayContaining([expect.objectContaining({ username: "ops", role: "operator" })]),
    );
    expect(JSON.stringify(users)).not.toMatch(/scrypt/);

    const ops = { authorization: `Basic ${Buffer.from("ops:ops-password").toString("base64")}` };
    const cookie = cookieOf(await login(t, "ops", "ops-password"));
    expect((await fetch(`${t.url}/api/tokens`, { headers: ops })).status).toBe(403);
    const change = (body: unknown) =>
      t.api("/api/users/ops", { method: "PATCH", headers: json, body: JSON.stringify(body) });
    expect((await change({ role: "admin" })).status).toBe(200);
    expect((await fetch(`${t.url}/api/tokens`, { headers: ops })).status).toBe(200);
    expect((await change({ role: "reader" })).status).toBe(200);
    const refused = await fetch(`${t.url}/api/triggeredwebjobs/any/run`, { method: "POST", headers: ops });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toMatch(
      /needs the operator role; 'ops' is a reader/,
    );

    // The last admin cannot go.
    const lastAdmin = await t.api(`/api/users/${USER}`, { method: "DELETE" });
    expect(lastAdmin.status).toBe(409);
    const demote = await t.api(`/api/users/${USER}`, {
      method: "PATCH",
      headers: json,
      body: JSON.stringify({ role: "reader" }),
    });
    expect(demote.status).toBe(409);

    expect((await t.api("/api/users/ops", { method: "DELETE" })).status).toBe(204);
    expect((await fetch(`${t.url}/api/webjobs`, { headers: ops })).status).toBe(401);
    expect((await fetch(`${t.url}/api/webjobs`, { headers: { cookie } })).status).toBe(401);
    const audit = (await (await t.api("/api/audit?target=ops")).json()) as { entries: { action: string }[] };
    expect(audit.entries.map((e) => e.action)).toEqual([
      "user_remove",
      "user_change",
      "user_change",
      "user_add",
    ]);
  });
});
