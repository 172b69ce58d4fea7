import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, USER, deployScript, startHost, type TestHost } from "../support/host.ts";

let t: TestHost;
// The built command, as users run it (and as cli.test.ts does): loading the sources through tsx
// took most of each call's second.
const bin = fileURLToPath(new URL("../../bin/webjobs.js", import.meta.url));

/** The CLI, as an admin unless `env` says otherwise. */
function webjobs(args: string[], env: Record<string, string> = {}, input?: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      {
        env: {
          ...process.env,
          WEBJOBS_URL: t.url,
          WEBJOBS_USERNAME: USER,
          WEBJOBS_PASSWORD: PASSWORD,
          ...env,
        },
        timeout: 20_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? "");
  });
}

beforeAll(async () => {
  t = await startHost();
  await deployScript(t, "triggered", "ci-job", "run.sh", "echo hi\n");
});
afterAll(() => t?.stop());

describe("webjobs user, token, appsetting, audit", () => {
  it("manages users and a job-limited token from the command line", async () => {
    const added = await webjobs(["user", "add", "dev", "--role", "reader"]);
    expect(added.code, added.stderr).toBe(0);
    const password = added.stdout.trim();
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect((await webjobs(["user", "set-role", "dev", "operator"])).code).toBe(0);
    const list = await webjobs(["user", "list", "--json"]);
    expect(JSON.parse(list.stdout)).toContainEqual(
      expect.objectContaining({ username: "dev", role: "operator" }),
    );
    // The new user can work with its generated password.
    const asDev = await webjobs(["list"], { WEBJOBS_USERNAME: "dev", WEBJOBS_PASSWORD: password });
    expect(asDev.code, asDev.stderr).toBe(0);
    const denied = await webjobs(["user", "list"], { WEBJOBS_USERNAME: "dev", WEBJOBS_PASSWORD: password });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/needs the admin role; 'dev' is an operator\. \(HTTP 403\)/);

    const token = await webjobs([
      "token",
      "create",
      "--label",
      "ci",
      "--role",
      "operator",
      "--jobs",
      "ci-job",
    ]);
    expect(token.code, token.stderr).toBe(0);
    const secret = token.stdout.trim();
    const run = await webjobs(["run", "ci-job", "--wait"], { WEBJOBS_TOKEN: secret });
    expect(run.code, run.stderr).toBe(0);
    const other = await webjobs(["list"], { WEBJOBS_TOKEN: secret });
    expect(other.stderr).toMatch(/limited to the job ci-job/);
    const tokens = await webjobs(["token", "list", "--json"]);
    expect(JSON.parse(tokens.stdout)).toContainEqual(
      expect.objectContaining({ label: "ci", jobs: ["ci-job"] }),
    );

    expect((await webjobs(["user", "remove", "dev"])).code).toBe(0);
  }, 60_000);

  it("sets app settings (a secret from stdin) and reads the audit trail", async () => {
    const set = await webjobs(
      ["appsetting", "set", "API_KEY", "--secret", "--value-stdin", "--job", "ci-job"],
      {},
      "hunter22\n",
    );
    expect(set.code, set.stderr).toBe(0);
    const list = await webjobs(["appsetting", "list", "--job", "ci-job"]);
    expect(list.stdout).toBe("API_KEY=*** (secret)\n");
    const audit = await webjobs(["audit", "--action", "app_setting_set", "--json"]);
    expect(JSON.parse(audit.stdout).entries[0]).toMatchObject({
      actor: USER,
      target: "ci-job/API_KEY",
      detail: "secret",
    });
  }, 30_000);
});
