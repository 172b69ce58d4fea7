import path from "node:path";
import { ErrorCode, WebJobsError } from "../errors.ts";

/**
 * A client-given relative path inside `root`, or a 400. Clients send `/` or `\` separators and
 * sometimes a leading slash; `..` segments, NUL and drive letters are refused outright rather than
 * normalised away, so that what is refused is what the client wrote.
 */
export function resolveInside(root: string, relative: string, what = "path"): string {
  const cleaned = relative.replace(/\\/g, "/").replace(/^\/+/, "");
  if (cleaned.includes("\0")) throw refused(what, relative, "it contains a NUL character");
  if (/^[A-Za-z]:/.test(cleaned)) throw refused(what, relative, "it starts with a drive letter");
  if (cleaned.split("/").some((segment) => decodesToDots(segment))) {
    throw refused(what, relative, "it climbs out of its root with '..'");
  }
  const target = path.resolve(root, cleaned);
  if (target !== root && !target.startsWith(root + path.sep)) {
    throw refused(what, relative, "it leads outside its root");
  }
  return target;
}

/** `..`, also when escaped once or twice more (`%2e%2e`, `%252e%252e`): no client means those as names. */
function decodesToDots(segment: string): boolean {
  let value = segment;
  for (let i = 0; i < 3; i++) {
    if (value === "..") return true;
    try {
      const decoded = decodeURIComponent(value);
      if (decoded === value) return false;
      value = decoded;
    } catch {
      return false;
    }
  }
  return value === "..";
}

function refused(what: string, value: string, reason: string): WebJobsError {
  return new WebJobsError(ErrorCode.BadRequest, `Invalid ${what} '${value.slice(0, 200)}': ${reason}.`);
}
