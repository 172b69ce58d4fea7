import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, it } from "vitest";
import { groupMembers } from "../../src/runs/proc-sampler.ts";
import {
  deployScript,
  deployZip,
  makeZip,
  runToEnd,
  startHost,
  waitFor,
  type TestHost,
} from "../support/host.ts";

const execFileAsync = promisify(execFile);

/** The JDK (javac, jar) builds the .jar fixture; java alone runs it. */
const hasJdk = ["javac", "jar"].every((tool) => {
  try {
    execFileSync(tool, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
});

let t: TestHost;
beforeAll(async () => {
  t = await startHost({ historySize: 3 });
});
afterAll(() => t.stop());

const logOf = (run: Record<string, unknown>) =>
  readFileSync(path.join(t.dataDir, `jobs/triggered/${run.job_name}/${run.id}/output_log.txt`), "utf8");

const LINE =
  /^\[\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d > [0-9a-f]{6}: (SYS INFO|SYS WARN|SYS ERR |INFO|WARN|ERR )\] /;

// Each test has a job of its own on the file's host (or a host of its own), and most wait for runs:
// side by side.
describe.concurrent("running triggered jobs", () => {
  it("runs with Kudu's env, arguments split without a shell, and records the result", async ({ expect }) => {
    const script = [
      'echo "name=$WEBJOBS_NAME type=$WEBJOBS_TYPE run=$WEBJOBS_RUN_ID"',
      'echo "args=$WEBJOBS_COMMAND_ARGUMENTS"',
      'echo "path=$WEBJOBS_PATH cwd=$(pwd)"',
      'echo "data=$WEBJOBS_DATA_PATH"',
      'echo "shutdown_dir_exists=$([ -d "$(dirname "$WEBJOBS_SHUTDOWN_FILE")" ] && echo yes) file=$([ -e "$WEBJOBS_SHUTDOWN_FILE" ] && echo yes || echo no)"',
      'for a in "$@"; do echo "arg=[$a]"; done',
      'echo "to stderr" >&2',
      "exit 3",
    ].join("\n");
    await deployScript(t, "triggered", "envjob", "run.sh", script);
    const started = await t.api(
      "/api/triggeredwebjobs/envjob/run?arguments=" + encodeURIComponent(`one "two words" '$HOME' ;rm`),
      {
        method: "POST",
        headers: { "user-agent": "test-agent/1.0" },
      },
    );
    expect(started.status).toBe(202);
    expect(await started.text()).toBe("");
    const location = started.headers.get("location")!;
    expect(location).toMatch(new RegExp(`^${t.url}/api/triggeredwebjobs/envjob/history/\\d{18}$`));
    const run = await waitFor(async () => {
      const r = (await (await t.api(new URL(location).pathname)).json()) as Record<string, unknown>;
      return r.status === "Failed" ? r : undefined;
    });
    expect(run).toMatchObject({
      name: run.id,
      job_name: "envjob",
      trigger: "External - test-agent/1.0",
      exit_code: 3,
      signal: null,
      reason: "exit code 3",
      error_url: null,
    });
    expect(run.duration).toMatch(/^\d\d:\d\d:\d\d\.\d{7}$/);
    expect(run.start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    expect(typeof run.cpu_time_ms === "number" || run.cpu_time_ms === null).toBe(true);
    const log = logOf(run);
    for (const line of log.trimEnd().split("\n")) expect(line).toMatch(LINE);
    expect(log).toContain(`INFO] name=envjob type=triggered run=${run.id}`);
    expect(log).toContain(`INFO] args=one "two words" '$HOME' ;rm`);
    expect(log).toContain("INFO] arg=[one]\n");
    expect(log).toContain("INFO] arg=[two words]\n");
    expect(log).toContain("INFO] arg=[$HOME]\n");
    // Shell operators are not interpreted, but like a shell's tokenizer they end a word.
    expect(log).toContain("INFO] arg=[;]\n");
    expect(log).toContain("INFO] arg=[rm]\n");
    expect(log).toContain("ERR ] to stderr");
    expect(log).toContain("shutdown_dir_exists=yes file=no");
    expect(log).toMatch(/SYS INFO\] Status changed to Running/);
    expect(log).toMatch(/SYS ERR \] Status changed to Failed \(exit code 3\)/);
    const cwd = /path=(\S+) cwd=(\S+)/.exec(log)!;
    expect(cwd[1]).toBe(cwd[2]);
    expect(log).toContain(`data=${path.join(t.dataDir, "jobs/triggered/envjob")}`);
    // The output_url serves the same log.
    const served = await t.api(new URL(run.output_url as string).pathname);
    expect(await served.text()).toBe(log);
  });

  it("runs python and node jobs", async ({ expect }) => {
    const busy = "import sys\ntotal = sum(range(4_000_000))\nprint('python', sys.argv[1:])\n";
    await deployScript(t, "triggered", "py", "run.py", busy);
    const py = await runToEnd(t, "py", "a b");
    expect(py.status).toBe("Success");
    expect(logOf(py)).toContain("INFO] python ['a', 'b']");
    // CPU time and peak memory are measured for the whole process group, short runs included.
    expect(py.cpu_time_ms).toBeGreaterThan(20);
    expect(py.peak_memory_bytes).toBeGreaterThan(1024 * 1024);
    await deployScript(
      t,
      "triggered",
      "js",
      "run.js",
      "console.log('node', process.argv.slice(2).join(','), process.version)",
    );
    const js = await runToEnd(t, "js", "x y");
    expect(js.status).toBe("Success");
    // `.js` jobs run on the Node that runs the host: the version the job printed is ours.
    expect(logOf(js)).toContain(`INFO] node x,y ${process.version}`);
  });

  it("runs TypeScript jobs with Node and a TypeScript loader", async ({ expect }) => {
    const ts =
      "const greet = (name: string): string => `typed ${name}`;\nconsole.log(greet(process.argv[2] ?? 'nobody'), process.version);\n";
    await deployScript(t, "triggered", "typed", "run.ts", ts);
    const run = await runToEnd(t, "typed", "world");
    expect(run.status).toBe("Success");
    expect(logOf(run)).toContain(`INFO] typed world ${process.version}`);
  });

  it.runIf(hasJdk)("runs .jar jobs with java -jar", async ({ expect }) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "webjobs-jar-"));
    writeFileSync(
      path.join(dir, "Main.java"),
      'public class Main { public static void main(String[] a) { System.out.println("jar says " + String.join(",", a)); } }',
    );
    writeFileSync(path.join(dir, "manifest.txt"), "Main-Class: Main\n");
    // Not execFileSync: the tests beside this one time their runs on this event loop.
    await execFileAsync("javac", ["Main.java"], { cwd: dir });
    await execFileAsync("jar", ["cfm", "app.jar", "manifest.txt", "Main.class"], { cwd: dir });
    const zip = await makeZip({ "app.jar": readFileSync(path.join(dir, "app.jar")) });
    await deployZip(t, "triggered", "javajob", zip);
    const run = await runToEnd(t, "javajob", "x y");
    expect(run.status).toBe("Success");
    expect(logOf(run)).toContain("INFO] jar says x,y");
    rmSync(dir, { recursive: true, force: true });
  });

  it("describes each job's run endpoint in Swagger 2.0, as Kudu does", async ({ expect }) => {
    await deployScript(t, "triggered", "described", "run.sh", "echo");
    const doc = (await (await t.api("/api/triggeredwebjobsswagger")).json()) as {
      swagger: string;
      paths: Record<string, unknown>;
    };
    expect(doc.swagger).toBe("2.0");
    expect(Object.keys(doc.paths)).toContain("/api/triggeredwebjobs/described/run");
  });

  it("answers 409 while a run is in progress, and 404 for an unknown job", async ({ expect }) => {
    await deployScript(t, "triggered", "slow", "run.sh", "sleep 1; echo done");
    const first = await t.api("/api/triggeredwebjobs/slow/run", { method: "POST" });
    expect(first.status).toBe(202);
    const second = await t.api("/api/triggeredwebjobs/slow/run", { method: "POST" });
    expect(second.status).toBe(409);
    expect(((await second.json()) as { Message: string }).Message).toBe(
      "Cannot start a new run since job is already running.",
    );
    await waitFor(async () => !t.host.runner.isRunning("slow"));
    expect((await t.api("/api/triggeredwebjobs/ghost/run", { method: "POST" })).status).toBe(404);
  });

  it("keeps the last N runs and their logs, newest first, with ETag", async ({ expect }) => {
    await deployScript(t, "triggered", "many", "run.sh", "echo run");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await runToEnd(t, "many")).id as string);
    const response = await t.api("/api/triggeredwebjobs/many/history");
    const { runs } = (await response.json()) as { runs: { id: string }[] };
    expect(runs.map((r) => r.id)).toEqual(ids.slice(2).reverse());
    expect((await t.api(`/api/triggeredwebjobs/many/history/${ids[0]}`)).status).toBe(404);
    expect((await t.api(`/vfs/data/jobs/triggered/many/${ids[0]}/output_log.txt`)).status).toBe(404);
    const etag = response.headers.get("etag")!;
    expect(
      (await t.api("/api/triggeredwebjobs/many/history", { headers: { "if-none-match": etag } })).status,
    ).toBe(304);
    const one = await t.api(`/api/triggeredwebjobs/many/history/${ids[4]}`);
    expect(
      (
        await t.api(`/api/triggeredwebjobs/many/history/${ids[4]}`, {
          headers: { "if-none-match": one.headers.get("etag")! },
        })
      ).status,
    ).toBe(304);
    const job = (await (await t.api("/api/triggeredwebjobs/many")).json()) as { latest_run: { id: string } };
    expect(job.latest_run.id).toBe(ids[4]);
  });

  it("streams the log live over Server-Sent Events while the run goes on", async ({ expect }) => {
    await deployScript(
      t,
      "triggered",
      "live",
      "run.sh",
      "echo first; sleep 1; echo second; sleep 1; echo third",
    );
    const started = await t.api("/api/triggeredwebjobs/live/run", { method: "POST" });
    const runPath = new URL(started.headers.get("location")!).pathname;
    const response = await t.api(`${runPath}/log`, { headers: { accept: "text/event-stream" } });
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const seen: number[] = [];
    const t0 = Date.now();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      for (const word of ["first", "second", "third"])
        if (text.includes(`INFO] ${word}`) && seen.length < ["first", "second", "third"].indexOf(word) + 1)
          seen.push(Date.now() - t0);
    }
    expect(text).toMatch(/data: \[.*INFO\] first/);
    expect(text).toMatch(/data: \[.*INFO\] third/);
    expect(text).toMatch(/event: end/);
    // "first" arrived well before the run ended: it was live, not after the fact.
    expect(seen[0]).toBeLessThan(seen[2] - 1000);
  });
});

describe.concurrent("limits and cancel", () => {
  it("kills a run that is idle past the idle timeout and says why", async ({ expect }) => {
    const zip = await makeZip({
      "run.sh": "echo start; sleep 30",
      "settings.job": JSON.stringify({ idle_timeout: 1 }),
    });
    await deployZip(t, "triggered", "idle", zip);
    const run = await runToEnd(t, "idle");
    expect(run.status).toBe("Aborted");
    expect(run.reason).toMatch(/idle timeout/);
    expect(logOf(run)).toMatch(/Status changed to Aborted \(idle timeout/);
  });

  it("aborts a run past its time limit", async ({ expect }) => {
    const zip = await makeZip({
      "run.sh": "while true; do echo tick; sleep 0.2; done",
      "settings.job": JSON.stringify({ time_limit: 1, stopping_wait_time: 1 }),
    });
    await deployZip(t, "triggered", "limited", zip);
    const run = await runToEnd(t, "limited");
    expect(run.status).toBe("Aborted");
    expect(run.reason).toMatch(/time limit of 1 s/);
  });

  it("cancels a run: the job sees the shutdown file, then the group is killed after the grace time", async ({
    expect,
  }) => {
    const script = [
      "trap '' TERM",
      'echo $$ > "$WEBJOBS_DATA_PATH/leader.pid"',
      "sleep 1000 &",
      'while [ ! -e "$WEBJOBS_SHUTDOWN_FILE" ]; do sleep 0.1; done',
      "echo saw shutdown file",
      "sleep 1000",
    ].join("\n");
    await deployZip(
      t,
      "triggered",
      "cancelme",
      await makeZip({ "run.sh": script, "settings.job": '{"stopping_wait_time": 1}' }),
    );
    const started = await t.api("/api/triggeredwebjobs/cancelme/run", { method: "POST" });
    const runPath = new URL(started.headers.get("location")!).pathname;
    // The pid file is written once the trap is set: from then on the job is ready for the signal.
    const pidFile = path.join(t.dataDir, "jobs/triggered/cancelme/leader.pid");
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "");
    const cancelled = await t.api(`${runPath}/cancel`, { method: "POST" });
    expect(cancelled.status).toBe(200);
    const run = (await cancelled.json()) as Record<string, unknown>;
    expect(run.status).toBe("Aborted");
    expect(run.reason).toBe("cancelled on request");
    expect(logOf(run)).toContain("saw shutdown file");
    const leader = Number(readFileSync(path.join(t.dataDir, "jobs/triggered/cancelme/leader.pid"), "utf8"));
    expect(groupMembers(leader)).toEqual([]);
    expect((await t.api(`${runPath}/cancel`, { method: "POST" })).status).toBe(409);
  });

  it("deleting a job stops its run first: no process is left", async ({ expect }) => {
    const script = 'echo $$ > "$WEBJOBS_DATA_PATH/../deleted-leader.pid"\nsleep 1000 &\nsleep 1000\n';
    await deployScript(t, "triggered", "deleteme", "run.sh", script);
    await t.api("/api/triggeredwebjobs/deleteme/run", { method: "POST" });
    const pidFile = path.join(t.dataDir, "jobs/triggered/deleted-leader.pid");
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "");
    const leader = Number(readFileSync(pidFile, "utf8"));
    expect(groupMembers(leader).length).toBeGreaterThan(0);
    expect((await t.api("/api/triggeredwebjobs/deleteme", { method: "DELETE" })).status).toBe(200);
    expect(groupMembers(leader)).toEqual([]);
    expect((await t.api("/api/triggeredwebjobs/deleteme")).status).toBe(404);
  });

  it("caps a run's log with a marker line", async ({ expect }) => {
    const small = await startHost({ runLogMaxBytes: 2000 });
    try {
      await deployScript(
        small,
        "triggered",
        "chatty",
        "run.sh",
        "for i in $(seq 1 500); do echo line $i; done",
      );
      const run = await runToEnd(small, "chatty");
      expect(run.status).toBe("Success");
      const log = readFileSync(
        path.join(small.dataDir, `jobs/triggered/chatty/${run.id}/output_log.txt`),
        "utf8",
      );
      expect(log.length).toBeLessThan(2600);
      expect(log).toMatch(/Log truncated/);
      expect(log).not.toContain("line 500");
    } finally {
      await small.stop();
    }
  });

  it("refuses runs with 409 when WebJobs are stopped", async ({ expect }) => {
    const stopped = await startHost({ stopped: true });
    try {
      await deployScript(stopped, "triggered", "any", "run.sh", "echo");
      const response = await stopped.api("/api/triggeredwebjobs/any/run", { method: "POST" });
      expect(response.status).toBe(409);
      expect(((await response.json()) as { error: string }).error).toMatch(/WEBJOBS_STOPPED/);
    } finally {
      await stopped.stop();
    }
  });
});
