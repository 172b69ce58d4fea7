/**
 * Deploy speed and the idle cost of a large watched site, in one run:
 *  - a job zip of 10,000 small files (a node_modules) deployed through `PUT /api/triggeredwebjobs/{name}`,
 *    through zip deploy of a site holding it, and through `git push`, next to `unzip` of the same zip
 *    (the goal: each at most 3 × unzip + 200 ms);
 *  - the idle CPU and RSS of a `webjobs serve` process watching a site of 50,000 files, next to one
 *    watching an empty site (read from /proc/{pid}/stat and /proc/{pid}/status).
 * Each deploy is timed 5 times, each round beside an `unzip` (the medians are shown): a shared
 * machine is noisy.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import yazl from "yazl";
import { freePort } from "../packages/host/test/support/serve-process.ts";
import { startBenchHost } from "./bench-host.ts";
import { printTable } from "./report.ts";

const FILES = 10_000;
const WATCHED_FILES = 50_000;
const RUNS = 5;
const exec = promisify(execFile);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** A job of `count` small files: run.sh and a node_modules of 100 packages. */
function jobFiles(count: number): Array<{ name: string; data: Buffer }> {
  const files = [{ name: "run.sh", data: Buffer.from("echo deployed\n") }];
  for (let i = 0; i < count - 1; i++) {
    const data = Buffer.from(
      `// file ${i}\nmodule.exports = function f${i}(x) { return x + ${i}; };\n`.repeat(8),
    );
    files.push({ name: `node_modules/pkg${i % 100}/lib/part${Math.floor(i / 100) % 10}/f${i}.js`, data });
  }
  return files;
}

async function writeZip(
  file: string,
  entries: Array<{ name: string; data: Buffer }>,
  prefix = "",
): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const { name, data } of entries) {
    zip.addBuffer(data, prefix + name, { mode: name.endsWith(".sh") ? 0o100755 : 0o100644 });
  }
  zip.end();
  await new Promise((resolve, reject) =>
    zip.outputStream.pipe(createWriteStream(file)).on("close", resolve).on("error", reject),
  );
}

/**
 * What the host still has to clean up from the step before: the folders its deploys replaced,
 * deleted after they answered (see Trash). Set once the host runs.
 */
let settle = async () => {};

/**
 * Times `work` on a settled machine: the previous step's clean-up done (as `unzip`'s output is
 * deleted before the next step), dirty pages flushed (see `deploys`).
 */
async function timed(work: () => Promise<void>): Promise<number> {
  await settle();
  await exec("sync");
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/**
 * Each round times `unzip` and the three deploys one after the other, so that the baseline and
 * the deploys see the same moment of a shared machine (its load and its disk vary by several times
 * within a minute). Before each timing the previous step's clean-up is finished and dirty pages
 * are flushed (`sync`): no step pays for the one before.
 */
async function deploys(dir: string): Promise<string[][]> {
  const files = jobFiles(FILES);
  const jobZip = path.join(dir, "job.zip");
  const siteZip = path.join(dir, "site.zip");
  await writeZip(jobZip, files);
  await writeZip(siteZip, files, "App_Data/jobs/triggered/sitejob/");

  // git archive adds an entry per folder: 10,000 files and their folders pass the default limit of 10,000.
  const { host, auth } = await startBenchHost(dir, { watchDebounceMs: 300, zipMaxEntries: 50_000 });
  try {
    settle = () => host.registry.trash.drain();
    const body = await readFile(jobZip);
    const siteBody = await readFile(siteZip);

    // git push: a repository holding the same site; each run pushes one more commit.
    const work = path.join(dir, "git");
    const env = {
      ...process.env,
      GIT_TERMINAL_PROMPT: "0",
      GIT_AUTHOR_NAME: "Bench",
      GIT_AUTHOR_EMAIL: "bench@example.com",
      GIT_COMMITTER_NAME: "Bench",
      GIT_COMMITTER_EMAIL: "bench@example.com",
      GIT_CONFIG_NOSYSTEM: "1",
      HOME: dir,
    };
    const git = (...args: string[]) => exec("git", args, { cwd: work, env, maxBuffer: 1 << 24 });
    await mkdir(work);
    execFileSync("unzip", ["-q", siteZip, "-d", work]);
    await git("init", "--quiet", "--initial-branch=main");
    const remote = `${host.url.replace("http://", "http://bench:bench-password@")}/site.git`;

    const unzipTimes: number[] = [];
    const put: number[] = [];
    const zipdeploy: number[] = [];
    const push: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const out = path.join(dir, `unzip-${i}`);
      unzipTimes.push(await timed(() => exec("unzip", ["-q", jobZip, "-d", out]).then(() => undefined)));
      await rm(out, { recursive: true, force: true });

      put.push(
        await timed(async () => {
          const res = await fetch(`${host.url}/api/triggeredwebjobs/bigjob`, {
            method: "PUT",
            headers: {
              authorization: auth,
              "content-type": "application/zip",
              "content-disposition": "attachment; filename=bigjob.zip",
            },
            body,
          });
          if (res.status !== 200) throw new Error(`PUT answered ${res.status}: ${await res.text()}`);
        }),
      );

      zipdeploy.push(
        await timed(async () => {
          const res = await fetch(`${host.url}/api/zipdeploy`, {
            method: "POST",
            headers: { authorization: auth, "content-type": "application/zip" },
            body: siteBody,
          });
          if (res.status !== 200) throw new Error(`zip deploy answered ${res.status}: ${await res.text()}`);
        }),
      );

      await writeFile(path.join(work, "App_Data/jobs/triggered/sitejob/run.sh"), `echo deployed ${i}\n`);
      await git("add", ".");
      await git("commit", "--quiet", "-m", `deploy ${i}`);
      const sha = (await git("rev-parse", "HEAD")).stdout.trim();
      push.push(
        await timed(async () => {
          await git("push", "--quiet", remote, "main");
          // The push answers when git has the objects; the deployment then runs: wait for its end.
          for (;;) {
            const res = await fetch(`${host.url}/api/deployments/${sha}`, {
              headers: { authorization: auth },
            });
            const deployment =
              res.status === 200 ? ((await res.json()) as { complete: boolean; status: number }) : null;
            if (deployment?.complete) {
              if (deployment.status !== 4)
                throw new Error(`git deployment ended with status ${deployment.status}`);
              return;
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }),
      );
    }
    const unzip = median(unzipTimes);

    const goal = 3 * unzip + 200;
    const row = (label: string, times: number[]) => [
      label,
      `${median(times).toFixed(0)} ms`,
      `${(median(times) / unzip).toFixed(1)} ×`,
      median(times) <= goal ? "yes" : "no",
    ];
    return [
      ["", `median of ${RUNS}`, "vs unzip", `≤ 3 × unzip + 200 ms (${goal.toFixed(0)} ms)`],
      [`unzip -q (${FILES} files)`, `${unzip.toFixed(0)} ms`, "1.0 ×", ""],
      row("PUT /api/triggeredwebjobs/{name}", put),
      row("POST /api/zipdeploy (site holding it)", zipdeploy),
      row("git push (until the deployment ends)", push),
    ];
  } finally {
    await host.stop();
  }
}

/** CPU seconds (user + system) and RSS of a process, from /proc. */
function procUsage(pid: number): { cpu: number; rssKb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the line; counted from after the name, 12 and 13.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return { cpu: ticks / 100, rssKb: Number(rss?.[1] ?? 0) };
}

/** Idle CPU (% of one core over `seconds`) and RSS of `webjobs serve` watching `site`. */
async function idleServe(
  dir: string,
  site: string,
  seconds: number,
): Promise<{ cpu: number; rssMb: number }> {
  const port = await freePort();
  const bin = path.resolve(import.meta.dirname, "../packages/host/bin/webjobs.js");
  const child = spawn(
    process.execPath,
    [
      bin,
      "serve",
      "--port",
      String(port),
      "--data",
      path.join(dir, `data-${path.basename(site)}`),
      "--site",
      site,
    ],
    {
      env: { ...process.env, WEBJOBS_USERNAME: "bench", WEBJOBS_PASSWORD: "bench-password" },
      stdio: "ignore",
    },
  );
  try {
    const auth = `Basic ${Buffer.from("bench:bench-password").toString("base64")}`;
    // Ready when it answers and has installed what the site holds (a large job takes a while).
    for (;;) {
      if (child.exitCode !== null) throw new Error("webjobs serve exited early");
      const jobs = await fetch(`http://127.0.0.1:${port}/api/triggeredwebjobs`, {
        headers: { authorization: auth },
      })
        .then((res) => (res.ok ? (res.json() as Promise<unknown[]>) : null))
        .catch(() => null);
      if (jobs && jobs.length === (site.endsWith("empty") ? 0 : 1)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Let start-up work (first scan, installs, garbage collection) settle before measuring.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const before = procUsage(child.pid!);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const after = procUsage(child.pid!);
    return { cpu: ((after.cpu - before.cpu) / seconds) * 100, rssMb: after.rssKb / 1024 };
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }
}

async function idle(dir: string): Promise<string[][]> {
  const empty = path.join(dir, "site-empty");
  await mkdir(empty);
  const big = path.join(dir, "site-big");
  const job = path.join(big, "App_Data/jobs/triggered/watched");
  const files = jobFiles(WATCHED_FILES);
  await writeZip(path.join(dir, "watched.zip"), files);
  await mkdir(job, { recursive: true });
  execFileSync("unzip", ["-q", path.join(dir, "watched.zip"), "-d", job]);
  const seconds = 10;
  const a = await idleServe(dir, empty, seconds);
  const b = await idleServe(dir, big, seconds);
  return [
    ["webjobs serve, idle", `CPU (% of a core, ${seconds} s)`, "RSS"],
    ["empty site", `${a.cpu.toFixed(2)} %`, `${a.rssMb.toFixed(0)} MB`],
    [`site of ${WATCHED_FILES} files, watched`, `${b.cpu.toFixed(2)} %`, `${b.rssMb.toFixed(0)} MB`],
  ];
}

const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-bench-deploy-"));
try {
  console.log(`node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}\n`);
  printTable(`Deploying a job of ${FILES} small files`, await deploys(dir));
  console.log("");
  printTable("Idle cost of watching a large site", await idle(dir));
} finally {
  await rm(dir, { recursive: true, force: true });
}
