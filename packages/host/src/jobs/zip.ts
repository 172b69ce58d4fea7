import { mkdir, open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { crc32 } from "node:zlib";
import yauzl, { type Entry, type ZipFile } from "yauzl";
import { ErrorCode, WebJobsError } from "../errors.ts";

/**
 * Unpacks an uploaded zip. The upload comes from a client we do not trust, so every entry is
 * checked before anything is written (paths that escape the folder, symbolic links, too many
 * entries, too many bytes), and the byte limit is enforced again on the bytes actually inflated,
 * because a zip bomb's headers can claim any size.
 */

export interface ZipLimits {
  maxEntries: number;
  maxUnpackedBytes: number;
}

// File type bits of the unix mode that zip tools store in the high 16 bits of the external attributes.
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

// NAME_MAX of Linux and macOS file systems, and a path length that leaves room under PATH_MAX
// for wherever the data folder lives.
const MAX_NAME_BYTES = 255;
const MAX_PATH_BYTES = 1024;

const STORED = 0;
const DEFLATED = 8;

interface Planned {
  entry: Entry;
  /** The entry's name as stored, for messages: the user recognises it. */
  name: string;
  /** The safe relative path it is written to, with `/` separators. */
  relative: string;
  isDirectory: boolean;
  executable: boolean;
}

/**
 * Extracts `zipPath` into `destDir`, which exists and is empty. Throws `unsafe_zip` for a zip we
 * refuse and `bad_request` for one that is not a zip or is damaged. On failure some files may
 * already be written; the caller removes `destDir`. Every file handle is closed before this returns
 * or throws, so that removal cannot race an open handle.
 */
export async function extractZip(
  zipPath: string,
  destDir: string,
  limits: ZipLimits,
): Promise<{ entries: number; bytes: number }> {
  // We own the descriptor (yauzl's autoClose is off), so closing it cannot depend on yauzl's
  // reference counting reaching zero on an error path.
  const handle = await open(zipPath, "r");
  try {
    const zip = await openZip(handle.fd);
    if (zip.entryCount > limits.maxEntries) {
      throw new WebJobsError(
        ErrorCode.UnsafeZip,
        `The zip holds ${zip.entryCount} entries, more than the limit of ${limits.maxEntries}.`,
      );
    }
    const plan = await planEntries(zip, path.resolve(destDir), limits);
    let bytes = 0;
    for (const item of plan) {
      bytes += await writeEntry(zip, item, destDir, bytes, limits.maxUnpackedBytes);
    }
    return { entries: plan.length, bytes };
  } finally {
    await handle.close();
  }
}

function openZip(fd: number): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    // decodeStrings off: yauzl would reject bad names itself, with messages that do not say what
    // we refuse and why. validateEntrySizes off: we count the inflated bytes ourselves, so that
    // a lying header is reported as what it is rather than as a generic stream error.
    yauzl.fromFd(
      fd,
      { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false },
      (error, zip) => (error ? reject(notAZip(error)) : resolve(zip)),
    );
  });
}

/** Reads the whole central directory and refuses the zip before a single byte is written. */
async function planEntries(zip: ZipFile, root: string, limits: ZipLimits): Promise<Planned[]> {
  const plan: Planned[] = [];
  let declaredBytes = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      // The library's name decoding (UTF-8 flag, Info-ZIP unicode field), but not its checks.
      const name = yauzl.getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        entry.fileNameRaw,
        entry.extraFields,
        true,
      );
      // Windows tools write `\` as the separator; normalise first so `..\x` is seen as `../x`.
      const relative = name.replace(/\\/g, "/");
      const refusal = unsafeName(relative, root);
      if (refusal) throw unsafe(name, refusal);

      const mode = entry.externalFileAttributes >>> 16;
      if ((mode & S_IFMT) === S_IFLNK) {
        throw unsafe(name, "it is a symbolic link, which could point outside the job folder");
      }
      if (entry.isEncrypted()) {
        throw notAZip(new Error(`entry '${name}' is encrypted, which is not supported`));
      }
      if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) {
        throw notAZip(
          new Error(
            `entry '${name}' uses compression method ${entry.compressionMethod}; only stored and deflated entries are supported`,
          ),
        );
      }

      // Early refusal from the headers: cheap, and it stops honest but oversized uploads before
      // any work. The streaming count in writeEntry is what actually holds the limit.
      const isDirectory = relative.endsWith("/");
      if (!isDirectory) declaredBytes += entry.uncompressedSize;
      if (declaredBytes > limits.maxUnpackedBytes) {
        throw unsafe(name, `the zip unpacks to more than the limit of ${limits.maxUnpackedBytes} bytes`);
      }
      plan.push({ entry, name, relative, isDirectory, executable: (mode & 0o111) !== 0 });
    }
  } catch (error) {
    throw error instanceof WebJobsError ? error : notAZip(error);
  }
  return plan;
}

/** Why an entry's path is unsafe, or null. `relative` already uses `/` separators. */
function unsafeName(relative: string, root: string): string | null {
  if (relative === "") return "its name is empty";
  if (relative.includes("\0")) return "its name contains a NUL character";
  if (relative.startsWith("/")) return "it has an absolute path";
  if (/^[A-Za-z]:/.test(relative)) return "it starts with a Windows drive letter";
  if (relative.split("/").includes("..")) return "its path climbs out of the job folder with '..'";
  // Longer names fail on the disk (ENAMETOOLONG): refuse them with a reason instead.
  if (relative.split("/").some((part) => Buffer.byteLength(part) > MAX_NAME_BYTES))
    return `a name in its path is longer than ${MAX_NAME_BYTES} bytes`;
  if (Buffer.byteLength(relative) > MAX_PATH_BYTES) return `its path is longer than ${MAX_PATH_BYTES} bytes`;
  // Belt and braces: whatever the rules above missed, the resolved path must stay inside.
  const target = path.resolve(root, relative);
  if (target !== root && !target.startsWith(root + path.sep)) return "its path leads outside the job folder";
  return null;
}

/**
 * Writes one planned entry, counting the inflated bytes as they come. `written` is what earlier
 * entries wrote. Returns the bytes this entry wrote.
 */
async function writeEntry(
  zip: ZipFile,
  item: Planned,
  destDir: string,
  written: number,
  limit: number,
): Promise<number> {
  const { entry, name } = item;
  const target = path.join(destDir, item.relative);
  let file: FileHandle;
  try {
    if (item.isDirectory) {
      await mkdir(target, { recursive: true });
      return 0;
    }
    await mkdir(path.dirname(target), { recursive: true });
    // `wx`: a second entry with the same path is refused rather than silently overwriting the first.
    file = await open(target, "wx", item.executable ? 0o755 : 0o644);
  } catch (error) {
    throw collision(name, error);
  }

  let size = 0;
  let crc = 0;
  try {
    const stream = await openEntry(zip, entry, name);
    for await (const chunk of readChunks(stream, name)) {
      size += chunk.length;
      // Checked before the write, so no more than the declared size ever reaches the disk.
      if (size > entry.uncompressedSize) {
        throw unsafe(name, `it unpacks to more than the ${entry.uncompressedSize} bytes its header declares`);
      }
      // Implied by the check above and the header total checked in planEntries; kept so that the
      // limit does not rest on that reasoning alone.
      if (written + size > limit) {
        throw unsafe(name, `the zip unpacks to more than the limit of ${limit} bytes`);
      }
      crc = crc32(chunk, crc);
      await file.write(chunk);
    }
  } finally {
    await file.close();
  }
  if (size !== entry.uncompressedSize) {
    throw notAZip(
      new Error(`entry '${name}' holds ${size} bytes, but its header declares ${entry.uncompressedSize}`),
    );
  }
  if (crc !== entry.crc32) {
    throw notAZip(new Error(`entry '${name}' is damaged (its checksum does not match)`));
  }
  return size;
}

function openEntry(zip: ZipFile, entry: Entry, name: string): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) =>
      error ? reject(notAZip(new Error(`entry '${name}': ${error.message}`))) : resolve(stream),
    );
  });
}

/**
 * The entry's bytes, with read and inflate errors reported as a damaged zip. Leaving the loop
 * early (a refusal) destroys the stream, which releases its hold on the zip file.
 */
async function* readChunks(stream: Readable, name: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    throw notAZip(new Error(`entry '${name}': ${(error as Error).message}`));
  }
}

function unsafe(name: string, reason: string): WebJobsError {
  return new WebJobsError(ErrorCode.UnsafeZip, `The zip entry '${name}' is refused: ${reason}.`);
}

function notAZip(error: unknown): WebJobsError {
  const message = error instanceof Error ? error.message : String(error);
  return new WebJobsError(ErrorCode.BadRequest, `The upload is not a valid zip file: ${message}`, {
    cause: error,
  });
}

/** Two entries that map to the same path (a file and a folder, or the same file twice). */
function collision(name: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EEXIST" || code === "ENOTDIR" || code === "EISDIR") {
    return unsafe(name, "its path collides with another entry of the zip");
  }
  return error as Error;
}
