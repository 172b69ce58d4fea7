import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FireOutcome } from "../../src/schedules/types.ts";
import { PgStore } from "../../src/store/postgres.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { storeContract } from "./store-contract.ts";

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(() => postgres?.stop());

// One server for the file, an empty database per test.
storeContract("PostgreSQL", async () => {
  const store = new PgStore(await postgres.createDatabase());
  await store.migrate();
  return { store, close: () => store.close() };
});

describe("PostgreSQL store shared by several instances", () => {
  it("applies each migration once when instances start at the same moment", async () => {
    const url = await postgres.createDatabase();
    const stores = Array.from({ length: 4 }, () => new PgStore(url));
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      const { rows } = await stores[0]!.db.query(
        "SELECT id, COUNT(*)::int AS n FROM schema_migrations GROUP BY id",
      );
      expect(rows.length).toBeGreaterThanOrEqual(6);
      expect(rows.every((r) => r.n === 1)).toBe(true);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("lets exactly one of many instances record a fire and claim its retry", async () => {
    const url = await postgres.createDatabase();
    const stores = Array.from({ length: 4 }, () => new PgStore(url));
    try {
      await stores[0]!.migrate();
      await stores[0]!.armSchedule("job", "key", new Date(0));
      const at = new Date(60_000);
      const fire = {
        jobName: "job",
        scheduledTime: at,
        outcome: FireOutcome.Started,
        runId: null,
        attempt: 1,
      };
      const recorded = await Promise.all(
        stores.map((s) => s.recordFire({ ...fire, reason: null, retryAt: null, recordedAt: new Date() })),
      );
      expect(recorded.filter(Boolean)).toHaveLength(1);
      await stores[0]!.updateFire("job", at, { retryAt: new Date(70_000) });
      const claims = await Promise.all(
        stores.map((s) =>
          s.updateFire("job", at, { attempt: 2, retryAt: null, outcome: FireOutcome.Retried }, 1),
        ),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("names an unreachable database, without its password", async () => {
    const store = new PgStore("postgres://webjobs:secret-pw@127.0.0.1:1/webjobs");
    try {
      const failure = await store.migrate().then(
        () => null,
        (error: unknown) => error as Error,
      );
      expect(failure?.message).toMatch(
        /^Cannot use the database postgres:\/\/webjobs:\*\*\*@127\.0\.0\.1:1\/webjobs: /,
      );
      expect(failure?.message).not.toContain("secret-pw");
    } finally {
      await store.close();
    }
  });
});
