import { SdkError } from "../errors.ts";

/** A blob trigger path: `container/pattern` with `{name}` tokens, compiled once. */
export interface BlobPattern {
  container: string;
  /** The literal start of the blob name: listings ask only for it. */
  prefix: string;
  /** The token values of a matching blob name, or null when it does not match. */
  match(blobName: string): Record<string, string> | null;
}

/**
 * `{x}` matches greedily any text (slashes included), anchored and case-sensitive, as in the original:
 * `input/{name}.{ext}` on `a.b.c` gives name `a.b`, ext `c`. `{{` and `}}` are literal braces.
 */
export function compileBlobPattern(where: string, path: string): BlobPattern {
  const slash = path.indexOf("/");
  const container = slash < 0 ? path : path.slice(0, slash);
  const pattern = slash < 0 ? "" : path.slice(slash + 1);
  if (!/^[a-z0-9$](?:[a-z0-9]|-(?!-)){2,62}$/.test(container)) {
    throw new SdkError(
      "options",
      `${where}: '${container}' is not a valid container name (no {…} in a container)`,
    );
  }
  const names: string[] = [];
  let regex = "^";
  let prefix = "";
  let literal = true;
  const tokens = pattern.split(/(\{\{|\}\}|\{[^{}]*\})/);
  for (const token of tokens) {
    if (token === "") continue;
    if (token.startsWith("{") && token !== "{{") {
      const name = token.slice(1, -1).trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw new SdkError("options", `${where}: bad token ${token} in path`);
      names.push(name);
      regex += "(.*)";
      literal = false;
      continue;
    }
    const text = token === "{{" ? "{" : token === "}}" ? "}" : token;
    regex += text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    if (literal) prefix += text;
  }
  // A bare container, or a pattern with no token, matches names starting with it.
  const compiled = new RegExp(
    names.length === 0 && pattern !== "" ? `${regex}$` : pattern === "" ? "^.*$" : `${regex}$`,
  );
  return {
    container,
    prefix,
    match(blobName) {
      const m = compiled.exec(blobName);
      if (!m) return null;
      return Object.fromEntries(names.map((name, i) => [name, m[i + 1] ?? ""]));
    },
  };
}
