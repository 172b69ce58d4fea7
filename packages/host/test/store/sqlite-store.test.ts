import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { storeContract } from "./store-contract.ts";

storeContract("SQLite", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-store-"));
  const store = new SqliteStore(path.join(dir, "webjobs.db"));
  await store.migrate();
  return {
    store,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
