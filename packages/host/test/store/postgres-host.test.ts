import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgStore } from "../../src/store/postgres.ts";
import { deployScript, runToEnd, startHost, waitFor, type TestHost } from "../support/host.ts";
import { startPostgres, type TestPostgres, queryRows } from "../support/postgres.ts";
import { deployScheduled, ended, waitForFires, waitForRuns } from "../schedules/support.ts";

/** A whole host on PostgreSQL: what a user of `--database postgres://…` sees. */
let postgres: TestPostgres;
let databaseUrl: string;
let t: TestHost;
beforeAll(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  t = await startHost({ database: databaseUrl, restartBackoffMs: 100 });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await postgres?.stop();
});

/** Rows straight from the database: proof that the host wrote there, not to SQLite. */
const rows = (sql: string, values: unknown[] = []) => queryRows(databaseUrl, sql, values);

describe("a host on PostgreSQL", () => {
  it("runs a triggered job end to end, recorded in the database", async () => {
    expect(t.host.store).toBeInstanceOf(PgStore);
    expect((await deployScript(t, "triggered", "hello", "run.sh", "echo hello from $1\n")).status).toBe(200);
    const run = await runToEnd(t, "hello", "pg");
    expect(run).toMatchObject({ status: "Success" });
    const log = await (await t.api(new URL(run.output_url as string).pathname)).text();
    expect(log).toContain("hello from pg");
    const stored = await rows("SELECT status, end_time FROM runs WHERE job_name = 'hello'");
    expect(stored).toEqual([{ status: "Success", end_time: expect.any(Date) }]);
  });

  it("fires a scheduled job once per due instant", async () => {
    await deployScheduled(t, "ticker", "echo tick\n", { schedule: "*/1 * * * * *", time_zone: "UTC" });
    await waitForFires(t, "ticker", (list) => list.length >= 2);
    const history = await waitForRuns(t, "ticker", (list) => list.length >= 2 && list.every(ended));
    expect(history.every((r) => r.status === "Success")).toBe(true);
    const keys = await rows(
      "SELECT scheduled_time, COUNT(*)::int AS n FROM fires WHERE job_name = 'ticker' GROUP BY scheduled_time",
    );
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(keys.every((k) => k.n === 1)).toBe(true);
    // Each run serves a distinct due instant.
    const served = await rows(
      "SELECT scheduled_time FROM runs WHERE job_name = 'ticker' AND scheduled_time IS NOT NULL",
    );
    expect(new Set(served.map((r) => (r.scheduled_time as Date).getTime())).size).toBe(served.length);
    await t.api("/api/triggeredwebjobs/ticker", { method: "DELETE" });
  });

  it("keeps a continuous job running, and its desired state in the database", async () => {
    const script = 'echo "up"\nwhile true; do sleep 0.2; done\n';
    expect((await deployScript(t, "continuous", "forever", "run.sh", script)).status).toBe(200);
    const status = () =>
      t.api("/api/continuouswebjobs/forever").then((r) => r.json() as Promise<{ status: string }>);
    await waitFor(async () => (await status()).status === "Running", 15_000, "forever to run");
    expect((await t.api("/api/continuouswebjobs/forever/stop", { method: "POST" })).status).toBe(200);
    await waitFor(async () => (await status()).status === "Stopped", 15_000, "forever to stop");
    expect(await rows("SELECT desired_state FROM jobs WHERE name = 'forever'")).toEqual([
      { desired_state: "stopped" },
    ]);
  });
});
