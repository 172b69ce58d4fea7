import { statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployZip, makeZip, startHost, waitFor, type TestHost } from "../support/host.ts";

// A job that writes 1 GiB as fast as the machine can: the host reads all of it, keeps 1 MB of log,
// records the run's end and keeps answering meanwhile.

const GIB = 1024 * 1024 * 1024;
let t: TestHost;
beforeAll(async () => {
  t = await startHost({ runLogMaxBytes: 1024 * 1024 });
});
afterAll(() => t.stop());

describe("a job writing 1 GiB", () => {
  it(
    "gets a capped log and a recorded end, and the host stays responsive",
    { timeout: 120_000 },
    async () => {
      // One endless line (no newline at all) is the worst case for the line splitter.
      const zip = await makeZip({ "run.sh": `head -c ${GIB} /dev/zero | tr '\\0' x\necho done >&2\n` });
      expect((await deployZip(t, "triggered", "flood", zip)).status).toBe(200);
      const started = await t.api("/api/triggeredwebjobs/flood/run", { method: "POST" });
      expect(started.status).toBe(202);
      const runPath = new URL(started.headers.get("location")!).pathname;

      const latencies: number[] = [];
      const run = await waitFor(
        async () => {
          const before = Date.now();
          const json = (await (await t.api(runPath)).json()) as Record<string, unknown>;
          expect((await fetch(`${t.url}/api/health`)).status).toBe(200);
          latencies.push(Date.now() - before);
          return json.status === "Success" ? json : undefined;
        },
        90_000,
        "the flood to end",
      );
      expect(run.status).toBe("Success");
      const log = path.join(t.dataDir, "jobs/triggered/flood", run.id as string, "output_log.txt");
      expect(statSync(log).size).toBeLessThanOrEqual(1024 * 1024 + 1024);
      const text = await (await t.api(`${runPath}/log`)).text();
      expect(text).toMatch(/Log truncated: the output passed the 1 MB limit/);
      expect(text).toMatch(/Status changed to Success/);
      // Responsive: the slowest answer while 1 GiB went through stayed well under a second.
      latencies.sort((a, b) => a - b);
      expect(latencies.at(-1)).toBeLessThan(1000);
      console.log(
        `1 GiB in ${run.duration}; ${latencies.length} polls, median ${latencies[latencies.length >> 1]} ms, max ${latencies.at(-1)} ms`,
      );
    },
  );
});
