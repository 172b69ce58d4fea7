import { randomUUID } from "node:crypto";
import { SdkError } from "./errors.ts";

/**
 * Resolves a binding path such as `thumbs/{name}-{rand-guid}.png` or `%TableName%` against the trigger's
 * binding data. `{{` and `}}` are literal braces. An unknown `{name}` is an error that names it, so a
 * typo fails the invocation with a clear message instead of writing to a wrong path.
 */
export function resolveBindingPath(
  template: string,
  data: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const withSettings = template.replace(/%([^%]+)%/g, (_match, name: string) => {
    const value = env[name];
    if (value === undefined) throw new SdkError("binding", `the setting %${name}% is not defined`);
    return value;
  });
  return withSettings.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (match, key: string | undefined) => {
    if (match === "{{") return "{";
    if (match === "}}") return "}";
    const name = key!.trim();
    if (name === "rand-guid") return randomUUID();
    if (name === "datetime") return new Date().toISOString();
    const value = lookup(data, name);
    if (value === undefined || value === null) {
      throw new SdkError(
        "binding",
        `no binding data named {${name}} (known: ${Object.keys(data).join(", ")})`,
      );
    }
    return value instanceof Date ? value.toISOString() : String(value);
  });
}

/** Case-insensitive on the first level, as the original's binding data is. */
function lookup(data: Record<string, unknown>, name: string): unknown {
  if (name in data) return data[name];
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(data)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/** True when a template needs binding data (so it must be resolved per invocation). */
export function hasExpressions(template: string): boolean {
  return /%[^%]+%|\{[^{}]*\}/.test(template.replace(/\{\{|\}\}/g, ""));
}
