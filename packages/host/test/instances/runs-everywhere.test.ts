import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunJson } from "../../src/api/json-types.ts";
import { AUTH, waitFor } from "../support/host.ts";
import { startPostgres, type TestPostgres, queryRows } from "../support/postgres.ts";
import { startServe, type ServeProcess } from "../support/serve-process.ts";

/**
 * Runs seen and controlled from every instance: two real `webjobs serve` processes on one
 * embedded PostgreSQL. A run going on one is followed live, read and cancelled through the
 * other; a run of an instance killed with -9 is read on the survivor, closed as `instance lost`
 * after what was logged before; web hooks reach a receiver once per run, not once per instance.
 * The same job folders are copied into both sites before they start.
 */
const LOG_CAP = 64 * 1024;
let postgres: TestPostgres;
let databaseUrl: string;
const dirs: string[] = [];
const hosts: ServeProcess[] = [];
let receiver: Server;
const delivered: RunJson[] = [];

/** Prints a numbered line every 0.2 s until stopped; says so when asked to stop. */
const TALKER = `trap 'echo "got SIGTERM"; exit 0' TERM
echo started
i=0
while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done
`;

async function dataDirWithJobs(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-everywhere-"));
  dirs.push(dir);
  const jobs = path.join(dir, "site/App_Data/jobs/triggered");
  const job = async (name: string, script: string, settings: object) => {
    await mkdir(path.join(jobs, name), { recursive: true });
    await writeFile(path.join(jobs, name, "run.sh"), script);
    await writeFile(path.join(jobs, name, "settings.job"), JSON.stringify(settings));
  };
  await job("talker", TALKER, { stopping_wait_time: 5 });
  await job("quick", "echo quick\n", {});
  // 4 MB of output, far past the log cap set below.
  await job("flood", "yes 'a line of output that floods the log' | head -c 4000000\n", {});
  return dir;
}

async function serve(id: string): Promise<ServeProcess> {
  const host = await startServe(await dataDirWithJobs(), {
    WEBJOBS_DATABASE_URL: databaseUrl,
    WEBJOBS_INSTANCE_ID: id,
    WEBJOBS_INSTANCE_TIMEOUT: "3",
    WEBJOBS_RUN_LOG_MAX_BYTES: String(LOG_CAP),
    WEBJOBS_LOG_LEVEL: "info",
  });
  hosts.push(host);
  return host;
}

const api = (host: ServeProcess, p: string, init: RequestInit = {}) =>
  fetch(host.url + p, { ...init, headers: { authorization: AUTH, ...(init.headers as object) } });

const getRun = async (host: ServeProcess, job: string, id: string) =>
  (await (await api(host, `/api/triggeredwebjobs/${job}/history/${id}`)).json()) as RunJson;

/** Starts a run through `via`; returns its id and the host it runs on and the other one. */
async function startRun(via: ServeProcess, job: string) {
  const started = await api(via, `/api/triggeredwebjobs/${job}/run`, { method: "POST" });
  expect(started.status).toBe(202);
  const id = new URL(started.headers.get("location")!).pathname.split("/").pop()!;
  const run = await waitFor(
    async () => {
      const current = await getRun(via, job, id);
      return current.status !== "Initializing" && current;
    },
    10_000,
    `${job} to start`,
  );
  // Wherever it was placed (the least loaded instance may not be the one asked).
  const owner = run.instance === "host-a" ? a : b;
  return { id, owner, other: owner === a ? b : a };
}

/** Reads an SSE log response, handing each `data:` line over; resolves at the `end` event. */
async function readEvents(response: Response, onLine: (line: string) => void): Promise<boolean> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buffered += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffered.indexOf("\n\n")) >= 0) {
      const event = buffered.slice(0, cut);
      buffered = buffered.slice(cut + 2);
      const fields = event.split("\n");
      if (fields.includes("event: end")) return true;
      for (const field of fields) if (field.startsWith("data: ")) onLine(field.slice(6));
    }
  }
}

/** Collects the live events (`GET /api/events`) an instance pushes, until aborted. */
async function liveEvents(host: ServeProcess, signal: AbortSignal) {
  const events: { kind: string; id?: string; status?: string }[] = [];
  const response = await api(host, "/api/events", { headers: { accept: "text/event-stream" }, signal });
  expect(response.status).toBe(200);
  void readEvents(response, (data) => events.push(JSON.parse(data))).catch(() => undefined);
  return events;
}

const rows = (sql: string, values: unknown[] = []) => queryRows(databaseUrl, sql, values);

let a: ServeProcess;
let b: ServeProcess;
beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      delivered.push(JSON.parse(body) as RunJson);
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  a = await serve("host-a");
  b = await serve("host-b");
  // One subscription in the shared store: every instance sees it.
  const hook = await api(a, "/api/hooks", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      event: "TriggeredJobFinished",
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
    }),
  });
  expect(hook.status).toBe(201);
}, 60_000);

afterAll(async () => {
  for (const host of hosts) {
    if (host.child.exitCode === null && host.child.signalCode === null) host.child.kill("SIGTERM");
    await host.exited;
  }
  await postgres?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}, 60_000);

describe("runs from every instance", () => {
  it("follows a run's live log and details on the other instance, and cancels it from there", async () => {
    const listening = new AbortController();
    const pushed = { a: await liveEvents(a, listening.signal), b: await liveEvents(b, listening.signal) };
    const { id, owner, other } = await startRun(a, "talker");
    expect(await getRun(other, "talker", id)).toMatchObject({
      status: "Running",
      instance: owner === a ? "host-a" : "host-b",
    });

    const live = await api(other, `/api/triggeredwebjobs/talker/history/${id}/log`, {
      headers: { accept: "text/event-stream" },
    });
    expect(live.headers.get("content-type")).toContain("text/event-stream");
    const lines: string[] = [];
    let sawTicks!: () => void;
    const ticking = new Promise<void>((resolve) => (sawTicks = resolve));
    const following = readEvents(live, (line) => {
      lines.push(line);
      if (line.endsWith("tick 3")) sawTicks();
    });
    await ticking;

    const cancelledAt = Date.now();
    const cancel = await api(other, `/api/triggeredwebjobs/talker/history/${id}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(200);
    const cancelled = (await cancel.json()) as RunJson;
    expect(cancelled).toMatchObject({
      id,
      status: "Aborted",
      reason: "cancelled on request",
    });
    // The owner heard of it through the signal (the 2 s poll is the safety net).
    expect(owner.output()).toMatch(
      /"via":"signal".*"msg":"cancelling a run on request from another instance"/,
    );
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);

    // The live log ends with the run, with what the job said when asked to stop.
    expect(await following).toBe(true);
    expect(lines[0]).toContain("Status changed to Initializing");
    expect(lines.some((l) => l.endsWith("] started"))).toBe(true);
    expect(lines.some((l) => l.endsWith("got SIGTERM"))).toBe(true);
    expect(lines.at(-1)).toContain("Status changed to Aborted (cancelled on request)");
    // The finished log, as plain text, from either instance: the same lines.
    for (const host of [a, b]) {
      const text = await (await api(host, `/api/triggeredwebjobs/talker/history/${id}/log`)).text();
      expect(text.trimEnd().split("\n")).toEqual(lines);
      // And at the run's output_url (the VFS), which clients of Kudu download.
      const file = await api(host, new URL(cancelled.output_url).pathname);
      expect(file.status).toBe(200);
      expect(await file.text()).toBe(text);
    }
    // Both instances pushed the run's end to their live-event clients (the dashboard).
    for (const events of [pushed.a, pushed.b]) {
      await waitFor(
        () => events.some((e) => e.kind === "run" && e.id === id && e.status === "Aborted"),
        5_000,
        "the run's end among the live events",
      );
    }
    listening.abort();
    // A second cancel, from either instance: not running any more.
    for (const host of [a, b]) {
      const again = await api(host, `/api/triggeredwebjobs/talker/history/${id}/cancel`, { method: "POST" });
      expect(again.status).toBe(409);
    }
  }, 30_000);

  it("delivers web hooks once per run, whichever instance ran it", async () => {
    const ids: string[] = [];
    for (const via of [a, b, a, b]) {
      const { id } = await startRun(via, "quick");
      await waitFor(async () => (await getRun(via, "quick", id)).status === "Success", 10_000, "quick");
      ids.push(id);
    }
    // One more run, waited for through its hook: by then every earlier end has long been seen by
    // both instances, so a second delivery would have come.
    const { id: last } = await startRun(a, "quick");
    await waitFor(() => delivered.some((run) => run.id === last), 10_000, "the last run's hook");
    for (const id of [...ids, last]) {
      expect(delivered.filter((run) => run.job_name === "quick" && run.id === id)).toHaveLength(1);
    }
    // The cancelled run of the first test too.
    const talkers = delivered.filter((run) => run.job_name === "talker");
    expect(talkers.map((run) => run.status)).toEqual(["Aborted"]);
  }, 30_000);

  it("ships no more of a run's log than the log file keeps", async () => {
    const { id, other } = await startRun(a, "flood");
    await waitFor(async () => (await getRun(other, "flood", id)).status === "Success", 20_000, "flood");
    const text = await (await api(other, `/api/triggeredwebjobs/flood/history/${id}/log`)).text();
    expect(text).toContain(`Log truncated: the output passed the ${LOG_CAP} bytes limit`);
    expect(text.trimEnd().split("\n").at(-1)).toContain("Status changed to Success");
    // The cap, plus the host's own few lines.
    expect(Buffer.byteLength(text)).toBeLessThan(LOG_CAP + 1024);
    const [stored] = await rows(
      `SELECT sum(octet_length(text))::int AS bytes FROM run_log_chunks WHERE job_name = 'flood' AND run_id = '${id}'`,
    );
    expect(stored!.bytes).toBe(Buffer.byteLength(text));
  }, 30_000);

  it("reads the log and details of a run of an instance killed with -9 on the survivor, closed as instance lost", async () => {
    const { id, owner, other } = await startRun(b, "talker");
    // Shipped within about a second: the survivor reads it while the run goes on.
    await waitFor(
      async () =>
        (await (await api(other, `/api/triggeredwebjobs/talker/history/${id}/log`)).text()).includes(
          "tick 5",
        ),
      10_000,
      "the log to reach the other instance",
    );
    owner.child.kill("SIGKILL");
    await owner.exited;

    // A cancel through the survivor waits for the dead instance's runs to be closed.
    const cancel = await api(other, `/api/triggeredwebjobs/talker/history/${id}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(200);
    const closed = (await cancel.json()) as RunJson;
    expect(closed).toMatchObject({ id, status: "Aborted", reason: "instance lost" });
    expect(await getRun(other, "talker", id)).toMatchObject({ status: "Aborted", reason: "instance lost" });

    const text = await waitFor(
      async () => {
        const log = await (await api(other, `/api/triggeredwebjobs/talker/history/${id}/log`)).text();
        return log.includes("instance lost") && log;
      },
      5_000,
      "the closing line",
    );
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toContain("Status changed to Initializing");
    expect(lines).toContainEqual(expect.stringMatching(/\] tick 5$/));
    expect(lines.at(-1)).toContain("Status changed to Aborted (instance lost)");
    // Followed live after the end: the same log, and the end event.
    const live = await api(other, `/api/triggeredwebjobs/talker/history/${id}/log`, {
      headers: { accept: "text/event-stream" },
    });
    const streamed: string[] = [];
    expect(await readEvents(live, (line) => streamed.push(line))).toBe(true);
    expect(streamed).toEqual(lines);

    // One web hook for it, from the instance that closed it.
    await waitFor(() => delivered.some((run) => run.id === id), 10_000, "the lost run's hook");
    expect(delivered.filter((run) => run.id === id)).toMatchObject([
      { status: "Aborted", reason: "instance lost" },
    ]);
    // Cancelled again: it says why not.
    const again = await api(other, `/api/triggeredwebjobs/talker/history/${id}/cancel`, { method: "POST" });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("(status Aborted: instance lost)");
  }, 40_000);
});
