import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, it } from "vitest";
import { PASSWORD, USER, startHost, type TestHost } from "../support/host.ts";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/webjobs.js");

let t: TestHost;
let folder: string;
beforeAll(async () => {
  t = await startHost();
  folder = path.join(mkdtempSync(path.join(os.tmpdir(), "webjobs-cli-")), "greeter");
  mkdirSync(folder);
  writeFileSync(
    path.join(folder, "run.sh"),
    'for a in "$@"; do echo "arg=[$a]"; done\necho oops >&2\nexit ${EXIT_WITH:-0}\n',
  );
  chmodSync(path.join(folder, "run.sh"), 0o755);
});
afterAll(() => t.stop());

function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, WEBJOBS_URL: t.url, WEBJOBS_USERNAME: USER, WEBJOBS_PASSWORD: PASSWORD, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

// Each test works on jobs of its own, mostly waiting for the command's process: side by side.
describe.concurrent("webjobs CLI", () => {
  it("deploys a folder, lists it, runs it with arguments and waits for the exit code", async ({ expect }) => {
    const deployed = await cli(["deploy", folder, "--name", "greeter"]);
    expect(deployed.stderr + deployed.stdout).toContain("Deployed triggered job 'greeter' (runs run.sh)");
    expect(deployed.code).toBe(0);

    const list = await cli(["list"]);
    expect(list.stdout).toMatch(/greeter\s+triggered\s+never run/);

    const run = await cli(["run", "greeter", "--wait", "--", "a", "b c", "it's", "x;y"]);
    expect(run.stdout).toBe("arg=[a]\narg=[b c]\narg=[it's]\narg=[x;y]\n");
    expect(run.stderr).toContain("oops");
    expect(run.code).toBe(0);

    const history = await cli(["history", "greeter", "--json"]);
    const { runs } = JSON.parse(history.stdout) as { runs: { status: string }[] };
    expect(runs[0].status).toBe("Success");

    const logs = await cli(["logs", "greeter", "--raw"]);
    expect(logs.stdout).toMatch(/INFO\] arg=\[b c\]/);
  });

  it("exits with the job's exit code", async ({ expect }) => {
    const zipFree = path.join(path.dirname(folder), "failer");
    mkdirSync(zipFree, { recursive: true });
    writeFileSync(path.join(zipFree, "run.sh"), "echo failing\nexit 3\n");
    expect((await cli(["deploy", zipFree])).code).toBe(0);
    const run = await cli(["run", "failer", "--wait"]);
    expect(run.stdout).toBe("failing\n");
    expect(run.code).toBe(3);
  });

  it("follows a log live with logs -f", async ({ expect }) => {
    const slow = path.join(path.dirname(folder), "slow.sh");
    writeFileSync(slow, "echo one; sleep 1; echo two\n");
    expect((await cli(["deploy", slow, "--name", "slow"])).code).toBe(0);
    expect((await cli(["run", "slow"])).code).toBe(0);
    const follow = await cli(["logs", "slow", "-f"]);
    expect(follow.stdout).toBe("one\ntwo\n");
  });

  it("creates a token that works", async ({ expect }) => {
    const created = await cli(["token", "create", "--label", "cli-test"]);
    const token = created.stdout.trim();
    expect(token).toMatch(/^wj_/);
    const list = await cli(["list", "--json"], {
      WEBJOBS_USERNAME: "",
      WEBJOBS_PASSWORD: "",
      WEBJOBS_TOKEN: token,
    });
    expect(list.code).toBe(0);
  });

  it("deletes a job", async ({ expect }) => {
    expect((await cli(["deploy", folder, "--name", "doomed"])).code).toBe(0);
    expect((await cli(["delete", "doomed"])).code).toBe(0);
    const list = await cli(["list", "--json"]);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((j) => j.name)).not.toContain("doomed");
  });

  it("says clearly when the host is unreachable, the credentials are wrong or the input is bad", async ({
    expect,
  }) => {
    const unreachable = await cli(["list"], { WEBJOBS_URL: "http://127.0.0.1:9" });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain("Cannot reach the webjobs host at http://127.0.0.1:9");
    const denied = await cli(["list"], { WEBJOBS_PASSWORD: "wrong" });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("Authentication failed");
    const badName = await cli(["deploy", folder, "--name", "bad.name"]);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/Invalid job name 'bad.name'.*\(HTTP 400\)/);
    const missing = await cli(["run", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No triggered job named 'nope'.*HTTP 404/);
  });
});

describe.concurrent("webjobs CLI with continuous jobs", () => {
  it("deploys, stops, starts and follows a continuous job", async ({ expect }) => {
    const worker = path.join(path.dirname(folder), "worker");
    mkdirSync(worker, { recursive: true });
    writeFileSync(path.join(worker, "run.sh"), 'echo "worker up"\nwhile true; do sleep 0.2; done\n');
    const deployed = await cli(["deploy", worker, "--type", "continuous"]);
    expect(deployed.stdout).toContain("Deployed continuous job 'worker'");
    expect((await cli(["stop", "worker"])).stdout).toContain("Continuous job 'worker': Stopped");
    expect((await cli(["start", "worker"])).stdout).toContain("Continuous job 'worker': Running");

    // `logs -f` follows until interrupted.
    const child = spawn(process.execPath, [bin, "logs", "worker", "-f"], {
      env: { ...process.env, WEBJOBS_URL: t.url, WEBJOBS_USERNAME: USER, WEBJOBS_PASSWORD: PASSWORD },
    });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const closed = new Promise((resolve) => child.on("close", resolve));
    for (let i = 0; i < 100 && !stdout.includes("worker up"); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(stdout).toContain("worker up");
    child.kill("SIGINT");
    await closed;
    expect((await cli(["delete", "worker", "--type", "continuous"])).code).toBe(0);
  });
});
