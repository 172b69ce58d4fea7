import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, it } from "vitest";
import { PASSWORD, USER, deployScript, startHost, type TestHost } from "../support/host.ts";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/webjobs.js");

let t: TestHost;
beforeAll(async () => {
  t = await startHost();
  await deployScript(t, "triggered", "nightly", "run.sh", "echo nightly\n");
});
afterAll(() => t.stop());

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, WEBJOBS_URL: t.url, WEBJOBS_USERNAME: USER, WEBJOBS_PASSWORD: PASSWORD },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

// Each test is a chain of commands of its own: side by side.
describe.concurrent("webjobs next", () => {
  it("lists the next occurrences in a zone, offline, across a daylight-saving change", async ({ expect }) => {
    const result = await cli([
      "next",
      "0 30 2 * * *",
      "--time-zone",
      "Eastern Standard Time",
      "--from",
      "2026-03-07T00:00:00Z",
      "-n",
      "3",
      "--json",
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      time_zone: "America/New_York",
      occurrences: ["2026-03-07T07:30:00.000Z", "2026-03-08T07:00:00.000Z", "2026-03-09T06:30:00.000Z"],
    });
    const text = await cli(["next", "0 */15 * * * *", "--from", "2026-01-01T00:00:00Z", "-n", "2"]);
    expect(text.stdout).toContain("2026-01-01T00:15:00.000Z");
  });

  it("says what is wrong with a bad expression, zone or count, and exits 1", async ({ expect }) => {
    for (const [args, message] of [
      [["next", "0 0 * * *"], /6 fields/],
      [["next", "0 0 12 * * *", "--time-zone", "Mars/Olympus"], /Mars\/Olympus/],
      [["next", "* * * * * *", "-n", "0"], /--count/],
      [["next", "{not json"], /not valid JSON/],
    ] as const) {
      const result = await cli([...args]);
      expect(result.code, args.join(" ")).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});

describe.concurrent("webjobs schedule", () => {
  it("sets, shows, pauses, resumes and clears a job's schedule", async ({ expect }) => {
    const set = await cli(["schedule", "nightly", "0 0 3 * * *", "--time-zone", "Europe/Paris"]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/^nightly: .*time zone Europe\/Paris\nNext runs \(UTC\):\n {2}\d{4}-/);
    const settings = await (await t.api("/api/triggeredwebjobs/nightly/settings")).json();
    expect(settings).toEqual({ schedule: "0 0 3 * * *", time_zone: "Europe/Paris" });

    const recurrence = await cli([
      "schedule",
      "nightly",
      "--recurrence",
      '{"frequency":"Day","schedule":{"hours":[6],"minutes":[0]}}',
      "--json",
    ]);
    expect(recurrence.code, recurrence.stderr).toBe(0);
    expect(JSON.parse(recurrence.stdout)).toMatchObject({
      time_zone: "Europe/Paris",
      schedule_paused: false,
    });

    expect((await cli(["schedule", "nightly", "--pause"])).stdout).toContain("(paused)");
    expect((await cli(["schedule", "nightly", "--resume"])).stdout).not.toContain("(paused)");

    const bad = await cli(["schedule", "nightly", "0 0 0 L * *"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/schedule.*\(HTTP 400\)/);

    const cleared = await cli(["schedule", "nightly", "--clear"]);
    expect(cleared.stdout).toBe("Job 'nightly' has no schedule: it runs on demand only.\n");
    expect(await (await t.api("/api/triggeredwebjobs/nightly/settings")).json()).toEqual({});
  });
});
