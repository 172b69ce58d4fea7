import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "./support/azurite.ts";
import { runJob } from "./support/job.ts";

const run = promisify(execFile);
const sdk = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const root = path.resolve(sdk, "..", "..");

describe("npm run tarball: the SDK as users install it", () => {
  let azurite: Azurite;
  let dir: string;

  beforeAll(async () => {
    azurite = await startAzurite();
    dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-tarball-"));
  });

  afterAll(async () => {
    await azurite?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("packs the SDK with @webjobs/schedule inside, and a job importing 'webjobs-sdk' from it runs", async () => {
    const { stdout } = await run(process.execPath, [path.join(sdk, "scripts", "tarball.ts"), "--out", dir]);
    const tarball = stdout.trim().split("\n").at(-1)!;
    expect(path.basename(tarball)).toMatch(/^webjobs-sdk-\d+\.\d+\.\d+\.tgz$/);

    // What `npm install <tarball>` lays out, without the registry: the package unpacked, its
    // dependencies linked from this repository's node_modules (the tests stay on loopback).
    const installed = path.join(dir, "job", "node_modules", "webjobs-sdk");
    await mkdir(installed, { recursive: true });
    await run("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
    const manifest = JSON.parse(await readFile(path.join(installed, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies)).not.toContain("@webjobs/schedule");
    expect(Object.keys(manifest.dependencies)).toContain("windows-iana");
    expect(await readFile(path.join(installed, "dist", "index.js"), "utf8")).not.toMatch(
      /@webjobs\/schedule/,
    );
    expect(await readFile(path.join(installed, "dist", "index.d.ts"), "utf8")).toMatch(/app/);
    const resolveFromRoot = createRequire(path.join(root, "package.json"));
    for (const dependency of Object.keys(manifest.dependencies)) {
      const target = path.dirname(resolveFromRoot.resolve(`${dependency}/package.json`));
      await mkdir(path.dirname(path.join(dir, "job", "node_modules", dependency)), { recursive: true });
      await symlink(target, path.join(dir, "job", "node_modules", dependency));
    }

    // A timer uses the schedule engine that was bundled, and storage through the linked clients.
    await writeFile(
      path.join(dir, "job", "run.mjs"),
      [
        'import { app } from "webjobs-sdk";',
        'app.timer("tick", { schedule: "*/1 * * * * *", handler: (_timer, context) => context.log("tick from the tarball") });',
      ].join("\n"),
    );
    const job = await runJob(path.join(dir, "job", "run.mjs"), {
      AzureWebJobsStorage: azurite.connectionString,
    });
    try {
      await job.waitFor(/tick from the tarball/, 20_000);
    } finally {
      expect(await job.stop()).toBe(0);
    }
  });
});
