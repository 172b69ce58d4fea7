import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { ErrorCode, WebJobsError } from "../errors.ts";

/**
 * Seals secret values with AES-256-GCM. The key comes from WEBJOBS_SECRET_KEY (32 bytes, base64 or
 * hex) or from a key file the host generates on first use, readable by its owner only (0600), next
 * to the database but never in it: a copy of the database alone reveals no secret. Each sealed
 * value is bound to its name (additional data), so a value moved to another row does not open.
 */
const VERSION = "v1";
const KEY_BYTES = 32;

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== KEY_BYTES) throw new Error(`an AES-256 key has ${KEY_BYTES} bytes, got ${key.length}`);
    return new SecretBox(key);
  }

  /**
   * The key from the environment's value when given, else from the key file (created when
   * missing). A key file others may read is refused: the secrets would be as readable as it.
   */
  static load(envValue: string | undefined, keyFile: string): SecretBox {
    if (envValue !== undefined && envValue.trim() !== "") return SecretBox.fromKey(parseKey(envValue.trim()));
    try {
      // `wx`: never overwrite a key another start wrote meanwhile (its secrets would be lost).
      writeFileSync(keyFile, randomBytes(KEY_BYTES).toString("base64") + "\n", { flag: "wx", mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const mode = statSync(keyFile).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new WebJobsError(
        ErrorCode.BadRequest,
        `The secret key file ${keyFile} may be read by others (mode ${mode.toString(8)}): run chmod 600 on it.`,
      );
    }
    const text = readFileSync(keyFile, "utf8").trim();
    chmodSync(keyFile, 0o600);
    return SecretBox.fromKey(parseKey(text, keyFile));
  }

  seal(plain: string, binding: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(binding));
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv.toString("base64"), tag.toString("base64"), body.toString("base64")].join(":");
  }

  /** Throws when the value was sealed with another key, for another binding, or altered. */
  open(sealed: string, binding: string): string {
    const [version, iv, tag, body] = sealed.split(":");
    if (version !== VERSION || !iv || !tag || body === undefined) throw new Error("not a sealed value");
    const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64"));
    decipher.setAAD(Buffer.from(binding));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
  }
}

function parseKey(text: string, source = "WEBJOBS_SECRET_KEY"): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
  if (key.length !== KEY_BYTES) {
    throw new WebJobsError(
      ErrorCode.BadRequest,
      `${source} must hold a 32-byte key, as 64 hex digits or base64 (e.g. \`openssl rand -base64 32\`); ` +
        `it decodes to ${key.length} bytes.`,
    );
  }
  return key;
}
