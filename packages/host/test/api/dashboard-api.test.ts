import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployScript, runToEnd, startHost, waitFor, type TestHost } from "../support/host.ts";
import { listenToEvents } from "../support/live-events.ts";

let t: TestHost;

beforeAll(async () => {
  t = await startHost();
  await deployScript(t, "triggered", "ok", "run.sh", "echo fine\n");
  await deployScript(t, "triggered", "bad", "run.sh", "exit 3\n");
});

afterAll(() => t.stop());

const listen = () => listenToEvents(t.url);

describe("the API behind the dashboard", () => {
  it("pushes run, job and continuous changes over Server-Sent Events", async () => {
    const stream = listen();
    await waitFor(() => t.host.http().then((app) => app.live.subscribers === 1), 5000, "subscriber");
    await runToEnd(t, "ok");
    await deployScript(t, "continuous", "loop", "run.sh", "while true; do sleep 0.2; done\n");
    await waitFor(() => stream.events.some((e) => e.event === "continuous" && e.data.status === "Running"));
    await t.api("/api/continuouswebjobs/loop", { method: "DELETE" });
    await waitFor(() => stream.events.some((e) => e.event === "job" && e.data.change === "removed"));
    const statuses = stream.events.filter((e) => e.event === "run").map((e) => e.data.status);
    expect(statuses).toEqual(["Initializing", "Running", "Success"]);
    expect(stream.events).toContainEqual({
      event: "job",
      data: { kind: "job", type: "continuous", name: "loop", change: "deployed" },
    });
    await stream.close();
    await waitFor(() => t.host.http().then((app) => app.live.subscribers === 0), 5000, "stream closed");
  });

  it("answers If-None-Match on the jobs list from the change generation", async () => {
    const first = await t.api("/api/webjobs");
    const etag = first.headers.get("etag")!;
    expect(((await first.json()) as { name: string }[]).map((job) => job.name)).toEqual(["bad", "ok"]);
    const again = await t.api("/api/webjobs", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    await runToEnd(t, "bad");
    const changed = await t.api("/api/webjobs", { headers: { "if-none-match": etag } });
    expect(changed.status).toBe(200);
    const jobs = (await changed.json()) as { name: string; latest_run: { status: string } }[];
    expect(jobs.find((job) => job.name === "bad")?.latest_run.status).toBe("Failed");
  });

  it("lists runs of all jobs, filtered and paginated", async () => {
    await runToEnd(t, "ok");
    await runToEnd(t, "bad");
    const all = (await (await t.api("/api/runs")).json()) as { runs: { job_name: string; id: string }[] };
    expect(all.runs.length).toBe(4);
    expect(all.runs.map((run) => run.id)).toEqual([...all.runs.map((run) => run.id)].sort().reverse());

    const pages: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page = (await (await t.api(`/api/runs?limit=3&cursor=${cursor}`)).json()) as {
        runs: { id: string }[];
        next_cursor: string | null;
      };
      pages.push(...page.runs.map((run) => run.id));
      cursor = page.next_cursor;
    }
    expect(pages).toEqual(all.runs.map((run) => run.id));

    const failed = (await (await t.api("/api/runs?status=Failed,Aborted")).json()) as {
      runs: { job_name: string }[];
    };
    expect(failed.runs.map((run) => run.job_name)).toEqual(["bad", "bad"]);
    const ofOk = (await (await t.api("/api/runs?job=ok")).json()) as { runs: unknown[] };
    expect(ofOk.runs.length).toBe(2);
    const future = (await (
      await t.api(`/api/runs?from=${new Date(Date.now() + 60_000).toISOString()}`)
    ).json()) as {
      runs: unknown[];
    };
    expect(future.runs).toEqual([]);
    const bad = await t.api("/api/runs?status=Done");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('"status"');
  });

  it("lists and revokes tokens", async () => {
    const created = (await (
      await t.api("/api/tokens", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ label: "ci" }),
      })
    ).json()) as { id: string; token: string };
    const list = (await (await t.api("/api/tokens")).json()) as { id: string; label: string }[];
    expect(list).toContainEqual(expect.objectContaining({ id: created.id, label: "ci" }));
    expect(JSON.stringify(list)).not.toContain(created.token);
    const bearer = { authorization: `Bearer ${created.token}` };
    expect((await t.api("/api/webjobs", { headers: bearer })).status).toBe(200);
    expect((await t.api(`/api/tokens/${created.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await t.api("/api/webjobs", { headers: bearer })).status).toBe(401);
    expect((await t.api(`/api/tokens/${created.id}`, { method: "DELETE" })).status).toBe(404);
  });
});
