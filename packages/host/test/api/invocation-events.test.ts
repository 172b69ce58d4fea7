import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployZip, makeZip, startHost, waitFor, type TestHost } from "../support/host.ts";
import { listenToEvents } from "../support/live-events.ts";

let t: TestHost;

beforeAll(async () => {
  t = await startHost();
});

afterAll(() => t.stop());

/**
 * A job writing invocation records as webjobs-sdk does (`sdk/invocations.jsonl` in its data folder,
 * a start and an end line per invocation, appended), one invocation every 100 ms: the host's side of
 * that file contract, without Azurite. The SDK itself is covered by the dashboard test.
 */
const recordingJob = `
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
const dir = path.join(process.env.WEBJOBS_DATA_PATH, "sdk");
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(process.env.WEBJOBS_DATA_PATH, "webjobssdk.marker"), "");
writeFileSync(path.join(dir, "functions.json"), JSON.stringify([{ name: "work", trigger: "queue", source: "q" }]));
let n = 0;
setInterval(() => {
  n += 1;
  const id = "inv-" + n;
  const now = new Date().toISOString();
  appendFileSync(path.join(dir, "invocations.jsonl"),
    JSON.stringify({ kind: "start", id, function: "work", start_time: now, trigger_details: {}, arguments: {}, reason: "test" }) + "\\n" +
    JSON.stringify({ kind: "end", id, function: "work", status: n % 2 ? "Succeeded" : "Failed", end_time: now, duration_ms: 1, error: null, log: [] }) + "\\n");
}, 100);
`;

const listen = () => listenToEvents(t.url);

describe("invocation events", () => {
  it("pushes each SDK invocation's start and end over /api/events, without moving the lists' generation", async () => {
    const stream = listen();
    await waitFor(() => t.host.http().then((app) => app.live.subscribers === 1), 5000, "subscriber");
    const zip = await makeZip({ "run.js": recordingJob, "package.json": '{ "type": "module" }' });
    expect((await deployZip(t, "continuous", "recorder", zip)).status).toBeLessThan(300);

    const invocations = () => stream.events.filter((e) => e.event === "invocation").map((e) => e.data);
    const ended = await waitFor(
      () => invocations().find((e) => e.status !== "Running"),
      15_000,
      "an invocation's end",
    );
    expect(ended).toMatchObject({
      kind: "invocation",
      type: "continuous",
      job: "recorder",
      function: "work",
    });
    // Its start came first, with the same id.
    const forId = invocations().filter((e) => e.id === ended.id);
    expect(forId.map((e) => e.status)).toEqual(["Running", ended.status]);
    // Both outcomes are told apart.
    await waitFor(() => invocations().some((e) => e.status === "Failed"), 10_000, "a failed invocation");
    await waitFor(() => invocations().some((e) => e.status === "Succeeded"), 10_000, "a succeeded one");

    // Invocations change no jobs or runs list: their ETags (the generation) stay.
    const app = await t.host.http();
    const generation = app.live.generation;
    const seen = invocations().length;
    await waitFor(() => invocations().length >= seen + 6, 10_000, "more invocations");
    expect(app.live.generation).toBe(generation);

    // A removed job is no longer followed.
    expect(app.live.invocations.watched).toBe(1);
    await t.api("/api/continuouswebjobs/recorder", { method: "DELETE" });
    await waitFor(() => app.live.invocations.watched === 0, 10_000, "the job let go");
    await stream.close();
  });
});
