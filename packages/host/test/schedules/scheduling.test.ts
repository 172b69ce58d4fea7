import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config.ts";
import { startHost, waitFor, type TestHost } from "../support/host.ts";
import {
  deployScheduled,
  ended,
  fires,
  inSeconds,
  runs,
  waitForFires,
  waitForRuns,
  type RunJson,
} from "./support.ts";

let t: TestHost;
beforeAll(async () => {
  t = await startHost({ timeZone: "Eastern Standard Time" });
});
afterAll(() => t.stop());

const json = (body: unknown) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

describe("scheduled jobs", () => {
  // Jobs of their own, mostly waiting for due seconds and runs: side by side. The web hooks test
  // after them is alone: its hooks hear every run's end.
  it.concurrent(
    "fires an NCRONTAB schedule on the second, with Kudu's trigger, the fire key and the scheduler log",
    async ({ expect }) => {
      await deployScheduled(t, "ticker", 'echo "tick"\n', { schedule: "*/1 * * * * *", time_zone: "UTC" });
      const done = await waitForRuns(t, "ticker", (list) => list.filter(ended).length >= 2);
      const run = done.find(ended)!;
      expect(run.status).toBe("Success");
      expect(run.trigger).toBe("Schedule - * * * * * *");
      expect(run.attempt).toBe(1);
      expect(run.scheduled_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      // Each run serves a different due instant, and each due instant is a fire with its run.
      const scheduled = done.map((r) => r.scheduled_time);
      expect(new Set(scheduled).size).toBe(scheduled.length);
      const list = await fires(t, "ticker");
      const fire = list.find((f) => f.run_id === run.id)!;
      expect(fire).toMatchObject({ outcome: "started", attempt: 1, scheduled_time: run.scheduled_time });

      const job = (await (await t.api("/api/triggeredwebjobs/ticker")).json()) as Record<string, unknown>;
      expect(job.settings).toEqual({ schedule: "*/1 * * * * *", time_zone: "UTC" });
      expect(job.time_zone).toBe("UTC");
      expect(job.schedule_paused).toBe(false);
      expect(typeof job.schedule_description).toBe("string");
      const next = job.next_runs as string[];
      expect(next).toHaveLength(10);
      expect(Date.parse(next[1]) - Date.parse(next[0])).toBe(1000);
      expect(job.scheduler_logs_url).toMatch(/\/vfs\/data\/jobs\/triggered\/ticker\/job_scheduler\.log$/);
      const log = await (await t.api(new URL(job.scheduler_logs_url as string).pathname)).text();
      expect(log).toMatch(
        /\] Scheduling WebJob with \* \* \* \* \* \* next schedule expected in 00:00:0\d\.\d{7}\n/,
      );
      expect(log).toContain("] WebJob invoked\n");
      await t.api("/api/triggeredwebjobs/ticker", { method: "DELETE" });
    },
  );

  it.concurrent(
    "writes the steps of an expression out as NCrontab does, and uses the host's zone by default",
    async ({ expect }) => {
      await deployScheduled(t, "quarterly", "true\n", { schedule: "0 */15 * * * *" });
      const job = (await (await t.api("/api/triggeredwebjobs/quarterly")).json()) as Record<string, unknown>;
      expect(job.time_zone).toBe("America/New_York"); // WEBSITE_TIME_ZONE=Eastern Standard Time
      expect(job.schedule_expression).toBe("0 0,15,30,45 * * * *");
      for (const instant of job.next_runs as string[]) expect(instant).toMatch(/:(00|15|30|45):00\.000Z$/);
      // On-demand runs of a scheduled job still work.
      const started = await t.api("/api/triggeredwebjobs/quarterly/run", { method: "POST" });
      expect(started.status).toBe(202);
    },
  );

  it.concurrent(
    "overlap skip: an occurrence during a run is recorded as skipped, with why",
    async ({ expect }) => {
      await deployScheduled(t, "slow-skip", "sleep 2.5\n", { schedule: "* * * * * *", time_zone: "UTC" });
      const list = await waitForFires(t, "slow-skip", (f) => f.some((x) => x.outcome === "skipped_overlap"));
      const skipped = list.find((x) => x.outcome === "skipped_overlap")!;
      expect(skipped.run_id).toBeNull();
      expect(skipped.reason).toMatch(/in progress/);
      await t.api("/api/triggeredwebjobs/slow-skip", { method: "DELETE" });
    },
  );

  it.concurrent(
    "overlap queue: one occurrence waits for the run and starts after it, later ones coalesce",
    async ({ expect }) => {
      await deployScheduled(t, "slow-queue", "sleep 2.2\n", {
        schedule: "* * * * * *",
        time_zone: "UTC",
        overlap: "queue",
      });
      const list = await waitForFires(
        t,
        "slow-queue",
        (f) =>
          f.some((x) => x.outcome === "coalesced") &&
          f.some((x) => x.outcome === "started" && x.run_id && f.length > 3),
        20_000,
      );
      // The queued occurrence became a run of its own (started after the previous one ended).
      const history = await waitForRuns(t, "slow-queue", (r) => r.length >= 2);
      const queuedRun = history.find((r) => list.some((f) => f.run_id === r.id && f.scheduled_time !== null));
      expect(queuedRun).toBeDefined();
      const coalesced = list.find((x) => x.outcome === "coalesced")!;
      expect(coalesced.reason).toMatch(/merged into the occurrence at/);
      await t.api("/api/triggeredwebjobs/slow-queue", { method: "DELETE" });
    },
  );

  it.concurrent(
    "overlap replace: the running run is aborted as replaced by the schedule",
    async ({ expect }) => {
      await deployScheduled(t, "replacer", "sleep 30\n", {
        schedule: "*/2 * * * * *",
        time_zone: "UTC",
        overlap: "replace",
        stopping_wait_time: 1,
      });
      const history = await waitForRuns(t, "replacer", (r) => r.some((x) => x.status === "Aborted"), 20_000);
      expect(history.find((x) => x.status === "Aborted")!.reason).toBe("replaced by schedule");
      await t.api("/api/triggeredwebjobs/replacer", { method: "DELETE" });
    },
  );

  it.concurrent(
    "retries a failed scheduled run with its policy, attempts and triggers shown",
    async ({ expect }) => {
      const due = inSeconds(2);
      await deployScheduled(t, "flaky", "echo failing; exit 3\n", {
        schedule: { startTime: due },
        retry_count: 2,
        retry_interval: 1,
      });
      const history = await waitForRuns(t, "flaky", (r) => r.filter(ended).length === 3, 20_000);
      const attempts = [...history].reverse();
      expect(attempts.map((r) => r.attempt)).toEqual([1, 2, 3]);
      expect(attempts.map((r) => r.status)).toEqual(["Failed", "Failed", "Failed"]);
      expect(attempts.every((r) => r.scheduled_time === new Date(due).toISOString())).toBe(true);
      expect(attempts[1].trigger).toMatch(/^Retry 1\/2 - Schedule - /);
      expect(attempts[2].trigger).toMatch(/^Retry 2\/2 - Schedule - /);
      const [fire] = await fires(t, "flaky");
      expect(fire).toMatchObject({ outcome: "retried", attempt: 3, run_id: attempts[2].id, retry_at: null });
    },
  );

  it.concurrent(
    "pauses and resumes a schedule; what falls due while paused does not run",
    async ({ expect }) => {
      await deployScheduled(t, "pausable", "true\n", { schedule: "* * * * * *", time_zone: "UTC" });
      await waitForFires(t, "pausable", (f) => f.length > 0);
      const paused = await t.api("/api/triggeredwebjobs/pausable/schedule/pause", { method: "POST" });
      expect(await paused.json()).toEqual({ name: "pausable", schedule_paused: true });
      const pausedAt = Date.now();
      const job = (await (await t.api("/api/triggeredwebjobs/pausable")).json()) as {
        schedule_paused: boolean;
      };
      expect(job.schedule_paused).toBe(true);
      // Paused through a redeploy of the same job.
      await deployScheduled(t, "pausable", "true # v2\n", { schedule: "* * * * * *", time_zone: "UTC" });
      await waitFor(() => Date.now() - pausedAt > 2500 || undefined);
      await t.api("/api/triggeredwebjobs/pausable/schedule/resume", { method: "POST" });
      const resumedAt = Date.now();
      const list = await waitForFires(t, "pausable", (f) => Date.parse(f[0].scheduled_time) > resumedAt);
      const during = list.filter((f) => {
        const at = Date.parse(f.scheduled_time);
        return at > pausedAt + 1000 && at < resumedAt - 1000;
      });
      expect(during).toEqual([]);
      // On-demand runs work while paused.
      await t.api("/api/triggeredwebjobs/pausable/schedule/pause", { method: "POST" });
      // (Once the last scheduled run has ended: one run at a time.)
      await waitForRuns(t, "pausable", (list) => list.every(ended));
      expect((await t.api("/api/triggeredwebjobs/pausable/run", { method: "POST" })).status).toBe(202);
      await deployScheduled(t, "unscheduled", "true\n", {});
      const noSchedule = await t.api("/api/triggeredwebjobs/unscheduled/schedule/pause", { method: "POST" });
      expect(noSchedule.status).toBe(409);
      expect(((await noSchedule.json()) as { error: string }).error).toBe(
        "Job 'unscheduled' has no schedule.",
      );
      await t.api("/api/triggeredwebjobs/pausable", { method: "DELETE" });
    },
  );

  it("posts TriggeredJobFailed web hooks for failed runs, beside TriggeredJobFinished", async () => {
    const received: { event: string; status: string }[] = [];
    const server: Server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        received.push({ event: request.url!.slice(1), status: (JSON.parse(body) as RunJson).status });
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const event of ["TriggeredJobFinished", "TriggeredJobFailed"]) {
      const created = await t.api("/api/hooks", json({ url: `${base}/${event}`, event }));
      expect(created.status).toBe(201);
    }
    await deployScheduled(t, "fails-once", "exit 1\n", {});
    await t.api("/api/triggeredwebjobs/fails-once/run", { method: "POST" });
    await waitFor(() => received.length === 2 || undefined);
    expect(received.sort((a, b) => a.event.localeCompare(b.event))).toEqual([
      { event: "TriggeredJobFailed", status: "Failed" },
      { event: "TriggeredJobFinished", status: "Failed" },
    ]);
    await new Promise((resolve) => server.close(resolve));
  });
});

describe("schedules from every door are validated", () => {
  it("refuses a bad schedule, zone or policy through the settings API with 400, changing nothing", async () => {
    await deployScheduled(t, "strict", "true\n", { schedule: "0 0 6 * * *" });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ schedule: "0 0 * * *" }, /schedule.*6 fields/],
      [{ schedule: "0 0 0 30 2 *" }, /schedule.*never/i],
      [{ schedule: "0 0 12 * * *", time_zone: "Mars/Olympus" }, /time_zone.*Mars\/Olympus/],
      [{ schedule: { frequency: "Year" } }, /frequency/],
      [{ schedule: "0 0 6 * * *", overlap: "sometimes" }, /overlap/],
      [{ schedule: "0 0 6 * * *", retry_count: 21 }, /retry_count/],
      [{ schedule: "0 0 6 * * *", missed_runs: 3 }, /missed_runs/],
      [{ schedule: 12 }, /"schedule" must be a 6-field NCRONTAB string or a recurrence object/],
    ];
    for (const [settings, message] of cases) {
      const response = await t.api("/api/triggeredwebjobs/strict/settings", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(settings),
      });
      expect(response.status, JSON.stringify(settings)).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(message);
    }
    const text = await t.api("/api/triggeredwebjobs/strict/settings", {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: '{"schedule": "0 0 6 * * *"}',
    });
    expect(text.status).toBe(400);
    const settings = await (await t.api("/api/triggeredwebjobs/strict/settings")).json();
    expect(settings).toEqual({ schedule: "0 0 6 * * *" });
  });

  it("refuses an upload with a bad schedule and keeps no version of it", async () => {
    const { makeZip, deployZip } = await import("../support/host.ts");
    const zip = await makeZip({ "run.sh": "true\n", "settings.job": '{"schedule":"*/0 * * * * *"}' });
    const response = await deployZip(t, "triggered", "refused", zip);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/schedule.*step/i);
    expect((await t.api("/api/triggeredwebjobs/refused")).status).toBe(404);
    expect(existsSync(path.join(t.dataDir, "versions/triggered/refused"))).toBe(false);
  });

  it("keeps a site-folder job with a bad schedule on demand, with the reason in error and job_scheduler.log", async () => {
    const folder = path.join(t.dataDir, "site/App_Data/jobs/triggered/handmade");
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, "run.sh"), "echo handmade\n");
    writeFileSync(path.join(folder, "settings.job"), '{"schedule":"0 0 0 L * *"}');
    const job = await waitFor(async () => {
      const response = await t.api("/api/triggeredwebjobs/handmade");
      return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
    });
    expect(job.error).toMatch(/^Invalid schedule: .*schedule/);
    expect(job.next_runs).toEqual([]);
    const log = await waitFor(() => {
      const file = path.join(t.dataDir, "jobs/triggered/handmade/job_scheduler.log");
      return existsSync(file) && readFileSync(file, "utf8").includes("Failed to parse schedule")
        ? readFileSync(file, "utf8")
        : undefined;
    });
    expect(log).toContain('Failed to parse schedule "0 0 0 L * *". Error: ');
    expect((await t.api("/api/triggeredwebjobs/handmade/run", { method: "POST" })).status).toBe(202);
  });

  it("previews schedules, and answers 400 naming the field for bad ones", async () => {
    const preview = await t.api(
      "/api/schedule/preview",
      json({ schedule: "0 */15 * * * *", time_zone: "UTC", from: "2026-01-01T00:00:00Z", count: 3 }),
    );
    expect(preview.status).toBe(200);
    expect(await preview.json()).toMatchObject({
      schedule: "0 */15 * * * *",
      time_zone: "UTC",
      occurrences: ["2026-01-01T00:15:00.000Z", "2026-01-01T00:30:00.000Z", "2026-01-01T00:45:00.000Z"],
    });
    const recurrence = await t.api(
      "/api/schedule/preview",
      json({
        schedule: {
          frequency: "Week",
          startTime: "2026-01-01T00:00:00",
          schedule: { weekDays: ["Saturday"], hours: [17], minutes: [0] },
        },
        time_zone: "Romance Standard Time",
        from: "2026-01-01T00:00:00Z",
        count: 2,
      }),
    );
    expect(await recurrence.json()).toMatchObject({
      time_zone: "Europe/Paris",
      occurrences: ["2026-01-03T16:00:00.000Z", "2026-01-10T16:00:00.000Z"],
    });
    // Default zone: the host's.
    const hostZone = await t.api(
      "/api/schedule/preview",
      json({ schedule: "0 0 12 * * *", from: "2026-07-01T00:00:00Z", count: 1 }),
    );
    expect(await hostZone.json()).toMatchObject({
      time_zone: "America/New_York",
      occurrences: ["2026-07-01T16:00:00.000Z"],
    });

    const bad: [unknown, RegExp][] = [
      [{ schedule: "0 0 * * *" }, /6 fields/],
      [{ schedule: "0 0 12 * * *", time_zone: "Nowhere/Else" }, /Nowhere\/Else/],
      [{ schedule: "* * * * * *", count: 0 }, /count/],
      [{ schedule: "* * * * * *", count: 101 }, /count/],
      [{ schedule: "* * * * * *", from: "yesterday" }, /from/],
      [{ schedule: "* * * * * *", zone: "UTC" }, /unknown key 'zone'/],
      [{}, /schedule/],
      [{ schedule: { frequency: "Month", schedule: { monthDays: [0] } } }, /monthDays/],
    ];
    for (const [body, message] of bad) {
      const response = await t.api("/api/schedule/preview", json(body));
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(((await response.json()) as { error: string }).error, JSON.stringify(body)).toMatch(message);
    }
    const notJson = await t.api("/api/schedule/preview", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "* * * * * *",
    });
    expect(notJson.status).toBe(400);
  });

  it("reads WEBSITE_TIME_ZONE as an IANA or Windows name and refuses an unknown one by name", () => {
    expect(resolveConfig({}, { WEBSITE_TIME_ZONE: "Tokyo Standard Time" }).timeZone).toBe("Asia/Tokyo");
    expect(resolveConfig({}, { WEBSITE_TIME_ZONE: "Europe/Paris" }).timeZone).toBe("Europe/Paris");
    expect(resolveConfig({}, {}).timeZone).toBe("UTC");
    expect(() => resolveConfig({}, { WEBSITE_TIME_ZONE: "Mars/Olympus" })).toThrow(
      /WEBSITE_TIME_ZONE.*Mars\/Olympus/,
    );
  });

  it("counts fires by outcome in the metrics", async () => {
    await waitFor(
      async () =>
        (await (await t.api("/metrics")).text()).includes(
          'webjobs_schedule_fires_total{job="flaky",outcome="started"} 1',
        ) || undefined,
    );
    expect((await runs(t, "flaky")).length).toBe(3);
  });
});
