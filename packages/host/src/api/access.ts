import type { FastifyReply, FastifyRequest } from "fastify";
import { leastRoleFor, Permission, roleAllows } from "../auth/roles.ts";
import { errorBody } from "./errors.ts";
import { jobOf, ruleFor } from "./route-rules.ts";

/**
 * Authorisation, once for every route: runs after authentication (auth.ts) and before the body is
 * read or any handler runs, and compares the caller's role (and a token's jobs) with the route's
 * rule (route-rules.ts).
 */
export async function accessHook(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const rule = ruleFor(request);
  const principal = request.principal;
  if (rule.permission === Permission.Public || rule.permission === Permission.Authenticated) return;
  if (!principal) return; // auth.ts has answered
  if (!roleAllows(principal.role, rule.permission)) {
    const needed = leastRoleFor(rule.permission);
    await reply
      .code(403)
      .send(
        errorBody(
          "forbidden",
          `${request.method} ${request.routeOptions.url} needs the ${needed} role; ` +
            `'${principal.name}' is ${/^[aeiou]/.test(principal.role) ? "an" : "a"} ${principal.role}.`,
        ),
      );
    return;
  }
  if (principal.jobs) {
    const job = jobOf(request, rule);
    if (job === null || !principal.jobs.includes(job)) {
      await reply
        .code(403)
        .send(
          errorBody(
            "forbidden",
            `This token is limited to the job${principal.jobs.length === 1 ? "" : "s"} ` +
              `${principal.jobs.join(", ")}; ${job === null ? "this route concerns every job" : `not '${job}'`}.`,
          ),
        );
    }
  }
}
