import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalSignals, PgSignals } from "../../src/instances/signals.ts";
import { PgStore } from "../../src/store/postgres.ts";
import { waitFor } from "../support/host.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";

const log = pino({ level: "silent" });
let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(() => postgres?.stop());

describe("cluster signals", () => {
  it("carry a notify from one instance's store to another's listener, and again after the connection is cut", async () => {
    const url = await postgres.createDatabase();
    const stores = [new PgStore(url), new PgStore(url)];
    const signals = stores.map((store) => new PgSignals(url, store.db, log));
    try {
      await Promise.all(signals.map((s) => s.start()));
      const heard: string[] = [];
      const others: string[] = [];
      signals[1]!.on("runs", (payload) => heard.push(payload));
      signals[1]!.on("jobs", (payload) => others.push(payload));
      // LISTEN is issued in the background when the first listener subscribes.
      await waitFor(
        async () => {
          await signals[0]!.notify("runs", "hello");
          return heard.includes("hello");
        },
        5_000,
        "the other instance to hear the notify",
      );
      expect(others).toEqual([]);

      // The server drops the listening connection: it comes back and listens again.
      const cut = await stores[0]!.db.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
      );
      expect(cut.rows.length).toBe(1);
      await waitFor(
        async () => {
          await signals[0]!.notify("runs", "again");
          return heard.includes("again");
        },
        10_000,
        "the notify after a reconnection",
      );
    } finally {
      await Promise.all(signals.map((s) => s.stop()));
      await Promise.all(stores.map((s) => s.close()));
    }
  }, 30_000);

  it("on one machine, tell this process's listeners, after the notifier's call returns", async () => {
    const signals = new LocalSignals(log);
    const heard: string[] = [];
    const off = signals.on("runs", (payload) => heard.push(payload));
    await signals.notify("runs", "1");
    expect(heard).toEqual([]);
    await waitFor(async () => heard.length === 1, 1_000, "the local listener");
    off();
    await signals.notify("runs", "2");
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard).toEqual(["1"]);
    await expect(signals.notify("Bad-Name", "x")).rejects.toThrow("Invalid signal channel");
  });
});
