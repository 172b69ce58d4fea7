import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { ErrorCode, WebJobsError } from "../errors.ts";
import { validateJobName } from "../jobs/names.ts";
import { jsonObjectBody } from "./json-body.ts";

/**
 * One zod schema per request body: it validates (with messages that name the field), types the
 * handler's value, and documents the route (`bodyDoc` for the OpenAPI document; Fastify's own
 * validator is switched off with `noValidation` so that the answer is always ours).
 */
export const bodyDoc = (schema: z.ZodType) => z.toJSONSchema(schema, { target: "openapi-3.0", io: "input" });
export const noValidation = () => () => true;

export function parseBody<T extends z.ZodType>(
  schema: T,
  request: FastifyRequest,
  what: string,
): z.output<T> {
  const parsed = schema.safeParse(jsonObjectBody(request, what));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path.map(String).join(".");
  const message =
    issue.code === "unrecognized_keys"
      ? `unknown key ${issue.keys.map((key) => `'${key}'`).join(", ")}`
      : field && !issue.message.startsWith(field)
        ? `${field}: ${issue.message}`
        : issue.message;
  throw new WebJobsError(ErrorCode.BadRequest, `${what}: ${message}`);
}

/** A job name, held to the name rule (jobs/names.ts) with its message. */
export const jobNameSchema = z.string({ error: "a job name is a string" }).superRefine((name, context) => {
  try {
    validateJobName(name);
  } catch (error) {
    context.addIssue({ code: "custom", message: (error as Error).message });
  }
});
