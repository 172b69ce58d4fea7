import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import { deployFailure } from "../../deploy/site-deployer.ts";
import type { SiteChange } from "../../deploy/site-swap.ts";
import type { ApiContext } from "../context.ts";
import { baseUrl } from "../kudu-json.ts";
import { rawBodyScope, receiveBody } from "../raw-body.ts";
import { deploymentJson, deploymentSiteName } from "./deployments.ts";

const tags = ["deployments"];
const DEFAULT_MESSAGE = "Created via a push deployment";
/** Where App Service keeps the site: absolute OneDeploy paths under it are taken as relative. */
const WWWROOT = "/home/site/wwwroot";

const flag = (name: string) =>
  z
    .enum(["true", "false", "True", "False", "1", "0"], { error: `${name} must be true or false` })
    .transform((v) => v === "true" || v === "True" || v === "1")
    .optional();

const zipDeployQuery = z.object({
  isAsync: flag("isAsync"),
  deployer: z.string().min(1).max(200).optional(),
  message: z.string().max(10_000).optional(),
  author: z.string().max(200).optional(),
  authorEmail: z.string().max(200).optional(),
});

/** OneDeploy's artifact types we serve; others are refused with the list. */
const PublishType = { Zip: "zip", Static: "static", Startup: "startup" } as const;
const otherKuduTypes = ["war", "jar", "ear", "lib", "script"];

const publishQuery = z.object({
  type: z.string().optional(),
  async: flag("async"),
  path: z.string().max(4096).optional(),
  clean: flag("clean"),
  restart: flag("restart"),
  ignorestack: flag("ignorestack"),
  reset: flag("reset"),
  deployer: z.string().min(1).max(200).optional(),
  message: z.string().max(10_000).optional(),
});

function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.output<T> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WebJobsError(
      ErrorCode.BadRequest,
      `Invalid query parameter ${issue.path.join(".")}: ${issue.message}`,
    );
  }
  return parsed.data;
}

/** `.NET`'s `yyy-MM-dd_HH-mm-ssZ`, as Kudu puts in the Location it answers. */
const locationTime = (d: Date) => d.toISOString().slice(0, 19).replace("T", "_").replace(/:/g, "-") + "Z";

/** OneDeploy's `path`: relative to the site, or absolute under /home/site/wwwroot. */
function sitePath(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === "") return "";
  let value = raw.trim().replace(/\\/g, "/");
  if (value === WWWROOT || value.startsWith(`${WWWROOT}/`)) value = value.slice(WWWROOT.length);
  else if (value.startsWith("/")) {
    throw new WebJobsError(
      ErrorCode.BadRequest,
      `path='${raw}' is outside the site: give a path relative to the site, or under ${WWWROOT}.`,
    );
  }
  if (value.split("/").includes("..")) {
    throw new WebJobsError(ErrorCode.BadRequest, "Path cannot contain '..' Please provide an absolute path.");
  }
  return value.replace(/^\/+|\/+$/g, "");
}

/**
 * Zip deploy (`POST /api/zipdeploy`) and OneDeploy (`POST /api/publish`), what the GitHub Action,
 * Azure Pipelines, `az webapp deploy` and VS Code call. The body is stored first; then the
 * deployment is recorded (409 while another one runs), so a 202's Location never shows the
 * previous deployment; then it runs, in the background with `isAsync`/`async`.
 */
export async function siteDeployRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { deployer } = ctx;

  const deploy = async (
    request: FastifyRequest,
    reply: FastifyReply,
    info: { deployer: string; message: string; author?: string; authorEmail?: string; isAsync: boolean },
    change: (file: string) => SiteChange,
  ) => {
    const body = await receiveBody(request, ctx.paths.tmp, ctx.config.maxUploadBytes);
    let deployment;
    try {
      deployment = await deployer.begin({
        deployer: info.deployer,
        message: info.message,
        author: info.author ?? request.principal?.name ?? null,
        authorEmail: info.authorEmail ?? null,
      });
    } catch (error) {
      await body.cleanup();
      throw error;
    }
    const root = `${baseUrl(request)}/api/deployments`;
    const json = async (d: typeof deployment) =>
      deploymentJson(root, d, await deployer.deployments.lastSuccess(), deploymentSiteName(ctx));
    const work = deployer.run(deployment, change(body.file), body.cleanup);
    if (info.isAsync) {
      const location = `${root}/latest?deployer=${encodeURIComponent(info.deployer)}&time=${locationTime(new Date())}`;
      return reply
        .code(202)
        .header("location", location)
        .type("application/json; charset=utf-8")
        .send(await json(deployment));
    }
    const outcome = await work;
    const failure = deployFailure(outcome);
    if (failure) throw failure;
    return reply
      .code(200)
      .type("application/json; charset=utf-8")
      .send(await json(outcome.deployment));
  };

  await rawBodyScope(app, (scope) => {
    scope.post(
      "/api/zipdeploy",
      {
        schema: {
          summary:
            "Zip deploy: the body (any Content-Type) replaces the site folder; ?isAsync=true answers 202 with Location",
          tags,
        },
      },
      async (request, reply) => {
        const query = parseQuery(zipDeployQuery, request.query);
        return deploy(
          request,
          reply,
          {
            deployer: query.deployer ?? "ZipDeploy",
            message: query.message ?? DEFAULT_MESSAGE,
            author: query.author,
            authorEmail: query.authorEmail,
            isAsync: query.isAsync ?? false,
          },
          (zip) => ({ kind: "zip", zip, target: "", clean: true }),
        );
      },
    );

    scope.post(
      "/api/publish",
      {
        schema: {
          summary:
            "OneDeploy: ?type=zip (path, clean), static (path of one file) or startup (startup.sh); async, restart accepted",
          tags,
        },
      },
      async (request, reply) => {
        const query = parseQuery(publishQuery, request.query);
        const type = (query.type ?? "").toLowerCase();
        const info = {
          deployer: query.deployer ?? "OneDeploy",
          message: query.message ?? "OneDeploy",
          isAsync: query.async ?? false,
        };
        if (type === PublishType.Zip) {
          const target = sitePath(query.path);
          return deploy(request, reply, info, (zip) => ({
            kind: "zip",
            zip,
            target,
            clean: query.clean ?? true,
          }));
        }
        if (type === PublishType.Static) {
          const target = sitePath(query.path);
          if (!query.path || target === "")
            throw new WebJobsError(ErrorCode.BadRequest, "Path must be defined for type=static");
          if (query.path.endsWith("/"))
            throw new WebJobsError(ErrorCode.BadRequest, "Path cannot end with a '/'");
          return deploy(request, reply, info, (file) => ({ kind: "file", file, target }));
        }
        if (type === PublishType.Startup) {
          return deploy(request, reply, info, (file) => ({ kind: "file", file, target: "startup.sh" }));
        }
        const supported = Object.values(PublishType).join(", ");
        const why = otherKuduTypes.includes(type)
          ? `Artifact type '${type}' not supported by this host (it serves a site folder, not a Java or script runtime)`
          : type === ""
            ? "type is required"
            : `type='${query.type}' not recognized`;
        throw new WebJobsError(ErrorCode.BadRequest, `${why}; supported types: ${supported}.`);
      },
    );
  });
}
