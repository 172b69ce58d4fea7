import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/host.ts";
import { queryRows, startPostgres, type TestPostgres } from "../support/postgres.ts";
import { startServe, type ServeProcess } from "../support/serve-process.ts";

/**
 * Overlap `queue` on two real `webjobs serve` processes on one embedded PostgreSQL: the instance
 * that queued an occurrence is killed with -9 while the run it waits for goes on (there or on the
 * other instance). The occurrence still runs once that run has ended: the store holds it, and
 * the surviving instance claims it (it was lost with the instance that held it in memory, before).
 */
const JOB = "queued";

let postgres: TestPostgres;
let databaseUrl: string;
const hosts = new Map<string, { host: ServeProcess; dir: string }>();

async function serve(id: string): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-queue-failover-"));
  const job = path.join(dir, "site/App_Data/jobs/triggered", JOB);
  await mkdir(job, { recursive: true });
  await writeFile(path.join(job, "run.sh"), "echo start\nsleep 8\n");
  // Every 4 s, runs of 8 s: the occurrence after a run's start is queued behind it, seconds
  // before that run ends.
  await writeFile(
    path.join(job, "settings.job"),
    JSON.stringify({ schedule: "*/4 * * * * *", time_zone: "UTC", overlap: "queue" }),
  );
  const host = await startServe(dir, {
    WEBJOBS_DATABASE_URL: databaseUrl,
    WEBJOBS_INSTANCE_ID: id,
    WEBJOBS_LOG_LEVEL: "warn",
    // A killed instance's run is closed (as instance lost) within a few seconds.
    WEBJOBS_INSTANCE_TIMEOUT: "4",
  });
  hosts.set(id, { host, dir });
}

const rows = (sql: string, values: unknown[] = []) => queryRows(databaseUrl, sql, values);

/** The instance whose scheduler log says it queued the occurrence due at `at`. */
async function queuedBy(at: Date): Promise<string | undefined> {
  for (const [id, { dir }] of hosts) {
    const log = await readFile(path.join(dir, "jobs/triggered", JOB, "job_scheduler.log"), "utf8").catch(
      () => "",
    );
    if (log.includes(`Queued the schedule at ${at.toISOString()}`)) return id;
  }
  return undefined;
}

beforeAll(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  await Promise.all([serve("queue-a"), serve("queue-b")]);
}, 60_000);

afterAll(async () => {
  for (const { host } of hosts.values()) {
    if (host.child.exitCode === null && host.child.signalCode === null) host.child.kill("SIGTERM");
    await host.exited;
  }
  await postgres?.stop();
  await Promise.all([...hosts.values()].map(({ dir }) => rm(dir, { recursive: true, force: true })));
}, 60_000);

describe("an occurrence queued by an instance killed with -9", () => {
  it("runs once the run it waited for has ended, started by the surviving instance", async () => {
    // An occurrence queued behind a run in progress, and the instance that queued it.
    const [queued] = await waitFor(
      async () => {
        const found = await rows(
          `SELECT f.scheduled_time, f.waiting_for, r.instance_id AS running_on FROM fires f
           JOIN runs r ON r.job_name = f.job_name AND r.id = f.waiting_for
           WHERE f.job_name = $1 AND f.outcome = 'queued' AND r.status = 'Running'`,
          [JOB],
        );
        return found.length > 0 && found;
      },
      15_000,
      "an occurrence to be queued behind a running run",
    );
    const due = queued!.scheduled_time as Date;
    const holder = await waitFor(() => queuedBy(due), 5_000, "the scheduler log of the queueing instance");
    const survivor = [...hosts.keys()].find((id) => id !== holder)!;
    const victim = hosts.get(holder)!.host;
    victim.child.kill("SIGKILL");
    await victim.exited;
    // Killed while its occurrence still waited.
    const [waiting] = await rows("SELECT outcome FROM fires WHERE job_name = $1 AND scheduled_time = $2", [
      JOB,
      due,
    ]);
    expect(waiting).toEqual({ outcome: "queued" });
    // The run waited for ends (there, closed as instance lost; elsewhere, by itself), then the
    // queued occurrence runs, once, on the survivor.
    const [run] = await waitFor(
      async () => {
        const found = await rows(
          "SELECT id, instance_id, status, start_time FROM runs WHERE job_name = $1 AND scheduled_time = $2",
          [JOB, due],
        );
        return found.length > 0 && found;
      },
      20_000,
      "the queued occurrence to run",
    );
    expect(run!.instance_id).toBe(survivor);
    const [waitedFor] = await rows(
      "SELECT status, reason, end_time FROM runs WHERE job_name = $1 AND id = $2",
      [JOB, queued!.waiting_for],
    );
    expect(waitedFor!.end_time).not.toBeNull();
    expect((run!.start_time as Date).getTime()).toBeGreaterThanOrEqual(
      (waitedFor!.end_time as Date).getTime(),
    );
    // Its fire says so (the run's id is written just after the run starts).
    await waitFor(
      async () => {
        const [fire] = await rows(
          "SELECT outcome, run_id FROM fires WHERE job_name = $1 AND scheduled_time = $2",
          [JOB, due],
        );
        return fire?.outcome === "started" && fire.run_id === run!.id;
      },
      5_000,
      "the fire to name its run",
    );
    console.log(
      `queued by ${holder} (killed), behind a run on ${queued!.running_on as string} that ended ${waitedFor!.status as string}${
        waitedFor!.reason ? ` (${waitedFor!.reason as string})` : ""
      }; started on ${run!.instance_id as string}`,
    );
  }, 45_000);
});
