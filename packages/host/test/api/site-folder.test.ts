import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runToEnd, startHost, waitFor, type TestHost } from "../support/host.ts";

let t: TestHost;
beforeAll(async () => {
  t = await startHost({ watchDebounceMs: 300 });
});
afterAll(() => t.stop());

const site = (type: string, name: string) => path.join(t.dataDir, "site/App_Data/jobs", type, name);

function folder(files: Record<string, string>): string {
  const dir = path.join(os.tmpdir(), `webjobs-folder-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

const getJob = async (type: string, name: string) => {
  const response = await t.api(`/api/${type}webjobs/${name}`);
  return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
};

describe("jobs copied into the site folder", () => {
  it("installs a triggered job copied in, redeploys on an edit and deletes on removal", async () => {
    cpSync(folder({ "run.sh": "echo copied in\n" }), site("triggered", "copied"), { recursive: true });
    await waitFor(() => getJob("triggered", "copied"), 10_000, "the copied job");
    const run = await runToEnd(t, "copied");
    expect(run.status).toBe("Success");

    writeFileSync(path.join(site("triggered", "copied"), "run.sh"), "echo edited\nexit 4\n");
    await waitFor(
      async () => (await runToEnd(t, "copied")).exit_code === 4,
      10_000,
      "the edit to be installed",
    );

    rmSync(site("triggered", "copied"), { recursive: true });
    await waitFor(
      async () => (await getJob("triggered", "copied")) === undefined,
      10_000,
      "the job to be removed",
    );
  });

  it("redeploys on edits deep inside, in new folders and after its folder was swapped by a deploy", async () => {
    const job = site("triggered", "deep");
    const output = async () => {
      const run = await runToEnd(t, "deep");
      return (await (await t.api(new URL(run.output_url as string).pathname)).text()).trim();
    };
    const shows = (value: string) => async () =>
      (await getJob("triggered", "deep")) && (await output()).includes(value);
    cpSync(folder({ "run.sh": "cat lib/a/b/c/value.txt\n" }), job, { recursive: true });
    mkdirSync(path.join(job, "lib/a/b/c"), { recursive: true });
    writeFileSync(path.join(job, "lib/a/b/c/value.txt"), "value-1\n");
    await waitFor(shows("value-1"), 10_000, "the copied job");

    // A file edited four folders down.
    writeFileSync(path.join(job, "lib/a/b/c/value.txt"), "value-2\n");
    await waitFor(shows("value-2"), 10_000, "the deep edit");

    // Folders made after the job was installed; once that is installed, a file written in them.
    mkdirSync(path.join(job, "lib/new/inner"), { recursive: true });
    writeFileSync(path.join(job, "run.sh"), "cat lib/new/inner/value.txt 2>/dev/null || echo value-none\n");
    await waitFor(shows("value-none"), 10_000, "the new folders");
    writeFileSync(path.join(job, "lib/new/inner/value.txt"), "value-3\n");
    await waitFor(shows("value-3"), 10_000, "the file in the new folder");

    // The whole folder swapped by a settings update (the host replaces it by renames): edits in
    // the sub-folders of the new folder are seen too.
    const settings = await t.api("/api/triggeredwebjobs/deep/settings", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ is_in_place: false }),
    });
    expect(settings.status).toBe(200);
    writeFileSync(path.join(job, "lib/new/inner/value.txt"), "value-4\n");
    await waitFor(shows("value-4"), 10_000, "the edit after the swap");
  });

  it("starts a continuous job copied in", async () => {
    cpSync(
      folder({ "run.sh": "echo alive\nwhile true; do sleep 0.2; done\n" }),
      site("continuous", "dropped"),
      { recursive: true },
    );
    const job = await waitFor(
      async () => {
        const j = await getJob("continuous", "dropped");
        return j?.status === "Running" ? j : undefined;
      },
      10_000,
      "the copied continuous job to run",
    );
    expect(job.type).toBe("continuous");
    await t.api("/api/continuouswebjobs/dropped", { method: "DELETE" });
  });

  it("leaves a folder without a runnable script out of the lists", async () => {
    cpSync(folder({ "notes.txt": "nothing to run" }), site("triggered", "notajob"), { recursive: true });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(await getJob("triggered", "notajob")).toBeUndefined();
    expect(
      ((await (await t.api("/api/webjobs")).json()) as { name: string }[]).map((j) => j.name),
    ).not.toContain("notajob");
  });
});

describe("leftovers of a crash", () => {
  it("are cleared at start: upload staging and half-swapped site folders", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "webjobs-leftovers-"));
    const staging = path.join(dir, "tmp/install-abc/content");
    const halfSwap = path.join(dir, "site/App_Data/jobs/triggered/job.123-456.tmp-old");
    // Where swap halves are made now: beside the watched folders.
    const besideHalf = path.join(dir, "site/App_Data/jobs/.triggered.job.0a1b2c3d4e5f.tmp-new");
    mkdirSync(staging, { recursive: true });
    for (const half of [halfSwap, besideHalf]) {
      mkdirSync(half, { recursive: true });
      writeFileSync(path.join(half, "run.sh"), "echo old");
    }
    const host = await startHost({}, dir);
    try {
      expect(existsSync(staging)).toBe(false);
      expect(existsSync(halfSwap)).toBe(false);
      expect(existsSync(besideHalf)).toBe(false);
      expect(await (await host.api("/api/webjobs")).json()).toEqual([]);
    } finally {
      await host.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("an existing site (--site)", () => {
  it("installs the jobs already in its App_Data/jobs folder at start", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "webjobs-site-"));
    const app = path.join(dir, "my-app");
    mkdirSync(path.join(app, "App_Data/jobs/triggered/existing"), { recursive: true });
    writeFileSync(path.join(app, "App_Data/jobs/triggered/existing/run.py"), "print('already here')\n");
    const host = await startHost({ siteDir: app }, path.join(dir, "data"));
    try {
      const job = (await (await host.api("/api/triggeredwebjobs/existing")).json()) as {
        run_command: string;
      };
      expect(job.run_command).toBe("run.py");
      expect((await runToEnd(host, "existing")).status).toBe("Success");
    } finally {
      await host.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
