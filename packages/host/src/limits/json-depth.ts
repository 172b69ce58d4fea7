/**
 * Deeply nested JSON is refused before it is parsed: `JSON.parse` copes with thousands of levels,
 * but every later recursive walk (JSON.stringify into the store, schema checks) overflows the
 * stack. Nothing a job or an API client needs comes near this depth.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The deepest nesting of objects and arrays in a JSON text, counted without recursion and without
 * parsing (brackets inside strings do not count). Stops counting past `stopAt`.
 */
export function jsonNestingDepth(text: string, stopAt = MAX_JSON_DEPTH + 1): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest >= stopAt) return deepest;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

/** A sentence for error messages, or null when the text is shallow enough. */
export function jsonTooDeep(text: string, what: string): string | null {
  return jsonNestingDepth(text) > MAX_JSON_DEPTH
    ? `${what} is nested more than ${MAX_JSON_DEPTH} levels deep.`
    : null;
}

/**
 * A `JSON.parse` reviver that refuses `__proto__` keys: parsed, such a key is an own property, but
 * any later copy by assignment (`out[key] = value`) would set the copy's prototype instead.
 */
export function refuseProtoKeys(key: string, value: unknown): unknown {
  if (key === "__proto__") throw new SyntaxError('the key "__proto__" is not allowed');
  return value;
}
