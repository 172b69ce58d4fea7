import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deployScript,
  makeZip,
  PASSWORD,
  runToEnd,
  startHost,
  waitFor,
  type TestHost,
} from "../support/host.ts";

let t: TestHost;
beforeAll(async () => {
  t = await startHost();
});
afterAll(async () => t?.stop());

/** Reads a streaming body as it comes, into `text`. */
function follow(res: Response) {
  const state = { text: "" };
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const done = (async () => {
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (chunk.done) return;
      state.text += decoder.decode(chunk.value, { stream: true });
    }
  })();
  return { state, done };
}

describe("log stream", () => {
  it("answers at once with a welcome line, then jobs' output and deployments live", async () => {
    for (const path of ["/logstream", "/api/logstream", "/api/logstream/application"]) {
      const abort = new AbortController();
      const res = await t.api(path, { signal: abort.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      const { state, done } = follow(res);
      await waitFor(() => state.text.includes("Welcome, you are now connected to log-streaming service."));
      if (path === "/logstream") {
        expect((await deployScript(t, "triggered", "talker", "run.sh", "echo said-hello-$1\n")).status).toBe(
          200,
        );
        await runToEnd(t, "talker", "there");
        await waitFor(() => state.text.includes("said-hello-there"), 10_000, "the job's line in the stream");
        const zip = await makeZip({ "index.html": "x" });
        await t.api("/api/zipdeploy", { method: "POST", body: new Uint8Array(zip) });
        await waitFor(() => state.text.includes("[deployment]  Replaced the site folder."));
      }
      abort.abort();
      await done;
    }
  });
});

describe("settings and Kudu's older job routes", () => {
  it("answers the host's non-secret settings", async () => {
    const res = await t.api("/api/settings");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const settings = (await res.json()) as Record<string, string>;
    expect(settings.deployment_branch).toBe("main");
    expect(settings.WEBJOBS_HISTORY_SIZE).toBe("30");
    expect(JSON.stringify(settings)).not.toContain(PASSWORD);
    expect(Object.keys(settings).filter((k) => /PASSWORD|USERNAME|SECRET|KEY/.test(k))).toEqual([]);
  });

  it("serves every job operation under the old paths", async () => {
    expect((await deployScript(t, "triggered", "old", "run.sh", "echo old\n")).status).toBe(200);
    for (const path of ["/api/triggeredjobs", "/jobs/triggered", "/api/jobs/triggered"]) {
      const list = (await (await t.api(path)).json()) as { name: string }[];
      expect(
        list.map((j) => j.name),
        path,
      ).toContain("old");
      expect((await t.api(`${path}/old`)).status).toBe(200);
    }
    for (const path of ["/api/jobs", "/jobs"]) {
      const list = (await (await t.api(path)).json()) as { name: string }[];
      expect(
        list.map((j) => j.name),
        path,
      ).toContain("old");
    }
    const run = await t.api("/api/triggeredjobs/old/run", { method: "POST" });
    expect(run.status).toBe(202);
    expect(run.headers.get("location")).toContain("/api/triggeredwebjobs/old/history/");
    expect((await t.api("/jobs/continuous")).status).toBe(200);
    expect((await t.api("/api/continuousjobs")).status).toBe(200);
    expect((await t.api("/jobs/triggered/old", { method: "DELETE" })).status).toBe(200);
    expect((await t.api("/api/triggeredwebjobs/old")).status).toBe(404);
  });
});
