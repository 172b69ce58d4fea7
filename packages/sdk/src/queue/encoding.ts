export type MessageEncoding = "base64" | "none";

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The bytes of a message body as stored. Base64 is decoded strictly (the alphabet, padding and a length
 * that is a multiple of 4): never guessed, since plain text can be valid base64. Null when undecodable.
 */
export function decodeBody(text: string, encoding: MessageEncoding): Buffer | null {
  if (encoding === "none") return Buffer.from(text, "utf8");
  const compact = text.trim();
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return null;
  return Buffer.from(compact, "base64");
}

export function encodeBody(bytes: Buffer, encoding: MessageEncoding): string {
  return encoding === "base64" ? bytes.toString("base64") : bytes.toString("utf8");
}

/** What the handler receives: parsed JSON when the text is a JSON object or array, else the text. */
export function bodyValue(text: string): unknown {
  const first = text.trimStart()[0];
  if (first === "{" || first === "[") {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}
