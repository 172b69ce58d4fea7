import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ErrorCode, isWebJobsError, WebJobsError } from "../../errors.ts";
import { GitRepository } from "../../deploy/git-repo.ts";
import type { ApiContext } from "../context.ts";
import { rawBodyScope } from "../raw-body.ts";

/** What git's smart HTTP protocol asks for; anything else (dumb HTTP) is not served. */
const servicePaths = /^(info\/refs|git-upload-pack|git-receive-pack)$/;
const QUEUE_WAIT_MS = 500;
const QUEUE_LIMIT_MS = 30 * 60_000;

/**
 * `git push http(s)://host/{name}.git {branch}`: the request goes to git's own `git http-backend`
 * (CGI) after our authentication; after a push that moved the deployment branch, its commit is
 * deployed like a zip deploy (deployment id = commit id, message = commit message). Other branches
 * are stored only. A push while a deployment runs is not refused: its deployment waits its turn.
 */
export async function gitRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const repo = new GitRepository(ctx.paths.dataDir);

  const deployCommit = async (commitId: string) => {
    const commit = await repo.commit(commitId);
    const deadline = Date.now() + QUEUE_LIMIT_MS;
    let deployment;
    for (;;) {
      try {
        deployment = await ctx.deployer.begin({
          id: commit.id,
          deployer: "Git-Push",
          message: commit.message,
          author: commit.author,
          authorEmail: commit.authorEmail,
        });
        break;
      } catch (error) {
        if (!isWebJobsError(error) || error.code !== ErrorCode.Conflict || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, QUEUE_WAIT_MS));
      }
    }
    const dir = await mkdtemp(path.join(ctx.paths.tmp, "git-"));
    const zip = path.join(dir, "commit.zip");
    try {
      await repo.archive(commit.id, zip);
    } catch (error) {
      await ctx.deployer.deployments.finish(deployment.id, error as Error);
      await rm(dir, { recursive: true, force: true });
      return;
    }
    await ctx.deployer.run(deployment, { kind: "zip", zip, target: "", clean: true }, () =>
      rm(dir, { recursive: true, force: true }),
    );
  };

  const handle = async (
    request: FastifyRequest<{ Params: { repo: string; "*": string } }>,
    reply: FastifyReply,
  ) => {
    const service = request.params["*"];
    if (!servicePaths.test(service))
      throw new WebJobsError(ErrorCode.NotFound, "Only git's smart HTTP protocol is served.");
    await repo.ensure();
    const receiving = service === "git-receive-pack";
    const before = receiving ? await repo.branches() : null;
    const query = request.url.includes("?") ? request.url.slice(request.url.indexOf("?") + 1) : "";
    reply.hijack();
    const status = await runBackend(request, reply, repo.dir, service, query);
    if (!before || status !== 200) return;
    const after = await repo.branches();
    const branch = ctx.deployer.deploymentBranch;
    const moved = after.get(branch);
    for (const [name, id] of after) {
      if (before.get(name) !== id && name !== branch)
        ctx.log.info({ branch: name, commit: id }, "git push stored");
    }
    if (moved && moved !== before.get(branch)) {
      deployCommit(moved).catch((error: unknown) =>
        ctx.log.error({ err: error, commit: moved }, "deployment of a pushed commit failed"),
      );
    }
  };

  await rawBodyScope(app, (scope) => {
    for (const method of ["GET", "POST"] as const) {
      scope.route({
        method,
        url: "/:repo.git/*",
        schema: { summary: "git smart HTTP (push deploys the deployment branch)", tags: ["deployments"] },
        handler: handle,
      });
    }
  });
}

/**
 * Runs `git http-backend` as CGI: request body to its stdin, its headers (`Status:` included)
 * onto the reply, then its body. Returns the HTTP status sent.
 */
function runBackend(
  request: FastifyRequest,
  reply: FastifyReply,
  gitDir: string,
  service: string,
  query: string,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: path.dirname(gitDir),
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: `/${path.basename(gitDir)}/${service}`,
        REQUEST_METHOD: request.method,
        QUERY_STRING: query,
        CONTENT_TYPE: request.headers["content-type"] ?? "",
        // Without it http-backend reads the body until its end (chunked requests).
        ...(request.headers["content-length"] ? { CONTENT_LENGTH: request.headers["content-length"] } : {}),
        HTTP_CONTENT_ENCODING: request.headers["content-encoding"] ?? "",
        HTTP_GIT_PROTOCOL: String(request.headers["git-protocol"] ?? ""),
        REMOTE_USER: request.principal?.name ?? "webjobs",
        REMOTE_ADDR: request.ip,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const res = reply.raw;
    let head = Buffer.alloc(0);
    let status = 200;
    let headersSent = false;
    child.stdout.on("data", (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n") >= 0 ? head.indexOf("\r\n\r\n") : head.indexOf("\n\n");
      if (end < 0) return;
      const separator = head.indexOf("\r\n\r\n") >= 0 ? 4 : 2;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString("latin1").split(/\r?\n/)) {
        const colon = line.indexOf(":");
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === "status") status = Number.parseInt(value, 10) || 200;
        else headers[name] = value;
      }
      headers["content-type"] ??= "text/plain; charset=utf-8";
      res.writeHead(status, headers);
      headersSent = true;
      res.write(head.subarray(end + separator));
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", () => undefined);
    child.on("close", () => {
      if (!headersSent) {
        status = 500;
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.write(`git http-backend failed: ${stderr.trim() || "no output"}\n`);
        request.log.warn({ stderr: stderr.trim() }, "git http-backend failed");
      }
      res.end();
      resolve(status);
    });
    const body = request.body as Readable | undefined;
    if (body) body.pipe(child.stdin).on("error", () => undefined);
    else child.stdin.end();
    // The client went away before the answer was complete: stop git.
    res.on("close", () => {
      if (child.exitCode === null && !res.writableFinished) child.kill();
    });
  });
}
