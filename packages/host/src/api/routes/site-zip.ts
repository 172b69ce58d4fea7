import { cp, lstat, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import yazl from "yazl";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import { resolveVfs, type VfsTarget } from "../../deploy/vfs-paths.ts";
import { extractZip } from "../../jobs/zip.ts";
import type { ApiContext } from "../context.ts";
import { rawBodyScope, receiveBody } from "../raw-body.ts";

const tags = ["vfs"];

/**
 * Kudu's `/api/zip/{path}/`: PUT unpacks a zip into a folder (the old way to upload a job, with
 * the guards of job uploads: the zip is unpacked aside first, so a refused one writes nothing),
 * GET downloads a folder as a zip. Same roots as the VFS.
 */
export async function siteZipRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const folder = async (virtual: string): Promise<VfsTarget> => {
    const target = await resolveVfs(ctx.paths, virtual);
    const info = await lstat(target.file).catch(() => null);
    if (info && !info.isDirectory())
      throw new WebJobsError(ErrorCode.BadRequest, `'${virtual}' is a file, not a folder.`);
    return target;
  };

  await rawBodyScope(app, (scope) => {
    scope.get<{ Params: { "*": string } }>(
      "/api/zip/*",
      { schema: { summary: "A folder as a zip", tags } },
      async (request, reply) => {
        const target = await folder(request.params["*"]);
        if (!(await lstat(target.file).catch(() => null)))
          throw new WebJobsError(ErrorCode.NotFound, "No such folder.");
        const zip = new yazl.ZipFile();
        await addFolder(zip, target.file, "");
        zip.end();
        const name = path.basename(target.file) || "site";
        return reply
          .type("application/zip")
          .header("content-disposition", `attachment; filename="${name.replace(/"/g, "")}.zip"`)
          .send(zip.outputStream);
      },
    );

    scope.put<{ Params: { "*": string } }>(
      "/api/zip/*",
      {
        schema: {
          summary: "Unpack a zip (any Content-Type) into a folder; the zip guards of job uploads apply",
          tags,
        },
      },
      async (request, reply) => {
        const target = await folder(request.params["*"]);
        const body = await receiveBody(request, ctx.paths.tmp, ctx.config.maxUploadBytes);
        const aside = await mkdtemp(path.join(ctx.paths.tmp, "zip-"));
        try {
          const { entries } = await extractZip(body.file, aside, {
            maxEntries: ctx.config.zipMaxEntries,
            maxUnpackedBytes: ctx.config.zipMaxUnpackedBytes,
          });
          await mkdir(target.file, { recursive: true });
          await cp(aside, target.file, { recursive: true, force: true });
          return reply.type("application/json; charset=utf-8").send({ entries });
        } finally {
          await rm(aside, { recursive: true, force: true });
          await body.cleanup();
        }
      },
    );
  });
}

/** Adds a folder's files and folders (not its symbolic links) to the zip, depth first. */
async function addFolder(zip: yazl.ZipFile, dir: string, prefix: string): Promise<void> {
  for (const name of (await readdir(dir)).sort()) {
    const file = path.join(dir, name);
    const info = await lstat(file);
    const entry = prefix + name;
    if (info.isDirectory()) {
      zip.addEmptyDirectory(entry, { mtime: info.mtime });
      await addFolder(zip, file, `${entry}/`);
    } else if (info.isFile()) {
      zip.addFile(file, entry, { mtime: info.mtime, mode: info.mode });
    }
  }
}
