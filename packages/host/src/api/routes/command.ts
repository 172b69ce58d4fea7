import { stat } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { runRemoteCommand } from "../../command/remote-command.ts";
import { resolveVfs, vfsRoots } from "../../deploy/vfs-paths.ts";
import { ErrorCode, isWebJobsError, WebJobsError } from "../../errors.ts";
import type { HostPaths } from "../../paths.ts";
import { resolveRunAs, type RunAsUser } from "../../runs/containment/run-as.ts";
import type { ApiContext } from "../context.ts";
import { errorBody } from "../errors.ts";
import { bodyDoc, noValidation, parseBody } from "../zod-body.ts";

const commandBody = z.strictObject({
  command: z
    .string({ error: "command is a string: the command line to run" })
    .min(1, "command must not be empty")
    .max(32 * 1024, "command is at most 32 KiB"),
  dir: z
    .string({ error: "dir is a string such as site\\\\wwwroot" })
    .max(4096, "dir is at most 4096 characters")
    .optional(),
});

/** Where a command runs when the body names no folder: the site, as on App Service. */
const DEFAULT_DIR = "site/wwwroot";

/**
 * The folder a command runs in, from Kudu's `dir` (relative to the site's home: `site\wwwroot`,
 * `data/jobs/…`, or App Service's absolute `/home/site/wwwroot`): inside the VFS roots only, and
 * an existing folder; anything else is the client's mistake (400), never a 404 or a 500.
 */
async function commandFolder(paths: HostPaths, dir: string | undefined): Promise<string> {
  const given = dir?.trim() ? dir.trim() : DEFAULT_DIR;
  const virtual = given.replace(/\\/g, "/").replace(/^\/home(?=\/|$)/i, "");
  const roots = vfsRoots(paths)
    .map((root) => root.prefix)
    .join(" or ");
  let file: string;
  try {
    file = (await resolveVfs(paths, virtual)).file;
  } catch (error) {
    if (!isWebJobsError(error)) throw error;
    throw new WebJobsError(
      ErrorCode.BadRequest,
      `dir '${given.slice(0, 200)}' is not a folder under ${roots}: ${error.message}`,
    );
  }
  const info = await stat(file).catch(() => null);
  if (!info?.isDirectory()) {
    throw new WebJobsError(ErrorCode.BadRequest, `dir '${given.slice(0, 200)}' is not an existing folder.`);
  }
  return file;
}

/**
 * Kudu's remote shell, `POST /api/command` `{"command": "…", "dir": "site\\wwwroot"}` answering
 * `{"Output", "Error", "ExitCode"}`. Whoever may call it can do anything the host's user can, so it
 * is not offered unless the operator sets WEBJOBS_ENABLE_COMMAND=1, and then to admins only (the
 * route's rule, route-rules.ts); every call, refused ones included, goes into the audit trail with
 * its command line. Runs with `sh -c`, within WEBJOBS_COMMAND_TIMEOUT and an output cap.
 */
export function commandRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { config } = ctx;
  // Resolved once: the host checked WEBJOBS_RUN_AS at start; commands run as that user, as jobs do.
  let runAs: RunAsUser | null | undefined;
  const user = () => (runAs ??= config.runAs ? resolveRunAs(config.runAs) : null);
  // Stopped when the server closes (closingSignal); the host's stop waits until they are gone.
  const running = new Set<Promise<unknown>>();
  app.addHook("onClose", async () => {
    await Promise.all(running);
  });

  app.post(
    "/api/command",
    {
      schema: {
        summary:
          'Run a shell command (admins; only with WEBJOBS_ENABLE_COMMAND=1): {"command": "ls", "dir": "site\\\\wwwroot"}',
        tags: ["system"],
        body: bodyDoc(commandBody),
      },
      validatorCompiler: noValidation,
    },
    async (request, reply) => {
      if (!config.enableCommand) {
        return reply
          .code(404)
          .send(
            errorBody(
              "command_disabled",
              "POST /api/command (a remote shell) is turned off on this host. The operator can turn it on, " +
                "for admins only, by starting the host with WEBJOBS_ENABLE_COMMAND=1.",
            ),
          );
      }
      const body = parseBody(commandBody, request, "The command");
      request.auditNote = {
        target: (body.dir?.trim() || DEFAULT_DIR).slice(0, 200),
        detail: body.command.slice(0, 500),
      };
      const cwd = await commandFolder(ctx.paths, body.dir);
      // Nobody reads the answer of a client that left, nor after the host stops: the command stops
      // then, rather than run on (up to the time limit) outside the host.
      const clientLeft = new AbortController();
      reply.raw.once("close", () => {
        if (!reply.raw.writableFinished) clientLeft.abort();
      });
      const run = runRemoteCommand(
        body.command,
        cwd,
        { timeoutMs: config.commandTimeoutSec * 1000, maxOutputBytes: config.commandMaxOutputBytes },
        user(),
        AbortSignal.any([clientLeft.signal, app.closingSignal]),
      );
      running.add(run);
      const result = await run.finally(() => running.delete(run));
      request.auditNote.detail = `exit ${result.ExitCode}: ${body.command.slice(0, 500)}`;
      return reply.type("application/json; charset=utf-8").send(result);
    },
  );
}
