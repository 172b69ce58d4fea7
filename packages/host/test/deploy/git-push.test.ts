import { execFile } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, startHost, USER, waitFor, type TestHost } from "../support/host.ts";

const exec = promisify(execFile);
let t: TestHost;
let work: string;

const git = (...args: string[]) =>
  exec("git", args, {
    cwd: work,
    env: {
      ...process.env,
      GIT_TERMINAL_PROMPT: "0",
      GIT_AUTHOR_NAME: "Ada",
      GIT_AUTHOR_EMAIL: "ada@example.com",
      GIT_COMMITTER_NAME: "Ada",
      GIT_COMMITTER_EMAIL: "ada@example.com",
      GIT_CONFIG_NOSYSTEM: "1",
      HOME: work,
    },
  });

beforeAll(async () => {
  t = await startHost();
  work = await mkdtemp(path.join(os.tmpdir(), "webjobs-git-"));
  await git("init", "--quiet", "--initial-branch=main");
});
afterAll(async () => {
  await t?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const remote = (password = PASSWORD) => `${t.url.replace("http://", `http://${USER}:${password}@`)}/site.git`;

describe("git push", () => {
  it("deploys the pushed main branch like a zip deploy, with the commit's id and message", async () => {
    await mkdir(path.join(work, "App_Data/jobs/triggered/fromgit"), { recursive: true });
    await writeFile(path.join(work, "App_Data/jobs/triggered/fromgit/run.sh"), "echo from git\n");
    await writeFile(path.join(work, "index.html"), "hello");
    await git("add", ".");
    await git("commit", "--quiet", "-m", "First deploy from git");
    const { stdout: sha } = await git("rev-parse", "HEAD");
    const id = sha.trim();
    await git("push", "--quiet", remote(), "main");

    const deployment = await waitFor(async () => {
      const res = await t.api(`/api/deployments/${id}`);
      const body = res.status === 200 ? ((await res.json()) as { status: number; complete: boolean }) : null;
      return body?.complete ? body : undefined;
    });
    expect(deployment).toMatchObject({
      id,
      status: 4,
      message: "First deploy from git",
      author: "Ada",
      deployer: "Git-Push",
    });
    expect((await t.api("/api/triggeredwebjobs/fromgit")).status).toBe(200);
    expect(existsSync(path.join(t.host.paths.siteDir, "index.html"))).toBe(true);
  });

  it("stores another branch without deploying it, and refuses bad credentials", async () => {
    await git("checkout", "--quiet", "-b", "feature");
    await writeFile(path.join(work, "feature.txt"), "f");
    await git("add", ".");
    await git("commit", "--quiet", "-m", "A feature");
    const id = (await git("rev-parse", "HEAD")).stdout.trim();
    await git("push", "--quiet", remote(), "feature");
    const { stdout } = await git("ls-remote", remote());
    expect(stdout).toContain(`${id}\trefs/heads/feature`);
    expect((await t.api(`/api/deployments/${id}`)).status).toBe(404);
    expect(existsSync(path.join(t.host.paths.siteDir, "feature.txt"))).toBe(false);

    await expect(git("push", "--quiet", remote("wrong"), "feature:main")).rejects.toThrow(
      /Authentication failed|401/,
    );
  });
});
