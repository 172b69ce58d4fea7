import { createReadStream, type Stats } from "node:fs";
import { copyFile, lstat, mkdir, readdir, rename, rm, rmdir, stat, unlink } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import mime from "mime-types";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import { resolveVfs, virtualFolders, type VfsTarget } from "../../deploy/vfs-paths.ts";
import type { ApiContext } from "../context.ts";
import { baseUrl } from "../kudu-json.ts";
import { sendStoredRunLog, storedRunLogAt } from "../log-stream.ts";
import { receiveBody } from "../raw-body.ts";

const tags = ["vfs"];
const DIRECTORY_MIME = "inode/directory";

/** The type a file is served with: by extension, text in UTF-8, bytes when unknown. */
export const fileContentType = (name: string) =>
  mime.contentType(path.extname(name)) || "application/octet-stream";

/** Changes with every write (a PUT replaces the file: new inode) even within one millisecond. */
const etagOf = (info: Stats) =>
  `"${info.ino.toString(16)}-${Math.trunc(info.mtimeMs * 1000).toString(16)}-${info.size.toString(16)}"`;

function ifMatchFails(request: FastifyRequest, current: string): boolean {
  const header = request.headers["if-match"];
  if (!header) return false;
  return !header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === current || t.replace(/^W\//, "") === current;
  });
}

const preconditionFailed = (reply: FastifyReply, etag: string, message: string) =>
  reply
    .code(412)
    .header("etag", etag)
    .type("application/json; charset=utf-8")
    .send({ error: message, code: "precondition_failed", Message: message });

/**
 * Kudu's VFS: `/api/vfs/{path}` and `/vfs/{path}`. GET serves a file (typed by its extension) or a
 * folder (path ending in `/`) as Kudu's JSON listing; PUT creates (201) or replaces (204, with
 * `If-Match`) a file, or creates a folder (path ending in `/`); DELETE removes a file or an empty
 * folder (409 unless `?recursive=true`). Roots: `site/wwwroot/` (the site folder) and `data/jobs/`
 * (job logs); nothing else is reachable (see deploy/vfs-paths.ts).
 */
export function vfsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const listing = async (
    request: FastifyRequest,
    reply: FastifyReply,
    target: VfsTarget | null,
    names: string[],
  ) => {
    const here = `${baseUrl(request)}${request.url.split("?")[0]}`;
    const entries = await Promise.all(
      names.map(async (name) => {
        const info = target ? await lstat(path.join(target.file, name)).catch(() => null) : null;
        if (target && (!info || info.isSymbolicLink())) return null;
        const isDir = !info || info.isDirectory();
        const shown = target ? [target.root.shownAs, target.relative, name].filter(Boolean).join("/") : name;
        return {
          name,
          size: isDir ? 0 : info.size,
          mtime: (info?.mtime ?? new Date(0)).toISOString(),
          crtime: (info?.birthtime ?? new Date(0)).toISOString(),
          mime: isDir ? DIRECTORY_MIME : fileContentType(name).split(";")[0],
          href: here + encodeURIComponent(name) + (isDir ? "/" : ""),
          path: shown,
        };
      }),
    );
    return reply.type("application/json; charset=utf-8").send(entries.filter((e) => e !== null));
  };

  const get = async (request: FastifyRequest<{ Params: { "*": string } }>, reply: FastifyReply) => {
    const virtual = request.params["*"];
    const above = virtualFolders(ctx.paths, virtual);
    if (above) return listing(request, reply, null, above);
    const target = await resolveVfs(ctx.paths, virtual);
    const info = await stat(target.file).catch(() => null);
    if (!info) {
      // A run of another instance: its log is in the store, not on this machine.
      const stored = await storedRunLogAt(ctx, virtual);
      if (stored) return sendStoredRunLog(request, reply, ctx.store, stored.jobName, stored.id);
      throw new WebJobsError(ErrorCode.NotFound, `'${virtual}' not found.`);
    }
    const wantsFolder = virtual.endsWith("/") || virtual === "";
    if (info.isDirectory()) {
      if (!wantsFolder)
        return reply
          .code(307)
          .header("location", `${request.url.split("?")[0]}/`)
          .send();
      return listing(request, reply, target, (await readdir(target.file)).sort());
    }
    if (wantsFolder)
      return reply.code(307).header("location", request.url.split("?")[0].replace(/\/+$/, "")).send();
    const etag = etagOf(info);
    reply.header("etag", etag).header("last-modified", info.mtime.toUTCString());
    const inm = request.headers["if-none-match"];
    if (inm && inm.split(",").some((t) => t.trim() === etag)) return reply.code(304).send();
    return reply
      .type(fileContentType(target.file))
      .header("content-length", info.size)
      .send(createReadStream(target.file));
  };

  const put = async (request: FastifyRequest<{ Params: { "*": string } }>, reply: FastifyReply) => {
    const virtual = request.params["*"];
    if (virtualFolders(ctx.paths, virtual))
      throw new WebJobsError(ErrorCode.Conflict, "This folder cannot be changed.");
    const target = await resolveVfs(ctx.paths, virtual);
    if (virtual.endsWith("/")) {
      if (target.relative === "")
        throw new WebJobsError(ErrorCode.Conflict, "This folder cannot be changed.");
      const existed = (await stat(target.file).catch(() => null))?.isDirectory() ?? false;
      await mkdir(target.file, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
        throw new WebJobsError(
          ErrorCode.Conflict,
          `Cannot create the folder: ${error.code ?? error.message}.`,
        );
      });
      return reply.code(existed ? 200 : 201).send();
    }
    const current = await lstat(target.file).catch(() => null);
    if (current?.isDirectory())
      throw new WebJobsError(ErrorCode.Conflict, "Cannot update a folder: it is not a file.");
    if (current) {
      const etag = etagOf(current);
      if (!request.headers["if-match"]) {
        return preconditionFailed(
          reply,
          etag,
          "Missing If-Match header: send the file's ETag, or * to overwrite.",
        );
      }
      if (ifMatchFails(request, etag))
        return preconditionFailed(reply, etag, "The file changed: its ETag does not match.");
    }
    const body = await receiveBody(request, ctx.paths.tmp, ctx.config.maxUploadBytes, { allowEmpty: true });
    try {
      await mkdir(path.dirname(target.file), { recursive: true }).catch(() => {
        throw new WebJobsError(ErrorCode.Conflict, "A parent of this path is a file.");
      });
      // Written beside the target and renamed over it: a reader never sees half a file.
      const temp = path.join(
        path.dirname(target.file),
        `.${path.basename(target.file)}.${randomBytes(4).toString("hex")}.vfs`,
      );
      try {
        await copyFile(body.file, temp);
        await rename(temp, target.file);
      } finally {
        await rm(temp, { force: true });
      }
    } finally {
      await body.cleanup();
    }
    const info = await stat(target.file);
    return reply
      .code(current ? 204 : 201)
      .header("etag", etagOf(info))
      .send();
  };

  const remove = async (
    request: FastifyRequest<{ Params: { "*": string }; Querystring: { recursive?: string } }>,
    reply: FastifyReply,
  ) => {
    const virtual = request.params["*"];
    if (virtualFolders(ctx.paths, virtual))
      throw new WebJobsError(ErrorCode.Conflict, "This folder cannot be deleted.");
    const target = await resolveVfs(ctx.paths, virtual);
    if (target.relative === "")
      throw new WebJobsError(ErrorCode.Conflict, "A root folder cannot be deleted.");
    const info = await lstat(target.file).catch(() => null);
    if (!info) throw new WebJobsError(ErrorCode.NotFound, `'${virtual}' not found.`);
    if (info.isDirectory()) {
      if (request.query.recursive === "true") await rm(target.file, { recursive: true, force: true });
      else
        await rmdir(target.file).catch((error: NodeJS.ErrnoException) => {
          if (error.code === "ENOTEMPTY" || error.code === "EEXIST") {
            throw new WebJobsError(
              ErrorCode.Conflict,
              "The folder is not empty: delete it with ?recursive=true.",
            );
          }
          throw error;
        });
      return reply.code(200).send();
    }
    const etag = etagOf(info);
    if (ifMatchFails(request, etag))
      return preconditionFailed(reply, etag, "The file changed: its ETag does not match.");
    await unlink(target.file);
    return reply.code(200).send();
  };

  // Bodies of PUT are file contents, whatever their type says: own parser scope.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    for (const prefix of ["/api/vfs/", "/vfs/"]) {
      scope.get(
        `${prefix}*`,
        { schema: { summary: "A file, or a folder's listing (path ending in /)", tags } },
        get,
      );
      scope.put(
        `${prefix}*`,
        { schema: { summary: "Create or replace a file (If-Match), or create a folder", tags } },
        put,
      );
      scope.delete(
        `${prefix}*`,
        { schema: { summary: "Delete a file or folder (?recursive=true)", tags } },
        remove,
      );
    }
  });
}
