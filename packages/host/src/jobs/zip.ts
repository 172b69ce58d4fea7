import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { crc32, inflateRawSync } from "node:zlib";
import yauzl, { type Entry, type ZipFile } from "yauzl";
import { ErrorCode, WebJobsError } from "../errors.ts";
import { inParallel } from "./in-parallel.ts";
import { TimeSlice } from "./time-slice.ts";

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

export interface ExtractOptions {
  /**
   * Where a second copy of the entry at `relative` (a checked path, `/`-separated and normalised)
   * goes, or null for none; asked for folders too, and a copy's parent folder must be asked for
   * or exist. Written from the same inflated bytes: an installed version and the site folder's
   * copy of it cost one pass over the zip instead of an extraction and then a copy of thousands of
   * files. The copies are separate files (never links): the site folder is the user's to edit,
   * versions are immutable.
   */
  alsoTo?: (relative: string) => string | null;
}

/**
 * Extracts `zipPath` into `destDir`, which exists and is empty (and into `options.copyTo`). Throws
 * `unsafe_zip` for a zip we refuse and `bad_request` for one that is not a zip or is damaged. On
 * failure some files may already be written; the caller removes `destDir` (and `copyTo`). Every
 * file handle is closed before this returns or throws, so that removal cannot race an open handle.
 */
export async function extractZip(
  zipPath: string,
  destDir: string,
  limits: ZipLimits,
  options: ExtractOptions = {},
): Promise<{ entries: number; bytes: number }> {
  const targets = (relative: string): string[] => {
    const copy = options.alsoTo?.(path.posix.normalize(relative));
    const target = path.join(destDir, relative);
    return copy ? [target, copy] : [target];
  };
  // We own the descriptor (yauzl's autoClose is off), so closing it cannot depend on yauzl's
  // reference counting reaching zero on an error path.
  const handle = await open(zipPath, "r");
  try {
    // A zip that fits in memory is read in one call: yauzl then parses the central directory
    // from memory (reading it from the file costs two thread pool round trips per entry) and the
    // small entries are sliced out of it with no read at all.
    const size = (await handle.stat()).size;
    const buffer = size <= IN_MEMORY_ZIP_BYTES ? await handle.readFile() : null;
    const zip = await openZip(buffer ?? handle.fd);
    // The limit counts files: `git archive` and most zip tools add an entry per folder too, so a
    // site of 10,000 files would otherwise pass it. The header count, folders included, bounds
    // how much of the central directory is read before the files are counted.
    if (zip.entryCount > 2 * limits.maxEntries) throw tooManyEntries(zip.entryCount, limits.maxEntries);
    const plan = await planEntries(zip, path.resolve(destDir), limits);
    const files = plan.filter((item) => !item.isDirectory);
    if (files.length > limits.maxEntries) throw tooManyEntries(files.length, limits.maxEntries);
    refuseCollisions(plan);
    const slice = new TimeSlice();
    await createFolders(plan, targets, slice);
    const counter: ByteCounter = { written: 0, limit: limits.maxUnpackedBytes, failed: false };
    const isSmall = (item: Planned) =>
      item.entry.compressedSize <= SMALL_ENTRY_BYTES && item.entry.uncompressedSize <= SMALL_ENTRY_BYTES * 16;
    // Large entries stream on the thread pool while the small ones are written here, between
    // slices of the event loop. The first failure stops both; both have settled when this throws.
    let failure: { error: unknown } | null = null;
    const fail = (error: unknown) => {
      if (!failure) failure = { error };
      counter.failed = true;
    };
    const large = inParallel(
      files.filter((item) => !isSmall(item)),
      EXTRACT_CONCURRENCY,
      (item) => writeEntry(zip, item, targets(item.relative), counter),
      () => (counter.failed = true),
    ).catch(fail);
    try {
      const source = buffer ?? handle;
      for (const item of files) {
        if (counter.failed) break;
        if (!isSmall(item)) continue;
        writeSmallEntry(await readSmallEntry(source, item), item, targets(item.relative), counter);
        await slice.yieldIfDue();
      }
    } catch (error) {
      fail(error);
    }
    await large;
    if (failure) throw (failure as { error: unknown }).error;
    return { entries: plan.length, bytes: counter.written };
  } finally {
    await handle.close();
  }
}

/**
 * Zips up to this size are read into memory whole (uploads are capped by `maxUploadBytes`, 100 MB
 * by default); a larger one is read entry by entry from the file.
 */
const IN_MEMORY_ZIP_BYTES = 256 * 1024 * 1024;

const tooManyEntries = (count: number, max: number) =>
  new WebJobsError(ErrorCode.UnsafeZip, `The zip holds ${count} entries, more than the limit of ${max}.`);

/**
 * Large entries streamed at once: each waits on the thread pool for its reads and writes, and
 * overlapping them keeps the disk busy; the bound keeps descriptors and memory in check.
 */
const EXTRACT_CONCURRENCY = 32;

/** The inflated bytes of all entries, counted as they stream, shared by the parallel writers. */
interface ByteCounter {
  written: number;
  limit: number;
  /** Set at the first failure, so the other writers stop at their next chunk. */
  failed: boolean;
}

/**
 * Two entries that map to the same path (the same file twice, a file that is also a folder or the
 * parent of another entry) are refused before anything is written, naming the later entry: with
 * entries written in parallel, which of them reached the disk first would otherwise be chance.
 */
function refuseCollisions(plan: readonly Planned[]): void {
  const files = new Set<string>();
  const folders = new Set<string>();
  for (const item of plan) {
    const normalised = path.posix.normalize(item.relative).replace(/\/+$/, "");
    const parents: string[] = [];
    for (let at = path.posix.dirname(normalised); at !== "." && at !== "/"; at = path.posix.dirname(at)) {
      parents.push(at);
    }
    const ownFolders = item.isDirectory ? [normalised, ...parents] : parents;
    if (ownFolders.some((folder) => files.has(folder))) throw unsafe(item.name, COLLIDES);
    if (!item.isDirectory && (files.has(normalised) || folders.has(normalised))) {
      throw unsafe(item.name, COLLIDES);
    }
    for (const folder of ownFolders) folders.add(folder);
    if (!item.isDirectory) files.add(normalised);
  }
}

const COLLIDES = "its path collides with another entry of the zip";

/**
 * Creates every folder the zip needs once, parents first, before any file is written: the writers
 * then never call mkdir per file. A file entry whose path is also a folder (or the parent of
 * another entry) then fails its exclusive open, which is reported as a collision.
 */
async function createFolders(
  plan: readonly Planned[],
  targets: (relative: string) => string[],
  slice: TimeSlice,
): Promise<void> {
  const folders = new Set<string>();
  for (const item of plan) {
    const relative = item.isDirectory ? item.relative.replace(/\/+$/, "") : path.posix.dirname(item.relative);
    for (let at = relative; at !== "." && at !== "" && !folders.has(at); at = path.posix.dirname(at)) {
      folders.add(at);
    }
  }
  // Parents first: a folder's depth is its number of separators.
  const depth = (folder: string) => folder.split("/").length;
  for (const folder of [...folders].sort((a, b) => depth(a) - depth(b))) {
    for (const target of targets(folder)) {
      try {
        mkdirSync(target);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Two spellings of one folder (`a/` and `a//`) are the same folder; a file cannot exist yet.
        if (code !== "EEXIST") throw collision(folder, error);
      }
    }
    await slice.yieldIfDue();
  }
}

function openZip(source: Buffer | number): Promise<ZipFile> {
  // decodeStrings off: yauzl would reject bad names itself, with messages that do not say what
  // we refuse and why. validateEntrySizes off: we count the inflated bytes ourselves, so that
  // a lying header is reported as what it is rather than as a generic stream error.
  const options = { lazyEntries: true, decodeStrings: false, validateEntrySizes: false };
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, zip: ZipFile) => (error ? reject(notAZip(error)) : resolve(zip));
    if (Buffer.isBuffer(source)) yauzl.fromBuffer(source, options, done);
    else yauzl.fromFd(source, { ...options, autoClose: false }, done);
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
 * Entries this small (most of a node_modules) skip the streams: one positioned read brings the
 * local header and the data, which inflate in one call. A stream per entry costs several thread
 * pool round trips and most of the garbage collector's time when there are thousands of them.
 */
const SMALL_ENTRY_BYTES = 64 * 1024;
const LOCAL_HEADER_BYTES = 30;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;

/**
 * Checks a small entry's inflated bytes and writes them to each target, synchronously (see
 * TimeSlice: the caller gives the event loop its turns).
 */
function writeSmallEntry(
  data: Buffer,
  item: Planned,
  targets: readonly string[],
  counter: ByteCounter,
): void {
  const { entry, name } = item;
  counter.written += data.length;
  if (counter.written > counter.limit) {
    throw unsafe(name, `the zip unpacks to more than the limit of ${counter.limit} bytes`);
  }
  if (crc32(data) !== entry.crc32) {
    throw notAZip(new Error(`entry '${name}' is damaged (its checksum does not match)`));
  }
  for (const target of targets) {
    let fd: number;
    try {
      // `wx`: a second entry with the same path is refused rather than silently overwriting the first.
      fd = openSync(target, "wx", item.executable ? 0o755 : 0o644);
    } catch (error) {
      throw collision(name, error);
    }
    try {
      for (let written = 0; written < data.length;) {
        written += writeSync(fd, data, written, data.length - written);
      }
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Waits for every promise (so no write is still in flight when the caller cleans up), then
 * throws the first failure, mapped by `wrap`.
 */
async function settleAll<T>(promises: Promise<T>[], wrap: (error: unknown) => Error): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw wrap(failed.reason);
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

/**
 * The inflated bytes of a small entry; never more than its header declares. `source`: the whole
 * zip in memory, or its file.
 */
async function readSmallEntry(source: Buffer | FileHandle, item: Planned): Promise<Buffer> {
  const { entry, name } = item;
  const damaged = (why: string) => notAZip(new Error(`entry '${name}' ${why}`));
  const at = entry.relativeOffsetOfLocalHeader;
  // The local header repeats the name and has its own extra field, usually as long as the central one.
  let length = LOCAL_HEADER_BYTES + entry.fileNameLength + entry.extraFieldLength + 64 + entry.compressedSize;
  const read = async (): Promise<{ buffer: Buffer; bytesRead: number }> => {
    if (Buffer.isBuffer(source)) {
      const buffer = source.subarray(at, at + length);
      return { buffer, bytesRead: buffer.length };
    }
    const buffer = Buffer.alloc(length);
    return { buffer, bytesRead: (await source.read(buffer, 0, length, at)).bytesRead };
  };
  let { buffer, bytesRead } = await read();
  if (bytesRead < LOCAL_HEADER_BYTES || buffer.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) {
    throw damaged("has no valid local header");
  }
  const start = LOCAL_HEADER_BYTES + buffer.readUInt16LE(26) + buffer.readUInt16LE(28);
  if (start + entry.compressedSize > length) {
    length = start + entry.compressedSize;
    ({ buffer, bytesRead } = await read());
  }
  if (bytesRead < start + entry.compressedSize) throw damaged("is cut short (the zip is truncated)");
  const raw = buffer.subarray(start, start + entry.compressedSize);
  if (entry.compressionMethod === STORED) {
    if (entry.compressedSize > entry.uncompressedSize) {
      throw unsafe(name, `it unpacks to more than the ${entry.uncompressedSize} bytes its header declares`);
    }
    if (entry.compressedSize < entry.uncompressedSize) {
      throw damaged(`holds ${entry.compressedSize} bytes, but its header declares ${entry.uncompressedSize}`);
    }
    return raw;
  }
  let data: Buffer;
  try {
    // One byte more than declared is enough to know the header lies, and no more is ever inflated.
    data = inflateRawSync(raw, { maxOutputLength: entry.uncompressedSize + 1 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || error instanceof RangeError) {
      throw unsafe(name, `it unpacks to more than the ${entry.uncompressedSize} bytes its header declares`);
    }
    throw notAZip(new Error(`entry '${name}': ${(error as Error).message}`));
  }
  if (data.length > entry.uncompressedSize) {
    throw unsafe(name, `it unpacks to more than the ${entry.uncompressedSize} bytes its header declares`);
  }
  if (data.length !== entry.uncompressedSize) {
    throw damaged(`holds ${data.length} bytes, but its header declares ${entry.uncompressedSize}`);
  }
  return data;
}

/** Writes one planned file entry, counting its inflated bytes as they come into `counter`. */
async function writeEntry(
  zip: ZipFile,
  item: Planned,
  targets: readonly string[],
  counter: ByteCounter,
): Promise<void> {
  const { entry, name } = item;
  const opening = targets.map((target) =>
    // `wx`: a second entry with the same path is refused rather than silently overwriting the first.
    open(target, "wx", item.executable ? 0o755 : 0o644),
  );
  let files: FileHandle[];
  try {
    files = await settleAll(opening, (error) => collision(name, error));
  } catch (error) {
    // One copy opened and the other did not: close what did open before giving up.
    const opened = await Promise.allSettled(opening);
    for (const result of opened) if (result.status === "fulfilled") await result.value.close();
    throw error;
  }

  let size = 0;
  let crc = 0;
  try {
    const stream = await openEntry(zip, entry, name);
    for await (const chunk of readChunks(stream, name)) {
      // Another entry failed: the whole extraction is void, stop writing.
      if (counter.failed) return;
      size += chunk.length;
      // Checked before the write, so no more than the declared size ever reaches the disk.
      if (size > entry.uncompressedSize) {
        throw unsafe(name, `it unpacks to more than the ${entry.uncompressedSize} bytes its header declares`);
      }
      counter.written += chunk.length;
      // Implied by the check above and the header total checked in planEntries; kept so that the
      // limit does not rest on that reasoning alone.
      if (counter.written > counter.limit) {
        throw unsafe(name, `the zip unpacks to more than the limit of ${counter.limit} bytes`);
      }
      crc = crc32(chunk, crc);
      await settleAll(
        files.map((file) => file.write(chunk)),
        (error) => error as Error,
      );
    }
  } finally {
    await Promise.all(files.map((file) => file.close()));
  }
  if (size !== entry.uncompressedSize) {
    throw notAZip(
      new Error(`entry '${name}' holds ${size} bytes, but its header declares ${entry.uncompressedSize}`),
    );
  }
  if (crc !== entry.crc32) {
    throw notAZip(new Error(`entry '${name}' is damaged (its checksum does not match)`));
  }
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
    return unsafe(name, COLLIDES);
  }
  return error as Error;
}
