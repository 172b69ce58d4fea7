import { randomBytes } from "node:crypto";
import { readFileSync, statSync, existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployScript, runToEnd, startHost, waitFor, type TestHost } from "../support/host.ts";

let t: TestHost;
const SECRET = "s3cr3t-" + randomBytes(8).toString("hex");
const json = { "content-type": "application/json" };
const put = (host: TestHost, route: string, body: unknown) =>
  host.api(route, { method: "PUT", headers: json, body: JSON.stringify(body) });

beforeAll(async () => {
  t = await startHost();
  const script = 'echo "plain=$PLAIN region=$REGION key=$API_KEY"\necho "again: $API_KEY" >&2\n';
  expect((await deployScript(t, "triggered", "env", "run.sh", script)).status).toBe(200);
});
afterAll(() => t?.stop());

describe("app settings and secrets", () => {
  it("gives host-wide and per-job settings to jobs, never shows a secret again, masks it in the run log", async () => {
    expect((await put(t, "/api/appsettings/PLAIN", { value: "hello" })).status).toBe(200);
    expect((await put(t, "/api/appsettings/REGION", { value: "host" })).status).toBe(200);
    expect((await put(t, "/api/webjobs/env/appsettings/REGION", { value: "job" })).status).toBe(200);
    const secret = await put(t, "/api/webjobs/env/appsettings/API_KEY", { value: SECRET, secret: true });
    expect(secret.status).toBe(200);
    expect(await secret.json()).toMatchObject({ name: "API_KEY", value: null, secret: true });

    const listed = await (await t.api("/api/webjobs/env/appsettings")).text();
    expect(listed).not.toContain(SECRET);
    expect(JSON.parse(listed)).toEqual([
      expect.objectContaining({ name: "API_KEY", value: null, secret: true }),
      expect.objectContaining({ name: "REGION", value: "job", secret: false }),
    ]);

    const run = await runToEnd(t, "env");
    expect(run.status).toBe("Success");
    const log = await (await t.api(new URL(run.output_url as string).pathname)).text();
    expect(log).toContain("plain=hello region=job key=***");
    expect(log).toContain("again: ***");
    expect(log).not.toContain(SECRET);

    // At rest: sealed in the database, the key in a file only the host can read.
    const db = await readFile(path.join(t.dataDir, "webjobs.db"));
    const wal = existsSync(path.join(t.dataDir, "webjobs.db-wal"))
      ? await readFile(path.join(t.dataDir, "webjobs.db-wal"))
      : Buffer.alloc(0);
    expect(db.includes(SECRET)).toBe(false);
    expect(wal.includes(SECRET)).toBe(false);
    const keyFile = path.join(t.dataDir, "secret.key");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(db.includes(readFileSync(keyFile, "utf8").trim())).toBe(false);
  });

  it("masks secrets in a continuous job's log too", async () => {
    expect(
      (await put(t, "/api/webjobs/worker/appsettings/TOKEN", { value: SECRET, secret: true })).status,
    ).toBe(200);
    const script = 'echo "token is $TOKEN"\nwhile true; do sleep 0.2; done\n';
    expect((await deployScript(t, "continuous", "worker", "run.sh", script)).status).toBe(200);
    const logPath = path.join(t.dataDir, "jobs", "continuous", "worker", "job_log.txt");
    const log = await waitFor(async () => {
      const text = await readFile(logPath, "utf8").catch(() => "");
      return text.includes("token is") ? text : undefined;
    });
    expect(log).toContain("token is ***");
    expect(log).not.toContain(SECRET);
    expect((await t.api("/api/continuouswebjobs/worker", { method: "DELETE" })).status).toBe(200);
  });

  it("refuses bad names and values with a precise 400, and removes settings", async () => {
    const cases: [string, unknown, RegExp][] = [
      ["/api/appsettings/1BAD", { value: "x" }, /Invalid app setting name '1BAD'/],
      ["/api/appsettings/WEBJOBS_NAME", { value: "x" }, /WEBJOBS_ are the host's own/],
      ["/api/appsettings/GOOD", { value: "a\u0000b" }, /NUL/],
      ["/api/appsettings/GOOD", { value: 3 }, /value must be a string/],
      ["/api/appsettings/GOOD", { value: "x", extra: 1 }, /unknown key 'extra'/],
      ["/api/webjobs/bad..name/appsettings/GOOD", { value: "x" }, /Invalid job name/],
    ];
    for (const [route, body, message] of cases) {
      const response = await put(t, route, body);
      expect(response.status, route).toBe(400);
      expect(((await response.json()) as { error: string }).error, route).toMatch(message);
    }
    const text = await t.api("/api/appsettings/GOOD", {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "x",
    });
    expect(text.status).toBe(400);
    expect((await t.api("/api/appsettings/PLAIN", { method: "DELETE" })).status).toBe(204);
    expect((await t.api("/api/appsettings/PLAIN", { method: "DELETE" })).status).toBe(404);
  });

  it("takes the key from WEBJOBS_SECRET_KEY (no key file), and a secret sealed with another key is not given to jobs", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-test-"));
    try {
      const first = await startHost({ secretKey: randomBytes(32).toString("base64") }, dir);
      expect((await put(first, "/api/appsettings/SEALED", { value: SECRET, secret: true })).status).toBe(200);
      await first.stop();
      expect(existsSync(path.join(dir, "secret.key"))).toBe(false);
      const second = await startHost({ secretKey: randomBytes(32).toString("hex") }, dir);
      try {
        const listed = (await (await second.api("/api/appsettings")).json()) as unknown[];
        expect(listed).toEqual([expect.objectContaining({ name: "SEALED", unreadable: true })]);
      } finally {
        await second.stop();
      }
      await expect(startHost({ secretKey: "too-short" }, dir)).rejects.toThrow(/32-byte key/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("audit trail", () => {
  it("records who did what, from where; filters and pages; admins only; kept for the retention time", async () => {
    await runToEnd(t, "env");
    const page = (await (await t.api("/api/audit?limit=2")).json()) as {
      entries: { id: number; action: string; actor: string; address: string; target: string }[];
      next_cursor: string;
    };
    expect(page.entries).toHaveLength(2);
    expect(page.next_cursor).toMatch(/^\d+$/);
    const next = (await (await t.api(`/api/audit?limit=2&cursor=${page.next_cursor}`)).json()) as {
      entries: { id: number }[];
    };
    expect(next.entries[0].id).toBeLessThan(page.entries[1].id);

    const runs = (await (await t.api("/api/audit?action=run")).json()) as {
      entries: { actor: string; target: string; status: number; address: string; detail: string | null }[];
    };
    expect(runs.entries[0]).toMatchObject({
      actor: "admin",
      target: "env",
      status: 202,
      address: "127.0.0.1",
    });
    const actions = (await (await t.api("/api/audit?target=env&limit=100")).json()) as {
      entries: { action: string }[];
    };
    expect(new Set(actions.entries.map((e) => e.action))).toEqual(
      new Set(["deploy", "app_setting_set", "run"]),
    );
    const secretEntry = (await (
      await t.api("/api/audit?action=app_setting_set&target=env/API_KEY")
    ).json()) as {
      entries: { detail: string }[];
    };
    expect(secretEntry.entries[0].detail).toBe("secret");
    expect(JSON.stringify(await (await t.api("/api/audit?limit=500")).json())).not.toContain(SECRET);
    expect((await t.api("/api/audit?limit=0")).status).toBe(400);
    expect((await t.api("/api/audit?colour=red")).status).toBe(400);

    const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-test-"));
    try {
      const first = await startHost({}, dir);
      await first.host.store.audit.addAudit({
        at: new Date(Date.now() - 3 * 24 * 3600_000),
        actor: "old",
        actorKind: "password",
        action: "run",
        target: "x",
        status: 202,
        address: null,
        detail: null,
      });
      await first.stop();
      const second = await startHost({ auditRetentionDays: 2 }, dir);
      try {
        expect(await second.host.store.audit.queryAudit({ actor: "old", limit: 10 })).toEqual([]);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
