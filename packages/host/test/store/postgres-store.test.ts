import { afterAll, beforeAll } from "vitest";
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
