import { rm } from "node:fs/promises";
import os from "node:os";
import { describe, expect, it } from "vitest";
import type { InstanceJson } from "../../src/api/json-types.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { startHost } from "../support/host.ts";

/** `GET /api/instances` on one host with its SQLite store: what every single-machine user sees. */
describe("GET /api/instances", () => {
  it("lists the host as live to readers, and as dead once it stopped", async () => {
    const t = await startHost({ instanceId: "solo" });
    let stopped = false;
    try {
      const added = await t.api("/api/users", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "viewer", password: "viewer-password", role: "reader" }),
      });
      expect(added.status).toBe(201);
      const response = await t.api("/api/instances", {
        headers: { authorization: `Basic ${Buffer.from("viewer:viewer-password").toString("base64")}` },
      });
      expect(response.status).toBe(200);
      const [solo, ...others] = (await response.json()) as InstanceJson[];
      expect(others).toEqual([]);
      expect(solo).toMatchObject({
        id: "solo",
        host_name: os.hostname(),
        url: t.url,
        state: "live",
        active_runs: 0,
      });
      await t.host.stop();
      stopped = true;
      // A graceful stop is a death at once: nobody waits for the timeout.
      const store = new SqliteStore(t.host.paths.database);
      try {
        const [after] = await store.instances.listInstances(60_000);
        expect(after).toMatchObject({ id: "solo", live: false });
      } finally {
        await store.close();
      }
      // The next start on the same data folder takes the id back.
      const again = await startHost({ instanceId: "solo" }, t.dataDir);
      try {
        expect(((await (await again.api("/api/instances")).json()) as InstanceJson[])[0]).toMatchObject({
          id: "solo",
          state: "live",
        });
      } finally {
        await again.stop();
      }
    } finally {
      if (!stopped) await t.host.stop();
      await rm(t.dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
