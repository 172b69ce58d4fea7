import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { UserRecord } from "../../auth/types.ts";
import { roles } from "../../auth/roles.ts";
import { ErrorCode, WebJobsError } from "../../errors.ts";
import type { ApiContext } from "../context.ts";
import type { UserJson } from "../json-types.ts";
import { bodyDoc, noValidation, parseBody } from "../zod-body.ts";

const tags = ["auth"];

export const usernameSchema = z
  .string({ error: "username must be a string" })
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/,
    "a user name starts with a letter or digit and holds letters, digits, '.', '_', '@' or '-' (at most 64)",
  );
export const passwordSchema = z
  .string({ error: "password must be a string" })
  .min(8, "a password has at least 8 characters")
  .max(1024, "a password has at most 1024 characters");
const roleSchema = z.enum(roles, { error: `role must be one of ${roles.join(", ")}` });

const newUser = z.strictObject({ username: usernameSchema, password: passwordSchema, role: roleSchema });
const userChange = z
  .strictObject({ password: passwordSchema.optional(), role: roleSchema.optional() })
  .refine(
    (change) => change.password !== undefined || change.role !== undefined,
    "give a role or a password",
  );

const userJson = (user: UserRecord): UserJson => ({
  username: user.username,
  role: user.role,
  created_at: user.createdAt.toISOString(),
});

const usernameParams = {
  type: "object",
  properties: { username: { type: "string" } },
  required: ["username"],
} as const;

const lastAdmin = (username: string) =>
  new WebJobsError(ErrorCode.Conflict, `'${username}' is the last admin: make another user an admin first.`);

/** Users (admins only): list, add, change role or password, remove. Never the password hashes. */
export function userRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get("/api/users", { schema: { summary: "Users and their roles", tags } }, async () =>
    (await ctx.store.auth.listUsers()).map(userJson),
  );

  app.post(
    "/api/users",
    {
      schema: { summary: "Add a user: {username, password, role}", tags, body: bodyDoc(newUser) },
      validatorCompiler: noValidation,
    },
    async (request, reply) => {
      const body = parseBody(newUser, request, "The new user");
      await ctx.credentials.addUser(body.username, body.password, body.role);
      request.auditNote = { target: body.username, detail: `role ${body.role}` };
      const user = await ctx.store.auth.getUser(body.username);
      return reply.code(201).send(userJson(user!));
    },
  );

  app.patch<{ Params: { username: string } }>(
    "/api/users/:username",
    {
      schema: {
        summary: "Change a user's role and/or password (a new password ends its sessions)",
        tags,
        params: usernameParams,
        body: bodyDoc(userChange),
      },
      validatorCompiler: noValidation,
    },
    async (request) => {
      const { username } = request.params;
      const change = parseBody(userChange, request, "The change");
      if (!(await ctx.store.auth.getUser(username))) {
        throw new WebJobsError(ErrorCode.NotFound, `No user '${username}'.`);
      }
      if (change.role) {
        const result = await ctx.store.auth.changeRole(username, change.role);
        if (result === "last_admin") throw lastAdmin(username);
      }
      if (change.password) await ctx.credentials.setPassword(username, change.password);
      request.auditNote = {
        detail: [change.role && `role ${change.role}`, change.password && "password changed"]
          .filter(Boolean)
          .join(", "),
      };
      const user = await ctx.store.auth.getUser(username);
      if (!user) throw new WebJobsError(ErrorCode.NotFound, `No user '${username}'.`);
      return userJson(user);
    },
  );

  app.delete<{ Params: { username: string } }>(
    "/api/users/:username",
    { schema: { summary: "Remove a user and end its sessions", tags, params: usernameParams } },
    async (request, reply) => {
      const result = await ctx.store.auth.removeUser(request.params.username);
      if (result === "missing")
        throw new WebJobsError(ErrorCode.NotFound, `No user '${request.params.username}'.`);
      if (result === "last_admin") throw lastAdmin(request.params.username);
      return reply.code(204).send();
    },
  );
}
