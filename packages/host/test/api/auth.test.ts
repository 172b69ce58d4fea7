import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHost, type TestHost } from "../support/host.ts";

let t: TestHost;
beforeAll(async () => {
  t = await startHost();
});
afterAll(() => t.stop());

describe("authentication", () => {
  it("serves health without credentials and everything else only with them", async () => {
    const health = await fetch(`${t.url}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok" });
    for (const route of ["/api/webjobs", "/api/triggeredwebjobs", "/api/openapi.json", "/vfs/data/jobs/x"]) {
      const response = await fetch(`${t.url}${route}`);
      expect(response.status, route).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Basic/);
    }
    const wrong = await fetch(`${t.url}/api/webjobs`, {
      headers: { authorization: `Basic ${Buffer.from("admin:nope").toString("base64")}` },
    });
    expect(wrong.status).toBe(401);
    expect((await t.api("/api/webjobs")).status).toBe(200);
  });

  it("issues bearer tokens that work, stored only as hashes", async () => {
    const created = await t.api("/api/tokens", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ label: "ci" }),
    });
    expect(created.status).toBe(201);
    const { token } = (await created.json()) as { token: string };
    expect(token).toMatch(/^wj_/);
    const withToken = await fetch(`${t.url}/api/webjobs`, { headers: { authorization: `Bearer ${token}` } });
    expect(withToken.status).toBe(200);
    const bogus = await fetch(`${t.url}/api/webjobs`, { headers: { authorization: `Bearer ${token}x` } });
    expect(bogus.status).toBe(401);
    const stored = await t.host.store.listCredentials("token");
    expect(stored.map((c) => c.hash)).not.toContain(token);
  });

  it("serves an OpenAPI document of the API", async () => {
    const doc = (await (await t.api("/api/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/triggeredwebjobs/{name}/run",
        "/api/triggeredwebjobs/{name}/history/{id}/cancel",
      ]),
    );
  });

  it("slows failed logins down but never refuses the right password, even from the guessing address", async () => {
    const limited = await startHost({ loginDelayMaxMs: 400 });
    try {
      const wrong = { authorization: `Basic ${Buffer.from("admin:guess").toString("base64")}` };
      // 20 wrong passwords from this address, all at once.
      const guesses = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const started = Date.now();
          const response = await fetch(`${limited.url}/api/webjobs`, { headers: wrong });
          return { status: response.status, ms: Date.now() - started };
        }),
      );
      expect(guesses.map((g) => g.status)).toEqual(Array(20).fill(401));
      // Past the first few failures each answer waits, up to the configured 400 ms.
      expect(Math.max(...guesses.map((g) => g.ms))).toBeGreaterThanOrEqual(390);
      const slow = Date.now();
      expect((await fetch(`${limited.url}/api/webjobs`, { headers: wrong })).status).toBe(401);
      expect(Date.now() - slow).toBeGreaterThanOrEqual(390);
      // The right password still works at once from the same address.
      const right = Date.now();
      expect((await limited.api("/api/webjobs")).status).toBe(200);
      expect(Date.now() - right).toBeLessThan(390);
      expect((await fetch(`${limited.url}/api/health`)).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  it("answers unknown routes with a JSON 404", async () => {
    const response = await t.api("/api/nothing-here");
    expect(response.status).toBe(404);
  });
});
