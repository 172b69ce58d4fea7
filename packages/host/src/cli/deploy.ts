import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import yazl from "yazl";
import {
  ApiClient,
  CliError,
  jobCollection,
  printJson,
  withConnection,
  type ConnectionOptions,
} from "./client.ts";

/** Zips a folder to a file, keeping file modes; symbolic links are refused, as the host would. */
async function zipFolder(folder: string, target: string): Promise<number> {
  const zip = new yazl.ZipFile();
  let files = 0;
  const walk = async (relative: string): Promise<void> => {
    for (const entry of (await readdir(path.join(folder, relative))).sort()) {
      const rel = relative ? `${relative}/${entry}` : entry;
      const full = path.join(folder, rel);
      const info = await lstat(full);
      if (info.isSymbolicLink())
        throw new CliError(`${full} is a symbolic link; the host refuses links in packages.`);
      if (info.isDirectory()) await walk(rel);
      else if (info.isFile()) {
        zip.addFile(full, rel, { mode: info.mode, mtime: info.mtime });
        files += 1;
      }
    }
  };
  await walk("");
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(target));
  return files;
}

export function registerDeploy(program: Command): void {
  withConnection(
    program
      .command("deploy <path>")
      .description("Deploy a job: a folder (zipped on the fly) or a single script file")
      .option("--name <name>", "job name (default: the folder or file name without extension)")
      .option("--type <type>", "triggered or continuous", "triggered")
      .option("--json", "print the job as JSON"),
  ).action(
    async (source: string, options: ConnectionOptions & { name?: string; type: string; json?: boolean }) => {
      if (!["triggered", "continuous"].includes(options.type)) {
        throw new CliError(`--type must be 'triggered' or 'continuous', got '${options.type}'.`);
      }
      const info = await stat(source).catch(() => null);
      if (!info) throw new CliError(`No such file or folder: ${source}`);
      const name = options.name ?? path.basename(path.resolve(source)).replace(/\.[^.]*$/, "");
      const client = new ApiClient(options);
      const temp = await mkdtemp(path.join(os.tmpdir(), "webjobs-deploy-"));
      try {
        let file = path.resolve(source);
        let headers: Record<string, string>;
        if (info.isDirectory()) {
          file = path.join(temp, `${name}.zip`);
          await zipFolder(path.resolve(source), file);
          headers = {
            "content-type": "application/zip",
            "content-disposition": `attachment; filename=${name}.zip`,
          };
        } else {
          const zip = file.toLowerCase().endsWith(".zip");
          headers = {
            "content-type": zip ? "application/zip" : "application/octet-stream",
            "content-disposition": `attachment; filename=${path.basename(file)}`,
          };
        }
        const size = (await stat(file)).size;
        const job = await upload(
          client,
          `${jobCollection(options.type)}/${encodeURIComponent(name)}`,
          file,
          size,
          headers,
        );
        if (options.json) return printJson(job);
        process.stdout.write(`Deployed ${job.type} job '${job.name}' (runs ${job.run_command})\n`);
        if (job.error) process.stdout.write(`Warning: ${job.error}\n`);
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    },
  );
}

interface JobJson {
  name: string;
  type: string;
  run_command: string;
  error: string | null;
}

/** Streams the file to the host with a progress bar on a terminal, a summary line otherwise. */
async function upload(
  client: ApiClient,
  route: string,
  file: string,
  size: number,
  headers: Record<string, string>,
): Promise<JobJson> {
  const bar = process.stderr.isTTY
    ? new SingleBar({
        format: "Uploading [{bar}] {percentage}% | {value}/{total} KiB",
        stream: process.stderr,
        hideCursor: true,
      })
    : null;
  bar?.start(Math.ceil(size / 1024), 0);
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      bar?.update(Math.ceil(sent / 1024));
      callback(null, chunk);
    },
  });
  const body = createReadStream(file).pipe(counter);
  try {
    const response = await client.request("PUT", route, {
      headers: { ...headers, "content-length": String(size) },
      body: body as unknown as RequestInit["body"],
      duplex: "half",
    });
    if (!bar) process.stderr.write(`Uploaded ${(size / 1024).toFixed(1)} KiB\n`);
    return (await response.json()) as JobJson;
  } finally {
    bar?.stop();
  }
}
