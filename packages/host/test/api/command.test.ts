import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config.ts";
import { AUTH, startHost, waitFor, type TestHost } from "../support/host.ts";

/**
 * Kudu's remote shell, POST /api/command, against real hosts: one started as every host is (the
 * route is turned off) and one with WEBJOBS_ENABLE_COMMAND=1 and a 2-second time limit.
 */
let off: TestHost;
let on: TestHost;
/** Turned on with the default time limit (10 min): what stops a command there is not the limit. */
let patient: TestHost;

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

interface CommandAnswer {
  Output: string;
  Error: string;
  ExitCode: number;
  TimedOut: boolean;
  Truncated: boolean;
}

/** Whether a process runs (a zombie waiting for its reaper has ended: it does not count). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

const command = (t: TestHost, body: unknown, headers: Record<string, string> = {}) =>
  t.api("/api/command", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  [off, on, patient] = await Promise.all([
    startHost(),
    startHost({ enableCommand: true, commandTimeoutSec: 2, commandMaxOutputBytes: 64 * 1024 }),
    startHost({ enableCommand: true }),
  ]);
  for (const t of [off, on]) {
    await t.host.credentials.addUser("reader", "reader-password", "reader");
    await t.host.credentials.addUser("operator", "operator-password", "operator");
  }
}, 30_000);

afterAll(async () => {
  await Promise.all([off?.stop(), on?.stop(), patient?.stop()]);
});

describe("POST /api/command", () => {
  it("is off unless WEBJOBS_ENABLE_COMMAND is set, and says how to turn it on", async () => {
    expect(resolveConfig({}, {}).enableCommand).toBe(false);
    expect(resolveConfig({}, { WEBJOBS_ENABLE_COMMAND: "1" }).enableCommand).toBe(true);
    const marker = path.join(off.host.paths.siteDir, "ran");
    const refused = await command(off, { command: `touch ${marker}` });
    expect(refused.status).toBe(404);
    const body = (await refused.json()) as { error: string; code: string };
    expect(body.code).toBe("command_disabled");
    expect(body.error).toContain("WEBJOBS_ENABLE_COMMAND=1");
    expect(existsSync(marker)).toBe(false);
    // Below admin, the role is refused before anything else is said.
    const reader = await command(
      off,
      { command: "true" },
      { authorization: basic("reader", "reader-password") },
    );
    expect(reader.status).toBe(403);
  });

  it("runs a command with sh -c in the site folder for an admin: output, errors, exit code", async () => {
    writeFileSync(path.join(on.host.paths.siteDir, "hello.txt"), "hello from the site\n");
    const answer = await command(on, {
      command: 'cat hello.txt; echo "to stderr" >&2; pwd; exit 3',
      dir: "site\\wwwroot",
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
    const result = (await answer.json()) as CommandAnswer;
    expect(result.Output).toBe(`hello from the site\n${on.host.paths.siteDir}\n`);
    expect(result.Error).toBe("to stderr\n");
    expect(result.ExitCode).toBe(3);
    expect(result.TimedOut).toBe(false);

    // Without dir: the site folder; App Service's absolute form and the job data root work too.
    const where = async (dir?: string) =>
      ((await (await command(on, { command: "pwd", dir })).json()) as CommandAnswer).Output.trim();
    expect(await where()).toBe(on.host.paths.siteDir);
    expect(await where("/home/site/wwwroot")).toBe(on.host.paths.siteDir);
    mkdirSync(on.host.paths.jobsData, { recursive: true });
    expect(await where("data/jobs")).toBe(on.host.paths.jobsData);
    // The host's own secrets are not in the command's environment.
    const env = (await (await command(on, { command: "env" })).json()) as CommandAnswer;
    expect(env.Output).not.toMatch(/WEBJOBS_PASSWORD/);
  });

  it("refuses readers and operators (403), and bodies and folders it cannot use (400)", async () => {
    const marker = path.join(on.host.paths.siteDir, "by-someone-else");
    for (const who of ["reader", "operator"]) {
      const answer = await command(
        on,
        { command: `touch ${marker}` },
        { authorization: basic(who, `${who}-password`) },
      );
      expect(answer.status, who).toBe(403);
      expect(((await answer.json()) as { error: string }).error).toContain("needs the admin role");
    }
    expect(existsSync(marker)).toBe(false);

    for (const dir of [
      "..",
      "site/wwwroot/../../..",
      "/etc",
      "site/wwwroot/%2e%2e",
      "site/wwwroot/missing",
    ]) {
      const answer = await command(on, { command: `touch ${marker}`, dir });
      expect(answer.status, dir).toBe(400);
      expect(((await answer.json()) as { error: string }).error, dir).toMatch(/^dir '/);
    }
    for (const body of [{}, { command: "" }, { command: 3 }, { command: "true", directory: "x" }]) {
      expect((await command(on, body)).status, JSON.stringify(body)).toBe(400);
    }
    const notJson = await on.api("/api/command", { method: "POST", body: "ls" });
    expect(notJson.status).toBe(400);
    expect(existsSync(marker)).toBe(false);
  });

  it("is refused to a browser page of another site (the cross-site guard)", async () => {
    const answer = await command(on, { command: "true" }, { origin: "https://evil.example" });
    expect(answer.status).toBe(403);
    expect(((await answer.json()) as { code: string }).code).toBe("cross_site_request");
  });

  it("kills a command that outlives the time limit, with every process it started", async () => {
    const pidFile = path.join(on.host.paths.siteDir, "background.pid");
    const started = Date.now();
    const answer = await command(on, { command: `echo started; sleep 60 & echo $! > ${pidFile}; wait` });
    expect(answer.status).toBe(200);
    const result = (await answer.json()) as CommandAnswer;
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.TimedOut).toBe(true);
    expect(result.ExitCode).toBe(-1);
    expect(result.Output).toBe("started\n");
    expect(result.Error).toContain("killed after 2 s");
    const pid = Number(readFileSync(pidFile, "utf8"));
    await waitFor(() => !alive(pid), 5000, "the background sleep to be gone");
  });

  it("stops a command whose client has left, and one still running when the host stops", async () => {
    /**
     * Starts `sleep 600` in the background of a command, over a connection of its own (node:http,
     * no pool), and answers the sleep's pid, the request (to leave) and how it ended.
     */
    const startSleeper = async () => {
      const pidFile = path.join(patient.host.paths.siteDir, `sleeper-${Date.now()}.pid`);
      const body = JSON.stringify({ command: `sleep 600 & echo $! > ${pidFile}; wait` });
      const request = http.request(`${patient.url}/api/command`, {
        method: "POST",
        agent: false,
        headers: {
          authorization: AUTH,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      });
      const answer = new Promise<number | Error>((resolve) => {
        request.once("response", (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.once("error", resolve);
      });
      request.end(body);
      const pid = await waitFor(
        () => existsSync(pidFile) && Number(readFileSync(pidFile, "utf8").trim()),
        10_000,
        "the sleeper's pid",
      );
      expect(alive(pid)).toBe(true);
      return { pid, request, answer };
    };

    const left = await startSleeper();
    left.request.destroy();
    expect(await left.answer).toBeInstanceOf(Error);
    await waitFor(() => !alive(left.pid), 10_000, "the command of a client that left to be stopped");

    const atStop = await startSleeper();
    await patient.stop();
    expect(alive(atStop.pid)).toBe(false);
    expect(await atStop.answer).toBeInstanceOf(Error);
  });

  it("answers when the command ends even if a process that left its group holds the output", async () => {
    const pidFile = path.join(on.host.paths.siteDir, "escaped.pid");
    const answer = await command(on, { command: `setsid sleep 30 & echo $! > ${pidFile}; echo done` });
    const result = (await answer.json()) as CommandAnswer;
    expect(result).toMatchObject({ Output: "done\n", ExitCode: 0, TimedOut: false });
    process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
  });

  it("stops a command whose output passes the cap", async () => {
    const answer = await command(on, { command: "yes" });
    const result = (await answer.json()) as CommandAnswer;
    expect(result.Truncated).toBe(true);
    expect(result.TimedOut).toBe(false);
    expect(Buffer.byteLength(result.Output)).toBe(64 * 1024);
    expect(result.Error).toContain("WEBJOBS_COMMAND_MAX_OUTPUT_BYTES");
  });

  it("writes every call to the audit trail, refused ones included", async () => {
    const trail = (await (await on.api("/api/audit?action=command&limit=100")).json()) as {
      entries: { actor: string; status: number; target: string | null; detail: string | null }[];
    };
    expect(trail.entries).toContainEqual(
      expect.objectContaining({
        actor: "admin",
        status: 200,
        target: "site\\wwwroot",
        detail: expect.stringMatching(/^exit 3: cat hello\.txt/),
      }),
    );
    expect(trail.entries).toContainEqual(expect.objectContaining({ actor: "reader", status: 403 }));
    expect(trail.entries).toContainEqual(
      expect.objectContaining({ actor: "admin", status: 400, target: "/etc" }),
    );
    const offTrail = (await (await off.api("/api/audit?action=command")).json()) as {
      entries: { status: number }[];
    };
    expect(offTrail.entries).toContainEqual(expect.objectContaining({ status: 404 }));
  });
});

describe.runIf(process.getuid?.() === 0)("POST /api/command with WEBJOBS_RUN_AS", () => {
  let t: TestHost;
  beforeAll(async () => {
    t = await startHost({ enableCommand: true, runAs: "nobody" });
  }, 30_000);
  afterAll(() => t?.stop());

  it("runs the command as that user, as jobs run", async () => {
    const answer = await command(t, { command: 'echo "$(id -u) $HOME"' });
    const result = (await answer.json()) as CommandAnswer;
    expect(result).toMatchObject({ Output: "65534 /nonexistent\n", ExitCode: 0 });
  });
});
