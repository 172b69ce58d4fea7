import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { PrincipalKind } from "../../auth/credentials.ts";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import { SESSION_COOKIE } from "../browser-auth.ts";
import type { ApiContext } from "../context.ts";
import type { SessionJson } from "../json-types.ts";

const tags = ["auth"];

/** Who the caller is, as the dashboard shows it (and hides what the role may not do). */
function whoAmI(request: FastifyRequest, expiresAt: Date | null = null): SessionJson {
  const principal = request.principal!;
  return {
    name: principal.name,
    role: principal.role,
    kind: principal.kind,
    jobs: principal.jobs,
    expires_at: expiresAt?.toISOString() ?? null,
  };
}

/**
 * The login page's session: `POST /api/session` with the user's Basic credentials (checked, and
 * slowed down when wrong, like any request) sets an HttpOnly, SameSite=Strict cookie (Secure over
 * TLS); `DELETE /api/session` logs out; `GET /api/session` says who the caller is.
 */
export function sessionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const cookieOptions = (request: FastifyRequest) => ({
    path: "/",
    httpOnly: true,
    sameSite: "strict" as const,
    secure: request.protocol === "https",
  });

  app.post(
    "/api/session",
    {
      schema: {
        summary: "Log in: send the user's HTTP Basic credentials; answers with an HttpOnly session cookie",
        tags,
      },
    },
    async (request, reply) => {
      if (request.principal?.kind !== PrincipalKind.Password) {
        throw new WebJobsError(
          ErrorCode.BadRequest,
          "Log in with a user name and password (HTTP Basic), not with a token or a session.",
        );
      }
      const session = await ctx.sessions.create(request.principal.name, request.ip);
      return reply
        .setCookie(SESSION_COOKIE, session.id, { ...cookieOptions(request), expires: session.expiresAt })
        .code(201)
        .send(whoAmI(request, session.expiresAt));
    },
  );

  app.get(
    "/api/session",
    {
      schema: { summary: "Who the caller is: name, role, how authenticated, jobs of a limited token", tags },
    },
    async (request): Promise<SessionJson> => {
      const expiresAt = "expiresAt" in request.principal! ? (request.principal.expiresAt as Date) : null;
      return whoAmI(request, expiresAt);
    },
  );

  app.delete(
    "/api/session",
    { schema: { summary: "Log out: ends the browser session and clears its cookie", tags } },
    async (request, reply: FastifyReply) => {
      const id = request.cookies[SESSION_COOKIE];
      if (id) await ctx.sessions.end(id);
      return reply.clearCookie(SESSION_COOKIE, cookieOptions(request)).code(204).send();
    },
  );
}
