import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH, deployScript, startHost, type TestHost } from "../support/host.ts";

/**
 * Walks every operation of the OpenAPI document with each role, with a token limited to one job,
 * and with no credential, and checks each answer against the role the document says it needs:
 * 401 without credentials (unless public), 403 below the role, and otherwise an answer of the
 * route itself (2xx or a 4xx about the input), never a 5xx.
 */
let t: TestHost;
const JOB = "walk";
const rank: Record<string, number> = { public: 0, any: 0, reader: 1, operator: 2, admin: 3 };

interface Operation {
  method: string;
  path: string;
  required: string;
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

beforeAll(async () => {
  t = await startHost();
  expect((await deployScript(t, "triggered", JOB, "run.sh", "echo walked\n")).status).toBe(200);
  for (const role of ["reader", "operator"]) {
    const added = await t.api("/api/users", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: role, password: `${role}-password`, role }),
    });
    expect(added.status).toBe(201);
  }
}, 30_000);
afterAll(() => t?.stop());

async function operations(): Promise<Operation[]> {
  const doc = (await (await t.api("/api/openapi.json")).json()) as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
  };
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      // fetch cannot send TRACE; the passthrough treats it like every other non-reading method.
      if (method === "trace") continue;
      const byMethod = op["x-required-role-by-method"] as Record<string, string> | undefined;
      const required = Array.isArray(op.security)
        ? "public"
        : ((byMethod?.[method.toUpperCase()] ?? op["x-required-role"]) as string | undefined);
      expect(required, `${method} ${path} says which role it needs`).toBeDefined();
      ops.push({ method: method.toUpperCase(), path, required: required! });
    }
  }
  return ops;
}

const fill = (path: string) =>
  path
    .replace("{name}", JOB)
    .replace("{setting}", "WALK_SETTING")
    .replace("{username}", "nobody")
    .replace(/\{(id|fn|logId)\}/g, "x")
    .replace("{*}", path.includes("vfs") ? "site/wwwroot/" : "x");

async function call(op: Operation, authorization?: string): Promise<number> {
  const headers: Record<string, string> = {};
  if (authorization) headers.authorization = authorization;
  const withBody = ["POST", "PUT", "PATCH"].includes(op.method);
  if (withBody) headers["content-type"] = "application/json";
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  try {
    const response = await fetch(t.url + fill(op.path), {
      method: op.method,
      headers,
      body: withBody ? "{}" : undefined,
      signal: controller.signal,
    });
    // Live streams (events, logs) answer and stay open: the status is all we need.
    await response.body?.cancel();
    return response.status;
  } finally {
    clearTimeout(timer);
  }
}

describe("roles on every route of the OpenAPI document", () => {
  it("documents a role for every operation, and the table covers the security routes", async () => {
    const ops = await operations();
    expect(ops.length).toBeGreaterThan(40);
    const find = (method: string, path: string) =>
      ops.find((o) => o.method === method && o.path === path)?.required;
    expect(find("GET", "/api/health")).toBe("public");
    expect(find("GET", "/api/webjobs")).toBe("reader");
    expect(find("PUT", "/api/triggeredwebjobs/{name}")).toBe("operator");
    expect(find("POST", "/api/triggeredwebjobs/{name}/run")).toBe("operator");
    expect(find("POST", "/api/continuouswebjobs/{name}/stop")).toBe("operator");
    expect(find("PUT", "/api/triggeredwebjobs/{name}/settings")).toBe("operator");
    expect(find("POST", "/api/tokens")).toBe("admin");
    expect(find("POST", "/api/users")).toBe("admin");
    expect(find("PUT", "/api/appsettings/{setting}")).toBe("admin");
    expect(find("PUT", "/api/webjobs/{name}/appsettings/{setting}")).toBe("operator");
    expect(find("GET", "/api/audit")).toBe("admin");
  });

  it("answers each operation as each credential allows", async () => {
    const ops = await operations();
    const created = await t.api("/api/tokens", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ label: "ci", role: "operator", jobs: [JOB] }),
    });
    const { token } = (await created.json()) as { token: string };
    const callers = [
      { who: "nobody", auth: undefined, role: null, limited: false },
      { who: "reader", auth: basic("reader", "reader-password"), role: "reader", limited: false },
      { who: "ci token", auth: `Bearer ${token}`, role: "operator", limited: true },
      { who: "operator", auth: basic("operator", "operator-password"), role: "operator", limited: false },
      { who: "admin", auth: AUTH, role: "admin", limited: false },
    ];
    const wrong: string[] = [];
    for (const caller of callers) {
      for (const op of ops) {
        const status = await call(op, caller.auth);
        const label = `${caller.who}: ${op.method} ${op.path} (needs ${op.required}) → ${status}`;
        if (status >= 500) wrong.push(label);
        else if (op.required === "public") {
          if (status === 401 || status === 403) wrong.push(label);
        } else if (caller.role === null) {
          if (status !== 401) wrong.push(label);
        } else {
          const allowed =
            rank[caller.role] >= rank[op.required] &&
            // A token limited to some jobs reaches only routes that name one (and "who am I").
            (!caller.limited || op.path.includes("{name}") || op.required === "any");
          if (allowed ? status === 401 || status === 403 : status !== 403) wrong.push(label);
        }
      }
    }
    expect(wrong).toEqual([]);
  }, 120_000);
});
