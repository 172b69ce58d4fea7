import { storageAccount } from "../storage/connection.ts";
import { statusOf, SdkError } from "../errors.ts";

const created = new Set<string>();
type Notify = (setting: string, container: string) => void;
let notify: Notify = () => {};

/** Same-process blob triggers are woken when an output writes to their container. */
export function onBlobWrite(listener: Notify): void {
  notify = listener;
}

/** `container/name…` → its two parts; the container must not be empty. */
export function splitBlobPath(blobPath: string): { container: string; name: string } {
  const slash = blobPath.indexOf("/");
  if (slash <= 0) throw new SdkError("binding", `blob path '${blobPath}' must be 'container/blob'`);
  return { container: blobPath.slice(0, slash), name: blobPath.slice(slash + 1) };
}

/** A blob's content, or null when it does not exist. */
export async function readBlob(connection: string | undefined, blobPath: string): Promise<Buffer | null> {
  const { container, name } = splitBlobPath(blobPath);
  const blob = storageAccount(connection).blobs.getContainerClient(container).getBlobClient(name);
  try {
    return await blob.downloadToBuffer();
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw error;
  }
}

/**
 * Writes a blob output: bytes as they are, a string as UTF-8, anything else as JSON. Returns the
 * new ETag, which the writer's invocation record lists (the host links the blob's trigger to it).
 */
export async function writeBlob(
  connection: string | undefined,
  blobPath: string,
  value: unknown,
  parentId: string,
): Promise<string | undefined> {
  const { container, name } = splitBlobPath(blobPath);
  const account = storageAccount(connection);
  const containerClient = account.blobs.getContainerClient(container);
  const key = `${account.setting}/${container}`;
  if (!created.has(key)) {
    await containerClient.createIfNotExists();
    created.add(key);
  }
  const bytes = Buffer.isBuffer(value)
    ? value
    : value instanceof Uint8Array
      ? Buffer.from(value)
      : typeof value === "string"
        ? Buffer.from(value, "utf8")
        : Buffer.from(JSON.stringify(value), "utf8");
  const uploaded = await containerClient.getBlockBlobClient(name).uploadData(bytes, {
    metadata: { AzureWebJobsParentId: parentId },
  });
  notify(account.setting, container);
  return uploaded.etag;
}
