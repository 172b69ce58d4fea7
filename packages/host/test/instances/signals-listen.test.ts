import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PgSignals } from "../../src/instances/signals.ts";
import { PgStore } from "../../src/store/postgres.ts";
import { waitFor } from "../support/host.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";

/**
 * A host subscribes to several channels in a row at start. Their LISTENs go one after another on
 * the listening connection: issued at once, pg printed "DeprecationWarning: Calling client.query()
 * when the client is already executing a query" on every start of a host on PostgreSQL (and
 * pg 9 will refuse them).
 */
let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(() => postgres?.stop());

it("listens on channels subscribed in a row one at a time, and hears each", async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning.message);
  process.on("warning", onWarning);
  const url = await postgres.createDatabase();
  const store = new PgStore(url);
  const signals = new PgSignals(url, store.db, pino({ level: "silent" }));
  try {
    await signals.start();
    const channels = ["jobs", "runs", "cancels", "pauses", "settings", "deployments"];
    const heard = new Set<string>();
    for (const channel of channels) signals.on(channel, () => heard.add(channel));
    await waitFor(
      async () => {
        for (const channel of channels) if (!heard.has(channel)) await signals.notify(channel, "x");
        return heard.size === channels.length;
      },
      5_000,
      "every channel to be heard",
    );
    expect(warnings.filter((message) => message.includes("already executing a query"))).toEqual([]);
  } finally {
    process.off("warning", onWarning);
    await signals.stop();
    await store.close();
  }
}, 30_000);
